"""Modals with a Bolt app: views.open from a command, view_submission and its response_action."""

from __future__ import annotations

from typing import Any

import pytest
from slack_bolt import Ack
from slack_sdk import WebClient

from .conftest import BoltHttp

NOTE_MODAL = {
    "type": "modal",
    "callback_id": "ack_modal",
    "title": {"type": "plain_text", "text": "Ack note"},
    "submit": {"type": "plain_text", "text": "Save"},
    "notify_on_close": True,
    "blocks": [
        {
            "type": "input",
            "block_id": "note",
            "label": {"type": "plain_text", "text": "Note"},
            "element": {"type": "plain_text_input", "action_id": "v"},
        },
        {
            "type": "input",
            "block_id": "severity",
            "label": {"type": "plain_text", "text": "Severity"},
            "element": {
                "type": "static_select",
                "action_id": "s",
                "options": [
                    {"text": {"type": "plain_text", "text": "High"}, "value": "high"},
                    {"text": {"type": "plain_text", "text": "Low"}, "value": "low"},
                ],
            },
        },
    ],
}


@pytest.fixture
def modal_bot(bolt_http: BoltHttp) -> BoltHttp:
    @bolt_http.app.command("/ack-note")
    def open_modal(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=NOTE_MODAL)

    return bolt_http


def test_a_command_opens_a_modal_for_the_person_who_ran_it(modal_bot: BoltHttp) -> None:
    ws = modal_bot.workspace

    ws.slash_command("U0ALICE", "incidents", "/ack-note")

    view = ws.wait_for(lambda: ws.open_view("U0ALICE"))
    assert view["callback_id"] == "ack_modal"
    assert ws.open_view("U0BOB") is None


def test_a_submission_carries_typed_state_and_an_empty_ack_closes_the_modal(
    modal_bot: BoltHttp,
) -> None:
    submitted: list[dict[str, Any]] = []

    @modal_bot.app.view("ack_modal")
    def save(ack: Ack, view: dict[str, Any]) -> None:
        submitted.append(view)
        ack()

    ws = modal_bot.workspace
    ws.slash_command("U0ALICE", "incidents", "/ack-note")
    view_id = ws.wait_for(lambda: ws.open_view("U0ALICE"))["id"]

    result = ws.submit_view(
        "U0ALICE", view_id, {"note": {"v": "rolled back"}, "severity": {"s": "high"}}
    )

    assert result.status == 200
    values = submitted[0]["state"]["values"]
    assert values["note"]["v"] == {"type": "plain_text_input", "value": "rolled back"}
    assert values["severity"]["s"]["selected_option"]["value"] == "high"
    assert ws.open_view("U0ALICE") is None


def test_response_action_errors_keep_the_modal_open_with_the_messages(
    modal_bot: BoltHttp,
) -> None:
    @modal_bot.app.view("ack_modal")
    def refuse(ack: Ack) -> None:
        ack(response_action="errors", errors={"note": "Say what you did"})

    ws = modal_bot.workspace
    ws.slash_command("U0ALICE", "incidents", "/ack-note")
    view_id = ws.wait_for(lambda: ws.open_view("U0ALICE"))["id"]

    ws.submit_view("U0ALICE", view_id, {"note": {"v": "x"}, "severity": {"s": "low"}})

    still_open = ws.open_view("U0ALICE")
    assert still_open is not None
    assert still_open["errors"] == {"note": "Say what you did"}


def test_a_required_input_cannot_be_submitted_empty(modal_bot: BoltHttp) -> None:
    ws = modal_bot.workspace
    ws.slash_command("U0ALICE", "incidents", "/ack-note")
    view_id = ws.wait_for(lambda: ws.open_view("U0ALICE"))["id"]

    with pytest.raises(ValueError, match="required"):
        ws.submit_view("U0ALICE", view_id, {"severity": {"s": "low"}})


def test_closing_a_modal_that_asked_to_be_told_sends_view_closed(modal_bot: BoltHttp) -> None:
    closed: list[dict[str, Any]] = []

    @modal_bot.app.view_closed("ack_modal")
    def on_close(ack: Ack, body: dict[str, Any]) -> None:
        closed.append(body)
        ack()

    ws = modal_bot.workspace
    ws.slash_command("U0ALICE", "incidents", "/ack-note")
    view_id = ws.wait_for(lambda: ws.open_view("U0ALICE"))["id"]

    result = ws.close_view("U0ALICE", view_id)

    assert result is not None
    assert result.status == 200
    assert (closed[0]["type"], closed[0]["is_cleared"]) == ("view_closed", False)
    assert ws.open_view("U0ALICE") is None
