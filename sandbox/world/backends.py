"""The sandbox's servers: which ones, their options, and how each starts and reloads."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from sandbox.claude import ClaudeSandbox
from sandbox.jaeger import TraceStore, create_app
from sandbox.kube import KubeSandbox, apply_seed
from sandbox.procs import (
    AlertmanagerProcess,
    OpenSearchProcess,
    PrometheusProcess,
    ScrapeJob,
    alertmanager_config,
    bulk_index,
    start_prometheus,
)
from sandbox.scenarios.catalog import SCENARIOS_DIR
from sandbox.scenarios.logs import INDEX_PREFIX, LOG_MAPPINGS, index_for
from sandbox.serve import ServerThread
from sandbox.slack.config import SlackConfig

Json = dict[str, Any]
SHOP_SEED = SCENARIOS_DIR / "shop-cluster.yaml"
ALERT_GROUP_BY = ("alertname", "namespace")


@dataclass(frozen=True)
class WorldOptions:
    """history, step, horizon: seconds of metric history, the sample step, and how long the
    data runs on after the load moment (none when `live`). slack: the emulated
    workspace's config (None: no workspace), on slack_port (0: any free one). claude /
    claude_scripts: start the scripted Claude (with these script files). webhook_url:
    where Alertmanager sends (settable later with World.route_alerts_to).
    alert_resend_seconds: how often playing alerts are re-posted, as Prometheus re-sends
    firing alerts."""

    history: int = 12 * 3600
    step: int = 60
    horizon: int = 3600
    slack: SlackConfig | None = field(default_factory=lambda: SlackConfig(bot_url=None))
    slack_port: int = 0
    claude: bool = False
    claude_scripts: tuple[Path, ...] = ()
    claude_api_keys: tuple[str, ...] = ("sandbox-key",)
    webhook_url: str | None = None
    alert_resend_seconds: float = 15.0
    workdir: Path | None = None
    live: bool = False
    """Closed loop: the cluster's series are served live by the kube stand-in and scraped,
    the scenario's rules are evaluated by Prometheus, which fires and resolves the alerts
    through Alertmanager as the cluster changes (the history then ends at the load)."""


@dataclass(frozen=True)
class WorldUrls:
    prometheus: str
    alertmanager: str
    opensearch: str
    jaeger: str
    kube: str
    kubeconfig: str  # a kubeconfig file for kubectl and the kubernetes client
    slack: str | None = None  # the workspace page; its Web API is slack + "/api/"
    claude: str | None = None  # Anthropic(base_url=...)

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


def healthy_shop(kube: KubeSandbox, *extra: Json) -> None:
    """Seed the shop as it runs on a quiet day (what `sandbox up` shows before a scenario):
    deployed two days ago, so object ages look real and none lies in the future. `extra`
    seeds (a recorded system's workloads) are applied on its nodes at the same moment."""
    cluster = kube.reset(None)
    now = datetime.now(UTC)
    with cluster.lock:
        cluster.clock.set(now - timedelta(days=2))
        apply_seed(cluster, yaml.safe_load(SHOP_SEED.read_text()))
        for seed in extra:
            apply_seed(cluster, seed)
        cluster.clock.set(now)


def start_claude(options: WorldOptions) -> ServerThread | None:
    if not (options.claude or options.claude_scripts):
        return None
    claude = ClaudeSandbox(api_keys=options.claude_api_keys)
    for path in options.claude_scripts:
        claude.load(path)
    return ServerThread(claude.app).start()


def start_jaeger(store: TraceStore) -> ServerThread:
    return ServerThread(create_app(store)).start()


def restart_prometheus(
    current: PrometheusProcess | None,
    history_file: Path | None,
    workdir: Path,
    block_duration: str = "24h",
    live: LivePrometheus | None = None,
) -> PrometheusProcess:
    """Prometheus reads backfilled blocks at start, so a new history means a fresh process
    (on the same port, so its URL stays valid). `live`: also scrape the live series and
    evaluate the alert rules, sending alerts to Alertmanager."""
    port = 0
    if current is not None:
        port = int(current.url.rsplit(":", 1)[1])
        current.stop()
    if live is None:
        return start_prometheus(
            history_file=history_file, port=port, workdir=workdir, block_duration=block_duration
        )
    return start_prometheus(
        history_file=history_file,
        port=port,
        workdir=workdir,
        block_duration=block_duration,
        rules=[yaml.safe_dump(live_rules(live.rules))],
        alertmanager_url=live.alertmanager_url,
        evaluation_interval=live.evaluation_interval,
        scrape=[ScrapeJob("sandbox-live", live.target, interval=live.scrape_interval)],
    )


@dataclass(frozen=True)
class LivePrometheus:
    """What a closed-loop Prometheus scrapes (host:port of the kube stand-in's /metrics),
    which rules it evaluates and where its alerts go."""

    target: str
    rules: list[dict[str, Any]]
    alertmanager_url: str
    scrape_interval: str = "5s"
    evaluation_interval: str = "5s"


def live_rules(rules: list[dict[str, Any]]) -> dict[str, Any]:
    """The scenario's alerting rules for a live Prometheus, without their `for`: the
    incident is already under way at load (its alerts are checked to fire then), and a
    fresh Prometheus would otherwise hold each one back for `for` again."""
    return {
        "groups": [
            {
                "name": "sandbox-scenario",
                "rules": [{k: v for k, v in rule.items() if k != "for"} for rule in rules],
            }
        ]
    }


def route_alerts(alertmanager: AlertmanagerProcess, webhook_url: str | None) -> None:
    """Point Alertmanager's only receiver at `webhook_url` (None: nowhere) and reload."""
    config = alertmanager_config(webhook_url, group_by=ALERT_GROUP_BY)
    (alertmanager.workdir / "alertmanager.yml").write_text(yaml.safe_dump(config))
    response = httpx.post(f"{alertmanager.url}/-/reload", timeout=10)
    response.raise_for_status()


def replace_logs(opensearch: OpenSearchProcess, documents: list[Json]) -> int:
    """Drop every `logs-*` index, then index the documents into their daily indices."""
    httpx.delete(f"{opensearch.url}/{INDEX_PREFIX}-*", timeout=30).raise_for_status()
    by_index: dict[str, list[Json]] = {}
    for doc in documents:
        at = _epoch(str(doc["@timestamp"]))
        by_index.setdefault(index_for(at, doc["kubernetes"]["namespace"]), []).append(doc)
    for index, docs in sorted(by_index.items()):
        opensearch.create_index(index, LOG_MAPPINGS)
        bulk_index(opensearch.url, index, docs)
    return len(documents)


class OpenSearchLogs:
    """Live log documents into their daily indices (created on first use), as a log
    shipper appends them."""

    def __init__(self, opensearch: OpenSearchProcess) -> None:
        self.opensearch = opensearch
        self._known: set[str] = set()

    def add_logs(self, documents: list[Json]) -> None:
        by_index: dict[str, list[Json]] = {}
        for doc in documents:
            at = _epoch(str(doc["@timestamp"]))
            by_index.setdefault(index_for(at, doc["kubernetes"]["namespace"]), []).append(doc)
        for index, docs in sorted(by_index.items()):
            if index not in self._known:
                found = httpx.head(f"{self.opensearch.url}/{index}", timeout=10)
                if found.status_code == 404:
                    self.opensearch.create_index(index, LOG_MAPPINGS)
                self._known.add(index)
            bulk_index(self.opensearch.url, index, docs)


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
