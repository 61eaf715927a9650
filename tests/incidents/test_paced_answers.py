"""/ask-ai answers go through the channel's Slack outbox: after new incident headers,
before triage and edits, and never past the channel's rate limit."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import httpx
import pytest

from bot.incidents.notifier import Step
from bot.slack.outbox import Outbox
from bot.slack.writer import ANSWER_PRIORITY
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot
from tests.incidents.amfixtures import alert, webhook


def test_a_paced_call_returns_its_result_and_raises_its_error() -> None:
    outbox = Outbox(lambda _: None, rate=0, workers=1)
    try:
        assert outbox.call("C1", ANSWER_PRIORITY, lambda: "posted") == "posted"
        with pytest.raises(ZeroDivisionError):
            outbox.call("C1", ANSWER_PRIORITY, lambda: 1 // 0)
    finally:
        outbox.stop()


def test_an_answer_overtakes_waiting_triage_but_not_a_waiting_header() -> None:
    order: list[str] = []
    lock = threading.Lock()

    def run(incident_id: int) -> None:
        with lock:
            order.append(f"incident-{incident_id}")

    outbox = Outbox(run, rate=5.0, workers=2)
    try:
        for incident_id in range(1, 5):
            outbox.submit("C1", Step.TRIAGE, incident_id)
        time.sleep(0.05)  # the first triage took the only token
        answering = threading.Thread(
            target=outbox.call, args=("C1", ANSWER_PRIORITY, lambda: order.append("answer"))
        )
        answering.start()
        time.sleep(0.02)
        outbox.submit("C1", Step.HEADER, 99)
        answering.join(5)
        deadline = time.monotonic() + 5
        while len(order) < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        outbox.stop()
    assert order[:3] == ["incident-1", "incident-99", "answer"]
    assert sorted(order[3:]) == ["incident-2", "incident-3", "incident-4"]


def test_a_stopped_outbox_refuses_paced_calls() -> None:
    outbox = Outbox(lambda _: None, rate=0, workers=1)
    outbox.stop()
    with pytest.raises(RuntimeError):
        outbox.call("C1", ANSWER_PRIORITY, lambda: None)


def test_an_ask_in_a_busy_incident_channel_draws_no_rate_limit(
    slack: SlackWorkspace, bot: RunningBot
) -> None:
    for n in range(3):
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
            f"{bot.url}/alertmanager",
            content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 200
    assert slack.slash_command("U0ALICE", "incidents", "/ask-ai", "why is svc-1 failing?").ok

    def settled() -> bool:
        messages = slack.messages("incidents")
        asked = [m for m in messages if "asked:" in str(m.get("text"))]
        headers = [m for m in messages if str(m.get("text", "")).startswith("[")]
        if len(asked) != 1 or len(headers) < 3:
            return False
        replies = slack.thread("incidents", str(asked[0]["ts"]))
        answered = any(r.get("bot_id") and r.get("text") != "Investigating…" for r in replies[1:])
        triaged = all(
            any(
                str(r.get("text", "")).startswith("First triage")
                for r in slack.thread("incidents", str(h["ts"]))
            )
            for h in headers
        )
        return answered and triaged

    slack.wait_for(lambda: settled() or None, timeout=60)
    assert [c.method for c in slack.calls() if c.status == 429] == []


def test_a_paced_call_made_by_an_outbox_step_runs_at_once_instead_of_deadlocking() -> None:
    ran: list[str] = []
    finished = threading.Event()
    outbox: Outbox

    def step(incident_id: int) -> None:
        ran.append(outbox.call("C1", ANSWER_PRIORITY, lambda: f"nested-{incident_id}"))
        finished.set()

    outbox = Outbox(step, rate=0, workers=1)
    try:
        outbox.submit("C1", Step.TRIAGE, 5)
        assert finished.wait(5)
    finally:
        outbox.stop()
    assert ran == ["nested-5"]
