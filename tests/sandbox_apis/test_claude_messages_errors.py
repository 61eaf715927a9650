"""Validation errors, auth, and scripted faults as the real `anthropic` SDK sees them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import pytest

from sandbox.claude import ClaudeSandbox, Fault, Reply, Turn

ClientFactory = Callable[..., anthropic.Anthropic]
MODEL = "claude-sonnet-4-5"
HI: list[Any] = [{"role": "user", "content": "hi"}]
OBJECT: dict[str, Any] = {"type": "object", "properties": {}}
TAG_LIST = (
    "'text', 'image', 'document', 'search_result', 'thinking', 'redacted_thinking', 'tool_use', "
    "'tool_result', 'server_tool_use', 'web_search_tool_result', 'web_fetch_tool_result', "
    "'code_execution_tool_result', 'bash_code_execution_tool_result', "
    "'text_editor_code_execution_tool_result', 'tool_search_tool_result', 'container_upload'"
)

INVALID_REQUESTS: list[tuple[str, dict[str, Any], str]] = [
    ("max_tokens", {"max_tokens": 0}, "max_tokens: Input should be greater than or equal to 1"),
    (
        "no_messages",
        {"messages": []},
        "messages: List should have at least 1 item after validation, not 0",
    ),
    (
        "assistant_first",
        {"messages": [{"role": "assistant", "content": "hi"}, {"role": "user", "content": "x"}]},
        'messages: first message must use the "user" role',
    ),
    (
        "empty_text",
        {"messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}]},
        "messages: text content blocks must be non-empty",
    ),
    (
        "empty_content",
        {"messages": [{"role": "user", "content": ""}]},
        "messages.0: all messages must have non-empty content except for the optional final "
        "assistant message",
    ),
    (
        "unknown_block",
        {"messages": [{"role": "user", "content": [{"type": "video", "url": "x"}]}]},
        "messages.0.content.0: Input tag 'video' found using 'type' does not match any of the "
        f"expected tags: {TAG_LIST}",
    ),
    (
        "trailing_whitespace",
        {"messages": [*HI, {"role": "assistant", "content": "The cause is "}]},
        "messages: final assistant content cannot end with trailing whitespace",
    ),
    (
        "tool_name",
        {"tools": [{"name": "get logs", "input_schema": OBJECT}]},
        "tools.0.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'",
    ),
    (
        "schema_type",
        {"tools": [{"name": "t", "input_schema": {"type": "array"}}]},
        "tools.0.custom.input_schema.type: Input should be 'object'",
    ),
    (
        "schema_missing",
        {"tools": [{"name": "t", "description": "no schema"}]},
        "tools.0.custom.input_schema: Field required",
    ),
    (
        "duplicate_tools",
        {"tools": [{"name": "t", "input_schema": OBJECT}, {"name": "t", "input_schema": OBJECT}]},
        "tools: Tool names must be unique.",
    ),
    (
        "tool_choice",
        {"tools": [{"name": "t", "input_schema": OBJECT}], "tool_choice": {"type": "maybe"}},
        "tool_choice: Input tag 'maybe' found using 'type' does not match any of the expected "
        "tags: 'auto', 'any', 'tool', 'none'",
    ),
    (
        "stray_tool_result",
        {
            "messages": [
                *HI,
                {"role": "assistant", "content": "ok"},
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "toolu_x", "content": "1"}],
                },
            ]
        },
        "messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_x. "
        "Each `tool_result` block must have a corresponding `tool_use` block in the previous "
        "message.",
    ),
    (
        "breakpoints",
        {
            "system": [
                {"type": "text", "text": f"part {i}", "cache_control": {"type": "ephemeral"}}
                for i in range(5)
            ]
        },
        "A maximum of 4 blocks with cache_control may be provided. Found 5.",
    ),
    (
        "extra_field",
        {"extra_body": {"frobnicate": 1}},
        "frobnicate: Extra inputs are not permitted",
    ),
]


@pytest.mark.parametrize(
    ("changes", "message"),
    [(changes, message) for _, changes, message in INVALID_REQUESTS],
    ids=[name for name, _, _ in INVALID_REQUESTS],
)
def test_invalid_requests_raise_bad_request_with_the_apis_message(
    claude: tuple[ClaudeSandbox, str],
    make_client: ClientFactory,
    changes: dict[str, Any],
    message: str,
) -> None:
    sandbox, _ = claude
    sandbox.script("unused", [Reply(text="never sent")])
    arguments: dict[str, Any] = {"model": MODEL, "max_tokens": 64, "messages": HI, **changes}
    with pytest.raises(anthropic.BadRequestError) as refused:
        make_client().messages.create(**arguments)
    error = refused.value
    assert error.status_code == 400
    assert error.type == "invalid_request_error"
    assert error.api_message == message
    assert error.request_id is not None
    assert error.request_id.startswith("req_")
    assert sandbox.remaining_turns("unused") == 1


def test_wrong_api_key_raises_authentication_error(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory
) -> None:
    with pytest.raises(anthropic.AuthenticationError) as refused:
        make_client(api_key="wrong").messages.create(model=MODEL, max_tokens=5, messages=HI)
    assert refused.value.api_message == "invalid x-api-key"
    assert refused.value.response.headers["x-should-retry"] == "false"


def test_missing_credentials_and_version_header_are_refused(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory
) -> None:
    client = make_client()
    with pytest.raises(anthropic.AuthenticationError) as no_key:
        client.messages.create(
            model=MODEL, max_tokens=5, messages=HI, extra_headers={"Authorization": anthropic.omit}
        )
    assert no_key.value.api_message == "x-api-key header is required"
    with pytest.raises(anthropic.BadRequestError) as no_version:
        client.messages.create(
            model=MODEL,
            max_tokens=5,
            messages=HI,
            extra_headers={"anthropic-version": anthropic.omit},
        )
    assert no_version.value.api_message == "anthropic-version: header is required"


def test_x_api_key_header_is_accepted_as_older_clients_send_it(
    claude: tuple[ClaudeSandbox, str],
) -> None:
    sandbox, url = claude
    sandbox.script("plain", [Reply(text="hello")])
    answer = httpx.post(
        f"{url}/v1/messages",
        headers={"x-api-key": "test-key", "anthropic-version": "2023-06-01"},
        json={"model": MODEL, "max_tokens": 16, "messages": HI},
    )
    assert answer.status_code == 200
    assert answer.headers["request-id"].startswith("req_")
    assert answer.json()["content"] == [{"type": "text", "text": "hello"}]


def test_unknown_model_raises_not_found(make_client: ClientFactory) -> None:
    with pytest.raises(anthropic.NotFoundError) as missing:
        make_client().messages.create(model="gpt-4o", max_tokens=5, messages=HI)
    assert missing.value.api_message == "model: gpt-4o"


def test_oversized_request_raises_content_too_large(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory
) -> None:
    sandbox, _ = claude
    sandbox.max_request_bytes = 4_000
    big: list[Any] = [{"role": "user", "content": "x" * 5_000}]
    with pytest.raises(anthropic.ContentTooLargeError) as refused:
        make_client().messages.create(model=MODEL, max_tokens=5, messages=big)
    assert refused.value.status_code == 413
    assert refused.value.body == {
        "type": "error",
        "error": {
            "type": "request_too_large",
            "message": "Request exceeds the maximum allowed number of bytes.",
        },
        "request_id": refused.value.request_id,
    }


def test_rate_limit_is_retried_by_the_sdk_after_retry_after(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory
) -> None:
    sandbox, _ = claude
    sandbox.script("busy", [Fault("rate_limit", retry_after=1), Reply(text="made it")])
    message = make_client(max_retries=2).messages.create(model=MODEL, max_tokens=16, messages=HI)
    assert message.content[0].type == "text"
    assert message.content[0].text == "made it"
    first, second = sandbox.requests
    assert (first.status, second.status) == (429, 200)
    assert second.headers["x-stainless-retry-count"] == "1"


def test_rate_limit_without_retries_raises_with_retry_after_header(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory
) -> None:
    sandbox, _ = claude
    sandbox.script("busy", [Fault("rate_limit", retry_after=30)])
    with pytest.raises(anthropic.RateLimitError) as limited:
        make_client().messages.create(model=MODEL, max_tokens=16, messages=HI)
    assert limited.value.response.headers["retry-after"] == "30"
    assert limited.value.type == "rate_limit_error"


@pytest.mark.parametrize(
    ("kind", "error_class", "status"),
    [
        ("overloaded", anthropic.OverloadedError, 529),
        ("api_error", anthropic.InternalServerError, 500),
    ],
)
def test_server_faults_map_to_the_sdks_exception_classes(
    claude: tuple[ClaudeSandbox, str],
    make_client: ClientFactory,
    kind: Any,
    error_class: type[anthropic.APIStatusError],
    status: int,
) -> None:
    sandbox, _ = claude
    sandbox.script("down", [Fault(kind)])
    with pytest.raises(error_class) as failed:
        make_client().messages.create(model=MODEL, max_tokens=16, messages=HI)
    assert failed.value.status_code == status
    assert isinstance(failed.value, anthropic.InternalServerError)


def test_error_event_in_the_middle_of_a_stream_is_raised_by_the_sdk(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory
) -> None:
    sandbox, _ = claude
    sandbox.script("flaky", [Fault("overloaded", mid_stream=True)])
    stream = make_client().messages.create(model=MODEL, max_tokens=16, messages=HI, stream=True)
    with pytest.raises(anthropic.APIStatusError) as broken:
        for _ in stream:
            pass
    assert broken.value.type == "overloaded_error"
    assert broken.value.api_message == "Overloaded"


def test_a_stall_trips_the_sdk_timeout(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory
) -> None:
    sandbox, _ = claude
    sandbox.script("slow", [Turn(reply=Reply(text="too late"), stall_seconds=5)])
    with pytest.raises(anthropic.APITimeoutError):
        make_client(timeout=0.3).messages.create(model=MODEL, max_tokens=16, messages=HI)
    deadline = time.monotonic() + 3
    while not sandbox.requests[0].disconnected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sandbox.requests[0].disconnected


def test_after_a_timeout_the_sdk_retry_meets_the_next_turn(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory
) -> None:
    sandbox, _ = claude
    sandbox.script(
        "slow-then-fine",
        [Turn(reply=Reply(text="too late"), stall_seconds=5), Reply(text="on time")],
    )
    client = make_client(timeout=0.3, max_retries=1)
    message = client.messages.create(model=MODEL, max_tokens=16, messages=HI)
    assert message.content[0].type == "text"
    assert message.content[0].text == "on time"
