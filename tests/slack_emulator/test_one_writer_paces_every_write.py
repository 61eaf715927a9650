"""Every Slack write the running bot makes waits for its slot: a burst of digests and of
ephemeral replies, with an incident storm in the same channel, draws no `ratelimited` from
a Slack that enforces its limits, and the incidents' headers overtake the digests queued
before them (bot.slack.writer)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bot.digests.output import DigestOutput
from bot.digests.registry import post_digest
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot, running_bot
from tests.incidents.amfixtures import alert, webhook

DIGESTS = 12
EPHEMERALS = 16
STORM = ("WriterStormCheckout", "WriterStormPayments")
PERSON = "U0ALICE"


def send_alert(bot: RunningBot, name: str) -> None:
    body = json.dumps(webhook(alert(name, datetime.now(UTC), service=name.lower()))).encode()
    answer = httpx.post(
        f"{bot.url}/alertmanager",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200


def in_threads(work: list[Any]) -> list[threading.Thread]:
    threads = [threading.Thread(target=fn, daemon=True) for fn in work]
    for thread in threads:
        thread.start()
    return threads


def test_a_digest_and_ephemeral_burst_during_an_incident_storm_draws_no_rate_limit(
    slack: SlackWorkspace, tmp_path: Path
) -> None:
    general = slack.channel_id("general")
    with running_bot(
        slack,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        slack={"incidents_channel": general},
    ) as bot:
        client = bot.bot.runtime.client
        digests = in_threads(
            [
                lambda n=n: post_digest(
                    client, general, DigestOutput(text=f"Writer digest {n}", blocks=[])
                )
                for n in range(DIGESTS)
            ]
        )
        ephemerals = in_threads(
            [
                lambda n=n: client.chat_postEphemeral(
                    channel=general, user=PERSON, text=f"Writer ephemeral {n}"
                )
                for n in range(EPHEMERALS)
            ]
        )
        slack.wait_for(
            lambda: [m for m in slack.messages("general") if "Writer digest" in str(m)],
            timeout=15,
        )
        for name in STORM:
            send_alert(bot, name)
        for thread in digests + ephemerals:
            thread.join(timeout=60)
        slack.wait_for(
            lambda: (
                all(
                    any(name in str(m.get("text")) for m in slack.messages("general"))
                    for name in STORM
                )
                or None
            ),
            timeout=30,
        )

    limited = [(c.method, c.args.get("channel")) for c in slack.calls() if c.status == 429]
    assert limited == []
    assert len(slack.ephemerals(PERSON, general)) == EPHEMERALS
    posts = [
        str(c.args.get("text") or "")
        for c in slack.calls("chat.postMessage")
        if c.status == 200 and c.args.get("channel") == general and not c.args.get("thread_ts")
    ]
    digest_at = [i for i, text in enumerate(posts) if text.startswith("Writer digest")]
    assert len(digest_at) == DIGESTS
    for name in STORM:
        header_at = next(i for i, text in enumerate(posts) if name in text)
        assert header_at < digest_at[-1], f"the header of {name} waited behind every digest"
