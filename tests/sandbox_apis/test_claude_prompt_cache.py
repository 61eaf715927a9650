"""Token usage and prompt caching numbers, as the SDK reports them."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal, cast

import anthropic
from anthropic.types import MessageParam, TextBlockParam

from sandbox.claude import ClaudeSandbox, Reply

ClientFactory = Callable[..., anthropic.Anthropic]
MODEL = "claude-sonnet-4-5"
RUNBOOK = "You are opsbot, an SRE assistant. " + "Check saturation before restarting. " * 160
RUNBOOK_TOKENS = math.ceil(len(RUNBOOK) / 4)


def cached_system(ttl: Literal["5m", "1h"] = "5m") -> list[TextBlockParam]:
    return [{"type": "text", "text": RUNBOOK, "cache_control": {"type": "ephemeral", "ttl": ttl}}]


def ask(client: anthropic.Anthropic, **changes: Any) -> anthropic.types.Message:
    arguments: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 64,
        "system": cached_system(),
        "messages": [{"role": "user", "content": "What is wrong with checkout?"}],
        **changes,
    }
    return cast(anthropic.types.Message, client.messages.create(**arguments))


def test_first_request_writes_the_cache_and_an_identical_prefix_reads_it(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory
) -> None:
    sandbox, _ = claude
    sandbox.script("cache", [Reply(text="one"), Reply(text="two"), Reply(text="three")])
    client = make_client()
    first, second = ask(client), ask(client)
    assert RUNBOOK_TOKENS > 1024
    assert first.usage.cache_creation_input_tokens == RUNBOOK_TOKENS
    assert first.usage.cache_read_input_tokens == 0
    assert first.usage.cache_creation is not None
    assert first.usage.cache_creation.ephemeral_5m_input_tokens == RUNBOOK_TOKENS
    assert first.usage.input_tokens == math.ceil(len("What is wrong with checkout?") / 4)
    assert second.usage.cache_creation_input_tokens == 0
    assert second.usage.cache_read_input_tokens == RUNBOOK_TOKENS
    assert second.usage.input_tokens == first.usage.input_tokens
    changed = ask(client, system=[{**cached_system()[0], "text": RUNBOOK + " Be brief."}])
    assert changed.usage.cache_read_input_tokens == 0
    assert (changed.usage.cache_creation_input_tokens or 0) > RUNBOOK_TOKENS


def test_one_hour_breakpoints_are_reported_in_their_own_bucket(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory
) -> None:
    sandbox, _ = claude
    sandbox.script("cache", [Reply(text="one")])
    usage = ask(make_client(), system=cached_system("1h")).usage
    assert usage.cache_creation is not None
    assert usage.cache_creation.ephemeral_1h_input_tokens == RUNBOOK_TOKENS
    assert usage.cache_creation.ephemeral_5m_input_tokens == 0


def test_prefixes_below_the_minimum_length_are_not_cached(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory
) -> None:
    sandbox, _ = claude
    sandbox.script("cache", [Reply(text="one"), Reply(text="two")])
    short: list[TextBlockParam] = [
        {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}
    ]
    client = make_client()
    for _ in range(2):
        usage = ask(client, system=short).usage
        assert (usage.cache_creation_input_tokens, usage.cache_read_input_tokens) == (0, 0)


def test_a_growing_conversation_reads_the_prefix_cached_by_the_previous_turn(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory
) -> None:
    """The breakpoint moves to the newest message; earlier block boundaries still hit."""
    sandbox, _ = claude
    sandbox.script("cache", [Reply(text="Looking."), Reply(text="Found it.")])
    client = make_client()

    def turn(text: str) -> MessageParam:
        return {
            "role": "user",
            "content": [{"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}],
        }

    first = ask(client, system=RUNBOOK, messages=[turn("Why is checkout slow?")])
    history: list[MessageParam] = [
        {"role": "user", "content": [{"type": "text", "text": "Why is checkout slow?"}]},
        {"role": "assistant", "content": "Looking."},
        turn("And payments?"),
    ]
    second = ask(client, system=RUNBOOK, messages=history)
    assert (first.usage.cache_creation_input_tokens or 0) > 0
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert (second.usage.cache_creation_input_tokens or 0) > 0
    assert second.usage.input_tokens == 0


def test_streamed_usage_carries_the_cache_numbers(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory
) -> None:
    sandbox, _ = claude
    sandbox.script("cache", [Reply(text="one"), Reply(text="two")])
    client = make_client()
    ask(client)
    with client.messages.stream(
        model=MODEL,
        max_tokens=64,
        system=cached_system(),
        messages=[{"role": "user", "content": "What is wrong with checkout?"}],
    ) as stream:
        final = stream.get_final_message()
    assert final.usage.cache_read_input_tokens == RUNBOOK_TOKENS
    assert final.usage.output_tokens == 1


def test_count_tokens_counts_the_whole_prompt_without_using_a_turn(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory
) -> None:
    sandbox, _ = claude
    sandbox.script("cache", [Reply(text="one")])
    client = make_client()
    counted = client.messages.count_tokens(
        model=MODEL,
        system=cached_system(),
        messages=[{"role": "user", "content": "What is wrong with checkout?"}],
        tools=[{"name": "k8s_logs", "input_schema": {"type": "object", "properties": {}}}],
    )
    tool_tokens = 346 + math.ceil(
        len('{"input_schema": {"properties": {}, "type": "object"}, "name": "k8s_logs"}') / 4
    )
    question = math.ceil(len("What is wrong with checkout?") / 4)
    assert counted.input_tokens == tool_tokens + RUNBOOK_TOKENS + question
    assert sandbox.remaining_turns("cache") == 1


def test_changing_tool_choice_keeps_the_cached_tools_and_system_but_not_the_messages(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory
) -> None:
    sandbox, _ = claude
    sandbox.script("choice", [Reply(text="a"), Reply(text="b"), Reply(text="c")])
    tool = {
        "name": "k8s_pods",
        "description": "List pods.",
        "input_schema": {"type": "object", "properties": {}},
    }
    history = "Earlier tool results: " + "pod payments-1 OOMKilled, exit 137. " * 200
    messages: list[MessageParam] = [
        {
            "role": "user",
            "content": [{"type": "text", "text": history, "cache_control": {"type": "ephemeral"}}],
        }
    ]
    client = make_client()
    auto = ask(client, tools=[tool], messages=messages, tool_choice={"type": "auto"}).usage
    forced = ask(
        client, tools=[tool], messages=messages, tool_choice={"type": "tool", "name": "k8s_pods"}
    ).usage
    again = ask(client, tools=[tool], messages=messages, tool_choice={"type": "auto"}).usage
    history_tokens = math.ceil(len(history) / 4)
    assert auto.cache_read_input_tokens == 0
    # the forced call reads tools + system and writes the messages again
    assert forced.cache_read_input_tokens is not None
    assert forced.cache_read_input_tokens > RUNBOOK_TOKENS
    assert forced.cache_creation_input_tokens == history_tokens
    # back to the same tool_choice: the whole prefix is read, nothing written
    assert again.cache_creation_input_tokens == 0
    assert again.cache_read_input_tokens == (auto.cache_creation_input_tokens or 0)


def test_haiku_4_5_caches_only_prefixes_of_at_least_4096_tokens(
    claude: tuple[ClaudeSandbox, str], make_client: ClientFactory
) -> None:
    sandbox, _ = claude
    sandbox.cache.min_tokens = None  # each model's documented minimum
    sandbox.script("haiku", [Reply(text="a"), Reply(text="b"), Reply(text="c")])
    client = make_client()
    assert 1024 < RUNBOOK_TOKENS < 4096
    short = ask(client, model="claude-haiku-4-5").usage
    assert short.cache_creation_input_tokens == 0
    sonnet = ask(client).usage
    assert sonnet.cache_creation_input_tokens == RUNBOOK_TOKENS
    long_system = [{**cached_system()[0], "text": RUNBOOK * 3}]
    long = ask(client, model="claude-haiku-4-5", system=long_system).usage
    assert long.cache_creation_input_tokens == math.ceil(len(RUNBOOK * 3) / 4)
