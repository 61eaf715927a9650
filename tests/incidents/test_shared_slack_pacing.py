"""Several bots sharing PostgreSQL and Redis post to one channel of the Slack workspace
(which enforces ~1 chat.postMessage per second per channel and answers 429 beyond it):
together they keep to the rate, and every incident gets one header and one triage. With
Redis unreachable they still post everything, paced per process."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime

import httpx
import pytest
import redis

from bot.slack_outbox import Outbox
from bot.slack_pacing import SharedPacing
from sandbox.procs.process import free_port
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot, running_bot
from tests.conftest import REDIS_URL, drop_pg, fresh_pg_url
from tests.incidents.amfixtures import alert, webhook

PROBLEMS = 6


@pytest.fixture
def shared_pg() -> Iterator[str]:
    url = fresh_pg_url()
    yield url
    drop_pg(url)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    prefix = f"opsbot-test:{uuid.uuid4().hex[:8]}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def storm(bots: list[RunningBot]) -> None:
    """One alert per problem, the webhooks spread over the bots like a load balancer."""
    for n in range(PROBLEMS):
        body = webhook(
            alert(
                "HighErrorRate",
                datetime.now(UTC),
                namespace="prod",
                service=f"svc-{n}",
                severity="critical",
            )
        )
        response = httpx.post(
            f"{bots[n % len(bots)].url}/alertmanager",
            content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 200


def threads_when_complete(slack: SlackWorkspace) -> dict[str, list[str]]:
    """Header text -> the bot's replies in its thread, once every incident has its triage."""

    def complete() -> dict[str, list[str]] | None:
        headers = [m for m in slack.messages("incidents") if m.get("bot_id")]
        threads = {
            str(m["text"]): [
                str(r["text"])
                for r in slack.thread("incidents", str(m["ts"]))
                if r.get("bot_id") and r["ts"] != m["ts"]
            ]
            for m in headers
        }
        done = len(threads) >= PROBLEMS and all(
            any(t.startswith("First triage") for t in replies) for replies in threads.values()
        )
        return threads if done else None

    return slack.wait_for(complete, timeout=90)


def run_bots(
    stack: ExitStack,
    slack: SlackWorkspace,
    count: int,
    database_url: str,
    redis_url: str,
    prefix: str,
) -> list[RunningBot]:
    return [
        stack.enter_context(
            running_bot(
                slack,
                database_url=database_url,
                cache={"url": redis_url, "key_prefix": prefix},
            )
        )
        for _ in range(count)
    ]


def assert_one_header_and_one_triage_each(threads: dict[str, list[str]]) -> None:
    assert len(threads) == PROBLEMS  # no incident lost, no thread opened twice
    for header, replies in threads.items():
        assert sum(r.startswith("First triage") for r in replies) == 1, header


def test_three_bots_posting_to_one_channel_keep_to_its_rate_together(
    slack: SlackWorkspace, shared_pg: str, redis_prefix: str
) -> None:
    with ExitStack() as stack:
        bots = run_bots(stack, slack, 3, shared_pg, REDIS_URL, redis_prefix)
        storm(bots)
        threads = threads_when_complete(slack)
    assert_one_header_and_one_triage_each(threads)
    posts = slack.calls("chat.postMessage")
    assert len(posts) >= 2 * PROBLEMS
    assert [c for c in slack.calls() if c.status == 429] == []


def test_with_redis_unreachable_the_bots_pace_per_process_and_post_everything(
    slack: SlackWorkspace, shared_pg: str, redis_prefix: str
) -> None:
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    with ExitStack() as stack:
        bots = run_bots(stack, slack, 2, shared_pg, dead_redis, redis_prefix)
        storm(bots)
        threads = threads_when_complete(slack)
        gates = [bot.bot.runtime.notifier.gate for bot in bots]
        degraded = [gate.degraded_takes for gate in gates if gate is not None]
    assert_one_header_and_one_triage_each(threads)  # 429s may occur here; they are retried
    assert len(degraded) == 2  # Redis was configured, so the bots tried the shared gate
    assert sum(degraded) > 0  # and paced on their own when it could not answer


def test_a_shared_gate_grants_one_slot_per_interval_across_outboxes(redis_prefix: str) -> None:
    """Two processes' outboxes, one Redis: writes to one channel come one interval apart
    whichever outbox makes them (a GCRA slot per write; nothing is lost)."""
    client = redis.Redis.from_url(REDIS_URL)
    done: list[tuple[str, int]] = []

    def recorder(name: str) -> Outbox:
        gate = SharedPacing(client, rate=20.0, burst=1, prefix=redis_prefix)
        return Outbox(lambda i: done.append((name, i)), rate=20.0, burst=1, workers=2, gate=gate)

    outboxes = [recorder("a"), recorder("b")]
    try:
        for i in range(10):
            outboxes[i % 2].submit("C1", 2, i)
        deadline = time.monotonic() + 10
        while len(done) < 10 and time.monotonic() < deadline:
            time.sleep(0.02)
        slots = client.get(f"{redis_prefix}slack-pace:C1")
    finally:
        for outbox in outboxes:
            outbox.stop()
        client.close()
    assert sorted(i for _, i in done) == list(range(10))
    assert {name for name, _ in done} == {"a", "b"}
    assert slots is not None  # the channel's arrival time lives in Redis, shared


def test_the_gate_says_how_long_to_wait_when_the_channel_is_spent(redis_prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        one = SharedPacing(client, rate=1.0, burst=2, prefix=redis_prefix)
        other = SharedPacing(client, rate=1.0, burst=2, prefix=redis_prefix)
        assert one.wait("C1", priority=2) == 0.0  # first slot
        assert other.wait("C1", priority=2) > 0  # the last slot is kept for headers
        assert other.wait("C1", priority=0) == 0.0  # a header may take it
        assert 0 < one.wait("C1", priority=0) <= 1.0  # now even headers wait, under a second
        assert one.wait("C2", priority=2) == 0.0  # other channels are not held up
        assert one.wait("C2", priority=0) == 0.0  # C2 is spent now
        header_wait, triage_wait = one.wait("C2", priority=0), other.wait("C2", priority=2)
        assert 0 < header_wait < triage_wait  # the next slot goes to a header first
    finally:
        client.close()


def test_the_gate_lets_writes_through_while_redis_is_unreachable() -> None:
    gate = SharedPacing.from_url(f"redis://127.0.0.1:{free_port()}/0", 1.0, 1, "opsbot:")
    try:
        assert [gate.wait("C1", 0), gate.wait("C1", 2)] == [0.0, 0.0]
    finally:
        gate.close()
    assert gate.degraded_takes == 2


def test_a_step_that_wrote_nothing_gives_its_slot_back(redis_prefix: str) -> None:
    """One write per 10 s: a step that found nothing to write (another replica had done it)
    does not cost the channel its slot, so the next write goes at once."""
    client = redis.Redis.from_url(REDIS_URL)
    ran: list[int] = []

    def run(incident_id: int) -> bool:
        ran.append(incident_id)
        return incident_id != 1  # incident 1: nothing to write

    gate = SharedPacing(client, rate=0.1, burst=1, prefix=redis_prefix)
    outbox = Outbox(run, rate=0.1, burst=1, workers=1, gate=gate)
    try:
        outbox.submit("C1", 2, 1)
        deadline = time.monotonic() + 5
        while ran != [1] and time.monotonic() < deadline:
            time.sleep(0.02)
        outbox.submit("C1", 2, 2)
        while ran != [1, 2] and time.monotonic() < deadline:
            time.sleep(0.02)
        after_a_write = gate.wait("C1", 2)
    finally:
        outbox.stop()
        client.close()
    assert ran == [1, 2]  # well inside the 10 s a spent slot would have cost
    assert after_a_write > 5  # a real write still spends its slot
