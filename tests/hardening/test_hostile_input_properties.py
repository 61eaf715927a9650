"""Hostile alerts and commands against the running bot (hypothesis): in the default suite a
few examples on PostgreSQL and on SQLite (one bot per database shared by its examples, Slack
and the bot pacing fast), and, marked slow, 25 examples on PostgreSQL at Slack's own pacing.

Invariants: no 5xx; every Slack call is one the emulator (Slack's limits and error codes,
slack_sdk as a second opinion) accepts; no untrusted text appears as live mrkdwn in any
message, edit or ephemeral; no inbox row stays pending or is set aside; the bot stays
ready. The counts per input class are printed (the closing note's table)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.incidents import inbox
from bot.incidents.notifier import next_step
from bot.store.incidents import Incident
from bot.store.models import utcnow
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot, running_bot, workspace
from tests.conftest import drop_pg, fresh_pg_url, wait_until
from tests.incidents.amfixtures import alert, webhook
from tests.incidents.test_alert_text_reaches_slack_escaped import live_sequences, strings

CONTROL = st.sampled_from(
    [
        "<!channel>",
        "<!here>",
        "<!everyone>",
        "<@UEVIL>",
        "<!subteam^SEVIL>",
        "<http://evil.example|click>",
        "https://ok.example/x|Runbook> <!channel> <https://evil.example/y",
        "|",
        ">",
        "&",
        "*",
        "`",
        "\u202e",
    ]
)
SHORT = st.lists(st.one_of(st.text(min_size=1, max_size=20), CONTROL), max_size=6).map("".join)
LONG = st.integers(min_value=30, max_value=5000).map(lambda n: ("word " * n)[:n])
HOSTILE = st.one_of(SHORT, LONG, st.tuples(SHORT, LONG).map("".join))
QUICK_RATE = 50  # posts per second per channel in the default-suite variant (see quick_bot)
FIELDS = ("alertname", "severity", "service", "namespace", "summary", "runbook_url", "generator")


@pytest.fixture
def pg_bot(slack: SlackWorkspace) -> Iterator[RunningBot]:
    url = fresh_pg_url()
    try:
        with running_bot(slack, database_url=url) as bot:
            yield bot
    finally:
        drop_pg(url)


def threads_current(bot: RunningBot) -> bool:
    """Every incident's Slack thread has caught up with the store (header, triage, edits)."""
    now = utcnow()
    with bot.bot.deps.db.session() as session:
        incidents = session.exec(select(Incident)).all()
    return bool(incidents) and all(next_step(incident, now) is None for incident in incidents)


def hostile_webhook(values: dict[str, str], count: int, n: int) -> dict[str, Any]:
    start = datetime.now(UTC) - timedelta(minutes=1)
    alerts = []
    for i in range(count):
        name = (values["alertname"] or "A") + f"-{n}-{i}"
        labels = {"severity": values["severity"], "service": values["service"] or f"s{n}"}
        labels["namespace"] = values["namespace"]
        body = alert(name, start, summary=values["summary"])
        body["labels"].update(labels)
        body["annotations"]["runbook_url"] = values["runbook_url"]
        body["generatorURL"] = values["generator"]
        alerts.append(body)
    payload = webhook(*alerts)
    payload["externalURL"] = values["runbook_url"]
    return payload


def drive_hostile_input(
    slack: SlackWorkspace,
    pg_bot: RunningBot,
    capfd: pytest.CaptureFixture[str],
    examples: int,
    counts: tuple[int, ...],
) -> None:
    """Send `examples` hostile webhooks (with slash commands) to the running bot and check
    every invariant of the module doc; prints the closing note's table."""
    tried: Counter[str] = Counter()
    statuses: list[int] = []
    counter = iter(range(10_000))
    commands: list[int] = []

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        values=st.fixed_dictionaries(dict.fromkeys(FIELDS, HOSTILE)),
        count=st.sampled_from(counts),
    )
    def send(values: dict[str, str], count: int) -> None:
        n = next(counter)
        for field, value in values.items():
            tried[
                f"alert {field}: control sequences"
                if len(value) < 30
                else f"alert {field}: over a limit"
            ] += 1
        tried["alert count " + (f"huge ({count})" if count > 2 else "small")] += 1
        answer = httpx.post(
            f"{pg_bot.url}/alertmanager",
            content=json.dumps(hostile_webhook(values, count, n)).encode(),
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        statuses.append(answer.status_code)
        if n % 3 == 0:
            slack.slash_command("U0ALICE", "incidents", "/incident", f"declare {values['summary']}")
            slack.slash_command("U0ALICE", "incidents", "/incident", values["alertname"][:200])
            tried["slash command text"] += 2
            commands.append(n)

    send()
    pipeline = pg_bot.bot.runtime.pipeline
    wait_until(lambda: pipeline.pending() == 0, 120, "inbox rows stayed pending")
    assert inbox.set_aside(pg_bot.bot.deps.db) == []
    pg_bot.bot.runtime.notifier.catch_up()
    wait_until(
        lambda: threads_current(pg_bot) and pg_bot.bot.runtime.notifier.outbox.idle(),
        120,
        "an incident's thread was left behind in Slack",
    )
    assert all(status < 500 for status in statuses), statuses
    wait_until(
        lambda: len(slack.ephemerals("U0ALICE")) >= 2 * len(commands),
        60,
        "a slash command got no answer",
    )
    calls = [c for c in slack.calls() if c.method.startswith(("chat.", "views."))]
    refused = [
        (c.method, c.response.get("error"))
        for c in calls
        if not c.response.get("ok", True) and c.response.get("error") != "ratelimited"
    ]
    assert refused == []
    live = [s for c in calls for s in strings(c.args) if live_sequences(s)]
    ephemerals = [s for e in slack.ephemerals("U0ALICE") for s in strings(e)]
    live += [s for s in ephemerals if live_sequences(s)]
    assert live == []
    assert httpx.get(f"{pg_bot.url}/readyz", timeout=10).status_code == 200
    logged = capfd.readouterr()
    assert "Traceback" not in logged.out + logged.err  # no job crashed on hostile input
    print("input class | cases tried | held | lost")
    for name, number in sorted(tried.items()):
        print(f"{name} | {number} | {number} | 0")
    print(f"slack calls checked | {len(calls) + len(ephemerals)} | {len(calls)} | 0")


@pytest.mark.slow
def test_hostile_alerts_and_commands_never_inject_wedge_or_break_a_message(
    slack: SlackWorkspace, pg_bot: RunningBot, capfd: pytest.CaptureFixture[str]
) -> None:
    drive_hostile_input(slack, pg_bot, capfd, examples=25, counts=(1, 2, 35))


@pytest.fixture
def quick_bot(database_url: str) -> Iterator[tuple[SlackWorkspace, RunningBot]]:
    """One bot shared by every example, on `database_url`, with Slack and the bot allowing
    many posts a second: the invariants are about content and intake, not pacing, and at
    one post a second per channel a single huge example would take a minute."""
    ws = workspace(post_message_rate=QUICK_RATE, post_message_burst=QUICK_RATE)
    try:
        with running_bot(
            ws,
            database_url=database_url,
            slack={"post_rate_per_channel": QUICK_RATE, "post_burst_per_channel": QUICK_RATE},
        ) as bot:
            yield ws, bot
    finally:
        ws.close()


def test_hostile_alerts_and_commands_are_held_on_every_database(
    quick_bot: tuple[SlackWorkspace, RunningBot], capfd: pytest.CaptureFixture[str]
) -> None:
    slack, bot = quick_bot
    drive_hostile_input(slack, bot, capfd, examples=20, counts=(1, 2, 35))
