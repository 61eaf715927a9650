"""`/ask-ai` answers capacity questions in the local Slack workspace from the same report as
the digest: "when will the orders database disk be full?" resolves to prod/postgres-data
(not prod/orders-archive) and "which services are over-provisioned?" names prod/payments
with its saving. Without Claude the pattern engine answers; with Claude (the scripted
stand-in) the model reaches the answer through the capacity tools, its summary taken from
what the tool returned."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.capacity import summary
from bot.capacity.models import CapacityReport
from sandbox.claude import ClaudeSandbox, RecordedRequest, Reply, ToolCall
from sandbox.serve import ServerThread
from tests.capacity.capacity_slack import (
    Backends,
    CapacityBot,
    Json,
    capacity_bot,
    minute_now,
    shop_backends,
    shown,
)

ORDERS_DB = "when will the orders database disk be full?"
OVER_PROVISIONED = "which services are over-provisioned?"
CLAUDE_KEY = "sandbox-key"


@pytest.fixture(scope="module")
def backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backends]:
    with shop_backends(tmp_path_factory.mktemp("capacity-backends"), minute_now()) as found:
        yield found


@pytest.fixture(scope="module")
def claude() -> Iterator[tuple[ClaudeSandbox, str]]:
    sandbox = ClaudeSandbox(api_keys=[CLAUDE_KEY])
    with ServerThread(sandbox.app) as server:
        yield sandbox, server.url


def ask(world: CapacityBot, question: str) -> Json:
    """Ask in #general and wait for the finished answer in the question's thread."""
    world.slack.slash_command("U0ALICE", "general", "/ask-ai", question)
    root = world.slack.wait_for(
        lambda: [m for m in world.slack.messages("general") if question in str(m.get("text", ""))],
        timeout=10,
    )[-1]

    def answered() -> list[Json]:
        return [
            m
            for m in world.slack.thread("general", str(root["ts"]))[1:]
            if m.get("bot_id") and "Investigating" not in json.dumps(m.get("blocks", []))
        ]

    return world.slack.wait_for(answered, timeout=90)[0]


def postgres_days(report: CapacityReport) -> float:
    found = next(e for e in report.exhaustions if e.resource.name == "postgres-data")
    assert found.days_likely is not None
    return found.days_likely


@pytest.fixture(scope="module")
def pattern_world(
    backends: Backends, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CapacityBot]:
    home = tmp_path_factory.mktemp("capacity-ask-pattern")
    with capacity_bot(home, backends, minute_now()) as world:
        yield world


def test_the_pattern_engine_says_when_the_orders_database_disk_is_full(
    pattern_world: CapacityBot,
) -> None:
    answer = shown(ask(pattern_world, ORDERS_DB))
    report = pattern_world.report()
    days = postgres_days(report)
    assert 4.0 <= days <= 6.0  # the history's story: full ~5 days from now
    assert f"prod/postgres-data (volume) will be full in ~{summary.days(days)}" in answer
    assert "of 50.0 GiB used" in answer
    assert "orders-archive" not in answer.split("also")[0]
    assert "Pattern engine (rule capacity_forecast)" in answer


def test_the_pattern_engine_names_the_over_provisioned_services_and_the_saving(
    pattern_world: CapacityBot,
) -> None:
    answer = shown(ask(pattern_world, OVER_PROVISIONED))
    over = summary.savings(pattern_world.report())
    assert [(r.usage.namespace, r.usage.workload) for r in over][:1] == [("prod", "payments")]
    total = sum(r.saving_usd_month for r in over)
    assert f"rightsizing saves {summary.money(total)}/month" in answer
    assert "prod/payments (app, 2x): cpu 500m→" in answer
    assert "Pattern engine (rule capacity_rightsizing)" in answer


def tool_result_text(request: RecordedRequest) -> str:
    """The text of the last tool result the bot sent back to the model."""
    for message in reversed(request.messages):
        for block in message.get("content", []):
            if isinstance(block, dict) and block.get("type") == "tool_result":
                content: Any = block.get("content")
                return content if isinstance(content, str) else json.dumps(content)
    return ""


def first_data_line(request: RecordedRequest) -> str:
    """What a model would quote: the first line of the tool's answer inside the fence."""
    lines = [ln for ln in tool_result_text(request).splitlines() if ln and not ln.startswith("<")]
    return lines[0] if lines else "the tool returned nothing"


def capacity_script(tool: str, tool_input: dict[str, Any]) -> list[Any]:
    def call_the_tool(request: RecordedRequest) -> Reply:
        offered = {t["name"] for t in request.body.get("tools", [])}
        if tool not in offered:  # the bot did not offer the capacity tools
            return Reply(tool_calls=(finish("no capacity tool was offered", []),))
        return Reply(tool_calls=(ToolCall(tool, tool_input, id="toolu_capacity"),))

    def answer_from_the_result(request: RecordedRequest) -> Reply:
        return Reply(tool_calls=(finish(first_data_line(request), ["toolu_capacity"]),))

    return [call_the_tool, answer_from_the_result]


def finish(text: str, evidence: list[str]) -> ToolCall:
    finding = {
        "summary": text[:400],
        "root_cause": "Capacity analysis of the Prometheus history.",
        "confidence": 0.8,
        "evidence": evidence,
    }
    return ToolCall("submit_finding", finding, id="toolu_submit")


@pytest.fixture(scope="module")
def claude_world(
    backends: Backends,
    claude: tuple[ClaudeSandbox, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[CapacityBot]:
    home: Path = tmp_path_factory.mktemp("capacity-ask-claude")
    llm = {"api_key": CLAUDE_KEY, "base_url": claude[1], "max_retries": 0}
    with capacity_bot(home, backends, minute_now(), llm=llm) as world:
        yield world


def test_claude_answers_the_orders_database_question_through_the_capacity_forecast_tool(
    claude_world: CapacityBot, claude: tuple[ClaudeSandbox, str]
) -> None:
    sandbox = claude[0]
    sandbox.script(
        "orders-db", capacity_script("capacity_forecast", {"resource": "orders database disk"})
    )
    answer = shown(ask(claude_world, ORDERS_DB))
    days = postgres_days(claude_world.report())
    assert 4.0 <= days <= 6.0
    line = re.escape(f"prod/postgres-data (volume): full in ~{summary.days(days)} (80% interval")
    assert re.search(line, answer), answer
    assert "Show evidence" in answer  # the raw tool calls (capacity_forecast) sit behind it
    assert "Claude" in answer
    calls = [r for r in sandbox.requests if r.script == "orders-db"]
    assert len(calls) == 2
    assert "prod/postgres-data" in tool_result_text(calls[1])


def test_claude_answers_the_over_provisioned_question_through_the_rightsizing_tool(
    claude_world: CapacityBot, claude: tuple[ClaudeSandbox, str]
) -> None:
    sandbox = claude[0]
    sandbox.script("over-provisioned", capacity_script("capacity_rightsizing", {}))
    answer = shown(ask(claude_world, OVER_PROVISIONED))
    over = summary.savings(claude_world.report())
    total = sum(r.saving_usd_month for r in over)
    assert f"saving {summary.money(total)}/month in total" in answer
    calls = [r for r in sandbox.requests if r.script == "over-provisioned"]
    assert "- prod/payments (app, 2x): cpu 500m→" in tool_result_text(calls[1])
