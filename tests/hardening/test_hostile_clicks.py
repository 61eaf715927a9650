"""Hostile clicks against the running bot on PostgreSQL (hypothesis).

Every button the bot renders is clicked by every kind of person with values that are
real, stale, absurd or hostile (control sequences, 10,000 characters, numbers that do not
fit), with trigger ids Slack would refuse. Invariants: every click is acknowledged (never
a 5xx or Bolt's 404); nothing the bot sends is refused by Slack for its shape; no clicked
value or name comes back as live mrkdwn; no job crashes; the bot stays ready."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.blocks import ActionId
from sandbox.slack import payloads, seed
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot, pending_restart, running_bot, workspace
from tests.conftest import drop_pg, fresh_pg_url, wait_until
from tests.hardening.test_hostile_input_properties import CONTROL, LONG, SHORT
from tests.incidents.amfixtures import alert, webhook
from tests.incidents.test_alert_text_reaches_slack_escaped import live_sequences, strings

ACTION = "act-hostile-clicks"
VALUE_MAX = 2000
TRIGGER_ERRORS = {"invalid_trigger_id", "expired_trigger_id", "exchanged_trigger_id"}


@pytest.fixture(scope="module")
def clicked() -> Iterator[tuple[SlackWorkspace, RunningBot, str]]:
    """A bot on PostgreSQL with one incident thread and one pending approval."""
    # What is checked here is content and intake, not Slack's 3-second ack (bench/ and the
    # Socket Mode tests measure that): a loaded CI machine may take longer to answer.
    slack = workspace(post_message_rate=0, ack_timeout_s=15.0)
    url = fresh_pg_url()
    try:
        with running_bot(slack, database_url=url) as bot:
            start = datetime.now(UTC) - timedelta(minutes=1)
            body = webhook(alert("HighErrorRate", start, service="checkout", severity="critical"))
            answer = httpx.post(f"{bot.url}/alertmanager", json=body, timeout=10)
            assert answer.status_code == 200
            header = slack.wait_for(
                lambda: [m for m in slack.messages("incidents") if m.get("bot_id")], timeout=30
            )[0]
            with bot.bot.deps.db.session() as session:
                session.add(pending_restart(ACTION, 1, "checkout"))
            yield slack, bot, str(header["ts"])
    finally:
        slack.close()
        drop_pg(url)


def sendable(text: str) -> bool:
    """Slack's payloads are UTF-8 JSON: a lone surrogate cannot be in one, and a value
    the bot rendered never holds a NUL (the edge refuses both with a 422)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


VALUES = st.one_of(
    st.sampled_from([ACTION, "1", "0", "-1", "99999999999999999999999", "", " "]),
    SHORT,
    LONG,
    st.integers(min_value=2000, max_value=10_000).map(lambda n: "9" * n),
    st.tuples(SHORT, LONG).map("".join),
).filter(sendable)


ACTION_IDS = st.sampled_from([a.value for a in ActionId])
BLOCK_IDS = st.one_of(st.none(), SHORT.filter(sendable), CONTROL)


def user(user_id: str) -> dict[str, Any]:
    return {"id": user_id, "name": user_id.lower()}


def hostile_click(
    slack: SlackWorkspace,
    header_ts: str,
    action_id: str,
    value: str,
    block_id: str | None,
    who: str,
) -> dict[str, Any]:
    """A signed block_actions payload as Slack would send it, carrying a hostile value."""
    channel = slack.channel_id("incidents")
    action: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "value": value,
        "text": {"type": "plain_text", "text": "Click"},
        "action_ts": f"{time.time():.6f}",
    }
    if block_id is not None:
        action["block_id"] = block_id
    return payloads.block_actions(
        token=slack.config.verification_token,
        user=user(who),
        trigger_id=f"{int(time.time())}.hostile.{abs(hash(value)) % 10**9}",
        action=action,
        container={"type": "message", "message_ts": header_ts, "channel_id": channel},
        channel={"id": channel, "name": "incidents"},
        message={"type": "message", "ts": header_ts, "text": "", "blocks": []},
        response_url=slack.response_url_for(who, channel, header_ts),
    )


def test_hostile_clicks_are_acknowledged_and_never_inject_or_break_a_message(
    clicked: tuple[SlackWorkspace, RunningBot, str], capfd: pytest.CaptureFixture[str]
) -> None:
    slack, bot, header_ts = clicked
    tried: Counter[str] = Counter()
    statuses: list[tuple[str, int, int | None]] = []

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        action_id=ACTION_IDS,
        value=VALUES,
        block_id=BLOCK_IDS,
        who=st.sampled_from(seed.HUMANS),
    )
    def click(action_id: str, value: str, block_id: str | None, who: str) -> None:
        tried[
            f"{action_id}: " + ("over 2,000 chars" if len(value) > 2000 else "hostile value")
        ] += 1
        payload = hostile_click(slack, header_ts, action_id, value, block_id, who)
        result = slack.deliverer.interaction(payload)
        statuses.append((action_id, len(value), result.status))

    click()
    wait_until(bot.bot.runtime.notifier.outbox.idle, 60, "Slack writes stayed queued")
    time.sleep(1.0)  # jobs run after the ack: let the last ones write
    # A value over Slack's 2,000-character cap cannot come from Slack: refused with a 400.
    wrong = [
        (action_id, size, status)
        for action_id, size, status in statuses
        if status != (400 if size > VALUE_MAX else 200)
    ]
    assert wrong == []
    calls = [c for c in slack.calls() if c.method.startswith(("chat.", "views."))]
    refused = [
        (c.method, c.response.get("error"))
        for c in calls
        if not c.response.get("ok", True)
        and c.response.get("error") not in TRIGGER_ERRORS | {"ratelimited"}
    ]
    assert refused == []
    ephemerals = [s for u in seed.HUMANS for e in slack.ephemerals(u) for s in strings(e)]
    # The bot mentions the person who clicked ("resolved by @bob"): those are its own.
    meant = {f"@{user}" for user in seed.HUMANS}

    def injected(text: str) -> list[str]:
        return [found for found in live_sequences(text) if found not in meant]

    live = [s for c in calls for s in strings(c.args) if injected(s)]
    live += [s for s in ephemerals if injected(s)]
    assert live == []
    assert httpx.get(f"{bot.url}/readyz", timeout=10).status_code == 200
    logged = capfd.readouterr()
    assert "Traceback" not in logged.out + logged.err, logged.err[-3000:]
    print("input class | cases tried | held | lost")
    for name, number in sorted(tried.items()):
        print(f"click {name} | {number} | {number} | 0")
    print(json.dumps({"clicks": len(statuses), "slack_calls_checked": len(calls)}))
