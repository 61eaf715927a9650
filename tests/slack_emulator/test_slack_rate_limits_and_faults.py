"""429 with Retry-After (per channel for posts, per workspace for edits), slack_sdk's retry
handlers, and injected 5xx failures."""

from __future__ import annotations

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from sandbox.slack import SlackWorkspace


def test_a_third_message_at_once_to_one_channel_gets_429_with_retry_after(
    workspace: SlackWorkspace, client: WebClient
) -> None:
    workspace.configure(post_message_rate=1.0, post_message_burst=2)
    for text in ("one", "two"):
        client.chat_postMessage(channel="C0INCIDENTS", text=text)

    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C0INCIDENTS", text="three")

    response = caught.value.response
    assert response.status_code == 429
    assert response.data == {"ok": False, "error": "ratelimited"}
    assert int(response.headers["Retry-After"][0]) >= 1
    client.chat_postMessage(channel="C0OPSDIGEST", text="another channel is not limited")


def test_rate_limit_retry_handler_recovers_after_retry_after(
    workspace: SlackWorkspace,
) -> None:
    workspace.configure(post_message_rate=1.0, post_message_burst=2)
    patient = WebClient(
        token=workspace.config.bot_token,
        base_url=workspace.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )

    posted = [patient.chat_postMessage(channel="C0INCIDENTS", text=str(i))["ts"] for i in range(3)]

    assert len(set(posted)) == 3
    assert [c.status for c in workspace.calls("chat.postMessage")] == [200, 200, 429, 200]


def test_chat_update_is_rate_limited_per_workspace_not_per_channel(
    workspace: SlackWorkspace, client: WebClient
) -> None:
    """chat.update is a Tier 3 method: one budget per method for the workspace, so an edit
    in another channel draws the 429 too; and edits do not spend chat.postMessage's."""
    ts = client.chat_postMessage(channel="C0INCIDENTS", text="v0")["ts"]
    other = client.chat_postMessage(channel="C0OPSDIGEST", text="w0")["ts"]
    workspace.configure(update_rate=0.5, update_burst=1, post_message_rate=1.0)
    client.chat_update(channel="C0INCIDENTS", ts=ts, text="v1")

    with pytest.raises(SlackApiError) as caught:
        client.chat_update(channel="C0OPSDIGEST", ts=other, text="w1")

    assert caught.value.response.status_code == 429
    assert caught.value.response.data == {"ok": False, "error": "ratelimited"}
    assert int(caught.value.response.headers["Retry-After"][0]) >= 1
    client.chat_postMessage(channel="C0INCIDENTS", text="posts have their own limit")


def test_injected_server_errors_fail_the_next_calls_then_clear(
    workspace: SlackWorkspace, client: WebClient
) -> None:
    workspace.inject_failures("chat.postMessage", status=503, count=1)

    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C0INCIDENTS", text="x")

    assert caught.value.response.status_code == 503
    assert caught.value.response["error"] == "service_unavailable"
    assert client.chat_postMessage(channel="C0INCIDENTS", text="x")["ok"] is True


def test_server_error_retry_handler_rides_over_injected_500s(workspace: SlackWorkspace) -> None:
    workspace.inject_failures("chat.postMessage", status=500, count=2)
    sturdy = WebClient(
        token=workspace.config.bot_token,
        base_url=workspace.api_url,
        retry_handlers=[
            ServerErrorRetryHandler(
                max_retry_count=2, interval_calculator=FixedValueRetryIntervalCalculator(0.05)
            )
        ],
    )

    assert sturdy.chat_postMessage(channel="C0INCIDENTS", text="made it")["ok"] is True
    assert [c.status for c in workspace.calls("chat.postMessage")] == [500, 500, 200]


def test_injected_429s_carry_retry_after(workspace: SlackWorkspace) -> None:
    workspace.inject_failures("conversations.history", status=429, count=1, retry_after=7)

    answer = httpx.post(
        f"{workspace.api_url}conversations.history",
        data={"token": workspace.config.bot_token, "channel": "C0INCIDENTS"},
    )

    assert (answer.status_code, answer.headers["retry-after"]) == (429, "7")
    assert answer.json() == {"ok": False, "error": "ratelimited"}
