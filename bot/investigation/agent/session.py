"""One Claude investigation: a fresh redactor and tool runner, the loop, the ledger."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.cache import Cache
from bot.investigation.agent.answer_cache import CacheMetrics
from bot.investigation.agent.cost import Ledger
from bot.investigation.agent.finding import Engine, Finding, Investigation, Usage
from bot.investigation.agent.llm import LLM, LLMUnavailable, TokenUsage
from bot.investigation.agent.loop import AgentLimits, AgentLoop
from bot.investigation.agent.redaction import Redactor
from bot.investigation.agent.request import InvestigationRequest
from bot.investigation.agent.toolrun import ToolRunner
from bot.settings import LLMSettings
from tools.toolbox import Toolbox


class ClaudeFailed(Exception):
    """Claude could not finish; `usage` is what the calls that did happen cost."""

    def __init__(self, reason: str, usage: Usage) -> None:
        super().__init__(reason)
        self.reason = reason
        self.usage = usage


@dataclass
class ClaudeSession:
    llm: LLM
    toolbox: Toolbox
    ledger: Ledger
    settings: LLMSettings
    cache: Cache
    cache_metrics: CacheMetrics

    def run(
        self, request: InvestigationRequest, model: str, workflow: str, deadline: float
    ) -> tuple[Investigation, Redactor]:
        """Raises `ClaudeFailed` when Claude cannot answer (after the SDK's retries)."""
        redactor = Redactor(self.settings.redact_patterns)
        runner = ToolRunner(
            self.toolbox,
            redactor,
            cache=self.cache,
            cache_seconds=self.settings.tool_cache_seconds,
            on_cache_lookup=lambda hit: self.cache_metrics.observe("tool", hit),
        )
        usage = Usage()

        def on_call(called: str, tokens: TokenUsage) -> None:
            usage.add(self.ledger.record(request, workflow, called, tokens))

        loop = AgentLoop(
            self.llm,
            runner,
            redactor,
            tool_definitions=self.toolbox.definitions(),
            limits=AgentLimits(
                max_steps=self.settings.max_steps,
                token_budget=self.settings.investigation_token_budget,
                max_output_tokens=self.settings.max_output_tokens,
                request_timeout=self.settings.timeout_seconds,
                deadline=deadline,
            ),
            on_call=on_call,
        )
        try:
            outcome = loop.run(request, model)
        except LLMUnavailable as exc:
            raise ClaudeFailed(exc.reason, usage) from exc
        investigation = Investigation(
            finding=outcome.finding,
            engine=Engine.CLAUDE,
            model=model,
            usage=usage,
            steps=outcome.steps,
        )
        return investigation, redactor


def restored(finding: Finding, redactor: Redactor) -> Finding:
    """The finding with masked contact data put back (for people allowed to see it);
    credentials and card numbers stay masked (see `Redactor.reveal`)."""
    return finding.model_copy(
        update={
            "summary": redactor.reveal(finding.summary),
            "root_cause": redactor.reveal(finding.root_cause),
            "recommendations": [redactor.reveal(r) for r in finding.recommendations],
            "notes": [redactor.reveal(n) for n in finding.notes],
        }
    )


def deadline_after(seconds: float) -> float:
    return time.monotonic() + seconds
