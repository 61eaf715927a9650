"""The tool-use loop: ask, run the requested tools, repeat, until `submit_finding`.

Guards: `max_steps` model calls, the last one asked to submit; a token budget that asks for
the submission early; a deadline checked before every call; every tool failure returned to
the model as an `is_error` tool result; repeated calls skipped.

The last step asks for the submission in words and keeps `tool_choice` as it was, because
changing `tool_choice` invalidates the cached messages (the whole history would be written
to the cache again at 1.25x). Only a model that ignores the request gets one more call with
`tool_choice` forced to submit_finding.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.investigation.agent.blind_spots import blind_spots
from bot.investigation.agent.caching import estimated_tokens, system_blocks, with_moving_breakpoint
from bot.investigation.agent.finding import Finding
from bot.investigation.agent.llm import LLM, LLMReply, LLMUnavailable, TokenUsage
from bot.investigation.agent.prompts import SUBMIT_TOOL, SYSTEM_PROMPT, first_message
from bot.investigation.agent.proposals import submit_finding_tool, validate_proposals
from bot.investigation.agent.redaction import Redactor
from bot.investigation.agent.request import InvestigationRequest
from bot.investigation.agent.toolrun import ToolRunner
from tools.base import Evidence

NUDGE = "Call submit_finding now with your conclusion from the data so far."
LAST_STEP = (
    "This is your last step: call submit_finding now with your conclusion from the data so "
    "far, and no other tool."
)
AUTO = {"type": "auto"}
FORCED = {"type": "tool", "name": SUBMIT_TOOL}
SHORTER = (
    "Your last answer was cut off at the output limit and was discarded. Answer again, "
    "shorter: at most 3 tool calls, and keep submit_finding's text fields to a few sentences."
)
# Stop reasons whose content is cut off: never executed, never published.
TRUNCATED = frozenset({"max_tokens", "model_context_window_exceeded"})
# A cut-off answer is asked again with this many times the output limit, then once more
# with the limit raised again and an instruction to be brief; a third cut-off gives up.
GROWTH = 2
MAX_CONTINUATIONS = 3  # pause_turn: how many times a paused turn is sent back to continue


@dataclass(frozen=True)
class AgentLimits:
    max_steps: int
    token_budget: int
    max_output_tokens: int
    request_timeout: float
    deadline: float  # time.monotonic() value


@dataclass
class LoopOutcome:
    finding: Finding
    steps: int
    forced: bool


class AgentLoop:
    def __init__(
        self,
        llm: LLM,
        runner: ToolRunner,
        redactor: Redactor,
        *,
        tool_definitions: Sequence[Mapping[str, Any]],
        limits: AgentLimits,
        on_call: Callable[[str, TokenUsage], None],
    ) -> None:
        self.llm = llm
        self.runner = runner
        self.redactor = redactor
        self.limits = limits
        self.on_call = on_call
        self.tools = [dict(t) for t in tool_definitions] + [submit_finding_tool()]
        self.prefix_tokens = estimated_tokens(self.tools, SYSTEM_PROMPT)

    def run(self, request: InvestigationRequest, model: str) -> LoopOutcome:
        opening = first_message(request, self.redactor)
        messages: list[dict[str, Any]] = [
            {"role": "user", "content": [{"type": "text", "text": opening}]}
        ]
        used = 0.0
        force = False
        last: LLMReply | None = None
        for step in range(1, self.limits.max_steps + 1):
            final = force or step == self.limits.max_steps or used >= self.limits.token_budget
            if final:
                ask_to_submit(messages)
            last = self._complete(messages, model, forced=False, step=step)
            used += budget_weight(last.usage)
            submitted = submission(last)
            if final and submitted is None:  # the request in words was ignored
                last = self._complete(messages, model, forced=True, step=step)
                used += budget_weight(last.usage)
                submitted = submission(last)
            content = drop_empty_text(last.content)
            if content:
                messages.append({"role": "assistant", "content": content})
            if submitted is not None:
                return LoopOutcome(self.finish(submitted.get("input"), request), step, final)
            if final and step == self.limits.max_steps:
                break
            calls = last.tool_uses
            if calls:
                messages.append({"role": "user", "content": self.runner.run(calls)})
            else:
                force = True
                messages.append({"role": "user", "content": [{"type": "text", "text": NUDGE}]})
        return LoopOutcome(self.unsubmitted(last), self.limits.max_steps, True)

    def _complete(
        self, messages: list[dict[str, Any]], model: str, *, forced: bool, step: int
    ) -> LLMReply:
        """One step's answer, read by its stop reason.

        - `max_tokens` (or a full context window): the answer is cut off, so its tool calls
          are incomplete; it is discarded, never run or published, and asked again with a
          larger limit, then with a request to be brief; still cut off, the model is given
          up on (`truncated`) and the pattern engine answers.
        - `refusal`: the model declined; the pattern engine answers (`refused`).
        - `pause_turn`: the paused content is sent back as is, with no new user turn, so the
          model continues it (Anthropic's documented handling), up to MAX_CONTINUATIONS.
        """
        choice = FORCED if forced else AUTO
        max_tokens = self.limits.max_output_tokens
        extra: list[dict[str, Any]] = []
        for attempt in range(3):
            reply = self._call(messages + extra, model, choice, max_tokens, step)
            continued = 0
            while reply.stop_reason == "pause_turn" and continued < MAX_CONTINUATIONS:
                paused = drop_empty_text(reply.content)
                history = (
                    messages
                    + extra
                    + ([{"role": "assistant", "content": paused}] if paused else [])
                )
                reply = self._call(history, model, choice, max_tokens, step)
                continued += 1
            if reply.stop_reason == "refusal":
                raise LLMUnavailable(
                    "refused", "the model declined to answer (stop_reason refusal)"
                )
            if reply.stop_reason == "pause_turn":
                raise LLMUnavailable(
                    "paused", f"still paused after {MAX_CONTINUATIONS} continuations"
                )
            if reply.stop_reason not in TRUNCATED:
                if extra:
                    messages.extend(extra)
                return reply
            max_tokens *= GROWTH
            if attempt == 0:
                extra = [{"role": "user", "content": [{"type": "text", "text": SHORTER}]}]
        raise LLMUnavailable("truncated", f"answer cut off at max_tokens={max_tokens // GROWTH}")

    def _call(
        self,
        messages: list[dict[str, Any]],
        model: str,
        choice: dict[str, Any],
        max_tokens: int,
        step: int,
    ) -> LLMReply:
        remaining = self.limits.deadline - time.monotonic()
        if remaining <= 0:
            raise LLMUnavailable("deadline", f"no answer after {step - 1} model calls")
        reply = self.llm.create(
            model=model,
            system=system_blocks(SYSTEM_PROMPT, self.tools, model),
            tools=self.tools,
            messages=with_moving_breakpoint(messages, self.prefix_tokens, model),
            tool_choice=choice,
            max_tokens=max_tokens,
            timeout=min(self.limits.request_timeout, remaining),
        )
        self.on_call(reply.model, reply.usage)
        return reply

    def finish(self, raw: Any, request: InvestigationRequest) -> Finding:
        data: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        confidence = _confidence(data.get("confidence"))
        evidence, notes = self.cited_evidence(data.get("evidence"))
        grounding = "\n".join(
            [
                self.runner.grounding,
                request.namespace or "",
                request.service or "",
                *(str(v) for a in request.alerts for v in a.labels.values()),
            ]
        )
        proposals, dropped = validate_proposals(
            data.get("proposed_actions"),
            grounding=grounding,
            confidence=confidence,
            incident_id=request.incident_id,
            replicas=self.runner.replicas,
        )
        recommendations = data.get("recommendations")
        ruled_out = data.get("ruled_out")
        unchecked = data.get("not_checked")
        not_checked = (
            [f"not checked: {str(item)[:200]}" for item in unchecked[:8]]
            if isinstance(unchecked, list)
            else []
        )
        return Finding(
            summary=str(data.get("summary") or "No summary given."),
            root_cause=str(data.get("root_cause") or "Unknown."),
            confidence=confidence,
            evidence=evidence,
            proposals=proposals,
            recommendations=[str(r) for r in recommendations]
            if isinstance(recommendations, list)
            else [],
            ruled_out=[str(r)[:200] for r in ruled_out[:8]] if isinstance(ruled_out, list) else [],
            notes=self.blind_spots() + not_checked + notes + dropped,
        )

    def blind_spots(self) -> list[str]:
        """The sources the model's tool calls could not read, one note each."""
        return blind_spots(record.result for record in self.runner.records.values())

    def cited_evidence(self, cited: Any) -> tuple[list[Evidence], list[str]]:
        records = self.runner.records
        notes: list[str] = []
        chosen: list[str] = []
        for item in cited if isinstance(cited, list) else []:
            ref = str(item)
            if ref in records:
                chosen.append(records[ref].duplicate_of or ref)
            else:
                by_tool = [i for i, r in records.items() if r.name == ref and not r.duplicate_of]
                chosen.extend(by_tool)
                if not by_tool:
                    notes.append(f"evidence {ref!r} names no tool call; ignored")
        if not chosen:
            chosen = [i for i, r in records.items() if r.result.ok and not r.duplicate_of]
        evidence: list[Evidence] = []
        for call_id in dict.fromkeys(chosen):
            evidence.extend(records[call_id].result.evidence)
        return evidence, notes

    def unsubmitted(self, last: LLMReply | None) -> Finding:
        text = last.text if last is not None else ""
        evidence, _ = self.cited_evidence(None)
        return Finding(
            summary=text[:500] or "The model did not submit a finding.",
            root_cause="Not determined: the model stopped without submitting a finding.",
            confidence=0.1,
            evidence=evidence,
            notes=[*self.blind_spots(), "the model never called submit_finding"],
        )


def _confidence(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return min(1.0, max(0.0, number)) if math.isfinite(number) else 0.0


def drop_empty_text(content: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The blocks worth sending back: the API rejects empty or whitespace-only text blocks
    (400 "text content blocks must contain non-whitespace text"), and models do return
    `{"type": "text", "text": ""}` before a tool call."""
    return [dict(b) for b in content if b.get("type") != "text" or str(b.get("text", "")).strip()]


def budget_weight(usage: TokenUsage) -> float:
    """Tokens as the budget counts them: prompt tokens weighted by their price relative to
    plain input (Anthropic: cache reads 0.1x, 5-minute cache writes 1.25x), so a cached
    prefix re-read at every step no longer eats the budget at full weight; output tokens
    count one each, as the budget was always set in."""
    return (
        usage.input_tokens
        + 1.25 * usage.cache_creation_tokens
        + 0.1 * usage.cache_read_tokens
        + usage.output_tokens
    )


def submission(reply: LLMReply) -> dict[str, Any] | None:
    """The reply's submit_finding call, if it made one."""
    return next((b for b in reply.tool_uses if b["name"] == SUBMIT_TOOL), None)


def ask_to_submit(messages: list[dict[str, Any]]) -> None:
    """Ask for the submission at the end of the last user message (after its tool results,
    where the API allows text), once."""
    content = messages[-1]["content"]
    if messages[-1]["role"] != "user":
        messages.append({"role": "user", "content": [{"type": "text", "text": LAST_STEP}]})
    elif not (content and content[-1].get("text") in (LAST_STEP, NUDGE)):
        content.append({"type": "text", "text": LAST_STEP})
