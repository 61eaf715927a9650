"""Jaeger tools: trace search and one trace rendered as a capped critical-path summary, with
links to the Jaeger UI."""
