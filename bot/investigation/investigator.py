"""Investigations, orchestrated: build the toolbox from settings, let Claude answer when it
can (key set, budget left, API up, within the deadline) and the pattern engine otherwise,
and say which engine answered and why."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kubernetes.config.config_exception import ConfigException
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.cache import Cache
from bot.capacity.models import CapacityReport
from bot.capacity.report import CapacityReports
from bot.errors import ConfigError
from bot.investigation.agent.answer_cache import AnswerCache, answer_key, cache_metrics
from bot.investigation.agent.cost import Ledger, budgets, exhausted, new_warnings
from bot.investigation.agent.finding import Engine, Finding, Investigation, Usage
from bot.investigation.agent.llm import LLM, ClaudeLLM
from bot.investigation.agent.request import InvestigationRequest, Workflow
from bot.investigation.agent.session import ClaudeFailed, ClaudeSession, deadline_after, restored
from bot.investigation.capacity_questions import capacity_answer, capacity_question
from bot.investigation.capacity_tools import register_capacity_tools
from bot.investigation.patterns.engine import PatternEngine
from bot.investigation.patterns.logquery import answer_log_question
from bot.investigation.tool_scope import scope_of, tools_in_scope
from bot.logs import get_logger
from bot.metrics import Metrics
from bot.settings import LLMSettings, Settings, ToolsSettings
from bot.slack.channels import ChannelDirectory
from bot.sources import tools_config
from bot.store.db import Database
from tools.registry import build_toolbox
from tools.toolbox import Toolbox

log = get_logger("opsbot.investigate")


def toolbox_from(tools: ToolsSettings) -> Toolbox:
    """Every configured data source's tools; ConfigError names the settings that fail."""
    try:
        return build_toolbox(tools_config(tools))
    except (ValueError, OSError, ConfigException) as exc:
        raise ConfigError(
            f"the data-source settings (OPSBOT_*_URL, OPSBOT_KUBE*) fail: {exc}"
        ) from exc


def slack_notify(client: WebClient, channel: str) -> Callable[[str], None]:
    """Post budget warnings to `channel` (a name or id); failures are logged, not raised."""
    channels = ChannelDirectory(client)

    def post(text: str) -> None:
        try:
            client.chat_postMessage(channel=channels.resolve(channel), text=text)
        except (SlackApiError, LookupError) as exc:
            log.warning("budget warning not posted", channel=channel, error=str(exc)[:200])

    return post


def llm_from(llm: LLMSettings) -> LLM | None:
    """Claude when an Anthropic API key is set, else None (the pattern engine answers)."""
    if llm.api_key is None:
        return None
    return ClaudeLLM(
        llm.api_key.get_secret_value(),
        base_url=llm.base_url,
        timeout=llm.timeout_seconds,
        max_retries=llm.max_retries,
    )


class Investigator:
    """Thread-safe; one per process. `notify` posts budget warnings (Slack in production)."""

    def __init__(
        self,
        db: Database,
        metrics: Metrics,
        cache: Cache,
        settings: LLMSettings,
        toolbox: Toolbox,
        *,
        kube_namespace: str = "default",
        capacity: Callable[[datetime | None, str | None], CapacityReport] | None = None,
        llm: LLM | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        """`db` keeps the cost ledger, `cache` the answers and budget warnings;
        `capacity(now, namespace)` builds a capacity report (None: no capacity tools or
        answers); `llm` is Claude (None: the pattern engine answers)."""
        self.cache = cache
        self.settings = settings
        self.toolbox = toolbox
        self.llm = llm
        self.notify = notify or (lambda text: log.warning("budget", text=text))
        self.ledger = Ledger(db, metrics, settings.price_table)
        self.cache_metrics = cache_metrics(metrics.registry)
        self.answers = AnswerCache(cache, settings.answer_cache_seconds, self.cache_metrics)
        self.patterns = PatternEngine(self.toolbox, kube_namespace)
        self.capacity = capacity
        if capacity is not None:
            register_capacity_tools(self.toolbox, lambda ns: capacity(None, ns))

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        db: Database,
        metrics: Metrics,
        cache: Cache,
        notify: Callable[[str], None] | None = None,
        *,
        toolbox: Toolbox | None = None,
        claude: bool = True,
    ) -> Investigator:
        """An investigator as `settings` configure it (the composition root's and the
        evaluation harness's way to build one): the data sources' tools (or `toolbox`),
        capacity reports when Prometheus is set, and Claude when `claude` and a key is."""
        capacity = None
        if settings.tools.prometheus_url:
            capacity = CapacityReports(cache, settings.tools, settings.capacity).build
        return cls(
            db,
            metrics,
            cache,
            settings.llm,
            toolbox if toolbox is not None else toolbox_from(settings.tools),
            kube_namespace=settings.tools.kube_namespace,
            capacity=capacity,
            llm=llm_from(settings.llm) if claude else None,
            notify=notify,
        )

    @property
    def has_tools(self) -> bool:
        return len(self.toolbox) > 0

    def model_for(self, workflow: Workflow) -> str:
        if workflow is Workflow.LOG_QUERY:
            return self.settings.small_model
        if workflow is Workflow.ESCALATION and self.settings.large_model:
            return self.settings.large_model
        return self.settings.mid_model

    def investigate(self, request: InvestigationRequest) -> Investigation:
        if len(self.toolbox) == 0:
            return self._nothing_to_read()
        if self.llm is None:
            return self.pattern(request, "no Anthropic API key is configured")
        spent = self._check_budgets(request)
        if spent is not None:
            return self.pattern(request, spent)
        toolbox = self._toolbox_for(request)
        model = self.model_for(request.workflow)
        key = answer_key(request, model, toolbox.names())
        cached = self.answers.get(key)
        if cached is not None:
            return cached.model_copy(update={"cached": True, "usage": Usage()})
        try:
            answer = self._claude(request, model, request.workflow.value, toolbox)
        except ClaudeFailed as failed:
            log.warning("claude failed; pattern engine answers", reason=failed.reason)
            return self.pattern(request, fallback_reason(failed.reason), failed.usage)
        answer = self._maybe_escalate(request, answer, toolbox)
        self.answers.put(key, answer)
        self._check_budgets(request)
        return answer

    def pattern(
        self, request: InvestigationRequest, reason: str, usage: Usage | None = None
    ) -> Investigation:
        capacity = capacity_question(request.question) if request.incident_id is None else None
        if request.workflow is Workflow.LOG_QUERY and "log_search" in self.toolbox:
            finding = answer_log_question(self.toolbox, request.question)
        elif (
            capacity is not None
            and self.capacity is not None
            and "capacity_forecast" in self.toolbox
        ):
            report = self.capacity(request.now, None)
            finding = capacity_answer(report, request.question, capacity)
        else:
            finding = self.patterns.investigate(request)
        return Investigation(
            finding=finding, engine=Engine.PATTERN, usage=usage or Usage(), fallback_reason=reason
        )

    def _claude(
        self, request: InvestigationRequest, model: str, workflow: str, toolbox: Toolbox
    ) -> Investigation:
        assert self.llm is not None
        session = ClaudeSession(
            self.llm, toolbox, self.ledger, self.settings, self.cache, self.cache_metrics
        )
        answer, redactor = session.run(
            request, model, workflow, deadline_after(self.settings.deadline_seconds)
        )
        if self.settings.reveal_redacted:
            answer.finding = restored(answer.finding, redactor)
        return answer

    def _maybe_escalate(
        self, request: InvestigationRequest, answer: Investigation, toolbox: Toolbox
    ) -> Investigation:
        large = self.settings.large_model
        threshold = self.settings.escalate_below_confidence
        if not large or request.workflow is Workflow.LOG_QUERY:
            return answer
        if answer.finding.confidence >= threshold:
            return answer
        try:
            second = self._claude(request, large, Workflow.ESCALATION.value, toolbox)
        except ClaudeFailed as failed:
            answer.usage.add(failed.usage)
            return answer
        second.usage.add(answer.usage)
        second.steps += answer.steps
        return second if second.finding.confidence >= answer.finding.confidence else answer

    def _check_budgets(self, request: InvestigationRequest) -> str | None:
        found = budgets(
            self.ledger,
            request.now,
            self.settings.daily_budget_usd,
            self.settings.monthly_budget_usd,
        )
        for warning in new_warnings(found, self.cache):
            self.notify(warning)
        spent = exhausted(found)
        return f"the {spent.period} AI budget is spent" if spent else None

    def _toolbox_for(self, request: InvestigationRequest) -> Toolbox:
        """Only the tools the request's workflow can use (`bot.investigation.tool_scope`)."""
        names = tools_in_scope(scope_of(request), self.toolbox.names())
        return Toolbox(self.toolbox.get(name) for name in names)

    def _nothing_to_read(self) -> Investigation:
        finding = Finding(
            summary="No data source is configured, so there is nothing to investigate with.",
            root_cause="Set OPSBOT_PROMETHEUS_URL, OPSBOT_LOGS_URL, OPSBOT_JAEGER_URL or "
            "OPSBOT_KUBECONFIG.",
            confidence=0.0,
        )
        return Investigation(finding=finding, engine=Engine.PATTERN, fallback_reason="no tools")

    def close(self) -> None:
        self.toolbox.close()
        if self.llm is not None:
            self.llm.close()


def fallback_reason(reason: str) -> str:
    """Why the pattern engine answered instead of Claude, as the finding states it."""
    if reason == "refused":
        return "Claude declined to investigate this (stop reason: refusal)"
    if reason == "truncated":
        return "Claude's answer was cut off at the output limit, even when allowed more"
    return f"Claude was unavailable ({reason})"
