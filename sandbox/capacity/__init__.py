"""Weeks of Prometheus history for capacity forecasts, rightsizing and idle detection."""

from sandbox.capacity.prometheus import start_capacity_prometheus

__all__ = ["start_capacity_prometheus"]
