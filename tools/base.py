"""The one shape every data-source capability has: typed arguments in, a budgeted result out.

A `Tool` never raises out of `run()`: backend problems travel as `ToolFailure` inside the
tool and leave as a `ToolResult` whose content tells the model what to do next.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny

from tools.schema import tool_input_schema

logger = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class ToolStatus(StrEnum):
    OK = "ok"
    NO_DATA = "no_data"
    ERROR = "error"


class ErrorKind(StrEnum):
    """Why a call failed, classified by what should happen next."""

    INVALID_INPUT = "invalid_input"  # the arguments are wrong: fix them and call again
    REJECTED = "rejected"  # the backend refused the query (bad PromQL, unknown field)
    NOT_FOUND = "not_found"  # the index, object or trace does not exist
    TOO_LARGE = "too_large"  # a guardrail refused the request: narrow it
    TIMEOUT = "timeout"  # the backend did not answer in time: simplify or narrow
    UNAVAILABLE = "unavailable"  # unreachable or failing backend: use other sources
    UNAUTHORIZED = "unauthorized"  # credentials or permissions: a configuration problem
    MISCONFIGURED = "misconfigured"  # the bot's configuration for this backend is wrong
    INTERNAL = "internal"  # a bug in the tool itself


class Evidence(BaseModel):
    """One backend call relied upon: the exact query, where to see it, what it showed."""

    model_config = ConfigDict(frozen=True)

    tool: str = Field(description="Name of the tool that made the call.")
    query: str = Field(
        description="The exact query sent: PromQL, Elasticsearch query DSL as JSON, Jaeger "
        "query parameters, or the Kubernetes API call."
    )
    link: str | None = Field(None, description="The same query in the backend's own UI.")
    excerpt: str = Field("", description="A short excerpt of what the call returned.")
    observed_at: datetime = Field(default_factory=utc_now, description="When the call ran.")


class ToolFailure(Exception):
    """Raised inside a tool; `Tool.run` turns it into an error `ToolResult`."""

    def __init__(self, kind: ErrorKind, message: str, evidence: Evidence | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.evidence = evidence


class ToolResult(BaseModel):
    """What a tool call produced: text for the model, typed data for code, and evidence."""

    tool: str
    status: ToolStatus
    content: str = Field(description="Text for the model, already within the output budget.")
    data: SerializeAsAny[BaseModel] | None = Field(
        None, description="Structured result for code (each tool documents its data model)."
    )
    evidence: list[Evidence] = Field(default_factory=list)
    error_kind: ErrorKind | None = None
    truncated: bool = Field(False, description="Items were summarised or left out of content.")

    @property
    def ok(self) -> bool:
        """True for data and for an honest "no data"; False only for errors."""
        return self.status is not ToolStatus.ERROR

    @property
    def is_error(self) -> bool:
        return self.status is ToolStatus.ERROR

    @property
    def no_data(self) -> bool:
        return self.status is ToolStatus.NO_DATA

    def as_tool_result_block(self, tool_use_id: str) -> dict[str, Any]:
        """The Messages API `tool_result` content block answering `tool_use_id`."""
        return {
            "type": "tool_result",
            "tool_use_id": tool_use_id,
            "content": self.content,
            "is_error": self.is_error,
        }

    @classmethod
    def success(
        cls,
        tool: str,
        content: str,
        *,
        data: BaseModel | None = None,
        evidence: list[Evidence] | None = None,
        truncated: bool = False,
    ) -> ToolResult:
        return cls(
            tool=tool,
            status=ToolStatus.OK,
            content=content,
            data=data,
            evidence=evidence or [],
            truncated=truncated,
        )

    @classmethod
    def empty(
        cls,
        tool: str,
        content: str,
        *,
        data: BaseModel | None = None,
        evidence: list[Evidence] | None = None,
    ) -> ToolResult:
        return cls(
            tool=tool,
            status=ToolStatus.NO_DATA,
            content=content,
            data=data,
            evidence=evidence or [],
        )

    @classmethod
    def failure(
        cls, tool: str, kind: ErrorKind, message: str, evidence: Evidence | None = None
    ) -> ToolResult:
        return cls(
            tool=tool,
            status=ToolStatus.ERROR,
            content=message,
            error_kind=kind,
            evidence=[evidence] if evidence is not None else [],
        )


class ToolArgs(BaseModel):
    """Base of every args model: unknown fields are refused so typos surface by name."""

    model_config = ConfigDict(extra="forbid")


ArgsT = TypeVar("ArgsT", bound=ToolArgs)


class Tool(ABC, Generic[ArgsT]):
    """A read-only capability: `name`, `description`, `args_model` and `execute`."""

    name: ClassVar[str]
    description: ClassVar[str]
    args_model: type[ArgsT]

    def input_schema(self) -> dict[str, Any]:
        return tool_input_schema(self.args_model)

    def caps(self) -> str:
        """The tool's limits in numbers, from its configuration ("at most 10 series, ...");
        appended to the description so the model knows what a result can hold."""
        return ""

    def full_description(self) -> str:
        """The description the model reads: what the tool does, then its caps."""
        caps = self.caps()
        return f"{self.description} Caps: {caps}." if caps else self.description

    def definition(self) -> dict[str, Any]:
        """One entry of the Messages API `tools` parameter."""
        return {
            "name": self.name,
            "description": self.full_description(),
            "input_schema": self.input_schema(),
        }

    def parse(self, raw_input: Mapping[str, Any]) -> ArgsT:
        """Validate raw model input; raises pydantic.ValidationError."""
        return self.args_model.model_validate(dict(raw_input))

    def run(self, args: ArgsT) -> ToolResult:
        """Execute and always answer with a ToolResult, never an exception."""
        try:
            return self.execute(args)
        except ToolFailure as failure:
            return ToolResult.failure(self.name, failure.kind, failure.message, failure.evidence)
        except Exception as exc:
            logger.exception("tool %s failed unexpectedly", self.name)
            return ToolResult.failure(
                self.name,
                ErrorKind.INTERNAL,
                f"{self.name} failed unexpectedly ({type(exc).__name__}: {exc}). "
                "This is a fault in the tool, not in your arguments; use another source.",
            )

    @abstractmethod
    def execute(self, args: ArgsT) -> ToolResult:
        """Do the work; raise ToolFailure for anything the model should hear about."""

    def close(self) -> None:
        """Release connections held by the tool."""
