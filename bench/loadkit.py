"""What the load benches share: the bot as N real `opsbot run` processes behind one address
(sharing PostgreSQL and Redis), process and /metrics sampling, percentiles, and the
table + JSON output.

The machine running a bench is usually busy with other work too, so every result carries
the load average it was measured under (`load_average()`).
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from sandbox.balancer import Balancer
from sandbox.slack.workspace import SlackWorkspace
from tests.botprocess import BotProcess

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as /proc/loadavg prints them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def quantiles(
    values: list[float],
    qs: tuple[float, ...] = (0.5, 0.95, 0.99),
    scale: float = 1.0,
    digits: int = 1,
) -> dict[str, float]:
    """{"p50": ..., "p95": ...} of `values` times `scale` (1000 for milliseconds)."""
    return {f"p{round(q * 100)}": round(pct(values, q) * scale, digits) for q in qs}


# -- shared state ------------------------------------------------------------------------------
def fresh_database() -> str:
    """A new empty PostgreSQL database for one bench run."""
    name = f"opsbot_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def pg_connections(url: str) -> int:
    """Connections open to `url`'s database (pg_stat_activity), not counting this probe."""
    admin = create_engine(PG_ADMIN_URL)
    with admin.connect() as conn:
        count = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = :name "
                "AND pid <> pg_backend_pid()"
            ),
            {"name": url.rsplit("/", 1)[1]},
        ).scalar_one()
    admin.dispose()
    return int(count)


def tcp_connections(pid: int, remote_port: int) -> int:
    """Established TCP connections of process `pid` to `remote_port` (e.g. 6379: its Redis
    clients), from the socket inodes in /proc/PID/fd matched against /proc/PID/net/tcp."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:  # closed while listing
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("tcp", "tcp6"):
        lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            established = fields[3] == "01"
            if established and int(fields[2].rsplit(":", 1)[1], 16) == remote_port:
                count += fields[9] in inodes
    return count


# -- the bot as replicas -------------------------------------------------------------------------
@dataclass
class Replicas:
    """N bot processes and the L4 balancer in front of them (`url`)."""

    bots: list[BotProcess]
    balancer: Balancer

    @property
    def url(self) -> str:
        return self.balancer.url

    @property
    def pids(self) -> list[int]:
        return [b.process.pid for b in self.bots if b.process is not None]

    def stop(self) -> None:
        for bot in self.bots:
            bot.stop()
        self.balancer.stop()


def start_replicas(
    ws: SlackWorkspace, workdir: Path, count: int, env: dict[str, str], timeout: float = 180.0
) -> Replicas:
    """Start `count` bots with the same settings behind one balancer, and point the Slack
    workspace at it. The first one migrates the schema alone; the rest start together.
    `timeout` is generous: on a busy machine imports and migrations take a while."""
    bots = [BotProcess(ws, workdir, **env) for _ in range(count)]
    try:
        bots[0].start(timeout)
        starters = [threading.Thread(target=bot.start, args=(timeout,)) for bot in bots[1:]]
        for thread in starters:
            thread.start()
        for thread in starters:
            thread.join()
        if any(bot.process is None or bot.process.poll() is not None for bot in bots):
            raise RuntimeError("a replica did not start")
    except BaseException:
        for bot in bots:
            bot.stop()
        raise
    balancer = Balancer([("127.0.0.1", bot.port) for bot in bots]).start()
    ws.configure(bot_url=f"{balancer.url}/slack/events")
    return Replicas(bots=bots, balancer=balancer)


# -- sampling ----------------------------------------------------------------------------------
def proc_stats(pid: int) -> dict[str, float]:
    """RSS and peak RSS (MiB), threads and open file descriptors of a live process."""
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return {
        "rss_mib": round(int(status["VmRSS"].split()[0]) / 1024, 1),
        "peak_rss_mib": round(int(status["VmHWM"].split()[0]) / 1024, 1),
        "threads": int(status["Threads"]),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
    }


def scrape(url: str) -> dict[str, float]:
    """A bot's /metrics as {'name{label="v"}': value}."""
    values: dict[str, float] = {}
    body = httpx.get(f"{url}/metrics", timeout=5).text
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return values


@dataclass
class Sampler:
    """Calls `probe` every `interval` seconds on a thread, keeping what it returns."""

    probe: Callable[[], dict[str, float]]
    interval: float = 1.0
    samples: list[dict[str, float]] = field(default_factory=list)
    errors: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> list[dict[str, float]]:
        self._stop.set()
        self._thread.join(timeout=30)
        return self.samples

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append(self.probe())
            except (httpx.HTTPError, OSError):  # a probe racing a stopping process
                self.errors += 1
            self._stop.wait(self.interval)

    def max(self, key: str) -> float:
        return max((s[key] for s in self.samples if key in s), default=float("nan"))


def report(result: dict[str, Any], json_out: str | None) -> None:
    """Print `result` as an aligned table (nested dicts inline) and write it as JSON."""
    width = max(len(k) for k in result) + 2
    for key, value in result.items():
        print(f"{key:{width}} {value}")
    if json_out:
        Path(json_out).write_text(json.dumps(result, indent=2))
