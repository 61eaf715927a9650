"""The tail of a container's log, of the running instance or the previous (crashed) one."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tools.base import ToolResult
from tools.budget import shorten
from tools.k8s.base import DNS_LABEL, KubeTool, NamespacedArgs, dashboard_object, name_field
from tools.k8s.connection import kube_call
from tools.timewindow import Duration, parse_duration

LINE_CHARS = 500


class PodLogData(BaseModel):
    """Structured result of k8s_pod_logs."""

    namespace: str
    pod: str
    container: str | None
    previous: bool
    lines: list[str] = Field(description="Oldest first, as returned.")


class PodLogsArgs(NamespacedArgs):
    pod: str = name_field("Pod name, as k8s_pods lists it.")
    container: str | None = Field(
        None,
        max_length=63,
        pattern=DNS_LABEL,
        description="Container name; may be omitted when the pod has one container.",
    )
    previous: bool = Field(
        False, description="Read the previous, terminated instance (what it said before crashing)."
    )
    tail_lines: int = Field(
        100,
        ge=1,
        le=5000,
        description="Lines from the end (at most the cap in the tool description).",
    )
    since: Duration | None = Field(None, description="Only lines newer than this, e.g. 15m.")


def keep_last(lines: list[str], max_chars: int) -> tuple[list[str], int]:
    """The newest lines that fit in `max_chars`; returns them and how many older were dropped."""
    kept: list[str] = []
    used = 0
    for line in reversed(lines):
        text = shorten(line, LINE_CHARS)
        if used + len(text) + 1 > max_chars and kept:
            break
        kept.append(text)
        used += len(text) + 1
    kept.reverse()
    return kept, len(lines) - len(kept)


class PodLogsTool(KubeTool[PodLogsArgs]):
    name = "k8s_pod_logs"
    description = (
        "Read the last lines of a container's log. Set previous=true to read the instance "
        "that crashed or was OOM-killed (what it printed before dying)."
    )
    args_model = PodLogsArgs

    def caps(self) -> str:
        c = self.config
        return (
            f"at most {c.max_log_lines} lines and {c.max_log_bytes:,} bytes, newest kept; "
            f"about {c.output.max_tokens} tokens"
        )

    def execute(self, args: PodLogsArgs) -> ToolResult:
        namespace = self.namespace(args.namespace)
        tail = min(args.tail_lines, self.config.max_log_lines)
        params: dict[str, Any] = {"tailLines": tail, "limitBytes": self.config.max_log_bytes}
        if args.container:
            params["container"] = args.container
        if args.previous:
            params["previous"] = "true"
        since = int(parse_duration(args.since).total_seconds()) if args.since else None
        if since:
            params["sinceSeconds"] = since
        which = "previous instance of " if args.previous else ""
        what = f"logs of the {which}pod {namespace}/{args.pod}"
        text = kube_call(
            what,
            lambda: self.core.read_namespaced_pod_log(
                args.pod,
                namespace,
                container=args.container,
                previous=args.previous,
                tail_lines=tail,
                since_seconds=since,
                limit_bytes=self.config.max_log_bytes,
                _request_timeout=self.timeout,
            ),
        )
        lines = [line for line in str(text).splitlines() if line.strip()]
        data = PodLogData(
            namespace=namespace,
            pod=args.pod,
            container=args.container,
            previous=args.previous,
            lines=lines,
        )
        call = f"GET /api/v1/namespaces/{namespace}/pods/{args.pod}/log"
        link = dashboard_object("pod", namespace, args.pod)
        container = f" container {args.container}" if args.container else ""
        if not lines:
            content = f"No data: the {which}pod {namespace}/{args.pod}{container} logged nothing"
            content += f" in the last {args.since}." if args.since else "."
            evidence = self.evidence(call, params, "no data", link)
            return ToolResult.empty(self.name, content, data=data, evidence=[evidence])
        header = f"Last {len(lines)} log lines of the {which}pod {namespace}/{args.pod}{container}:"
        kept, dropped = keep_last(lines, self.config.output.max_chars - len(header) - 100)
        if dropped:
            header += f"\n({dropped} older lines left out to save space.)"
        content = "\n".join([header, *kept])
        evidence = self.evidence(call, params, kept[-1], link)
        return ToolResult.success(
            self.name, content, data=data, evidence=[evidence], truncated=dropped > 0
        )
