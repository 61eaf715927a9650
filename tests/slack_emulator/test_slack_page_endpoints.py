"""The page's endpoints (no browser): it is served, its snapshot is per person, and its
actions reach the bot through the same signed delivery real Slack uses."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx
from slack_bolt import Ack
from slack_sdk import WebClient

from sandbox.slack import SlackWorkspace

from .conftest import BoltHttp


def test_the_page_and_its_assets_are_served(workspace: SlackWorkspace) -> None:
    base = workspace.base_url
    page = httpx.get(f"{base}/")

    assert page.status_code == 200
    for element_id in ('id="composer"', 'id="messages"', 'id="user-switcher"', 'id="modal"'):
        assert element_id in page.text
    for asset in ("app.js", "blocks.js", "mrkdwn.js", "modal.js", "style.css"):
        assert httpx.get(f"{base}/static/{asset}").status_code == 200


def test_the_snapshot_shows_each_person_only_their_ephemeral_messages(
    workspace: SlackWorkspace, client: WebClient
) -> None:
    client.chat_postEphemeral(channel="C0INCIDENTS", user="U0BOB", text="for bob")
    base = workspace.base_url

    bob = httpx.get(f"{base}/ui/state", params={"user": "U0BOB"}).json()
    alice = httpx.get(f"{base}/ui/state", params={"user": "U0ALICE"}).json()
    unchanged = httpx.get(f"{base}/ui/state", params={"user": "U0BOB", "since": bob["version"]})

    assert [e["text"] for e in bob["ephemerals"]] == ["for bob"]
    assert alice["ephemerals"] == []
    assert {c["name"] for c in alice["channels"]} == {"general", "incidents", "ops-digest"}
    assert unchanged.json() == {"version": bob["version"], "unchanged": True}


def test_typing_a_slash_command_on_the_page_delivers_it_to_the_bot(bolt_http: BoltHttp) -> None:
    heard: list[dict[str, Any]] = []

    @bolt_http.app.command("/ask-ai")
    def ask(ack: Ack, command: dict[str, Any]) -> None:
        heard.append(command)
        ack(text="on it")

    base = bolt_http.workspace.base_url
    sent = httpx.post(
        f"{base}/ui/send",
        json={"user": "U0CAROL", "channel": "C0INCIDENTS", "text": "/ask-ai help"},
    )

    assert sent.json()["delivery"]["ok"] is True
    assert (heard[0]["command"], heard[0]["text"], heard[0]["user_id"]) == (
        "/ask-ai",
        "help",
        "U0CAROL",
    )


def test_page_actions_report_mistakes_as_400(workspace: SlackWorkspace) -> None:
    answer = httpx.post(
        f"{workspace.base_url}/ui/action",
        json={"user": "U0BOB", "channel": "C0INCIDENTS", "message_ts": "1.0", "action_id": "x"},
    )

    assert answer.status_code == 400
    assert answer.json()["ok"] is False


def test_the_command_line_prints_the_url_it_serves() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.slack", "--port", "0", "--bot-url", ""],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        answer = httpx.post(f"{url}/api/auth.test", data={"token": "xoxb-opsbot-dev"})
        assert answer.json()["user_id"] == "U0BOT"
    finally:
        process.terminate()
        process.wait(timeout=10)
