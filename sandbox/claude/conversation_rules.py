"""Checks on `messages`: roles, content blocks, and the tool_use / tool_result pairing.

Consecutive turns of the same role are combined by the API, so pairing is checked between a
combined assistant turn and the combined user turn right after it. Messages are the API's own
(field paths like `messages.2.content.0`, "unexpected `tool_use_id` ...").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.claude.errors import invalid_request

BLOCK_TYPES = (
    "text",
    "image",
    "document",
    "search_result",
    "thinking",
    "redacted_thinking",
    "tool_use",
    "tool_result",
    "server_tool_use",
    "web_search_tool_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
    "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result",
    "tool_search_tool_result",
    "container_upload",
)
EMPTY_TEXT = "messages: text content blocks must be non-empty"
BLANK_TEXT = "messages: text content blocks must contain non-whitespace text"


@dataclass
class Turn:
    """Consecutive messages of one role, combined; `last_index` names the turn in errors."""

    role: str
    last_index: int
    blocks: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)


def check_messages(messages: Any) -> None:
    if not isinstance(messages, list):
        raise invalid_request("messages: Input should be a valid list")
    if not messages:
        raise invalid_request("messages: List should have at least 1 item after validation, not 0")
    for index, message in enumerate(messages):
        _check_message(index, message, is_last=index == len(messages) - 1)
    if messages[0]["role"] != "user":
        raise invalid_request('messages: first message must use the "user" role')
    check_tool_pairing(combine_turns(messages))


def message_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    """A message's content as blocks (a string is one text block)."""
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [block for block in content or [] if isinstance(block, dict)]


def combine_turns(messages: Sequence[dict[str, Any]]) -> list[Turn]:
    turns: list[Turn] = []
    for index, message in enumerate(messages):
        if not turns or turns[-1].role != message["role"]:
            turns.append(Turn(role=message["role"], last_index=index))
        turn = turns[-1]
        turn.last_index = index
        turn.blocks.extend((index, j, block) for j, block in enumerate(message_blocks(message)))
    return turns


def check_tool_pairing(turns: Sequence[Turn]) -> None:
    for position, turn in enumerate(turns):
        if turn.role != "assistant":
            continue
        asked = [block["id"] for _, _, block in turn.blocks if block.get("type") == "tool_use"]
        following = turns[position + 1] if position + 1 < len(turns) else None
        answered: set[str] = set()
        if following is not None:
            for index, j, block in following.blocks:
                if block.get("type") != "tool_result":
                    continue
                tool_use_id = block.get("tool_use_id")
                if tool_use_id not in asked:
                    raise invalid_request(
                        f"messages.{index}.content.{j}: unexpected `tool_use_id` found in "
                        f"`tool_result` blocks: {tool_use_id}. Each `tool_result` block must have "
                        "a corresponding `tool_use` block in the previous message."
                    )
                answered.add(str(tool_use_id))
        missing = [tool_id for tool_id in asked if tool_id not in answered]
        if missing:
            raise invalid_request(
                f"messages.{turn.last_index}: `tool_use` ids were found without `tool_result` "
                f"blocks immediately after: {', '.join(missing)}. Each `tool_use` block must "
                "have a corresponding `tool_result` block in the next message."
            )
    first_user = turns[0] if turns and turns[0].role == "user" else None
    for index, j, block in first_user.blocks if first_user else []:
        if block.get("type") == "tool_result":
            raise invalid_request(
                f"messages.{index}.content.{j}: unexpected `tool_use_id` found in `tool_result` "
                f"blocks: {block.get('tool_use_id')}. Each `tool_result` block must have a "
                "corresponding `tool_use` block in the previous message."
            )


def _check_message(index: int, message: Any, *, is_last: bool) -> None:
    where = f"messages.{index}"
    if not isinstance(message, dict):
        raise invalid_request(f"{where}: Input should be a valid dictionary")
    if "role" not in message:
        raise invalid_request(f"{where}.role: Field required")
    if message["role"] not in ("user", "assistant"):
        raise invalid_request(f"{where}.role: Input should be 'user' or 'assistant'")
    extras = sorted(set(message) - {"role", "content"})
    if extras:
        raise invalid_request(f"{where}.{extras[0]}: Extra inputs are not permitted")
    if "content" not in message:
        raise invalid_request(f"{where}.content: Field required")
    final_assistant = is_last and message["role"] == "assistant"
    _check_content(where, message["content"], may_be_empty=final_assistant)
    if final_assistant:
        text = "".join(
            b.get("text", "") for b in message_blocks(message) if b.get("type") == "text"
        )
        if text and text != text.rstrip():
            raise invalid_request(
                "messages: final assistant content cannot end with trailing whitespace"
            )


def _check_content(where: str, content: Any, *, may_be_empty: bool) -> None:
    if not isinstance(content, str | list):
        raise invalid_request(f"{where}.content: Input should be a valid string or list")
    if not content and not may_be_empty:
        raise invalid_request(
            f"{where}: all messages must have non-empty content except for the optional "
            "final assistant message"
        )
    if isinstance(content, list):
        for j, block in enumerate(content):
            check_block(f"{where}.content.{j}", block)


def check_block(where: str, block: Any) -> None:
    if not isinstance(block, dict):
        raise invalid_request(f"{where}: Input should be a valid dictionary")
    kind = block.get("type")
    if kind not in BLOCK_TYPES:
        expected = ", ".join(f"'{name}'" for name in BLOCK_TYPES)
        if kind is None:
            raise invalid_request(f"{where}: Unable to extract tag using discriminator 'type'")
        raise invalid_request(
            f"{where}: Input tag '{kind}' found using 'type' does not match any of the expected "
            f"tags: {expected}"
        )
    check_cache_control(f"{where}.{kind}", block)
    if kind == "text":
        _check_text(where, block)
    elif kind == "tool_use":
        _require(where, block, "tool_use", ("id", "name", "input"))
        if not isinstance(block["input"], dict):
            raise invalid_request(f"{where}.tool_use.input: Input should be a valid dictionary")
    elif kind == "tool_result":
        _require(where, block, "tool_result", ("tool_use_id",))
        content = block.get("content")
        if isinstance(content, list):
            for k, inner in enumerate(content):
                check_block(f"{where}.tool_result.content.{k}", inner)
        elif content is not None and not isinstance(content, str):
            raise invalid_request(
                f"{where}.tool_result.content: Input should be a valid string or list"
            )


def check_cache_control(where: str, holder: dict[str, Any]) -> None:
    control = holder.get("cache_control")
    if control is None:
        return
    if not isinstance(control, dict) or control.get("type") != "ephemeral":
        raise invalid_request(f"{where}.cache_control.type: Input should be 'ephemeral'")
    if control.get("ttl", "5m") not in ("5m", "1h"):
        raise invalid_request(f"{where}.cache_control.ttl: Input should be '5m' or '1h'")


def _check_text(where: str, block: dict[str, Any]) -> None:
    text = block.get("text")
    if not isinstance(text, str):
        raise invalid_request(f"{where}.text.text: Input should be a valid string")
    if not text:
        raise invalid_request(EMPTY_TEXT)
    if not text.strip():
        raise invalid_request(BLANK_TEXT)


def _require(where: str, block: dict[str, Any], kind: str, names: Sequence[str]) -> None:
    for name in names:
        if name not in block:
            raise invalid_request(f"{where}.{kind}.{name}: Field required")
