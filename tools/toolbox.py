"""A registry of tools by name: definitions for the Messages API and validated dispatch."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from tools.base import ErrorKind, Tool, ToolResult
from tools.schema import undocumented_properties


class Toolbox:
    """Tools by name. `run` validates raw model input and never raises."""

    def __init__(self, tools: Iterable[Tool[Any]] = ()) -> None:
        self._tools: dict[str, Tool[Any]] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool[Any]) -> None:
        if tool.name in self._tools:
            raise ValueError(f"a tool named {tool.name!r} is already registered")
        missing = undocumented_properties(tool.input_schema())
        if missing:
            raise ValueError(f"tool {tool.name!r} has fields without a description: {missing}")
        self._tools[tool.name] = tool

    def names(self) -> list[str]:
        return list(self._tools)

    def get(self, name: str) -> Tool[Any]:
        return self._tools[name]

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    def definitions(self) -> list[dict[str, Any]]:
        """The `tools` parameter of a Messages API request."""
        return [tool.definition() for tool in self._tools.values()]

    def run(self, name: str, raw_input: Mapping[str, Any] | None) -> ToolResult:
        tool = self._tools.get(name)
        if tool is None:
            return ToolResult.failure(
                name,
                ErrorKind.INVALID_INPUT,
                f"There is no tool named {name!r}. Available tools: {', '.join(self._tools)}.",
            )
        if raw_input is not None and not isinstance(raw_input, Mapping):
            return ToolResult.failure(
                name, ErrorKind.INVALID_INPUT, f"The input to {name} must be a JSON object."
            )
        try:
            args = tool.parse(raw_input or {})
        except ValidationError as exc:
            return ToolResult.failure(
                name, ErrorKind.INVALID_INPUT, describe_invalid_input(name, exc)
            )
        return tool.run(args)

    def close(self) -> None:
        for tool in self._tools.values():
            tool.close()


def describe_invalid_input(tool_name: str, error: ValidationError) -> str:
    """One line per problem, each naming the field, so the model can fix its call."""
    problems = []
    for item in error.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or "(input)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown field; remove it"
        problems.append(f"field '{field}': {message}")
    return (
        f"Invalid arguments for {tool_name}: "
        + "; ".join(problems)
        + ". Fix these fields and call the tool again."
    )
