"""Block Kit limits: the pure validator, and invalid_blocks through chat.postMessage."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.slack.blocks import validate_blocks
from sandbox.slack.views import validate_view


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def button(text: str = "Go", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": "go", "text": plain(text), **extra}


def test_a_long_header_is_reported_with_slacks_wording_and_json_pointer(
    client: WebClient,
) -> None:
    blocks = [{"type": "header", "text": plain("x" * 151)}]

    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C0INCIDENTS", text="fallback", blocks=blocks)

    response = caught.value.response
    assert response["error"] == "invalid_blocks"
    assert response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]"
    ]


def test_blocks_at_their_limits_are_accepted() -> None:
    blocks = [
        {"type": "header", "text": plain("h" * 150)},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "s" * 3000},
            "fields": [{"type": "mrkdwn", "text": "f" * 2000}] * 10,
            "accessory": button("b" * 75, value="v" * 2000),
        },
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10},
        {
            "type": "actions",
            "block_id": "b" * 255,
            "elements": [button(action_id=f"a{i}") for i in range(25)],
        },
        {"type": "image", "image_url": "http://x/y.png", "alt_text": "graph"},
    ]

    assert validate_blocks(blocks) == []


@pytest.mark.parametrize(
    ("block", "pointer", "problem"),
    [
        (
            {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}},
            "/blocks/0/text/text",
            "must be less than 3001 characters",
        ),
        (
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11},
            "/blocks/0/fields",
            "no more than 10 items allowed",
        ),
        (
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]},
            "/blocks/0/fields/0/text",
            "must be less than 2001 characters",
        ),
        (
            {"type": "actions", "elements": [button("b" * 76)]},
            "/blocks/0/elements/0/text/text",
            "must be less than 76 characters",
        ),
        (
            {"type": "actions", "elements": [button(value="v" * 2001)]},
            "/blocks/0/elements/0/value",
            "must be less than 2001 characters",
        ),
        (
            {"type": "actions", "elements": [button(action_id="a" * 256)]},
            "/blocks/0/elements/0/action_id",
            "must be less than 256 characters",
        ),
        (
            {"type": "actions", "elements": [button(action_id=str(i)) for i in range(26)]},
            "/blocks/0/elements",
            "no more than 25 items allowed",
        ),
        (
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11},
            "/blocks/0/elements",
            "no more than 10 items allowed",
        ),
        (
            {
                "type": "actions",
                "elements": [
                    button(
                        confirm={
                            "title": plain("t" * 101),
                            "text": plain("sure?"),
                            "confirm": plain("Yes"),
                            "deny": plain("No"),
                        }
                    )
                ],
            },
            "/blocks/0/elements/0/confirm/title/text",
            "must be less than 101 characters",
        ),
        ({"type": "carousel"}, "/blocks/0/type", "must be a valid enum value"),
        (
            {"type": "header", "text": {"type": "mrkdwn", "text": "h"}},
            "/blocks/0/text/type",
            "must be a valid enum value",
        ),
    ],
)
def test_each_broken_limit_names_its_json_pointer(
    block: dict[str, Any], pointer: str, problem: str
) -> None:
    assert validate_blocks([block]) == [f"[ERROR] {problem} [json-pointer:{pointer}]"]


def test_more_than_fifty_blocks_in_a_message_but_a_hundred_in_a_modal() -> None:
    divider = {"type": "divider"}
    modal = {"type": "modal", "title": plain("T"), "blocks": [divider] * 100}

    assert validate_blocks([divider] * 51) == [
        "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"
    ]
    assert validate_view(modal) == []
    assert validate_view(modal | {"blocks": [divider] * 101}) == [
        "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"
    ]


def test_blocks_long_in_total_fail_with_msg_blocks_too_long(client: WebClient) -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3000}}

    with pytest.raises(SlackApiError, match="msg_blocks_too_long"):
        client.chat_postMessage(channel="C0INCIDENTS", text="long", blocks=[section] * 5)
