"""The history the digests report on: incidents through the real alert pipeline (webhooks
to the running bot), shaped in time afterwards, a pending approval, and model calls
recorded through the agent's cost ledger."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlmodel import select

from bot.incidents import operations as incident_ops
from bot.investigation.agent.cost import Ledger
from bot.investigation.agent.llm import TokenUsage
from bot.investigation.agent.request import InvestigationRequest, Workflow
from bot.store.incidents import Incident
from bot.store.llm import LLMUsage
from tests.botharness import RunningBot, pending_restart
from tests.incidents.amfixtures import alert, webhook


def wait_for(predicate: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def post_alerts(bot: RunningBot, body: dict[str, Any]) -> None:
    response = httpx.post(f"{bot.url}/alertmanager", json=body, timeout=10)
    assert response.status_code == 200, response.text


def make_incidents(bot: RunningBot) -> dict[str, int]:
    """Four incidents from five alerts; checkout resolved by Alertmanager after 40 min, cart
    by hand after 80 min, search three days ago; payments open with a pending approval."""
    now = datetime.now(UTC)
    started = now - timedelta(minutes=5)

    def critical(name: str, service: str) -> dict[str, Any]:
        return alert(name, started, service=service, namespace="prod", severity="critical")

    checkout = [
        critical(name, "checkout") for name in ("HighErrorRate", "HighLatency", "PodCrashLooping")
    ]
    post_alerts(bot, webhook(*checkout))
    for name, service in (
        ("HighErrorRate", "payments"),
        ("HighLatency", "cart"),
        ("DiskFull", "search"),
    ):
        post_alerts(bot, webhook(critical(name, service)))
    deps = bot.bot.deps

    def by_service() -> dict[str, int]:
        with deps.db.session() as session:
            return {i.service: i.id or 0 for i in session.exec(select(Incident)).all()}

    ids: dict[str, int] = wait_for(lambda: (found := by_service()) and len(found) == 4 and found)
    resolved = [
        {**a, "status": "resolved", "endsAt": now.isoformat().replace("+00:00", "Z")}
        for a in checkout
    ]
    post_alerts(bot, webhook(*resolved))
    search = critical("DiskFull", "search")
    post_alerts(
        bot,
        webhook({**search, "status": "resolved", "endsAt": now.isoformat().replace("+00:00", "Z")}),
    )
    incident_ops.resolve_by_hand(deps.db, ids["cart"], "U0ALICE")

    def all_resolved() -> bool:
        with deps.db.session() as session:
            done = session.exec(select(Incident).where(Incident.status == "resolved")).all()
        return len(done) == 3

    wait_for(all_resolved)

    def threads_settled() -> bool:  # no header still on its way: the digest must see them all
        with deps.db.session() as session:
            payments = session.get(Incident, ids["payments"])
        opened = payments is not None and payments.thread_ts is not None
        return opened and bot.bot.runtime.notifier.outbox.idle()

    wait_for(threads_settled, timeout=60)
    with deps.db.session() as session:  # give the history its shape: durations and a past day
        for service, minutes in (("checkout", 40), ("cart", 80)):
            incident = session.get(Incident, ids[service])
            assert incident is not None
            assert incident.resolved_at is not None
            incident.opened_at = incident.resolved_at - timedelta(minutes=minutes)
            session.add(incident)
        past = session.get(Incident, ids["search"])
        assert past is not None
        assert past.resolved_at is not None
        past.opened_at = past.resolved_at - timedelta(days=3, minutes=30)
        past.resolved_at -= timedelta(days=3)
        session.add(past)
        session.execute(
            text("UPDATE alert SET first_seen = :t WHERE incident_id = :i"),
            {"t": now - timedelta(days=3), "i": ids["search"]},
        )
        session.add(pending_restart("act-digest-1", ids["payments"], "payments"))
    return ids


def record_model_calls(bot: RunningBot, ids: dict[str, int]) -> None:
    deps = bot.bot.deps
    ledger = Ledger(deps.db, deps.metrics, deps.settings.llm.price_table)
    now = datetime.now(UTC)
    incident = InvestigationRequest(Workflow.INCIDENT, "why?", now, incident_id=ids["checkout"])
    usage = TokenUsage(
        input_tokens=12_000,
        output_tokens=1_500,
        cache_creation_tokens=4_000,
        cache_read_tokens=20_000,
    )
    ledger.record(incident, "incident", "claude-sonnet-4-5", usage)
    question = InvestigationRequest(Workflow.ASK, "is checkout ok?", now, question_id="q-1")
    ledger.record(
        question, "ask", "claude-haiku-4-5", TokenUsage(input_tokens=3_000, output_tokens=400)
    )
    with deps.db.session() as session:
        session.add(
            LLMUsage(
                at=now - timedelta(hours=5),
                workflow="incident",
                incident_id=ids["cart"],
                model="claude-sonnet-4-5",
                input_tokens=8_000,
                output_tokens=1_000,
                cost_usd=0.039,
            )
        )
