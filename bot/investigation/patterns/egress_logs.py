"""What a service's own log lines say about its calls out of the cluster: the external host a
line names, whether the line reports a timeout or a slow answer, and whether it reports the
service's outbound connection pool (or concurrency limit) full. Pure.

A call to something outside the cluster often has no client span and no mesh metric: the
only place the remote host's name shows is the caller's WARN/ERROR lines, in the wording of
its HTTP client (JVM, Go, Python, Node, .NET). Hosts are read only from host-shaped places
(a URL, `host=`, `host:port`), so a Java class name or a file name is never taken for one,
and only the characters a DNS name or an IPv4 address can hold come out of the line.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from bot.investigation.patterns.log_signatures import Failure, classify

_NAME = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}"
_IPV4 = r"(?:\d{1,3}\.){3}\d{1,3}"
_HOST = rf"({_NAME}|{_IPV4})"
_HOST_PLACES = (
    re.compile(rf"\b[a-z][a-z0-9+.-]*://(?:[^@/\s]+@)?{_HOST}", re.IGNORECASE),
    re.compile(rf"\bhost(?:name)?\s*[=:]\s*[\"']?{_HOST}", re.IGNORECASE),
    re.compile(rf"(?<![\w.-]){_HOST}:\d{{2,5}}\b", re.IGNORECASE),
)
# `Bar.java:123` in a stack trace is a file and a line number, not a host and a port
_SOURCE_SUFFIXES = frozenset(
    [
        "java",
        "kt",
        "scala",
        "groovy",
        "py",
        "js",
        "mjs",
        "cjs",
        "ts",
        "go",
        "cs",
        "fs",
        "vb",
        "rb",
        "php",
        "rs",
        "c",
        "h",
        "cc",
        "cpp",
        "hpp",
        "swift",
        "ex",
        "exs",
        "erl",
        "dart",
        "lua",
        "pl",
        "sh",
        "yaml",
        "yml",
        "json",
        "xml",
        "properties",
        "conf",
        "log",
    ]
)
_CLUSTER_SUFFIXES = (".svc", ".cluster.local", ".local", ".localhost", ".localdomain")
MAX_HOST = 253

_SLOW = re.compile(
    r"\bslow(?:ly)?\b|\b(?:answered|responded|replied|completed|returned|took)\s+(?:in\s+)?"
    r"\d+(?:\.\d+)?\s*(?:ms|s|sec|seconds|milliseconds)\b|over (?:its |the )?budget"
    r"|exceeded (?:its |the )?budget",
    re.IGNORECASE,
)
_FULL = re.compile(
    r"\b(?:leased|in[ _-]?use|active|busy)\s*[=:]\s*(\d+)\s*/\s*(\d+)", re.IGNORECASE
)
_SATURATED = re.compile(
    r"waiting for (?:a )?connection (?:from (?:the )?pool|to )"
    r"|ConnectionPoolTimeoutException|ConnectionRequestTimeout"
    r"|PoolTimeout|pool (?:is )?(?:full|exhausted)|connection pool is full"
    r"|Bulkhead\S* .*(?:full|does not permit)|BulkheadFullException"
    r"|PoolAcquire(?:Pending|Timeout)|Pending acquire queue|MaxConnectionsPerServer"
    r"|max(?:imum)? (?:concurrent|outstanding) (?:requests|connections|streams)"
    r"|too many (?:concurrent|outstanding|in-flight) requests|maxSockets",
    re.IGNORECASE,
)
WARN_LEVELS = frozenset({"WARN", "WARNING", "ERROR", "ERR", "FATAL", "CRITICAL", "SEVERE"})


def hosts_named(message: str) -> list[str]:
    """Every host `message` names in a URL, a `host=` field or a `host:port`, lowercased,
    in order, each once."""
    found: list[str] = []
    for pattern in _HOST_PLACES:
        for match in pattern.finditer(message):
            host = match.group(1).lower().rstrip(".")
            if host.rsplit(".", 1)[-1] in _SOURCE_SUFFIXES or len(host) > MAX_HOST:
                continue
            if host not in found:
                found.append(host)
    return found


_WHOLE_HOST = re.compile(rf"^{_HOST}$", re.IGNORECASE)


def external_peer(peer: str | None, known: Iterable[str]) -> str | None:
    """A client span's peer (`net.peer.name`, `peer.service`) when it is a host outside the
    cluster: a dotted DNS name or a public address, not a bare system name (`postgresql`)."""
    value = (peer or "").strip().lower().rstrip(".")
    if not _WHOLE_HOST.match(value) or len(value) > MAX_HOST:
        return None
    return value if is_external(value, known) else None


def is_external(host: str, known: Iterable[str]) -> bool:
    """The host lies outside the cluster: not a Service's cluster DNS name, not a known
    service's name (`payments.prod`), not a private, loopback or link-local address."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        return address.is_global
    if host.endswith(_CLUSTER_SUFFIXES) or ".svc." in host:
        return False
    return host.split(".", 1)[0] not in set(known)


def external_host(message: str, known: Iterable[str]) -> str | None:
    """The first host outside the cluster that `message` names, else None."""
    names = set(known)
    return next((h for h in hosts_named(message) if is_external(h, names)), None)


def reports_waiting(message: str) -> bool:
    """The line reports a call that timed out or answered slowly."""
    return classify(message) is Failure.TIMEOUT or _SLOW.search(message) is not None


def reports_saturation(message: str) -> bool:
    """The line reports the outbound pool or concurrency limit full: `leased=50/50`, a wait
    for a pooled connection, a full bulkhead (a database pool's own wording is not this)."""
    if classify(message) is Failure.TOO_MANY_CONNECTIONS:
        return False
    full = _FULL.search(message)
    if full is not None and int(full.group(2)) > 0 and full.group(1) == full.group(2):
        return True
    return _SATURATED.search(message) is not None
