"""Check a loaded scenario's expected evidence against each backend, through real clients:
Prometheus' HTTP API, OpenSearch's REST API, Jaeger's query API and the kubernetes client."""

from __future__ import annotations

import json
from typing import Any

import httpx
from kubernetes import client

from sandbox.scenarios.spec import ClusterCheck, LogCheck, MetricCheck, TraceCheck
from sandbox.scenarios.timeline import Timeline

BEFORE_INCIDENT = 600  # "before" checks look this long before the incident start


def instant(prometheus_url: str, query: str, at: float) -> float:
    response = httpx.get(
        f"{prometheus_url}/api/v1/query", params={"query": query, "time": str(at)}, timeout=30
    )
    body = response.json()
    assert body["status"] == "success", body
    result = body["data"]["result"]
    assert len(result) == 1, f"{query} at {at}: expected one series, got {result}"
    return float(result[0]["value"][1])


def _holds(value: float, bounds: dict[Any, float]) -> bool:
    return all(
        value < limit if side == "below" else value > limit for side, limit in bounds.items()
    )


def metric_shape(prometheus_url: str, check: MetricCheck, timeline: Timeline) -> list[str]:
    """Problems with one metric check (empty when the incident's shape is there)."""
    before = instant(prometheus_url, check.query, timeline.incident - BEFORE_INCIDENT)
    during = instant(prometheus_url, check.query, timeline.now)
    problems = []
    if not _holds(before, check.before):
        problems.append(f"{check.query}: before={before} not {check.before}")
    if not _holds(during, check.during):
        problems.append(f"{check.query}: during={during} not {check.during}")
    return problems


def log_count(opensearch_url: str, check: LogCheck) -> int:
    query = {
        "query": {
            "bool": {
                "filter": [
                    {"term": {"service.name": check.service}},
                    {"term": {"log.level": check.level}},
                    {"match_phrase": {"message": check.contains}},
                ]
            }
        }
    }
    response = httpx.post(f"{opensearch_url}/logs-*/_count", json=query, timeout=30)
    response.raise_for_status()
    count: int = response.json()["count"]
    return count


def matching_traces(jaeger_url: str, check: TraceCheck) -> list[dict[str, Any]]:
    """Traces the Jaeger API returns for the check, filtered to those showing its symptom."""
    params: dict[str, str] = {"service": check.service, "lookback": "3h", "limit": "500"}
    if check.operation:
        params["operation"] = check.operation
    if check.min_duration_ms:
        params["minDuration"] = f"{check.min_duration_ms:g}ms"
    if check.error:
        params["tags"] = json.dumps({"error": "true"})
    response = httpx.get(f"{jaeger_url}/api/traces", params=params, timeout=30)
    response.raise_for_status()
    traces: list[dict[str, Any]] = response.json()["data"]

    def spans_of_service(trace: dict[str, Any]) -> int:
        pids = {pid for pid, p in trace["processes"].items() if p["serviceName"] == check.service}
        return sum(1 for span in trace["spans"] if span["processID"] in pids)

    return [t for t in traces if spans_of_service(t) >= check.min_spans]


def cluster_problem(api: client.ApiClient, check: ClusterCheck) -> str | None:
    core: Any = client.CoreV1Api(api)
    apps: Any = client.AppsV1Api(api)
    if check.node is not None:
        node = core.read_node(check.node)
        ready = next(c.status for c in node.status.conditions if c.type == "Ready")
        return None if ready == check.ready else f"node {check.node} Ready={ready}"
    assert check.deployment is not None
    deployment = apps.read_namespaced_deployment(check.deployment, check.namespace)
    if check.image and deployment.spec.template.spec.containers[0].image != check.image:
        return f"deployment {check.deployment} runs {deployment.spec.template.spec.containers}"
    pods = core.list_namespaced_pod(check.namespace, label_selector=f"app={check.deployment}").items
    if not pods:
        return f"no pods of {check.deployment}"
    if check.waiting_reason is None:
        return None
    for pod in pods:
        for status in pod.status.container_statuses or []:
            waiting = status.state.waiting
            if waiting is not None and waiting.reason in _same_trouble(check.waiting_reason):
                return None
            crashed = status.last_state.terminated
            if check.waiting_reason == "CrashLoopBackOff" and crashed and status.restart_count > 1:
                return None  # between back-offs the container runs a little while
    return f"no pod of {check.deployment} waits with {check.waiting_reason}"


def _same_trouble(reason: str) -> set[str]:
    """A pull back-off shows ErrImagePull whenever the kubelet retries."""
    return {reason, "ErrImagePull"} if reason == "ImagePullBackOff" else {reason}
