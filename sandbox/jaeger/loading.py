"""Read traces from scenario files and shift them in time.

Accepted layouts, all in Jaeger's JSON model:
- `*.json`: an API answer `{"data": [trace, ...]}`, a single trace object, or a list of traces;
- `*.jsonl`: one trace (or one `{"data": [...]}` answer) per line;
- a folder: every `*.json` / `*.jsonl` below it, in path order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sandbox.jaeger.store import Json, TraceDataError


def load_traces(path: str | Path) -> list[Json]:
    source = Path(path)
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.suffix in (".json", ".jsonl"))
        return [trace for file in files for trace in load_traces(file)]
    text = source.read_text(encoding="utf-8")
    if source.suffix == ".jsonl":
        traces: list[Json] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                traces.extend(
                    traces_in_document(_decode(line, f"{source}:{number}"), f"{source}:{number}")
                )
        return traces
    return traces_in_document(_decode(text, str(source)), str(source))


def write_traces(path: str | Path, traces: Iterable[Mapping[str, Any]]) -> None:
    """Write traces as a Jaeger API answer, the format `load_traces` reads back."""
    data = [dict(trace) for trace in traces]
    body = {"data": data, "total": len(data), "limit": 0, "offset": 0, "errors": None}
    Path(path).write_text(json.dumps(body, indent=1), encoding="utf-8")


def rebase_traces(traces: Iterable[Mapping[str, Any]], *, end_us: int) -> list[Json]:
    """Shift every timestamp by one offset so the latest span ends at `end_us`.

    Real Jaeger searches the last two days by default, so recorded traces from long ago
    must be moved next to "now" to be found without explicit start/end parameters.
    """
    copies = [json.loads(json.dumps(trace)) for trace in traces]
    ends = [
        int(span.get("startTime", 0)) + int(span.get("duration", 0))
        for trace in copies
        for span in trace.get("spans") or []
    ]
    if not ends:
        return copies
    offset = end_us - max(ends)
    for trace in copies:
        for span in trace.get("spans") or []:
            span["startTime"] = int(span.get("startTime", 0)) + offset
            for log in span.get("logs") or []:
                log["timestamp"] = int(log.get("timestamp", 0)) + offset
    return copies


def _decode(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise TraceDataError(f"{where}: not JSON: {err}") from err


def traces_in_document(document: Any, where: str) -> list[Json]:
    """The traces in a decoded document of any accepted layout."""
    if isinstance(document, dict) and "data" in document:
        document = document["data"]
    if isinstance(document, dict):
        document = [document]
    if not isinstance(document, list) or not all(isinstance(t, dict) for t in document):
        raise TraceDataError(f"{where}: expected a trace, a list of traces or {{'data': [...]}}")
    return list(document)
