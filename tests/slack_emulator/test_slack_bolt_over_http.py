"""A real Bolt app served over HTTP gets signed commands, clicks and mentions, and answers."""

from __future__ import annotations

import time
from typing import Any

import httpx
from slack_bolt import Ack, Respond, Say
from slack_sdk import WebClient

from sandbox.slack import SlackWorkspace

from .conftest import BoltHttp

ACK_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Incident* checkout-5xx"}},
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "ack_alert",
                "text": {"type": "plain_text", "text": "Ack"},
                "value": "inc-1",
                "style": "primary",
            }
        ],
    },
]


def texts(workspace: SlackWorkspace, channel: str) -> list[str]:
    return [str(m.get("text")) for m in workspace.messages(channel)]


def test_a_slash_command_reaches_bolt_and_its_ack_shows_only_to_the_caller(
    bolt_http: BoltHttp,
) -> None:
    seen: list[dict[str, Any]] = []

    @bolt_http.app.command("/ask-ai")
    def ask(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        seen.append(command)
        ack(text=f"Thinking about: {command['text']}")
        respond(text="The answer", response_type="in_channel")

    ws = bolt_http.workspace
    result = ws.slash_command("U0ALICE", "incidents", "/ask-ai", "why is checkout slow")

    assert (result.status, result.payload) == (
        200,
        {"text": "Thinking about: why is checkout slow"},
    )
    assert [e["text"] for e in ws.ephemerals("U0ALICE")] == ["Thinking about: why is checkout slow"]
    ws.wait_for(lambda: "The answer" in texts(ws, "incidents"))
    command = seen[0]
    assert (command["user_name"], command["channel_name"], command["team_domain"]) == (
        "alice",
        "incidents",
        "opsbot-dev",
    )
    assert command["response_url"].startswith(f"{ws.base_url}/response/")


def test_a_button_click_reaches_bolt_and_respond_replaces_the_original(
    bolt_http: BoltHttp,
) -> None:
    clicks: list[dict[str, Any]] = []

    @bolt_http.app.action("ack_alert")
    def acknowledge(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        clicks.append(body)
        respond(replace_original=True, text=f"Acked by <@{body['user']['id']}>")

    ws = bolt_http.workspace
    client = WebClient(token=ws.config.bot_token, base_url=ws.api_url)
    ts = client.chat_postMessage(channel="C0INCIDENTS", text="Incident", blocks=ACK_BLOCKS)["ts"]

    result = ws.click_button("U0BOB", "incidents", ts, "ack_alert")

    assert result.status == 200
    ws.wait_for(lambda: texts(ws, "incidents") == ["Acked by <@U0BOB>"])
    body = clicks[0]
    assert body["type"] == "block_actions"
    assert body["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": "C0INCIDENTS",
        "is_ephemeral": False,
    }
    action = body["actions"][0]
    assert (action["action_id"], action["value"], action["type"]) == (
        "ack_alert",
        "inc-1",
        "button",
    )
    assert body["message"]["ts"] == ts
    assert body["user"] == {"id": "U0BOB", "username": "bob", "name": "bob", "team_id": "T0OPSBOT"}


def test_a_mention_arrives_as_app_mention_and_the_reply_lands_in_the_thread(
    bolt_http: BoltHttp,
) -> None:
    @bolt_http.app.event("app_mention")
    def answer(event: dict[str, Any], say: Say) -> None:
        say(text="Looking into it", thread_ts=event["ts"])

    ws = bolt_http.workspace
    asked = ws.post_message("U0CAROL", "incidents", "<@U0BOT> is checkout down?")

    ws.wait_for(lambda: len(ws.thread("incidents", asked["ts"])) == 2, timeout=15)
    reply = ws.thread("incidents", asked["ts"])[1]
    assert (reply["text"], reply["user"]) == ("Looking into it", "U0BOT")
    # The reply can land before the emulator has recorded how the app answered the delivery.
    mentions = ws.wait_for(
        lambda: [
            d for d in ws.deliveries("events_api") if d.request["event"]["type"] == "app_mention"
        ],
        timeout=15,
    )
    assert mentions[0].result.status == 200
    assert mentions[0].request["event"]["channel"] == "C0INCIDENTS"


def test_response_url_takes_five_posts_and_then_refuses(bolt_http: BoltHttp) -> None:
    urls: list[str] = []

    @bolt_http.app.command("/ask-ai")
    def ask(ack: Ack, command: dict[str, Any]) -> None:
        urls.append(command["response_url"])
        ack()

    ws = bolt_http.workspace
    ws.slash_command("U0ALICE", "incidents", "/ask-ai")
    answers = [httpx.post(urls[0], json={"text": f"part {i}"}) for i in range(6)]

    assert [a.status_code for a in answers] == [200] * 5 + [404]
    assert answers[-1].json()["error"] == "used_url"
    assert len(ws.ephemerals("U0ALICE")) == 5


def test_bolt_rejects_requests_signed_wrongly_or_too_long_ago(bolt_http: BoltHttp) -> None:
    ws = bolt_http.workspace
    body = b"command=%2Fask-ai&text=hi"
    forged = ws.signed_headers(body, secret="not-the-secret")
    stale = ws.signed_headers(body, timestamp=1_000_000_000)
    unsigned = {"Content-Type": "application/x-www-form-urlencoded"}

    statuses = [
        httpx.post(bolt_http.url, content=body, headers=headers).status_code
        for headers in (forged, stale, unsigned)
    ]

    assert statuses == [401, 401, 401]


def test_a_slow_command_is_reported_to_the_user_as_operation_timeout(bolt_http: BoltHttp) -> None:
    @bolt_http.app.command("/ask-ai")
    def slow(ack: Ack) -> None:
        time.sleep(0.6)
        ack()

    ws = bolt_http.workspace
    ws.configure(ack_timeout_s=0.3)

    result = ws.slash_command("U0ALICE", "incidents", "/ask-ai")

    assert (result.status, result.error) == (None, "timeout")
    assert (
        ws.ephemerals("U0ALICE")[0]["text"] == '/ask-ai failed with the error "operation_timeout"'
    )


def test_a_button_in_an_ephemeral_ack_can_delete_its_own_message(bolt_http: BoltHttp) -> None:
    clicks: list[dict[str, Any]] = []

    @bolt_http.app.command("/ask-ai")
    def offer(ack: Ack) -> None:
        ack(text="Run the diagnosis?", blocks=ACK_BLOCKS)

    @bolt_http.app.action("ack_alert")
    def dismiss(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        clicks.append(body)
        respond(delete_original=True)

    ws = bolt_http.workspace
    ws.slash_command("U0ALICE", "incidents", "/ask-ai")
    offered = ws.ephemerals("U0ALICE")[0]

    ws.click_button("U0ALICE", "incidents", offered["ts"], "ack_alert")

    ws.wait_for(lambda: not ws.ephemerals("U0ALICE"))
    assert clicks[0]["container"]["is_ephemeral"] is True
    assert "message" not in clicks[0]
