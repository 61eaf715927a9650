"""Every stop reason the Messages API can answer with, through the real anthropic SDK
against the strict stand-in: nothing cut off is ever run or published."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.investigation.agent.finding import Engine
from bot.investigation.agent.llm import TokenUsage
from bot.investigation.agent.loop import SHORTER, budget_weight, drop_empty_text
from sandbox.claude import RecordedRequest, Reply, ToolCall
from tests.agent.conftest import Backends, ClaudeServer
from tests.agent.helpers import incident, investigator, settings_for

PODS = {"namespace": "prod", "workload": "payments"}
LONG_SUMMARY = "payments pods are OOM-killed: " + "the heap grows past the limit. " * 70


def submit(summary: str = "payments is OOM-killed.", **values: Any) -> Reply:
    finding = {
        "summary": summary,
        "root_cause": "The heap outgrows the 768Mi limit.",
        "confidence": 0.8,
        "evidence": [],
        **values,
    }
    return Reply(tool_calls=(ToolCall("submit_finding", finding, id="toolu_submit"),))


def sent(claude: ClaudeServer, script: str) -> list[RecordedRequest]:
    return [r for r in claude.sandbox.requests if r.script == script]


def run(claude: ClaudeServer, backends: Backends, tmp_path: Path, **llm: Any) -> Any:
    settings = settings_for(
        tmp_path / "db.sqlite", kubeconfig=backends.kubeconfig, claude=claude.url, **llm
    )
    with investigator(settings) as (inv, _):
        return inv.investigate(incident("prod", "payments"))


def test_a_finding_cut_off_at_max_tokens_is_asked_again_and_published_whole(
    backends: Backends, claude: ClaudeServer, tmp_path: Path
) -> None:
    claude.sandbox.script(
        "cut-finding",
        [Reply(tool_calls=(ToolCall("k8s_pods", PODS, id="toolu_pods"),))]
        + [submit(LONG_SUMMARY)] * 3,
    )
    answer = run(claude, backends, tmp_path, max_output_tokens=256)

    assert answer.engine is Engine.CLAUDE
    assert answer.finding.summary.rstrip() == LONG_SUMMARY.rstrip()
    requests = sent(claude, "cut-finding")
    assert [r.body["max_tokens"] for r in requests] == [256, 256, 512, 1024]
    assert all(r.status == 200 for r in requests)
    # the truncated submit_finding was never sent back as a turn
    assert all("toolu_submit" not in json.dumps(r.body["messages"]) for r in requests), (
        "a cut-off tool call went back into the conversation"
    )
    assert SHORTER in json.dumps(requests[-1].body["messages"])


def test_a_tool_call_cut_off_at_max_tokens_is_never_run(
    backends: Backends, claude: ClaudeServer, tmp_path: Path
) -> None:
    claude.sandbox.script(
        "cut-tool",
        [
            Reply(
                text="Let me look. " * 80, tool_calls=(ToolCall("k8s_pods", PODS, id="toolu_p"),)
            ),
            Reply(
                text="Let me look. " * 80, tool_calls=(ToolCall("k8s_pods", PODS, id="toolu_p"),)
            ),
            submit(),
        ],
    )
    answer = run(claude, backends, tmp_path, max_output_tokens=256)

    requests = sent(claude, "cut-tool")
    assert requests[0].status == 200
    assert [r.body["max_tokens"] for r in requests][:2] == [256, 512]
    results = requests[2].tool_results()
    assert [r["tool_use_id"] for r in results] == ["toolu_p"]
    assert "payments" in str(results[0]["content"])
    assert answer.engine is Engine.CLAUDE
    assert len(answer.finding.evidence) >= 1


def test_an_answer_still_cut_off_when_allowed_more_leaves_it_to_the_pattern_engine(
    backends: Backends, claude: ClaudeServer, tmp_path: Path
) -> None:
    claude.sandbox.script("always-cut", [submit("x " * 5000)] * 3)
    answer = run(claude, backends, tmp_path, max_output_tokens=256)

    assert answer.engine is Engine.PATTERN
    assert answer.fallback_reason is not None
    assert "cut off" in answer.fallback_reason
    assert answer.finding.rule == "oom-kill"
    assert "x x x" not in answer.finding.summary


def test_a_refusal_hands_over_to_the_pattern_engine_and_the_finding_says_why(
    backends: Backends, claude: ClaudeServer, tmp_path: Path
) -> None:
    claude.sandbox.script("refuses", [Reply(text="I can't help with that.", stop_reason="refusal")])
    answer = run(claude, backends, tmp_path)

    assert answer.engine is Engine.PATTERN
    assert answer.fallback_reason == "Claude declined to investigate this (stop reason: refusal)"
    assert answer.finding.rule == "oom-kill"
    assert len(sent(claude, "refuses")) == 1, "no nudges, no forced calls after a refusal"


def test_empty_and_blank_text_blocks_are_not_sent_back(
    backends: Backends, claude: ClaudeServer, tmp_path: Path
) -> None:
    claude.sandbox.script(
        "blank-text",
        [
            Reply(text="", tool_calls=(ToolCall("k8s_pods", PODS, id="toolu_a"),)),
            Reply(
                text=" \n",
                tool_calls=(ToolCall("change_timeline", {"namespace": "prod"}, id="toolu_b"),),
            ),
            submit(),
        ],
    )
    answer = run(claude, backends, tmp_path)

    assert answer.engine is Engine.CLAUDE
    requests = sent(claude, "blank-text")
    assert [r.status for r in requests] == [200, 200, 200]
    for request in requests:
        for message in request.body["messages"]:
            for block in message["content"]:
                assert block.get("type") != "text" or block["text"].strip()


def test_a_paused_turn_is_sent_back_as_is_to_continue(
    backends: Backends, claude: ClaudeServer, tmp_path: Path
) -> None:
    claude.sandbox.script(
        "pauses", [Reply(text="Checking the pods first.", stop_reason="pause_turn"), submit()]
    )
    answer = run(claude, backends, tmp_path)

    assert answer.engine is Engine.CLAUDE
    second = sent(claude, "pauses")[1].body["messages"]
    assert second[-1] == {
        "role": "assistant",
        "content": [
            {
                "type": "text",
                "text": "Checking the pods first.",
                "cache_control": {"type": "ephemeral"},
            }
        ],
    }


def test_the_stand_in_rejects_blank_text_blocks_as_the_api_does(claude: ClaudeServer) -> None:
    import anthropic
    import pytest

    client = anthropic.Anthropic(api_key="sandbox-key", base_url=claude.url, max_retries=0)
    with pytest.raises(anthropic.BadRequestError, match="non-whitespace"):
        client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=256,
            messages=[{"role": "user", "content": [{"type": "text", "text": "  "}]}],
        )


def test_empty_text_blocks_are_dropped_and_others_kept() -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "text", "text": ""},
        {"type": "text", "text": "\t "},
        {"type": "text", "text": "ok"},
        {"type": "tool_use", "id": "t", "name": "k8s_pods", "input": {}},
    ]
    assert [b.get("text", b["type"]) for b in drop_empty_text(blocks)] == ["ok", "tool_use"]


def test_the_budget_counts_cache_reads_at_a_tenth_and_writes_at_one_and_a_quarter() -> None:
    usage = TokenUsage(
        input_tokens=100, output_tokens=50, cache_creation_tokens=400, cache_read_tokens=1000
    )
    assert budget_weight(usage) == 100 + 50 + 500 + 100
