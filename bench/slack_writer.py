"""Slack writer: a digest burst and an ephemeral burst during an incident storm, one channel.

    .venv/bin/python bench/slack_writer.py [--digests 12] [--ephemerals 30] [--incidents 4]
        [--json OUT]

Runs the real bot in-process (tests/botharness.py, SQLite) against the local Slack
workspace, which enforces Slack's limits (chat.postMessage 1/s per channel, burst 2;
chat.postEphemeral Tier 4, 100/min, burst 10) and answers `ratelimited` with Retry-After.
Once the first digest has landed, the incident storm's alerts are sent to the webhook.

Two runs, same load:

- `writer`: digests and ephemerals through the app's client, which waits in the outbox
  (bot.slack.writer) — the bot as shipped;
- `unpaced`: digests and ephemerals through a WebClient of their own, with the same
  retry budget but no outbox (how digests and ephemerals were written before).

For each it prints: Slack calls answered 429, writes lost (retry budget spent), seconds
from each alert being accepted to its incident header (p50/max), seconds until the last
digest post, posts per second into the channel over the run, and ephemerals per second.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_sdk.errors import SlackApiError

from bench.loadkit import load_average, pct
from bot.digests.output import DigestOutput
from bot.digests.registry import post_digest
from bot.slack.posting import build_web_client
from tests.botharness import running_bot, workspace
from tests.incidents.amfixtures import alert, webhook

PERSON = "U0ALICE"


def run_once(mode: str, digests: int, ephemerals: int, incidents: int) -> dict[str, Any]:
    """One run of the load in `mode` ("writer" or "unpaced"); its numbers."""
    slack = workspace()
    general = slack.channel_id("general")
    with (
        tempfile.TemporaryDirectory() as home,
        running_bot(
            slack,
            database_url=f"sqlite:///{Path(home) / 'bot.db'}",
            slack={"incidents_channel": general},
        ) as bot,
    ):
        client = bot.bot.runtime.client
        if mode == "unpaced":
            client = build_web_client(slack.config.bot_token, slack.api_url, timeout=10)
        started = time.time()
        work = [
            lambda n=n: post_digest(
                client, general, DigestOutput(text=f"Bench digest {n}", blocks=[])
            )
            for n in range(digests)
        ] + [
            lambda n=n: client.chat_postEphemeral(
                channel=general, user=PERSON, text=f"Bench ephemeral {n}"
            )
            for n in range(ephemerals)
        ]
        failed: list[str] = []

        def attempt(fn: Any) -> None:
            try:
                fn()
            except SlackApiError as exc:  # the retry budget ran out: the write is lost
                failed.append(str(exc.response.get("error")))

        threads = [threading.Thread(target=attempt, args=(fn,), daemon=True) for fn in work]
        for thread in threads:
            thread.start()
        slack.wait_for(
            lambda: [m for m in slack.messages("general") if "Bench digest" in str(m)],
            timeout=60,
        )
        sent: dict[str, float] = {}
        for n in range(incidents):
            name = f"BenchStorm{n}"
            body = webhook(alert(name, datetime.now(UTC), service=f"svc{n}"))
            answer = httpx.post(f"{bot.url}/alertmanager", json=body, timeout=10)
            answer.raise_for_status()
            sent[name] = time.time()
        for thread in threads:
            thread.join(timeout=300)
        slack.wait_for(
            lambda: (
                all(
                    any(name in str(m.get("text")) for m in slack.messages("general"))
                    for name in sent
                )
                or None
            ),
            timeout=120,
        )
        calls = slack.calls()
    slack.close()
    posts = [
        c
        for c in calls
        if c.method == "chat.postMessage" and c.status == 200 and c.args.get("channel") == general
    ]
    header_s = []
    for name, at in sent.items():
        header = next(c for c in posts if name in str(c.args.get("text")))
        header_s.append(header.at - at)
    digest_posts = [c.at for c in posts if "Bench digest" in str(c.args.get("text"))]
    ephemeral_at = [c.at for c in calls if c.method == "chat.postEphemeral" and c.status == 200]
    span = max(c.at for c in posts) - started
    return {
        "mode": mode,
        "ratelimited_calls": sum(1 for c in calls if c.status == 429),
        "header_latency_p50_s": round(pct(header_s, 0.5), 2),
        "header_latency_max_s": round(max(header_s), 2),
        "last_digest_s": round(max(digest_posts) - started, 2),
        "digests_delivered": len(digest_posts),
        "writes_lost": len(failed),
        "posts_per_s": round(len(posts) / span, 2) if span > 0 else 0.0,
        "ephemerals_per_s": round(len(ephemeral_at) / (max(ephemeral_at) - started), 2)
        if ephemeral_at
        else 0.0,
        "ephemerals_delivered": len(ephemeral_at),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--digests", type=int, default=12)
    parser.add_argument("--ephemerals", type=int, default=30)
    parser.add_argument("--incidents", type=int, default=4)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    runs = [
        run_once(mode, args.digests, args.ephemerals, args.incidents)
        for mode in ("writer", "unpaced")
    ]
    result = {
        "load": {
            "digests": args.digests,
            "ephemerals": args.ephemerals,
            "incidents": args.incidents,
        },
        "runs": runs,
        "load_average": load_average(),
    }
    print(
        "mode | 429s | lost | header p50 s | header max s | last digest s | posts/s | ephemerals/s"
    )
    for run in runs:
        print(
            f"{run['mode']} | {run['ratelimited_calls']} | {run['writes_lost']} | "
            f"{run['header_latency_p50_s']} | "
            f"{run['header_latency_max_s']} | {run['last_digest_s']} | {run['posts_per_s']} | "
            f"{run['ephemerals_per_s']}"
        )
    print(f"load average {result['load_average']}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
