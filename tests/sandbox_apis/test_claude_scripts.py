"""Script files, script selection (header, API key, admin endpoint) and script errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest

from sandbox.claude import (
    ClaudeSandbox,
    Expect,
    Reply,
    Script,
    ScriptError,
    Turn,
    load_scripts,
    script_from_dict,
)

ClientFactory = Callable[..., anthropic.Anthropic]
MODEL = "claude-sonnet-4-5"
HI: list[Any] = [{"role": "user", "content": "hi"}]
SCRIPT_YAML = """
name: checkout-500s
turns:
  - text: Checking the error rate.
    tool_calls:
      - name: prometheus_query
        input: {query: 'sum(rate(http_requests_total{code=~"5.."}[5m]))'}
  - fault: {kind: rate_limit, retry_after: 1}
  - expect: {tool_result_for: prometheus_query}
    tool_calls:
      - {name: submit_finding, input: {summary: payments is down, confidence: 0.7}}
  - text: Done.
    stop_reason: end_turn
"""
TOOLS: list[Any] = [
    {"name": n, "input_schema": {"type": "object", "properties": {}}}
    for n in ("prometheus_query", "submit_finding")
]


def text_of(message: anthropic.types.Message) -> str:
    return "".join(block.text for block in message.content if block.type == "text")


def test_a_yaml_script_drives_a_conversation_with_a_fault_in_it(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory, tmp_path: Path
) -> None:
    sandbox, _ = claude
    path = tmp_path / "scenario.yaml"
    path.write_text(SCRIPT_YAML)
    assert sandbox.load(path) == ["checkout-500s"]
    client = make_client(max_retries=1)
    history: list[Any] = [{"role": "user", "content": "Why 500s?"}]
    first = client.messages.create(model=MODEL, max_tokens=256, messages=history, tools=TOOLS)
    call = first.content[1]
    assert call.type == "tool_use"
    history += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "20"}],
        },
    ]
    second = client.messages.create(model=MODEL, max_tokens=256, messages=history, tools=TOOLS)
    submit = second.content[0]
    assert submit.type == "tool_use"
    assert submit.input == {"summary": "payments is down", "confidence": 0.7}
    assert [r.status for r in sandbox.requests] == [200, 429, 200]
    assert sandbox.remaining_turns("checkout-500s") == 1


def test_a_file_with_several_scripts_activates_the_chosen_one(tmp_path: Path) -> None:
    path = tmp_path / "pack.json"
    path.write_text(
        '{"active": "b", "scripts": [{"name": "a", "turns": [{"text": "A"}]},'
        ' {"name": "b", "api_key": "key-b", "turns": [{"text": "B", "stall": 0.5}]}]}'
    )
    scripts, active = load_scripts(path)
    assert [s.name for s in scripts] == ["a", "b"]
    assert active == "b"
    assert scripts[1].api_key == "key-b"
    assert scripts[1].turns[0].stall_seconds == 0.5


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"turns": []}, "a script needs a string 'name'"),
        ({"name": "x", "turns": [{"txt": "typo"}]}, "unknown keys"),
        ({"name": "x", "turns": [{"fault": {"kind": "meltdown"}}]}, "fault.kind"),
        ({"name": "x", "turns": [{"stop_reason": "end_turn"}]}, "needs text or tool_calls"),
        ({"name": "x", "turns": [{"text": "a", "expect": {"nope": 1}}]}, "expect takes"),
    ],
)
def test_malformed_scripts_are_refused_with_the_reason(
    document: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ScriptError, match=problem):
        script_from_dict(document)


def test_the_script_header_and_the_api_key_pick_a_script_per_test(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory
) -> None:
    sandbox, _ = claude
    sandbox.script("a", [Reply(text="from a")], activate=True)
    sandbox.script("b", [Reply(text="from b")], activate=False)
    sandbox.add_script(Script.of("c", [Reply(text="from c")], api_key="key-c"))
    by_header = make_client(default_headers={"x-sandbox-script": "b"})
    assert text_of(by_header.messages.create(model=MODEL, max_tokens=9, messages=HI)) == "from b"
    by_key = make_client(api_key="key-c")
    assert text_of(by_key.messages.create(model=MODEL, max_tokens=9, messages=HI)) == "from c"
    default = make_client()
    assert text_of(default.messages.create(model=MODEL, max_tokens=9, messages=HI)) == "from a"


def test_without_a_chosen_script_or_with_none_left_the_request_is_refused(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory
) -> None:
    sandbox, _ = claude
    sandbox.script("a", [Reply(text="only once")], activate=False)
    sandbox.script("b", [Reply(text="b")], activate=False)
    client = make_client()
    with pytest.raises(anthropic.BadRequestError) as unchosen:
        client.messages.create(model=MODEL, max_tokens=9, messages=HI)
    assert unchosen.value.api_message == "sandbox: no script selected for this request"
    sandbox.activate("a")
    client.messages.create(model=MODEL, max_tokens=9, messages=HI)
    with pytest.raises(anthropic.BadRequestError) as spent:
        client.messages.create(model=MODEL, max_tokens=9, messages=HI)
    assert spent.value.api_message == "sandbox: script 'a' has no turn left (all 1 used)"


def test_admin_endpoints_load_a_script_and_show_the_recorded_requests(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory
) -> None:
    _, url = claude
    with httpx.Client(base_url=url) as admin:
        chosen = admin.post(
            "/sandbox/script",
            json={
                "script": {"name": "remote", "turns": [{"text": "hello from a file"}]},
                "api_key": "k2",
            },
        )
        assert chosen.json() == {"ok": True, "name": "remote", "remaining": 1}
        message = make_client(api_key="k2").messages.create(model=MODEL, max_tokens=9, messages=HI)
        assert text_of(message) == "hello from a file"
        (recorded,) = admin.get("/sandbox/requests").json()
        assert recorded["body"]["messages"] == HI
        assert (recorded["script"], recorded["turn_index"], recorded["status"]) == (
            "remote",
            0,
            200,
        )
        assert admin.post("/sandbox/script", json={"name": "missing"}).status_code == 400
        assert admin.post("/sandbox/reset").json() == {"ok": True}
        assert admin.get("/sandbox/requests").json() == []


def test_unmet_expectation_answers_400_and_is_recorded_for_the_test(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory
) -> None:
    sandbox, _ = claude
    sandbox.script(
        "strict",
        [
            Turn(
                reply=Reply(text="ok"),
                expect=Expect(
                    system_contains="You are opsbot", tools_include=("prometheus_query",)
                ),
            )
        ],
    )
    client = make_client()
    with pytest.raises(anthropic.BadRequestError) as refused:
        client.messages.create(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "hi"}]
        )
    assert refused.value.api_message == (
        "sandbox expectation failed: expected the system prompt to contain 'You are opsbot'"
    )
    (failure,) = sandbox.expectation_failures
    assert (failure.script, failure.turn_index, failure.request_index) == ("strict", 0, 0)
    answer = client.messages.create(
        model=MODEL,
        max_tokens=64,
        system=[{"type": "text", "text": "You are opsbot."}],
        messages=[{"role": "user", "content": "hi"}],
        tools=TOOLS,
    )
    assert answer.content[0].type == "text"
