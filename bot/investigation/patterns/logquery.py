"""Natural-language log questions ("show me all database errors in the last hour") turned
into a real log query, without a model: level, time window, service and words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.investigation.agent.finding import Finding
from tools.logs.search_tool import LogSearchData
from tools.toolbox import Toolbox

_LOG_WORDS = re.compile(r"\b(?:logs?|log lines?|logged)\b", re.IGNORECASE)
_ASK = re.compile(r"\b(?:show|list|find|search|grep|give|get|any)\b", re.IGNORECASE)
_PROBLEM = re.compile(r"\b(?:errors?|exceptions?|warnings?|failures?|fatals?)\b", re.IGNORECASE)
_LEVELS = {
    "error": "error",
    "errors": "error",
    "exception": "error",
    "exceptions": "error",
    "failure": "error",
    "failures": "error",
    "warning": "warn",
    "warnings": "warn",
    "warn": "warn",
    "fatal": "fatal",
    "fatals": "fatal",
    "debug": "debug",
    "info": "info",
}
_UNITS = {"second": "s", "minute": "m", "min": "m", "hour": "h", "day": "d", "week": "w"}
_WINDOW = re.compile(
    r"\b(?:last|past|previous)\s+(?:(\d+)\s*)?(second|minute|min|hour|day|week)s?\b", re.IGNORECASE
)
_SERVICE = re.compile(r"\b(?:from|of|in|for)\s+(?:the\s+)?(?:service\s+)?([a-z0-9][a-z0-9-]*)\b")
_STOP = frozenset(
    [
        "a",
        "all",
        "an",
        "and",
        "any",
        "are",
        "at",
        "be",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "get",
        "give",
        "had",
        "has",
        "have",
        "how",
        "i",
        "in",
        "is",
        "it",
        "last",
        "lines",
        "log",
        "logged",
        "logs",
        "me",
        "my",
        "of",
        "on",
        "or",
        "over",
        "past",
        "please",
        "previous",
        "recent",
        "show",
        "since",
        "so",
        "some",
        "that",
        "the",
        "their",
        "there",
        "these",
        "this",
        "those",
        "to",
        "today",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "list",
        "find",
        "search",
        "grep",
        "hour",
        "hours",
        "minute",
        "minutes",
        "day",
        "days",
        "week",
        "weeks",
        "second",
        "seconds",
        "min",
        "mins",
        "service",
    ]
)


@dataclass(frozen=True)
class LogQuestion:
    lookback: str
    level: str | None
    service: str | None
    text: str | None

    def arguments(self) -> dict[str, Any]:
        args: dict[str, Any] = {"lookback": self.lookback, "limit": 20}
        if self.level:
            args["level"] = self.level
        if self.service:
            args["service"] = self.service
        if self.text:
            args["text"] = self.text
        return args


def is_log_question(question: str) -> bool:
    return bool(_LOG_WORDS.search(question)) or bool(
        _ASK.search(question) and _PROBLEM.search(question)
    )


def parse_log_question(question: str, services: frozenset[str] = frozenset()) -> LogQuestion:
    lowered = question.lower()
    window = _WINDOW.search(lowered)
    lookback = "1h"
    if window:
        lookback = f"{window.group(1) or 1}{_UNITS[window.group(2)]}"
    elif "today" in lowered:
        lookback = "1d"
    words = re.findall(r"[a-z0-9][a-z0-9_.-]*", lowered)
    level = next((_LEVELS[w] for w in words if w in _LEVELS), None)
    service = next((w for w in words if w in services), None)
    if service is None:
        found = _SERVICE.search(lowered)
        candidate = found.group(1) if found else None
        if candidate and candidate not in _STOP and candidate not in _LEVELS:
            service = candidate
    rest = [
        w for w in words if w not in _STOP and w not in _LEVELS and w != service and not w.isdigit()
    ]
    return LogQuestion(lookback, level, service, " ".join(rest) or None)


def answer_log_question(toolbox: Toolbox, question: str) -> Finding:
    parsed = parse_log_question(question)
    result = toolbox.run("log_search", parsed.arguments())
    if result.is_error and parsed.service:  # the word was not a service after all
        parsed = LogQuestion(
            parsed.lookback,
            parsed.level,
            None,
            " ".join(filter(None, (parsed.service, parsed.text))),
        )
        result = toolbox.run("log_search", parsed.arguments())
    data = result.data if isinstance(result.data, LogSearchData) else None
    shown = "; ".join(f"{k}={v}" for k, v in parsed.arguments().items() if k != "limit")
    if result.is_error or data is None:
        summary = f"The log search failed: {result.content[:300]}"
    else:
        newest = data.records[0].message[:200] if data.records else ""
        summary = f"{data.total} log lines match ({shown})" + (
            f"; the newest: {newest!r}." if newest else "."
        )
    return Finding(
        summary=summary,
        root_cause="A log search answers this question; the query is shown with the evidence.",
        confidence=0.6 if data and data.total else 0.3,
        evidence=result.evidence,
        rule="log-query",
        notes=[result.content[:1500]] if data and data.records else [],
    )
