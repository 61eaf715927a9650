"""A kube-state-metrics subset computed from a cluster on every scrape, and a real
Prometheus scraping it every second: the live signal remediation validates against."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from sandbox.procs.process import (
    LOOPBACK,
    ManagedProcess,
    make_workdir,
    require_binary,
    start_on_port,
)

UNAVAILABLE = "kube_deployment_status_replicas_unavailable"
WAITING = "kube_pod_container_status_waiting_reason"


def _labels(**values: str) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(values.items()))
    return "{" + inner + "}"


def exposition(api: client.ApiClient) -> str:
    """Prometheus text format, named and labelled like kube-state-metrics v2."""
    apps: Any = client.AppsV1Api(api)
    core: Any = client.CoreV1Api(api)
    lines = [
        f"# HELP {UNAVAILABLE} The number of unavailable replicas per deployment.",
        f"# TYPE {UNAVAILABLE} gauge",
    ]
    for d in apps.list_deployment_for_all_namespaces().items:
        wanted = d.spec.replicas if d.spec.replicas is not None else 1
        available = (d.status and d.status.available_replicas) or 0
        labels = _labels(namespace=d.metadata.namespace, deployment=d.metadata.name)
        lines.append(f"{UNAVAILABLE}{labels} {max(0, wanted - available)}")
    lines += [
        f"# HELP {WAITING} Describes the reason the container is currently in waiting state.",
        f"# TYPE {WAITING} gauge",
    ]
    for pod in core.list_pod_for_all_namespaces().items:
        for status in (pod.status and pod.status.container_statuses) or []:
            waiting = status.state.waiting if status.state else None
            if waiting is None or not waiting.reason:
                continue
            labels = _labels(
                namespace=pod.metadata.namespace,
                pod=pod.metadata.name,
                container=status.name,
                reason=waiting.reason,
            )
            lines.append(f"{WAITING}{labels} 1")
    return "\n".join(lines) + "\n"


def metrics_app(api: client.ApiClient) -> Starlette:
    async def metrics(_: Request) -> PlainTextResponse:
        return PlainTextResponse(exposition(api), media_type="text/plain; version=0.0.4")

    return Starlette(routes=[Route("/metrics", metrics)])


def start_scraping_prometheus(
    target: str, rules: list[dict[str, Any]] | None = None
) -> ManagedProcess:
    """Real Prometheus scraping `target` (host:port) every second, evaluating `rules`."""
    binary = require_binary("prometheus", "apt-get install -y prometheus")
    root, owns = make_workdir("prometheus-scrape", None)
    rule_file = root / "rules.yml"
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "test", "rules": rules or []}]}))
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rule_file)],
        "scrape_configs": [
            {"job_name": "kube-state-metrics", "static_configs": [{"targets": [target]}]}
        ],
    }
    config_path: Path = root / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config))

    def build(port: int) -> ManagedProcess:
        argv = [
            binary,
            f"--config.file={config_path}",
            f"--storage.tsdb.path={root / 'data'}",
            f"--web.listen-address={LOOPBACK}:{port}",
        ]
        return ManagedProcess(
            "prometheus",
            argv,
            url=f"http://{LOOPBACK}:{port}",
            ready_path="/-/ready",
            workdir=root,
            owns_workdir=owns,
        )

    return start_on_port(build, 0, 30.0)
