"""Real Prometheus (Debian package `prometheus`) with backfilled history and rule files."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from sandbox.procs.process import (
    LOOPBACK,
    ManagedProcess,
    ProcessStartError,
    make_workdir,
    require_binary,
    start_on_port,
)

INSTALL_HINT = "apt-get install -y prometheus"


class PrometheusProcess(ManagedProcess):
    """A running Prometheus; `url` is the API and UI base URL."""


@dataclass(frozen=True)
class ScrapeJob:
    """One scrape target: `target` is host:port. The exposed job/instance labels are kept
    (honor_labels), as behind a ServiceMonitor, so live series continue backfilled ones."""

    name: str
    target: str
    path: str = "/metrics"
    interval: str = "5s"

    def config(self) -> dict[str, object]:
        return {
            "job_name": self.name,
            "scrape_interval": self.interval,
            "scrape_timeout": self.interval,
            "metrics_path": self.path,
            "honor_labels": True,
            "static_configs": [{"targets": [self.target]}],
        }


def backfill(openmetrics_file: Path, storage: Path, block_duration: str | None = None) -> None:
    """Turn OpenMetrics history into TSDB blocks; run before Prometheus starts."""
    promtool = require_binary("promtool", INSTALL_HINT)
    argv = [promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet"]
    if block_duration:
        argv.append(f"--max-block-duration={block_duration}")
    storage.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(  # noqa: S603 - fixed argv
        [*argv, str(openmetrics_file), str(storage)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise ProcessStartError(f"promtool backfill failed: {done.stderr or done.stdout}")


def prometheus_config(
    rule_files: Sequence[Path],
    *,
    alertmanager_url: str | None,
    evaluation_interval: str,
    scrape_self_port: int | None,
    scrape: Sequence[ScrapeJob] = (),
) -> dict[str, object]:
    jobs: list[dict[str, object]] = [job.config() for job in scrape]
    config: dict[str, object] = {
        "global": {"scrape_interval": "15s", "evaluation_interval": evaluation_interval},
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": jobs,
    }
    if scrape_self_port is not None:
        jobs.append(
            {
                "job_name": "prometheus",
                "static_configs": [{"targets": [f"{LOOPBACK}:{scrape_self_port}"]}],
            }
        )
    if alertmanager_url:
        parts = urlsplit(alertmanager_url)
        target: dict[str, object] = {"static_configs": [{"targets": [parts.netloc]}]}
        if parts.path.strip("/"):
            target["path_prefix"] = parts.path
        config["alerting"] = {"alertmanagers": [target]}
    return config


def start_prometheus(
    *,
    history: str | None = None,
    history_file: Path | None = None,
    rules: Sequence[str] = (),
    rule_files: Sequence[Path] = (),
    alertmanager_url: str | None = None,
    evaluation_interval: str = "1s",
    scrape_self: bool = False,
    scrape: Sequence[ScrapeJob] = (),
    block_duration: str | None = "24h",
    port: int = 0,
    workdir: Path | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 30.0,
) -> PrometheusProcess:
    """Backfill `history` (OpenMetrics text) or `history_file`, write the config, start.

    `rules` are rule-file YAML texts; `rule_files` existing files. Alerts go to
    `alertmanager_url` when given, re-sent every second. `scrape`: live targets.
    """
    binary = require_binary("prometheus", INSTALL_HINT)
    root, owns = make_workdir("prometheus", workdir)
    storage = root / "data"
    if history is not None:
        history_file = root / "history.om"
        history_file.write_text(history)
    if history_file is not None:
        try:
            backfill(history_file, storage, block_duration)
        except ProcessStartError:
            if owns:
                shutil.rmtree(root, ignore_errors=True)
            raise
    all_rules = list(rule_files)
    for index, text in enumerate(rules):
        path = root / f"rules-{index}.yml"
        path.write_text(text)
        all_rules.append(path)

    def build(chosen: int) -> PrometheusProcess:
        config_path = root / "prometheus.yml"
        config = prometheus_config(
            all_rules,
            alertmanager_url=alertmanager_url,
            evaluation_interval=evaluation_interval,
            scrape_self_port=chosen if scrape_self else None,
            scrape=scrape,
        )
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        argv = [
            binary,
            f"--config.file={config_path}",
            f"--storage.tsdb.path={storage}",
            f"--web.listen-address={LOOPBACK}:{chosen}",
            "--storage.tsdb.retention.time=3650d",
            "--rules.alert.resend-delay=1s",
            *extra_args,
        ]
        return PrometheusProcess(
            "prometheus",
            argv,
            url=f"http://{LOOPBACK}:{chosen}",
            ready_path="/-/ready",
            workdir=root,
            owns_workdir=owns,
        )

    return start_on_port(build, port, timeout)
