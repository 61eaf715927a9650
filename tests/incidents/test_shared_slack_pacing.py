"""Several bots sharing PostgreSQL and Redis post to one channel of the Slack workspace
(which enforces ~1 chat.postMessage per second per channel and answers 429 beyond it):
together they keep to the rate, and every incident gets one header and one triage. With
Redis unreachable they still post everything, paced per process. Edits (chat.update) keep
to their own, workspace-wide limit through a bucket of their own, taking no post slot."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime

import httpx
import pytest
import redis
from slack_sdk import WebClient

from bot.slack.outbox import EDIT_LANE, Outbox, Pace
from bot.slack.pacing import SharedPacing
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


def test_edits_have_their_own_shared_bucket_and_take_no_post_slot(redis_prefix: str) -> None:
    """Slack limits chat.update per workspace, apart from chat.postMessage per channel: the
    edit bucket (one key for the workspace) and the channels' post buckets do not mix."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        posts = SharedPacing(client, rate=0.1, burst=1, prefix=redis_prefix)
        edits = SharedPacing(client, rate=0.1, burst=2, prefix=redis_prefix, reserve=False)
        assert posts.wait("C1", priority=2) == 0.0
        assert edits.wait(EDIT_LANE, priority=3) == 0.0  # C1's spent post slot is no matter
        assert edits.wait(EDIT_LANE, priority=3) == 0.0  # no slot kept back for headers
        assert edits.wait(EDIT_LANE, priority=3) > 5  # the workspace's edits are spent
        assert posts.wait("C2", priority=2) == 0.0  # and posts did not pay for them
        assert posts.wait("C1", priority=2) > 5
    finally:
        client.close()


EDITS = 24


def edit_storm(slack: SlackWorkspace, prefix: str, *, shared: bool) -> list[int]:
    """Three outboxes (replicas) each edit one message EDITS/3 times at 4 edits/s, against
    a workspace allowing 5 chat.update per second (burst 2). Returns the edits' statuses."""
    slack.configure(update_rate=5.0, update_burst=2)
    web = WebClient(token=slack.config.bot_token, base_url=slack.api_url)  # no 429 retries
    posted = web.chat_postMessage(channel="incidents", text="v0")
    channel, ts = str(posted["channel"]), str(posted["ts"])
    client = redis.Redis.from_url(REDIS_URL)
    done: list[int] = []

    def edit(n: int) -> None:
        try:
            web.chat_update(channel=channel, ts=ts, text=f"v{n}")
        finally:
            done.append(n)

    def replica() -> Outbox:
        gate = SharedPacing(client, 4.0, 1, prefix, reserve=False) if shared else None
        pace = Pace(rate=4.0, burst=1, gate=gate, reserve=False)
        return Outbox(lambda _: None, rate=1.0, workers=2, edits=pace, run_edit=edit)

    outboxes = [replica() for _ in range(3)]
    try:
        for n in range(EDITS):
            outboxes[n % 3].submit(channel, 3, n, edit=True)
        deadline = time.monotonic() + 30
        while len(done) < EDITS and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        for outbox in outboxes:
            outbox.stop()
        client.close()
    assert sorted(done) == list(range(EDITS))
    return [call.status for call in slack.calls("chat.update")]


def test_many_edits_from_three_replicas_draw_no_429(
    slack: SlackWorkspace, redis_prefix: str
) -> None:
    assert edit_storm(slack, redis_prefix, shared=True) == [200] * EDITS


def test_without_the_shared_edit_bucket_the_same_edits_draw_429s(
    slack: SlackWorkspace, redis_prefix: str
) -> None:
    """The control: paced per process only, three replicas together exceed the limit."""
    assert 429 in edit_storm(slack, redis_prefix, shared=False)


def send_wave(bots: list[RunningBot], wave: int) -> None:
    """One more firing alert per problem (a new pod), so every incident's header changes."""
    for n in range(PROBLEMS):
        body = webhook(
            alert(
                "HighErrorRate",
                datetime.now(UTC),
                namespace="prod",
                service=f"svc-{n}",
                severity="critical",
                pod=f"svc-{n}-pod-{wave}",
            )
        )
        response = httpx.post(
            f"{bots[(n + wave) % len(bots)].url}/alertmanager",
            content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 200


def test_header_edits_from_three_bots_keep_to_the_edit_limit_and_follow_their_header(
    slack: SlackWorkspace, shared_pg: str, redis_prefix: str
) -> None:
    """Waves of alerts make every header change several times; three bots edit them within
    the workspace's chat.update limit (shared bucket) without a 429, and no edit of a header
    comes before the header's post."""
    slack.configure(update_rate=3.0, update_burst=2)
    fast_edits = {"edit_rate_per_workspace": 2.5, "edit_burst_per_workspace": 1}
    with ExitStack() as stack:
        bots = [
            stack.enter_context(
                running_bot(
                    slack,
                    database_url=shared_pg,
                    cache={"url": REDIS_URL, "key_prefix": redis_prefix},
                    slack=fast_edits,
                )
            )
            for _ in range(3)
        ]
        storm(bots)
        threads_when_complete(slack)
        headers = {
            str(c.response["ts"]): c.at
            for c in slack.calls("chat.postMessage")
            if c.status == 200 and not c.args.get("thread_ts")
        }
        for wave in range(1, 3):
            send_wave(bots, wave)

            def edited(wave: int = wave) -> bool | None:
                ok = [c for c in slack.calls("chat.update") if c.status == 200]
                return all(sum(c.args["ts"] == ts for c in ok) >= wave for ts in headers) or None

            slack.wait_for(edited, timeout=60)
    updates = slack.calls("chat.update")
    assert [c for c in slack.calls() if c.status == 429] == []
    assert len(headers) == PROBLEMS
    for call in updates:
        assert call.at >= headers[str(call.args["ts"])]  # each edit after its header's post


def test_three_bots_answering_ephemerally_at_once_keep_to_the_methods_tier_together(
    slack: SlackWorkspace, shared_pg: str, redis_prefix: str
) -> None:
    each = 6  # 18 in all: more than Slack's burst, fewer than three bots' own bursts together
    with ExitStack() as stack:
        bots = run_bots(stack, slack, 3, shared_pg, REDIS_URL, redis_prefix)
        general = slack.channel_id("general")
        writes = [
            threading.Thread(
                target=bot.bot.runtime.client.chat_postEphemeral,
                kwargs={"channel": general, "user": "U0ALICE", "text": f"Answer {n}"},
                daemon=True,
            )
            for bot in bots
            for n in range(each)
        ]
        for write in writes:
            write.start()
        for write in writes:
            write.join(timeout=60)
    assert len(slack.ephemerals("U0ALICE", general)) == 3 * each
    assert [c for c in slack.calls() if c.status == 429] == []
