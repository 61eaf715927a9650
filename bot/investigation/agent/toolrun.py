"""Running the model's tool calls: concurrently, each exact call once per investigation,
through a short-lived shared cache, capped, masked and fenced before the model sees it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bot.cache import Cache
from bot.investigation.agent.prompts import untrusted
from bot.investigation.agent.redaction import Redactor
from tools.base import ToolResult, ToolStatus
from tools.budget import shorten
from tools.k8s.deployments import DeploymentData
from tools.toolbox import Toolbox

MAX_RESULT_CHARS = 8000
MAX_PARALLEL = 4


@dataclass
class ToolCallRecord:
    id: str
    name: str
    input: dict[str, Any]
    result: ToolResult
    cached: bool = False
    duplicate_of: str | None = None


def call_key(name: str, raw_input: Mapping[str, Any]) -> str:
    canonical = json.dumps([name, raw_input], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class ToolRunner:
    """One per investigation: remembers every call it ran (for evidence and grounding)."""

    def __init__(
        self,
        toolbox: Toolbox,
        redactor: Redactor,
        *,
        cache: Cache | None = None,
        cache_seconds: float = 0.0,
        on_cache_lookup: Callable[[bool], None] | None = None,
        max_chars: int = MAX_RESULT_CHARS,
    ) -> None:
        self.toolbox = toolbox
        self.redactor = redactor
        self.cache = cache if cache_seconds > 0 else None
        self.cache_seconds = cache_seconds
        self.on_cache_lookup = on_cache_lookup
        self.max_chars = max_chars
        self.records: dict[str, ToolCallRecord] = {}
        self._first_by_key: dict[str, str] = {}

    def run(self, calls: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """`tool_use` blocks in, `tool_result` blocks out (same order)."""
        fresh: list[tuple[str, str, dict[str, Any], str]] = []
        for call in calls:
            raw = call.get("input")
            raw_input = dict(raw) if isinstance(raw, Mapping) else {}
            key = call_key(call["name"], raw_input)
            earlier = self._first_by_key.get(key)
            if earlier is not None:
                self.records[call["id"]] = ToolCallRecord(
                    call["id"],
                    call["name"],
                    raw_input,
                    self.records[earlier].result,
                    duplicate_of=earlier,
                )
                continue
            self._first_by_key[key] = call["id"]
            fresh.append((call["id"], call["name"], raw_input, key))
        if fresh:
            with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(fresh))) as pool:
                outcomes = list(pool.map(lambda c: self._execute(c[1], c[2], c[3]), fresh))
            for (call_id, name, raw_input, _), (result, cached) in zip(
                fresh, outcomes, strict=True
            ):
                self.records[call_id] = ToolCallRecord(call_id, name, raw_input, result, cached)
        return [self._block(str(call["id"])) for call in calls]

    def _execute(self, name: str, raw_input: dict[str, Any], key: str) -> tuple[ToolResult, bool]:
        cache_key = f"agent:tool:{key}"
        if self.cache is not None:
            stored = self.cache.get(cache_key)
            if self.on_cache_lookup is not None:
                self.on_cache_lookup(stored is not None)
            if stored is not None:
                try:
                    return ToolResult.model_validate_json(stored), True
                except ValidationError:
                    self.cache.delete(cache_key)
        result = self.toolbox.run(name, raw_input)
        if self.cache is not None and result.status is not ToolStatus.ERROR:
            self.cache.set(cache_key, result.model_dump_json().encode(), self.cache_seconds)
        return result, False

    def _block(self, call_id: str) -> dict[str, Any]:
        record = self.records[call_id]
        if record.duplicate_of is not None:
            text = (
                f"Skipped: this exact call was already made (tool_use {record.duplicate_of}); "
                "its result is above. Change the arguments to learn something new."
            )
            return {"type": "tool_result", "tool_use_id": call_id, "content": text}
        content = record.result.content
        if len(content) > self.max_chars:
            content = shorten(content, self.max_chars)
        return {
            "type": "tool_result",
            "tool_use_id": call_id,
            "content": untrusted(f"{record.name} result", content, self.redactor),
            "is_error": record.result.is_error,
        }

    @property
    def grounding(self) -> str:
        """Everything the tools returned, unmasked: where action targets must come from."""
        return "\n".join(r.result.content for r in self.records.values())

    @property
    def replicas(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for record in self.records.values():
            if isinstance(record.result.data, DeploymentData):
                found[record.result.data.name] = record.result.data.desired
        return found
