"""Prometheus tools: instant and range queries, series and label discovery, with caps on
series and points and links to the Prometheus graph UI."""
