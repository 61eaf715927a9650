"""Look ahead: capacity forecasts, rightsizing, idle resources and proactive incidents."""
