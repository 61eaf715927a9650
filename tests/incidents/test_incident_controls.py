from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlmodel import select

from bot.audit import chain as audit
from bot.store.incidents import Incident
from bot.store.models import AuditEvent
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot
from tests.incidents.amfixtures import alert, webhook


def open_incident(slack: SlackWorkspace, bot: RunningBot) -> dict[str, object]:
    body = webhook(
        alert(
            "HighErrorRate",
            datetime.now(UTC),
            namespace="prod",
            service="checkout",
            severity="critical",
            summary="checkout 5xx above 5%",
        )
    )
    bot.bot.runtime.pipeline.accept(json.dumps(body).encode())
    return slack.wait_for(
        lambda: [m for m in slack.messages("incidents") if m.get("bot_id")], timeout=10
    )[0]


def header_of(slack: SlackWorkspace, ts: object) -> dict[str, object]:
    return next(m for m in slack.messages("incidents") if m["ts"] == ts)


def test_acknowledge_button_edits_the_header_in_place_and_is_audited(
    slack: SlackWorkspace, bot: RunningBot
) -> None:
    header = open_incident(slack, bot)
    result = slack.click_button("U0BOB", "incidents", str(header["ts"]), "incident_ack")
    assert result.ok
    slack.wait_for(
        lambda: "Acknowledged by <@U0BOB>" in json.dumps(header_of(slack, header["ts"])), timeout=10
    )
    assert "incident_ack" not in json.dumps(header_of(slack, header["ts"])["blocks"])
    with bot.bot.deps.db.session() as session:
        events = session.exec(select(AuditEvent)).all()
        assert [(e.actor, e.action) for e in events] == [("U0BOB", "incident.acknowledged")]
        assert audit.verify_chain(session) == (1, None)


def test_resolve_button_resolves_and_posts_the_resolution_note(
    slack: SlackWorkspace, bot: RunningBot
) -> None:
    header = open_incident(slack, bot)
    slack.click_button("U0ALICE", "incidents", str(header["ts"]), "incident_resolve")
    slack.wait_for(
        lambda: any(
            "Resolved" in json.dumps(m.get("blocks", []))
            for m in slack.thread("incidents", str(header["ts"]))
        ),
        timeout=10,
    )
    with bot.bot.deps.db.session() as session:
        assert session.exec(select(Incident)).one().status == "resolved"


def test_silence_without_an_alertmanager_url_explains_what_is_missing(
    slack: SlackWorkspace, bot: RunningBot
) -> None:
    header = open_incident(slack, bot)
    slack.click_button("U0ALICE", "incidents", str(header["ts"]), "incident_silence")
    notes = slack.wait_for(
        lambda: [
            e for e in slack.ephemerals("U0ALICE") if "OPSBOT_ALERTMANAGER_URL" in json.dumps(e)
        ],
        timeout=10,
    )
    assert notes


def test_incident_commands_list_show_declare_ack_and_resolve(
    slack: SlackWorkspace, bot: RunningBot
) -> None:
    def run(text: str) -> str:
        before = len(slack.ephemerals("U0CAROL"))
        assert slack.slash_command("U0CAROL", "incidents", "/incident", text).ok
        return json.dumps(slack.wait_for(lambda: slack.ephemerals("U0CAROL")[before:], timeout=10))

    assert "No open incidents" in run("list")
    assert "Declared incident #1" in run("declare Checkout is slow for EU users")
    slack.wait_for(
        lambda: [m for m in slack.messages("incidents") if "Checkout is slow" in m.get("text", "")],
        timeout=10,
    )
    assert "Checkout is slow" in run("list")
    assert "acknowledged" in run("ack 1")
    assert "already acknowledged" in run("ack 1")
    assert "declared by" in run("show 1")
    assert "resolved" in run("resolve #1")
    assert "no incident #99" in run("show 99")
    assert "is not an incident id" in run("show abc")
