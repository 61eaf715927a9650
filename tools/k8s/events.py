"""Events about an object (or a namespace), newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from kubernetes import client
from pydantic import BaseModel, Field

from tools.base import ToolResult
from tools.budget import fit_items, shorten
from tools.k8s.base import DNS_SUBDOMAIN, KubeTool, NamespacedArgs, dashboard_object
from tools.k8s.connection import kube_call
from tools.timewindow import iso

ObjectKind = Literal[
    "Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "Node", "Service"
]


class EventInfo(BaseModel):
    type: str
    reason: str
    message: str
    object: str = Field(description="Kind/name of the object the event is about.")
    count: int
    last_seen: datetime | None


class EventsData(BaseModel):
    """Structured result of k8s_events."""

    namespace: str | None
    total: int
    events: list[EventInfo] = Field(description="Newest first.")


class EventsArgs(NamespacedArgs):
    kind: ObjectKind | None = Field(None, description="Kind of the object; omit for any kind.")
    name: str | None = Field(
        None,
        max_length=253,
        pattern=DNS_SUBDOMAIN,
        description="Name of the object; omit for every event in the namespace.",
    )
    warnings_only: bool = Field(False, description="Only events of type Warning.")


def event_info(event: client.CoreV1Event) -> EventInfo:
    involved = event.involved_object
    last_seen = event.last_timestamp or event.event_time
    if last_seen is None and event.metadata is not None:
        last_seen = event.metadata.creation_timestamp
    return EventInfo(
        type=event.type or "",
        reason=event.reason or "",
        message=event.message or "",
        object=f"{involved.kind}/{involved.name}",
        count=int(event.count or 1),
        last_seen=last_seen,
    )


def describe_event(event: EventInfo) -> str:
    when = iso(event.last_seen) if event.last_seen else "?"
    repeats = f" (x{event.count})" if event.count > 1 else ""
    message = shorten(event.message, 300)
    return f"- {when} {event.type} {event.reason} {event.object}: {message}{repeats}"


class EventsTool(KubeTool[EventsArgs]):
    name = "k8s_events"
    description = (
        "List Kubernetes events (scheduling, image pulls, probe failures, back-off, OOM, "
        "node problems) for one object or a whole namespace, newest first. Node events are "
        "searched in every namespace."
    )
    args_model = EventsArgs

    def caps(self) -> str:
        c = self.config
        return f"at most {c.max_events} events, newest first; about {c.output.max_tokens} tokens"

    def execute(self, args: EventsArgs) -> ToolResult:
        selectors = []
        if args.kind:
            selectors.append(f"involvedObject.kind={args.kind}")
        if args.name:
            selectors.append(f"involvedObject.name={args.name}")
        if args.warnings_only:
            selectors.append("type=Warning")
        field_selector = ",".join(selectors) or None
        params: dict[str, Any] = {"fieldSelector": field_selector} if field_selector else {}
        if args.kind == "Node":
            namespace = None
            call = "GET /api/v1/events"
            listed = kube_call(
                "events",
                lambda: self.core.list_event_for_all_namespaces(
                    field_selector=field_selector, _request_timeout=self.timeout
                ),
            )
        else:
            namespace = self.namespace(args.namespace)
            call = f"GET /api/v1/namespaces/{namespace}/events"
            listed = kube_call(
                f"events in namespace {namespace}",
                lambda: self.core.list_namespaced_event(
                    namespace, field_selector=field_selector, _request_timeout=self.timeout
                ),
            )
        events = [event_info(e) for e in listed.items]
        events.sort(key=lambda e: e.last_seen.timestamp() if e.last_seen else 0.0, reverse=True)
        data = EventsData(
            namespace=namespace, total=len(events), events=events[: self.config.max_events]
        )
        target = f"{args.kind or 'object'} {args.name}" if args.name else (args.kind or "objects")
        scope = f"about {target}" + (f" in {namespace}" if namespace else "")
        link = dashboard_object("event", namespace, None) if namespace else None
        if not events:
            content = (
                f"No data: no {'warning ' if args.warnings_only else ''}events {scope}. Events "
                "expire after about an hour; older history is gone."
            )
            evidence = self.evidence(call, params, "no data", link)
            return ToolResult.empty(self.name, content, data=data, evidence=[evidence])
        lines = [describe_event(e) for e in data.events]
        warnings = sum(1 for e in events if e.type == "Warning")
        content, left_out = fit_items(
            f"{len(events)} events {scope} ({warnings} warnings), newest first:",
            lines,
            self.config.output.max_chars,
            lambda n: f"... and {n} older events left out; use warnings_only or name an object.",
        )
        evidence = self.evidence(call, params, lines[0], link)
        truncated = left_out > 0 or len(events) > len(data.events)
        return ToolResult.success(
            self.name, content, data=data, evidence=[evidence], truncated=truncated
        )
