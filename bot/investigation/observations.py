"""Evidence as an on-call reads it: one short observation per tool call, the name of the UI
that shows the same data (Prometheus graph, Discover, Jaeger) and, for Kubernetes API
calls, the `kubectl` command that shows it. Pure functions over `Evidence`; the raw query
and tool output stay behind the finding's "Show evidence" button."""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from tools.base import Evidence

MAX_OBSERVATION_CHARS = 180
NO_DATA = "no data for this query"
_BACKTICKED = re.compile(r"`[^`]*`")
_SPACES = re.compile(r"\s+")
_K8S_VERB = re.compile(r"^(GET|LIST|WATCH)\s+(/\S+)$")
_KUBECTL_FLAGS = {
    "labelSelector": "-l",
    "fieldSelector": "--field-selector",
    "container": "-c",
    "tailLines": "--tail",
}


@dataclass(frozen=True)
class Observation:
    """One line of the finding's evidence list (plain text: the caller escapes it)."""

    text: str
    source: str
    link: str | None = None
    command: str | None = None


_SOURCES = (
    ("prometheus_", "Prometheus graph"),
    ("log_", "Logs"),
    ("jaeger_", "Jaeger"),
    ("k8s_", "Kubernetes"),
    ("capacity_", "Capacity report"),
)


def source_name(evidence: Evidence) -> str:
    """Which UI shows this evidence: the tool family, and for logs the log store's UI as its
    link names it (Kibana's Discover, OpenSearch Dashboards)."""
    tool, link = evidence.tool.lower(), (evidence.link or "").lower()
    name = next((label for prefix, label in _SOURCES if tool.startswith(prefix)), evidence.tool)
    if name == "Logs" and "discover" in link:
        name = "Discover"
    elif name == "Logs" and "dashboards" in link:
        name = "Dashboards"
    return name


def kubectl_equivalent(query: str) -> str | None:
    """`GET /api/v1/namespaces/prod/pods?labelSelector=app%3Dpayments` →
    `kubectl get pods -n prod -l app=payments`; None for anything that is not a plain read
    of the Kubernetes API."""
    found = _K8S_VERB.match(query.strip())
    if found is None:
        return None
    parts = urlsplit(found.group(2))
    segments = [unquote(s) for s in parts.path.strip("/").split("/") if s]
    if segments[:1] == ["api"] and len(segments) >= 2:
        rest = segments[2:]
    elif segments[:1] == ["apis"] and len(segments) >= 3:
        rest = segments[3:]
    else:
        return None
    namespace = None
    if len(rest) >= 2 and rest[0] == "namespaces" and len(rest) > 2:
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        return None
    resource, name = rest[0], rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if sub == "log" and name:
        words = ["kubectl", "logs", name]
    elif sub is None:
        words = ["kubectl", "get", resource] + ([name] if name else [])
    else:
        return None
    if namespace:
        words += ["-n", namespace]
    for key, values in parse_qs(parts.query).items():
        flag = _KUBECTL_FLAGS.get(key)
        if flag and values:
            words += [flag, values[0]]
    return " ".join(shlex.quote(w) for w in words)


def observation_text(evidence: Evidence) -> str:
    """The excerpt without the query it repeats, on one line, short."""
    text = evidence.excerpt
    if evidence.query:  # the query and the code span around it, never an empty "``"
        text = text.replace(f"`{evidence.query}`", "").replace(evidence.query, "")
    text = _BACKTICKED.sub(lambda m: "" if len(m.group(0)) > 40 else m.group(0), text)
    parts = [p.strip(" -:|") for p in text.split(" | ")]
    text = "; ".join(p for p in parts[:3] if p)
    text = _SPACES.sub(" ", text).strip(" :;")
    if not text or text.lower() == "no data":
        return NO_DATA
    if len(text) > MAX_OBSERVATION_CHARS:
        text = text[: MAX_OBSERVATION_CHARS - 1].rstrip() + "…"
    return text


def observations(evidence: list[Evidence], covered: Collection[str] = ()) -> list[Observation]:
    """One observation per distinct tool call, skipping queries already `covered` (shown
    as a metric change with its own link)."""
    seen: set[tuple[str, str]] = set()
    found: list[Observation] = []
    for item in evidence:
        key = (item.tool, item.query)
        if key in seen or item.query in covered:
            continue
        seen.add(key)
        found.append(
            Observation(
                text=observation_text(item),
                source=source_name(item),
                link=item.link,
                command=kubectl_equivalent(item.query),
            )
        )
    return found
