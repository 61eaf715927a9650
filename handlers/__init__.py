"""The edges: Slack listeners and HTTP endpoints. Each module exports `register(app, ...)`
taking only the small Protocol or callables it calls (defined next to it); the composition
root (`bot.app.server`) wires them. A listener parses, acks and calls one core function;
each command, button and event type is routed by exactly one listener, so the order of
registration does not matter."""
