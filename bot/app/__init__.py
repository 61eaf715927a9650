"""The composition root: builds every long-lived object from settings, serves HTTP and Socket Mode,
runs the scheduler.
"""
