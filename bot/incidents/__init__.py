"""Alerts become incidents: the Alertmanager payload model, the durable inbox and pipeline, ingest
with dedup and grouping, incident operations, the notifier, views and blocks, and the flow from
triage to investigation.
"""
