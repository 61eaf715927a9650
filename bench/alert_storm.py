"""Alert storm: 10,000 alerts over 50 problems, 20 concurrent senders, real bot process.

The local Slack workspace enforces one chat.postMessage per second per channel (burst 2),
as Slack does. Prints a table and, with --json OUT, the same numbers as JSON.

    python bench/alert_storm.py [--alerts 10000] [--problems 50] [--senders 20]
        [--duration 60] [--database-url URL] [--redis-url URL] [--json OUT]

`--duration` paces the storm (problems start staggered across it, alerts arrive
throughout); 0 sends as fast as the senders can.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from slack_sdk import WebClient
from sqlmodel import col, func, select

from bot.settings import DatabaseSettings
from bot.store.db import Database
from bot.store.incidents import Alert, AlertInbox, Incident
from policies.routing import DEFAULT_RULES
from tests.botharness import workspace
from tests.botprocess import BotProcess

ALERTS_PER_WEBHOOK = 5
NAMES = ("HighErrorRate", "HighLatency", "PodCrashLooping", "KubePodNotReady")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def build_webhooks(alerts: int, problems: int, seed: int = 7) -> list[tuple[int, dict[str, Any]]]:
    """(problem index, webhook body) in storm order: each problem's first webhook appears at
    a staggered position, the rest interleave."""
    rng = random.Random(seed)
    per_problem = alerts // problems
    hooks: list[list[tuple[int, dict[str, Any]]]] = []
    starts = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    for p in range(problems):
        ns, svc = f"ns-{p % 5}", f"svc-{p:02d}"
        mine = []
        for start in range(0, per_problem, ALERTS_PER_WEBHOOK):
            name = NAMES[(start // ALERTS_PER_WEBHOOK) % len(NAMES)]
            batch = [
                {
                    "status": "firing",
                    "labels": {
                        "alertname": name,
                        "namespace": ns,
                        "service": svc,
                        "severity": "critical",
                        "pod": f"{svc}-5d8f7c9b4-{i:05d}",
                    },
                    "annotations": {"summary": f"{name} on {svc}"},
                    "startsAt": starts,
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
                }
                for i in range(start, min(start + ALERTS_PER_WEBHOOK, per_problem))
            ]
            mine.append(
                (
                    p,
                    {
                        "receiver": "opsbot",
                        "status": "firing",
                        "version": "4",
                        "groupKey": f'{{}}:{{alertname="{name}", service="{svc}"}}',
                        "groupLabels": {"alertname": name, "service": svc},
                        "commonLabels": {"alertname": name, "service": svc},
                        "commonAnnotations": {},
                        "externalURL": "http://alertmanager:9093",
                        "truncatedAlerts": 0,
                        "alerts": batch,
                    },
                )
            )
        hooks.append(mine)
    order: list[tuple[int, dict[str, Any]]] = []
    active: list[list[tuple[int, dict[str, Any]]]] = []
    pending = list(hooks)
    total = sum(len(h) for h in hooks)
    stagger = max(1, total // problems)
    while pending or any(active):
        if pending and (len(order) % stagger == 0 or not any(active)):
            active.append(pending.pop(0))
        choices = [a for a in active if a]
        chosen = rng.choice(choices)
        order.append(chosen.pop(0))
    return order


def team_routes(ws: Any, workdir: Path) -> Path:
    """Incident rules that send each namespace to its team's channel (created here, as a
    workspace would have them)."""
    client = WebClient(token=ws.config.bot_token, base_url=ws.api_url)
    rules = yaml.safe_load(DEFAULT_RULES.read_text())
    rules["routes"] = []
    for n in range(5):
        client.conversations_create(name=f"team-ns-{n}")
        rules["routes"].append(
            {"name": f"ns-{n}", "match": {"namespace": f"ns-{n}"}, "channel": f"team-ns-{n}"}
        )
    path = workdir / "routes.yaml"
    path.write_text(yaml.safe_dump(rules))
    return path


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--problems", type=int, default=50)
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--json", dest="json_out", default=None)
    parser.add_argument(
        "--team-channels",
        action="store_true",
        help="route each namespace to its own team channel (incident rules), instead of "
        "one #incidents channel for everything",
    )
    parser.add_argument(
        "--post-rate", type=float, default=None, help="the bot's SLACK_POST_RATE_PER_CHANNEL"
    )
    parser.add_argument(
        "--post-burst", type=int, default=None, help="the bot's SLACK_POST_BURST_PER_CHANNEL"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="opsbot-storm-"))
    db_url = args.database_url or f"sqlite:///{workdir / 'storm.db'}"
    ws = workspace()
    env = {
        "OPSBOT_DATABASE_URL": db_url,
        "OPSBOT_LOG_LEVEL": "WARNING",
        "OPSBOT_WORKER_THREADS": "16",
    }
    if args.redis_url:
        env["OPSBOT_REDIS_URL"] = args.redis_url
    if args.team_channels:
        env["OPSBOT_ALERTMANAGER_RULES_FILE"] = str(team_routes(ws, workdir))
    if args.post_rate is not None:
        env["SLACK_POST_RATE_PER_CHANNEL"] = str(args.post_rate)
    if args.post_burst is not None:
        env["SLACK_POST_BURST_PER_CHANNEL"] = str(args.post_burst)
    bot = BotProcess(ws, workdir, **env).start()
    hooks = build_webhooks(args.alerts, args.problems)
    first_sent: dict[int, float] = {}
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    interval = args.duration / len(hooks) if args.duration else 0.0
    t0 = time.time()

    def send(index: int, problem: int, body: dict[str, Any], client: httpx.Client) -> None:
        nonlocal failures
        due = t0 + index * interval
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
        started = time.time()
        with lock:
            first_sent.setdefault(problem, started)
        # Like Alertmanager: a failed delivery (error or non-2xx) is retried with back-off.
        for attempt in range(10):
            attempt_start = time.time()
            try:
                response: httpx.Response | None = client.post(f"{bot.url}/alertmanager", json=body)
            except httpx.HTTPError:
                response = None
            with lock:
                latencies.append(time.time() - attempt_start)
                if response is not None and response.status_code == 200:
                    return
                failures += 1
            time.sleep(0.1 * 2**attempt)

    with (
        httpx.Client(timeout=30, limits=httpx.Limits(max_connections=args.senders)) as client,
        ThreadPoolExecutor(args.senders) as pool,
    ):
        for i, (problem, body) in enumerate(hooks):
            pool.submit(send, i, problem, body, client)
    sent_at = time.time()
    db = Database(DatabaseSettings(url=db_url))

    def settled() -> bool:
        with db.session() as s:
            pending = s.exec(
                select(func.count())
                .select_from(AlertInbox)
                .where(col(AlertInbox.processed_at).is_(None))
            ).one()
            unposted = s.exec(
                select(func.count())
                .select_from(Incident)
                .where(col(Incident.triage_posted).is_(False))
            ).one()
        return pending == 0 and unposted == 0

    deadline = time.time() + 600
    while not settled() and time.time() < deadline:
        time.sleep(0.5)
    time.sleep(2.0)
    rss = peak_rss_mib(bot.process.pid) if bot.process else float("nan")

    with db.session() as s:
        incidents = s.exec(select(Incident)).all()
        stored_alerts = s.exec(select(func.count()).select_from(Alert)).one()
    problem_of = {i.id: int(i.service.split("-")[1]) for i in incidents}
    posts = ws.calls("chat.postMessage")
    header_at: dict[int, list[float]] = defaultdict(list)
    triage_at: dict[int, float] = {}
    for call in posts:
        if call.status != 200:
            continue
        text = str(call.args.get("text", ""))
        if call.args.get("thread_ts"):
            if text.startswith("First triage of incident #"):
                triage_at.setdefault(int(text.rsplit("#", 1)[1]), call.at)
        elif "#" in text:
            header_at[int(text.split("#", 1)[1].split(" ", 1)[0])].append(call.at)
    to_header = [
        min(v) - first_sent[problem_of[i]] for i, v in header_at.items() if i in problem_of
    ]
    to_triage = [t - first_sent[problem_of[i]] for i, t in triage_at.items() if i in problem_of]
    opened = {
        i.id: i.opened_at.replace(tzinfo=i.opened_at.tzinfo or UTC).timestamp() for i in incidents
    }
    to_incident = [opened[i] - first_sent[p] for i, p in problem_of.items()]
    incident_to_header = [min(v) - opened[i] for i, v in header_at.items() if i in opened]
    all_calls = ws.calls()
    rate_limited = sum(1 for c in all_calls if c.status == 429)
    messages = sum(
        1 for c in all_calls if c.method in ("chat.postMessage", "chat.update") and c.status == 200
    )
    result = {
        "alerts_sent": args.alerts,
        "problems": args.problems,
        "senders": args.senders,
        "storm_seconds": round(sent_at - t0, 1),
        "webhook_attempts_failed_then_retried": failures,
        "webhook_latency_ms": {
            q: round(pct(latencies, p) * 1000, 1)
            for q, p in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
        },
        "alert_to_header_s": {
            "p50": round(pct(to_header, 0.5), 2),
            "p95": round(pct(to_header, 0.95), 2),
        },
        "alert_to_incident_row_p95_s": round(pct(to_incident, 0.95), 3),
        "incident_row_to_header_s": {
            "p50": round(pct(incident_to_header, 0.5), 2),
            "p95": round(pct(incident_to_header, 0.95), 2),
        },
        "alert_to_triage_p95_s": round(pct(to_triage, 0.95), 2),
        "incidents_opened": len(incidents),
        "alerts_lost": args.alerts - int(stored_alerts),
        "duplicate_threads": sum(len(v) - 1 for v in header_at.values()),
        "slack_429s_received_and_retried": rate_limited,
        "messages_posted_per_alert": round(messages / args.alerts, 4),
        "peak_rss_mib": round(rss, 1),
        "database": db_url.split(":")[0],
    }
    bot.stop()
    ws.close()
    db.dispose()
    for key, value in result.items():
        print(f"{key:34} {value}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
