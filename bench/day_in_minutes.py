"""A day in minutes: 24 simulated hours of an ordinary day played in a few real minutes
against one `opsbot run` process (PostgreSQL + Redis, behind the balancer), watching it for
leaks while it works.

    python bench/day_in_minutes.py [--minutes 6] [--sample 3] [--json OUT]

Each simulated hour brings what a day brings (fewer at night): incidents opened by alert
groups that Alertmanager re-sends every hour while they fire and resolves 1-3 hours later;
an on-call engineer clicking Acknowledge (and sometimes Resolve) on the header; /ask-ai
questions answered by a scripted Claude with tool calls against a Kubernetes stand-in; and
digests on an accelerated clock (crontabs with a seconds field). Every --sample seconds the
bot process is sampled: RSS, threads, open file descriptors, its PostgreSQL connections
(pg_stat_activity for its database) and its Redis connections. The table shows each one's
start, end, max and slope per minute over the second half (after warm-up).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from slack_sdk import WebClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.amwebhooks import NAMES, webhook
from bench.ask_load import TOPICS, USERS, answered_at, model_turn
from bench.loadkit import (
    REDIS_URL,
    Replicas,
    Sampler,
    drop_database,
    fresh_database,
    load_average,
    pg_connections,
    proc_stats,
    report,
    start_replicas,
    tcp_connections,
)
from sandbox.claude import ClaudeSandbox, Latency
from sandbox.kube import KubeSandbox
from sandbox.serve import ServerThread
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import workspace

API_KEY = "sandbox-key"
# Incidents opened in each hour of the day (00:00 first): quiet nights, busy afternoons.
INCIDENTS_PER_HOUR = (1, 0, 0, 1, 0, 0, 1, 1, 2, 3, 2, 2, 3, 2, 2, 3, 2, 2, 1, 1, 1, 0, 1, 0)
QUESTIONS_PER_HOUR = (0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 3, 3, 2, 3, 4, 3, 3, 2, 2, 1, 1, 1, 0, 0)
DIGESTS = {
    "OPSBOT_DIGEST_INCIDENTS_SCHEDULE": "*/20 * * * * *",
    "OPSBOT_DIGEST_COST_DAILY_SCHEDULE": "10 * * * * *",
    "OPSBOT_DIGEST_ROI_SCHEDULE": "40 */2 * * * *",
    "OPSBOT_DIGEST_LOGS_SCHEDULE": "",  # no log store or Jaeger in this day
    "OPSBOT_DIGEST_PERFORMANCE_SCHEDULE": "",
    "OPSBOT_DIGEST_COST_MONTHLY_SCHEDULE": "",
    "OPSBOT_CAPACITY_SCAN_SCHEDULE": "",
    "OPSBOT_CAPACITY_DIGEST_SCHEDULE": "",
}
SERIES = ("rss_mib", "threads", "fds", "pg_connections", "redis_connections")

Event = tuple[float, str, Callable[[], None]]


def plan_day(people: People, hour: float, seed: int = 11) -> list[Event]:
    """(seconds from the start, kind, action) for the whole day, in time order."""
    rng = random.Random(seed)
    events: list[Event] = []
    number = 0
    for h, count in enumerate(INCIDENTS_PER_HOUR):
        for _ in range(count):
            number += 1
            opened = (h + rng.random()) * hour
            lasts = rng.uniform(1.0, 3.0)
            service, name = f"day-svc-{number:02d}", NAMES[number % len(NAMES)]
            group = (name, f"ns-{number % 4}", service, [f"{service}-6c9d-{i}" for i in range(3)])
            firing = partial(people.alert, *group, "firing")
            resolved = partial(people.alert, *group, "resolved")
            for repeat in range(int(lasts) + 1):  # Alertmanager's repeat_interval: 1 h
                events.append((opened + repeat * hour, "alert", firing))
            ack = partial(people.click, service, "incident_ack")
            events.append((opened + 0.4 * hour, "click", ack))
            if number % 5 == 0:  # resolved by hand before the alert clears
                resolve = partial(people.click, service, "incident_resolve")
                events.append((opened + 0.8 * hour, "click", resolve))
            events.append((opened + lasts * hour, "resolve", resolved))
    asked = 0
    for h, count in enumerate(QUESTIONS_PER_HOUR):
        for _ in range(count):
            asked += 1
            text = f"is {TOPICS[asked % len(TOPICS)]} healthy in prod? [q{asked:03d}]"
            user, channel = USERS[asked % len(USERS)], f"ask-{asked % 4}"
            events.append(
                ((h + rng.random()) * hour, "ask", partial(people.ask, user, channel, text))
            )
    return sorted(events, key=lambda e: e[0])


@dataclass
class People:
    """What happens to the bot from outside: Alertmanager posting, people typing and clicking."""

    ws: SlackWorkspace
    alerts: httpx.Client  # to the bot's address, as Alertmanager's webhook receiver

    def alert(self, name: str, namespace: str, service: str, pods: list[str], status: str) -> None:
        body = webhook(
            name, namespace, service, pods, status="resolved" if status == "resolved" else "firing"
        )
        self.alerts.post("/alertmanager", json=body).raise_for_status()

    def ask(self, user: str, channel: str, text: str) -> None:
        self.ws.slash_command(user, channel, "/ask-ai", text)

    def click(self, service: str, action: str) -> None:
        headers = [
            m for m in self.ws.messages("incidents") if m.get("bot_id") and service in json.dumps(m)
        ]
        if headers:
            self.ws.click_button("U0BOB", "incidents", str(headers[0]["ts"]), action)


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, per minute."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if spread == 0:
        return 0.0
    return 60 * sum((t - mean_t) * (v - mean_v) for t, v in points) / spread


def summarize(samples: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    half = samples[len(samples) // 2 :]
    table = {}
    for key in SERIES:
        values = [s[key] for s in samples]
        table[key] = {
            "start": values[0],
            "end": values[-1],
            "max": max(values),
            "slope_per_min_2nd_half": round(slope_per_minute([(s["t"], s[key]) for s in half]), 2),
        }
    return table


def play(
    args: argparse.Namespace,
    ws: SlackWorkspace,
    replicas: Replicas,
    db_url: str,
    alerts: httpx.Client,
) -> dict[str, Any]:
    pid = replicas.pids[0]
    t0 = time.time()

    def probe() -> dict[str, float]:
        stats = proc_stats(pid)
        return {
            "t": time.time() - t0,
            "rss_mib": stats["rss_mib"],
            "threads": stats["threads"],
            "fds": stats["fds"],
            "pg_connections": pg_connections(db_url),
            "redis_connections": tcp_connections(pid, 6379),
        }

    load_at_start = load_average()
    sampler = Sampler(probe, interval=args.sample).start()
    hour = args.minutes * 60 / 24
    events = plan_day(People(ws, alerts), hour)
    failures: list[str] = []
    with ThreadPoolExecutor(6) as pool:
        for due, kind, action in events:
            time.sleep(max(0.0, t0 + due - time.time()))

            def guarded_action(k: str = kind, a: Callable[[], None] = action) -> None:
                try:
                    a()
                except Exception as exc:  # noqa: BLE001 - the bench counts, then carries on
                    failures.append(f"{k}: {exc!r}"[:200])

            pool.submit(guarded_action)
    time.sleep(max(0.0, t0 + 24 * hour - time.time()) + 2 * args.sample)
    samples = sampler.stop()
    kinds = [kind for _, kind, _ in events]
    digests_channel = ws.channel_id("digests")
    return {
        "simulated_hour_s": round(hour, 1),
        "real_minutes": round((time.time() - t0) / 60, 1),
        "samples": len(samples),
        "alert_webhooks": kinds.count("alert") + kinds.count("resolve"),
        "incident_clicks": kinds.count("click"),
        "questions": kinds.count("ask"),
        "questions_answered": len(answered_at(ws)),
        "digests_posted": sum(
            1
            for c in ws.calls("chat.postMessage")
            if c.status == 200 and c.args.get("channel") in ("digests", digests_channel)
        ),
        "driver_failures": failures[:5],
        "series": summarize(samples),
        "rss_mib_each_tenth": [s["rss_mib"] for s in samples[:: max(1, len(samples) // 10)]],
        "load_average_start_end": [load_at_start, load_average()],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=6.0, help="real minutes for 24 h")
    parser.add_argument("--sample", type=float, default=3.0, help="seconds between samples")
    parser.add_argument("--json", dest="json_out", default=None)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="opsbot-day-"))
    ws = workspace()
    client = WebClient(token=ws.config.bot_token, base_url=ws.api_url)
    for name in ("digests", *(f"ask-{n}" for n in range(4))):
        client.conversations_create(name=name)
    claude = ClaudeSandbox(api_keys=[API_KEY], latency=Latency((0.5, 1.5), 50.0, seed=2))
    claude.script("day", [model_turn] * 2000)
    db_url = fresh_database()
    with KubeSandbox(auto_advance=False) as kube, ServerThread(claude.app) as claude_server:
        env = {
            "OPSBOT_DATABASE_URL": db_url,
            "OPSBOT_REDIS_URL": REDIS_URL,
            "OPSBOT_REDIS_KEY_PREFIX": f"opsbot-day-{workdir.name}:",
            "OPSBOT_LOG_LEVEL": "WARNING",
            "OPSBOT_KUBECONFIG": str(kube.write_kubeconfig(workdir / "kubeconfig")),
            "ANTHROPIC_API_KEY": API_KEY,
            "ANTHROPIC_BASE_URL": claude_server.url,
            "OPSBOT_DIGEST_CHANNEL": "digests",
            **DIGESTS,
        }
        try:
            replicas = start_replicas(ws, workdir, 1, env)
        except BaseException:
            ws.close()
            drop_database(db_url)
            raise
        alerts = httpx.Client(base_url=replicas.url, timeout=30)
        try:
            result = play(args, ws, replicas, db_url, alerts)
        finally:
            alerts.close()
            replicas.stop()
            ws.close()
            drop_database(db_url)
    series = result.pop("series")
    report(result, None)
    print(f"{'':20} {'start':>8} {'end':>8} {'max':>8} {'slope/min (2nd half)':>22}")
    for key, row in series.items():
        print(
            f"{key:20} {row['start']:8} {row['end']:8} {row['max']:8} "
            f"{row['slope_per_min_2nd_half']:22}"
        )
    result["series"] = series
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
