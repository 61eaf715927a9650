"""Alert storm: 10,000 alerts over 50 problems, 20 concurrent senders, real bot processes.

The local Slack workspace enforces one chat.postMessage per second per channel (burst 2),
as Slack does. Prints a table and, with --json OUT, the same numbers as JSON.

    python bench/alert_storm.py [--alerts 10000] [--problems 50] [--senders 20]
        [--duration 60] [--replicas 1] [--database-url URL] [--redis-url URL] [--json OUT]

`--duration` paces the storm (problems start staggered across it, alerts arrive
throughout); 0 sends as fast as the senders can. `--replicas N` runs N bot processes
sharing PostgreSQL and Redis behind one L4 balancer (sandbox.balancer), the senders posting
to the balancer like Alertmanager posting to a load balancer's address; with N > 1 and no
--database-url a fresh PostgreSQL database is used (and dropped), with Redis by default
(--fresh-postgres does the same for one replica).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import yaml
from slack_sdk import WebClient
from sqlmodel import col, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.amwebhooks import build_webhooks
from bench.loadkit import (
    REDIS_URL,
    Replicas,
    drop_database,
    fresh_database,
    load_average,
    pct,
    proc_stats,
    quantiles,
    report,
    scrape,
    start_replicas,
)
from bot.settings import DatabaseSettings
from bot.store.db import Database
from bot.store.incidents import Alert, AlertInbox, Incident
from policies.routing import DEFAULT_RULES
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import workspace


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


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--problems", type=int, default=50)
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--replicas", type=int, default=1, help="bot processes behind a balancer")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument(
        "--fresh-postgres", action="store_true", help="a new PostgreSQL database and Redis"
    )
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
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="opsbot-storm-"))
    own_db = not args.database_url and (args.replicas > 1 or args.fresh_postgres)
    db_url = args.database_url or (
        fresh_database() if own_db else f"sqlite:///{workdir / 'storm.db'}"
    )
    redis_url = args.redis_url or (REDIS_URL if own_db else None)
    ws = workspace()
    env = {
        "OPSBOT_DATABASE_URL": db_url,
        "OPSBOT_LOG_LEVEL": "WARNING",
        "OPSBOT_WORKER_THREADS": "16",
    }
    if redis_url:
        env["OPSBOT_REDIS_URL"] = redis_url
    if args.team_channels:
        env["OPSBOT_ALERTMANAGER_RULES_FILE"] = str(team_routes(ws, workdir))
    if args.post_rate is not None:
        env["SLACK_POST_RATE_PER_CHANNEL"] = str(args.post_rate)
    if args.post_burst is not None:
        env["SLACK_POST_BURST_PER_CHANNEL"] = str(args.post_burst)
    replicas = start_replicas(ws, workdir, args.replicas, env)
    try:
        result = storm(args, replicas, ws, db_url)
    finally:
        replicas.stop()
        ws.close()
        if own_db:
            drop_database(db_url)
    result["cache"] = "redis" if redis_url else "memory"
    report(result, args.json_out)
    return result


def storm(
    args: argparse.Namespace, replicas: Replicas, ws: SlackWorkspace, db_url: str
) -> dict[str, Any]:
    load_at_start = load_average()
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
                response: httpx.Response | None = client.post(
                    f"{replicas.url}/alertmanager", json=body
                )
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
    rss = [proc_stats(pid)["peak_rss_mib"] for pid in replicas.pids]

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
        "webhook_latency_ms": quantiles(latencies, scale=1000),
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
        "peak_rss_mib_per_replica": rss,
        "replicas": args.replicas,
        "webhooks_per_replica": [
            int(
                scrape(bot.url).get(
                    'opsbot_http_requests_total{route="/alertmanager",status="200"}', 0
                )
            )
            for bot in replicas.bots
        ],
        "tcp_connections_per_replica": [
            replicas.balancer.connections[("127.0.0.1", b.port)] for b in replicas.bots
        ],
        "database": db_url.split(":", maxsplit=1)[0],
        "load_average_start_end": [load_at_start, load_average()],
    }
    db.dispose()
    return result


if __name__ == "__main__":
    main()
