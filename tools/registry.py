"""Build the toolbox for a configuration: one client per backend, shared by its tools."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from kubernetes import client

from tools.base import Tool, utc_now
from tools.config import ToolsConfig
from tools.k8s.changes import ChangeTimelineTool
from tools.k8s.connection import build_api_client
from tools.k8s.deployments import DeploymentTool
from tools.k8s.events import EventsTool
from tools.k8s.jobs import JobsTool
from tools.k8s.nodes import NodesTool
from tools.k8s.pod_logs import PodLogsTool
from tools.k8s.pods import PodsTool
from tools.k8s.service_clients import ServiceClientsTool
from tools.k8s.volume_claims import VolumeClaimsTool
from tools.k8s.workload_config import WorkloadConfigTool
from tools.k8s.workload_resources import WorkloadResourcesTool
from tools.logs.aggregation_tools import ErrorHistogramTool, TopErrorsTool
from tools.logs.client import build_search_client
from tools.logs.search_tool import LogSearchTool
from tools.metrics.api import PrometheusApi
from tools.metrics.discovery_tools import (
    PrometheusAlertsTool,
    PrometheusLabelValuesTool,
    PrometheusSeriesTool,
)
from tools.metrics.query_tools import PrometheusQueryTool, PrometheusRangeQueryTool
from tools.metrics.rules import AlertRuleTool
from tools.toolbox import Toolbox
from tools.traces.api import JaegerApi
from tools.traces.graph import ServiceGraphTool
from tools.traces.tools import JaegerFindTracesTool, JaegerGetTraceTool, JaegerServicesTool


def build_toolbox(
    config: ToolsConfig,
    *,
    kube_api_client: client.ApiClient | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Toolbox:
    """Every tool whose backend is configured. `kube_api_client` overrides the one built
    from `config.kubernetes` (tests and the sandbox pass their own)."""
    tools: list[Tool[Any]] = []
    if config.prometheus is not None:
        prometheus = PrometheusApi(config.prometheus)
        tools += [
            kind(config.prometheus, api=prometheus, clock=clock)
            for kind in (
                PrometheusQueryTool,
                PrometheusRangeQueryTool,
                PrometheusLabelValuesTool,
                PrometheusSeriesTool,
                PrometheusAlertsTool,
                AlertRuleTool,
            )
        ]
    if config.logs is not None:
        search = build_search_client(config.logs)
        tools += [
            kind(config.logs, client=search, clock=clock)
            for kind in (LogSearchTool, TopErrorsTool, ErrorHistogramTool)
        ]
    if config.jaeger is not None:
        jaeger = JaegerApi(config.jaeger)
        tools += [
            kind(config.jaeger, api=jaeger, clock=clock)
            for kind in (
                JaegerServicesTool,
                JaegerFindTracesTool,
                JaegerGetTraceTool,
                ServiceGraphTool,
            )
        ]
    if config.kubernetes is not None:
        api_client = kube_api_client or build_api_client(config.kubernetes)
        tools += [
            kind(config.kubernetes, api_client=api_client, clock=clock)
            for kind in (
                PodsTool,
                EventsTool,
                PodLogsTool,
                DeploymentTool,
                NodesTool,
                VolumeClaimsTool,
                WorkloadResourcesTool,
                WorkloadConfigTool,
                ServiceClientsTool,
                JobsTool,
                ChangeTimelineTool,
            )
        ]
    return Toolbox(tools)
