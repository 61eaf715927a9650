"""Real servers for tests and the sandbox: Prometheus, Alertmanager and the OpenSearch-API
server osmem-server, each started on 127.0.0.1 with a free port and stopped cleanly.

    with start_prometheus(history=render_openmetrics(families)) as prometheus:
        ...  # prometheus.url
"""

from sandbox.procs.alertmanager import (
    AlertmanagerProcess,
    alert,
    alertmanager_config,
    post_alerts,
    start_alertmanager,
)
from sandbox.procs.openmetrics import MetricFamily, Series, render_openmetrics
from sandbox.procs.opensearch import OpenSearchProcess, bulk_index, start_opensearch
from sandbox.procs.process import ManagedProcess, ProcessStartError, free_port
from sandbox.procs.prometheus import (
    PrometheusProcess,
    ScrapeJob,
    backfill,
    start_prometheus,
)

__all__ = [
    "AlertmanagerProcess",
    "ManagedProcess",
    "MetricFamily",
    "OpenSearchProcess",
    "ProcessStartError",
    "PrometheusProcess",
    "ScrapeJob",
    "Series",
    "alert",
    "alertmanager_config",
    "backfill",
    "bulk_index",
    "free_port",
    "post_alerts",
    "render_openmetrics",
    "start_alertmanager",
    "start_opensearch",
    "start_prometheus",
]
