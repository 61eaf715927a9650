"""Real Alertmanager (Debian package `prometheus-alertmanager`) sending to a webhook."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from sandbox.procs.process import (
    LOOPBACK,
    ManagedProcess,
    make_workdir,
    require_binary,
    start_on_port,
)

INSTALL_HINT = "apt-get install -y prometheus-alertmanager"


def alertmanager_config(
    webhook_url: str | None,
    *,
    group_by: Sequence[str] = ("alertname",),
    group_wait: str = "0s",
    group_interval: str = "1s",
    repeat_interval: str = "1h",
    send_resolved: bool = True,
) -> dict[str, Any]:
    """One route to one webhook receiver (or to nowhere), grouped and sent at once."""
    receiver: dict[str, Any] = {"name": "webhook"}
    if webhook_url:
        receiver["webhook_configs"] = [{"url": webhook_url, "send_resolved": send_resolved}]
    return {
        "route": {
            "receiver": "webhook",
            "group_by": list(group_by),
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": repeat_interval,
        },
        "receivers": [receiver],
    }


class AlertmanagerProcess(ManagedProcess):
    """A running Alertmanager; `url` is its API and UI base URL."""

    def post_alerts(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        post_alerts(self.url, alerts)

    def alerts(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/api/v2/alerts", timeout=10)
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()
        return found


def post_alerts(url: str, alerts: Sequence[Mapping[str, Any]]) -> None:
    """POST /api/v2/alerts; alerts are {labels, annotations, startsAt?, endsAt?, ...}."""
    response = httpx.post(f"{url.rstrip('/')}/api/v2/alerts", json=list(alerts), timeout=10)
    response.raise_for_status()


def alert(
    name: str,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    *,
    resolved: bool = False,
    generator_url: str = "",
) -> dict[str, Any]:
    """One alert for post_alerts: firing now, or resolved a second ago."""
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "labels": {"alertname": name, **(labels or {})},
        "annotations": dict(annotations or {}),
        "startsAt": (now - timedelta(minutes=5)).isoformat().replace("+00:00", "Z"),
    }
    if resolved:
        body["endsAt"] = (now - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    if generator_url:
        body["generatorURL"] = generator_url
    return body


def start_alertmanager(
    *,
    webhook_url: str | None = None,
    config: Mapping[str, Any] | None = None,
    port: int = 0,
    workdir: Path | None = None,
    timeout: float = 30.0,
) -> AlertmanagerProcess:
    """Start with `config`, or one that sends every group to `webhook_url` at once."""
    binary = require_binary("prometheus-alertmanager", INSTALL_HINT)
    root, owns = make_workdir("alertmanager", workdir)
    config_path = root / "alertmanager.yml"
    chosen_config = dict(config) if config is not None else alertmanager_config(webhook_url)
    config_path.write_text(yaml.safe_dump(chosen_config, sort_keys=False))

    def build(chosen: int) -> AlertmanagerProcess:
        url = f"http://{LOOPBACK}:{chosen}"
        argv = [
            binary,
            f"--config.file={config_path}",
            f"--storage.path={root / 'data'}",
            f"--web.listen-address={LOOPBACK}:{chosen}",
            f"--web.external-url={url}",
            "--cluster.listen-address=",
        ]
        return AlertmanagerProcess(
            "alertmanager",
            argv,
            url=url,
            ready_path="/-/ready",
            workdir=root,
            owns_workdir=owns,
        )

    return start_on_port(build, port, timeout)
