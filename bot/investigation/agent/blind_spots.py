"""What an investigation could not see: one line per data source whose calls failed.

A finding shows only a few notes, and one dead backend fails every query sent to it; so
failures are grouped by source and each source is named once, with the backend's own
reason ("Cannot reach Prometheus at http://… (connection refused)"), never a traceback.
Only failures of the backend count: a model's malformed query is not a blind spot.
"""

from __future__ import annotations

from collections.abc import Iterable

from tools.base import ErrorKind, ToolResult

SOURCES = (
    ("prometheus_", "Prometheus"),
    ("capacity_", "Prometheus"),
    ("log_", "Log store"),
    ("jaeger_", "Jaeger"),
    ("k8s_", "Kubernetes API"),
)
BACKEND_FAILURES = {
    ErrorKind.UNAVAILABLE: "unavailable",
    ErrorKind.TIMEOUT: "timed out",
    ErrorKind.UNAUTHORIZED: "refused the bot's credentials",
    ErrorKind.MISCONFIGURED: "misconfigured",
    ErrorKind.INTERNAL: "failed",
}
MAX_REASON = 200


def source_of(tool: str) -> str:
    return next((label for prefix, label in SOURCES if tool.startswith(prefix)), tool)


def _first_sentence(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    end = line.find(". ")
    sentence = line if end < 0 else line[: end + 1]
    return sentence if len(sentence) <= MAX_REASON else sentence[: MAX_REASON - 1] + "…"


def blind_spots(results: Iterable[ToolResult]) -> list[str]:
    """Pure: "Prometheus not checked (unavailable): Cannot reach Prometheus at …" per source
    whose calls failed on the backend's side, in the order sources first failed."""
    seen: dict[str, str] = {}
    for result in results:
        kind = result.error_kind
        if kind is None or kind not in BACKEND_FAILURES:
            continue
        source = source_of(result.tool)
        if source not in seen:
            reason = _first_sentence(result.content)
            seen[source] = f"{source} not checked ({BACKEND_FAILURES[kind]}): {reason}"
    return list(seen.values())
