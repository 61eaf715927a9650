"""Request-body validation for `POST /v1/messages` and `/v1/messages/count_tokens`.

The API validates with pydantic, so messages name the field path first
(`max_tokens: Field required`, `tools.0.custom.name: String should match pattern ...`).
The first problem found is reported, in field order.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.claude.conversation_rules import (
    check_cache_control,
    check_messages,
    message_blocks,
)
from sandbox.claude.errors import invalid_request

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
SERVER_TOOL_TYPE = re.compile(r"^[a-z_]+_\d{8}$")
MAX_CACHE_BREAKPOINTS = 4
SCHEMA_INVALID = (
    "JSON schema is invalid. It must match JSON Schema draft 2020-12 "
    "(https://json-schema.org/draft/2020-12). Learn more about tool use at "
    "https://platform.claude.com/docs/en/agents-and-tools/tool-use/overview."
)
CREATE_FIELDS = frozenset(
    {
        "model", "messages", "max_tokens", "system", "tools", "tool_choice", "stream",
        "temperature", "top_p", "top_k", "stop_sequences", "metadata", "thinking",
        "service_tier", "container", "cache_control", "diagnostics", "inference_geo",
        "output_config", "output_format", "speed", "mcp_servers", "context_management",
    }
)  # fmt: skip
COUNT_FIELDS = frozenset(
    {"model", "messages", "system", "tools", "tool_choice", "thinking", "cache_control",
     "output_config", "output_format", "speed", "mcp_servers", "context_management"}
)  # fmt: skip
TOOL_FIELDS = frozenset(
    {"type", "name", "description", "input_schema", "cache_control", "strict", "input_examples",
     "defer_loading", "allowed_callers", "eager_input_streaming"}
)  # fmt: skip
TOOL_CHOICES = ("auto", "any", "tool", "none")


def validate_request(body: Any, *, count_tokens: bool = False) -> None:
    """Raise `ApiError` (400) for the first problem, as the API would."""
    if not isinstance(body, dict):
        raise invalid_request("Input should be a valid dictionary")
    allowed = COUNT_FIELDS if count_tokens else CREATE_FIELDS
    for name in body:
        if name not in allowed:
            raise invalid_request(f"{name}: Extra inputs are not permitted")
    required = ("messages", "model") if count_tokens else ("max_tokens", "messages", "model")
    for name in required:
        if name not in body:
            raise invalid_request(f"{name}: Field required")
    if not count_tokens:
        _check_max_tokens(body["max_tokens"])
    if not isinstance(body["model"], str):
        raise invalid_request("model: Input should be a valid string")
    check_messages(body["messages"])
    _check_system(body.get("system"))
    tool_names = _check_tools(body.get("tools"))
    _check_tool_choice(body.get("tool_choice"), tool_names)
    _check_sampling(body)
    _check_breakpoint_count(body)


def _check_max_tokens(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_request("max_tokens: Input should be a valid integer")
    if value < 1:
        raise invalid_request("max_tokens: Input should be greater than or equal to 1")


def _check_system(system: Any) -> None:
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list):
        raise invalid_request("system: Input should be a valid string")
    for i, block in enumerate(system):
        if not isinstance(block, dict) or block.get("type") != "text":
            raise invalid_request(f"system.{i}.type: Input should be 'text'")
        if not isinstance(block.get("text"), str):
            raise invalid_request(f"system.{i}.text: Field required")
        if not block["text"]:
            raise invalid_request("system: text content blocks must be non-empty")
        check_cache_control(f"system.{i}", block)


def _check_tools(tools: Any) -> list[str]:
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise invalid_request("tools: Input should be a valid list")
    names: list[str] = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise invalid_request(f"tools.{i}: Input should be a valid dictionary")
        kind = tool.get("type")
        if isinstance(kind, str) and SERVER_TOOL_TYPE.match(kind):
            names.append(str(tool.get("name", kind)))
            continue
        names.append(_check_custom_tool(f"tools.{i}.custom", tool))
    if len(set(names)) != len(names):
        raise invalid_request("tools: Tool names must be unique.")
    return names


def _check_custom_tool(where: str, tool: dict[str, Any]) -> str:
    if tool.get("type") not in (None, "custom"):
        raise invalid_request(f"{where}.type: Input should be 'custom'")
    for name in tool:
        if name not in TOOL_FIELDS:
            raise invalid_request(f"{where}.{name}: Extra inputs are not permitted")
    if "name" not in tool:
        raise invalid_request(f"{where}.name: Field required")
    name = tool["name"]
    if not isinstance(name, str):
        raise invalid_request(f"{where}.name: Input should be a valid string")
    if not TOOL_NAME.match(name):
        raise invalid_request(f"{where}.name: String should match pattern '{TOOL_NAME.pattern}'")
    if "description" in tool and not isinstance(tool["description"], str):
        raise invalid_request(f"{where}.description: Input should be a valid string")
    if "input_schema" not in tool:
        raise invalid_request(f"{where}.input_schema: Field required")
    _check_input_schema(f"{where}.input_schema", tool["input_schema"])
    check_cache_control(where, tool)
    return name


def _check_input_schema(where: str, schema: Any) -> None:
    if not isinstance(schema, dict):
        raise invalid_request(f"{where}: Input should be a valid dictionary")
    if schema.get("type") != "object":
        raise invalid_request(f"{where}.type: Input should be 'object'")
    if any(key in schema for key in ("oneOf", "allOf", "anyOf")):
        raise invalid_request(
            f"{where}: input_schema does not support oneOf, allOf, or anyOf at the top level"
        )
    properties = schema.get("properties", {})
    required = schema.get("required", [])
    valid_properties = isinstance(properties, dict) and all(
        isinstance(p, dict) for p in properties.values()
    )
    valid_required = isinstance(required, list) and all(isinstance(r, str) for r in required)
    if not (valid_properties and valid_required):
        raise invalid_request(f"{where}: {SCHEMA_INVALID}")


def _check_tool_choice(choice: Any, tool_names: list[str]) -> None:
    if choice is None:
        return
    if not isinstance(choice, dict):
        raise invalid_request("tool_choice: Input should be a valid dictionary")
    kind = choice.get("type")
    if kind not in TOOL_CHOICES:
        expected = ", ".join(f"'{name}'" for name in TOOL_CHOICES)
        raise invalid_request(
            f"tool_choice: Input tag '{kind}' found using 'type' does not match any of the "
            f"expected tags: {expected}"
        )
    if kind == "tool":
        if "name" not in choice:
            raise invalid_request("tool_choice.tool.name: Field required")
        if choice["name"] not in tool_names:
            raise invalid_request(f"tool_choice: Tool '{choice['name']}' not found in `tools`")
    parallel = choice.get("disable_parallel_tool_use")
    if parallel is not None and not isinstance(parallel, bool):
        raise invalid_request(
            f"tool_choice.{kind}.disable_parallel_tool_use: Input should be a valid boolean"
        )


def _check_sampling(body: dict[str, Any]) -> None:
    temperature = body.get("temperature")
    if temperature is not None and not 0 <= temperature <= 1:
        raise invalid_request("temperature: range: 0..1")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise invalid_request("stream: Input should be a valid boolean")
    stops = body.get("stop_sequences")
    if stops is not None and (
        not isinstance(stops, list) or not all(isinstance(s, str) for s in stops)
    ):
        raise invalid_request("stop_sequences: Input should be a valid list")


def _check_breakpoint_count(body: dict[str, Any]) -> None:
    holders: list[Any] = list(body.get("tools") or [])
    if isinstance(body.get("system"), list):
        holders.extend(body["system"])
    for message in body["messages"]:
        holders.extend(message_blocks(message))
    found = sum(1 for holder in holders if isinstance(holder, dict) and holder.get("cache_control"))
    if found > MAX_CACHE_BREAKPOINTS:
        raise invalid_request(
            f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {found}."
        )
