"""chat.* and conversations.history/replies through the real slack_sdk WebClient."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.slack import SlackWorkspace

BUTTON_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Incident* checkout-5xx"}},
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "ack_alert",
                "text": {"type": "plain_text", "text": "Ack"},
                "value": "inc-1",
            }
        ],
    },
]


def error_of(call: Callable[[], object]) -> str:
    with pytest.raises(SlackApiError) as caught:
        call()
    return str(caught.value.response["error"])


def test_post_message_answers_in_slacks_shape_and_lands_in_history(
    workspace: SlackWorkspace, client: WebClient
) -> None:
    posted = client.chat_postMessage(channel="C0INCIDENTS", text="Incident", blocks=BUTTON_BLOCKS)

    assert posted["channel"] == "C0INCIDENTS"
    message = posted["message"]
    assert (message["type"], message["user"], message["bot_id"]) == ("message", "U0BOT", "B0BOT")
    assert message["ts"] == posted["ts"]
    assert message["blocks"][1]["elements"][0]["action_id"] == "ack_alert"
    assert all(block["block_id"] for block in message["blocks"])
    assert [m["ts"] for m in workspace.messages("incidents")] == [posted["ts"]]
    call = workspace.calls("chat.postMessage")[0]
    assert (call.content_type, call.status) == ("application/json", 200)


def test_timestamps_are_strictly_increasing_slack_style_strings(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="ops-digest", text=str(i))["ts"] for i in range(2)]

    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)
    assert float(stamps[0]) < float(stamps[1])


def test_replies_update_the_parent_thread_fields_and_read_back_in_order(
    client: WebClient,
) -> None:
    parent = client.chat_postMessage(channel="C0INCIDENTS", text="parent")["ts"]
    reply = client.chat_postMessage(channel="C0INCIDENTS", text="reply", thread_ts=parent)

    thread = client.conversations_replies(channel="C0INCIDENTS", ts=parent)["messages"]
    assert [m["text"] for m in thread] == ["parent", "reply"]
    assert thread[0]["reply_count"] == 1
    assert thread[0]["reply_users"] == ["U0BOT"]
    assert thread[0]["latest_reply"] == reply["ts"]
    assert thread[1]["thread_ts"] == parent
    history = client.conversations_history(channel="C0INCIDENTS")["messages"]
    assert [m["text"] for m in history] == ["parent"]


def test_chat_update_replaces_text_and_blocks_and_marks_the_message_edited(
    workspace: SlackWorkspace, client: WebClient
) -> None:
    ts = client.chat_postMessage(channel="C0INCIDENTS", text="Inc", blocks=BUTTON_BLOCKS)["ts"]

    updated = client.chat_update(channel="C0INCIDENTS", ts=ts, text="Acknowledged", blocks=[])

    assert (updated["ts"], updated["text"]) == (ts, "Acknowledged")
    stored = workspace.messages("incidents")[0]
    assert (stored["text"], stored["blocks"]) == ("Acknowledged", [])
    assert stored["edited"]["user"] == "U0BOT"


def test_chat_delete_removes_a_message_and_a_parent_with_replies_becomes_a_tombstone(
    workspace: SlackWorkspace, client: WebClient
) -> None:
    lone = client.chat_postMessage(channel="C0INCIDENTS", text="lone")["ts"]
    parent = client.chat_postMessage(channel="C0INCIDENTS", text="parent")["ts"]
    client.chat_postMessage(channel="C0INCIDENTS", text="reply", thread_ts=parent)

    client.chat_delete(channel="C0INCIDENTS", ts=lone)
    client.chat_delete(channel="C0INCIDENTS", ts=parent)

    remaining = workspace.messages("incidents")
    assert [(m["ts"], m.get("subtype")) for m in remaining] == [(parent, "tombstone")]


def test_history_pages_newest_first_with_a_next_cursor(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="ops-digest", text=str(i))["ts"] for i in range(2)]
    stamps += [client.chat_postMessage(channel="incidents", text="other")["ts"]]
    first = client.conversations_history(channel="C0OPSDIGEST", limit=1)

    assert first["has_more"] is True
    cursor = first["response_metadata"]["next_cursor"]
    second = client.conversations_history(channel="C0OPSDIGEST", limit=1, cursor=cursor)
    assert [first["messages"][0]["ts"], second["messages"][0]["ts"]] == stamps[1::-1]
    assert second["has_more"] is False
    window = client.conversations_history(channel="C0OPSDIGEST", oldest=stamps[0])
    assert [m["ts"] for m in window["messages"]] == [stamps[1]]
    with pytest.raises(SlackApiError, match="invalid_cursor"):
        client.conversations_history(channel="C0OPSDIGEST", cursor="bm9wZQ==")


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_message_errors_use_slacks_codes(workspace: SlackWorkspace, client: WebClient) -> None:
    general_ts = workspace.post_message("U0ALICE", "general", "hello")["ts"]
    cases = {
        "channel_not_found": lambda: client.chat_postMessage(channel="C0NOPE", text="x"),
        "no_text": lambda: client.chat_postMessage(channel="C0INCIDENTS"),
        "msg_too_long": lambda: client.chat_postMessage(channel="C0INCIDENTS", text="x" * 40_001),
        "thread_not_found": lambda: client.chat_postMessage(
            channel="C0INCIDENTS", text="x", thread_ts="1.000001"
        ),
        "message_not_found": lambda: client.chat_update(
            channel="C0INCIDENTS", ts="1.000001", text="x"
        ),
        "cant_update_message": lambda: client.chat_update(
            channel="C0GENERAL", ts=general_ts, text="x"
        ),
        "not_in_channel": lambda: client.conversations_history(channel="C0GENERAL"),
    }
    assert {name: error_of(call) for name, call in cases.items()} == {n: n for n in cases}


def test_posting_to_an_archived_channel_fails_with_is_archived(
    workspace: SlackWorkspace, client: WebClient
) -> None:
    workspace.archive_channel("ops-digest")

    assert error_of(lambda: client.chat_postMessage(channel="C0OPSDIGEST", text="x")) == (
        "is_archived"
    )


def test_private_channels_stay_invisible_to_a_bot_that_is_not_a_member(
    workspace: SlackWorkspace, client: WebClient
) -> None:
    private = client.conversations_create(name="secret-room", is_private=True)["channel"]["id"]
    workspace.state.channels[private].members.discard("U0BOT")

    assert error_of(lambda: client.chat_postMessage(channel=private, text="x")) == (
        "channel_not_found"
    )


def test_authentication_failures_and_unknown_methods_answer_like_slack(
    workspace: SlackWorkspace,
) -> None:
    anonymous = WebClient(base_url=workspace.api_url)
    impostor = WebClient(token="xoxb-wrong", base_url=workspace.api_url)
    app_level = WebClient(token=workspace.config.app_token, base_url=workspace.api_url)

    assert error_of(anonymous.auth_test) == "not_authed"
    assert error_of(impostor.auth_test) == "invalid_auth"
    assert error_of(app_level.auth_test) == "not_allowed_token_type"
    unknown = httpx.post(f"{workspace.api_url}chat.teleport", data={"token": "xoxb-opsbot-dev"})
    assert (unknown.status_code, unknown.json()) == (200, {"ok": False, "error": "unknown_method"})


def test_form_encoded_calls_take_the_token_argument_and_json_calls_do_not(
    workspace: SlackWorkspace,
) -> None:
    token = workspace.config.bot_token
    form = httpx.post(f"{workspace.api_url}auth.test", data={"token": token})
    in_json = httpx.post(f"{workspace.api_url}auth.test", json={"token": token})

    assert form.json()["user_id"] == "U0BOT"
    assert in_json.json() == {"ok": False, "error": "not_authed"}


def test_ephemeral_messages_and_permalinks(workspace: SlackWorkspace, client: WebClient) -> None:
    answer = client.chat_postEphemeral(channel="C0INCIDENTS", user="U0BOB", text="psst")
    ts = client.chat_postMessage(channel="C0INCIDENTS", text="x")["ts"]
    link = client.chat_getPermalink(channel="C0INCIDENTS", message_ts=ts)["permalink"]

    assert [e["text"] for e in workspace.ephemerals("U0BOB")] == ["psst"]
    assert workspace.ephemerals("U0ALICE") == []
    assert answer["message_ts"]
    assert link.endswith(f"/archives/C0INCIDENTS/p{ts.replace('.', '')}")
