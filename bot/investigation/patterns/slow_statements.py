"""A database's slow-statement log lines: how long a statement ran, which client ran it
(database user or application name) and what it was. Pure.

PostgreSQL (`duration: 2841.377 ms  execute <unnamed>: SELECT ...`, with the client from
log_line_prefix `user=... app=...`, `payments@shop`, or `user=... application_name=...`
after the statement), MySQL's slow log (`# User@Host: payments[payments] ... Query_time:
2.84`) and MongoDB's (`"durationMillis":2841 ... "appName":"payments"`) are read the same way.
A line that names no client is not attributed to anyone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

SLOW_STATEMENT_MS = 500.0  # a statement this long holds its pooled connection that long

_DURATIONS = (
    (re.compile(r"\bduration:\s*(\d+(?:\.\d+)?)\s*ms\b", re.IGNORECASE), 1.0),
    (re.compile(r"\bQuery_time:\s*(\d+(?:\.\d+)?)", re.IGNORECASE), 1000.0),
    (re.compile(r"\"?durationMillis\"?\s*:\s*(\d+(?:\.\d+)?)", re.IGNORECASE), 1.0),
    (re.compile(r"\b(?:elapsed|execution time|took)[=:\s]\s*(\d+(?:\.\d+)?)\s*ms\b", re.I), 1.0),
)
_CLIENT_NAME = r"[A-Za-z_][\w.-]{0,62}"
_USER = re.compile(
    rf"\b(?:user(?:name)?|usename|db_user)\s*[=:]\s*\"?({_CLIENT_NAME})"
    rf"|User@Host:\s*({_CLIENT_NAME})\[|(?:^|[\s\[])({_CLIENT_NAME})@(?!Host:){_CLIENT_NAME}(?=[\s\]:,])",
    re.IGNORECASE,
)
_APP = re.compile(
    r"\bapplication_name\s*[=:]\s*\"?([^,\]\"=]+?)(?=\s+\w+=|\s+[A-Z]{3,}:|[,\]\"]|\s*$)"
    rf"|\bapp(?:_?name)?\"?\s*[=:]\s*\"?({_CLIENT_NAME})",
    re.IGNORECASE,
)
_STATEMENT = re.compile(
    r"(?:\bstatement|\bexecute [^:]*|Query Text|\bquery):\s*(.+)|\b((?:SELECT|INSERT|UPDATE|"
    r"DELETE|WITH|MERGE)\b.+)",
    re.IGNORECASE,
)
_TRAILING_CLIENT = re.compile(r"\s+(?:user|usename|application_name|app|db)=.*$", re.IGNORECASE)


@dataclass(frozen=True)
class SlowStatement:
    """One slow statement: how long it ran, the clients it names and its text (clipped)."""

    ms: float
    clients: tuple[str, ...]
    text: str


def slow_statement(message: str) -> SlowStatement | None:
    """The slow statement a database log line reports, when it ran at least
    `SLOW_STATEMENT_MS` and names the client that ran it; else None."""
    ms = next(
        (float(m.group(1)) * scale for p, scale in _DURATIONS if (m := p.search(message))), None
    )
    if ms is None or ms < SLOW_STATEMENT_MS:
        return None
    clients = [g for m in _USER.finditer(message) for g in m.groups() if g]
    clients += [g.strip() for m in _APP.finditer(message) for g in m.groups() if g and g.strip()]
    if not clients:
        return None
    found = _STATEMENT.search(message)
    text = (found.group(1) or found.group(2)) if found else ""
    text = _TRAILING_CLIENT.sub("", text).strip()
    return SlowStatement(ms, tuple(dict.fromkeys(clients)), text[:200])


def attributed_to(statement: SlowStatement, names: Iterable[str]) -> bool:
    """The statement's user or application name is one of `names` (a service's name, or
    the user and application name its configuration gives it)."""
    wanted = {n.lower() for n in names if n}
    return any(client.lower() in wanted for client in statement.clients)
