"""The Slack edge and everything that writes to Slack: the HTTP edge (signature, size), the Bolt
app, posting, the outbox, pacing, channels and Block Kit helpers.
"""
