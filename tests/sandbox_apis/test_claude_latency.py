"""The stand-in's latency model: a first-token wait from a range, then tokens at a rate."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import anthropic
import pytest

from sandbox.claude import ClaudeSandbox, Latency, Reply, ToolCall
from sandbox.claude.streaming import message_events

MODEL = "claude-sonnet-4-5"


def test_first_token_waits_stay_in_their_range_and_repeat_with_the_seed() -> None:
    first = Latency((1.0, 3.0), 50.0, seed=4)
    waits = [first.first_token() for _ in range(200)]
    assert all(1.0 <= w <= 3.0 for w in waits)
    assert max(waits) - min(waits) > 1.0  # spread over the range, not one value
    again = Latency((1.0, 3.0), 50.0, seed=4)
    assert [again.first_token() for _ in range(200)] == waits


def test_generation_time_is_the_output_tokens_after_the_first_at_the_rate() -> None:
    latency = Latency((0.5, 0.5), 50.0)
    assert latency.generating(101) == pytest.approx(2.0)
    assert latency.whole_answer({"usage": {"output_tokens": 51}}) == pytest.approx(1.5)
    assert Latency((0.0, 0.0), 0.0).generating(1000) == 0.0


@pytest.mark.parametrize("bad", [((2.0, 1.0), 10.0), ((-1.0, 1.0), 10.0), ((0.0, 1.0), -5.0)])
def test_impossible_latencies_are_refused(bad: tuple[tuple[float, float], float]) -> None:
    with pytest.raises(ValueError, match="must"):
        Latency(*bad)


def test_a_paced_stream_carries_the_same_events_as_an_unpaced_one() -> None:
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [{"type": "text", "text": "The pods restart because the heap is too small."}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 10,
            "output_tokens": 12,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }

    async def collect() -> list[tuple[str, dict[str, object]]]:
        latency = Latency((0.0, 0.01), 10_000.0)
        return [event async for event in latency.paced(message_events(message))]

    assert asyncio.run(collect()) == list(message_events(message))


def test_answers_through_the_sdk_are_unchanged_by_latency(
    claude: tuple[ClaudeSandbox, str], make_client: Callable[..., anthropic.Anthropic]
) -> None:
    sandbox, _ = claude
    sandbox.latency = Latency((0.0, 0.05), 5_000.0)
    sandbox.script(
        "slow",
        [
            Reply(text="Checking pods.", tool_calls=(ToolCall("k8s_pods", {"namespace": "prod"}),)),
            Reply(text="Done: the heap is too small."),
        ],
    )
    client = make_client()
    tools: list[Any] = [{"name": "k8s_pods", "input_schema": {"type": "object", "properties": {}}}]
    first = client.messages.create(
        model=MODEL, max_tokens=200, tools=tools, messages=[{"role": "user", "content": "why?"}]
    )
    assert [block.type for block in first.content] == ["text", "tool_use"]
    with client.messages.stream(
        model=MODEL, max_tokens=200, messages=[{"role": "user", "content": "and now?"}]
    ) as stream:
        text = "".join(stream.text_stream)
    assert text == "Done: the heap is too small."
