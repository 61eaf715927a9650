"""What changed in a namespace (or around one service) in a window, in time order: rollouts
with what each changed (image diffs first), ConfigMap and Secret writes, scaling, node
events and warnings. One call answers "what changed before it broke?".

ConfigMaps and Secrets are read as metadata only (`PartialObjectMetadataList`): their write
times come from `managedFields`, and no Secret value is ever fetched. Events live about an
hour in most clusters (the API server's `--event-ttl`), rollouts as long as their
ReplicaSets are kept; the result says which sources could not be read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from kubernetes import client
from pydantic import BaseModel, Field

from tools.base import ErrorKind, ToolFailure, ToolResult
from tools.budget import fit_items, shorten
from tools.k8s.base import DNS_SUBDOMAIN, KubeTool, dashboard_object, namespace_field
from tools.k8s.connection import kube_call
from tools.k8s.deployments import RevisionInfo, revisions
from tools.k8s.events import EventInfo, event_info
from tools.k8s.object_writes import METADATA_ONLY, written_at
from tools.k8s.workload_config import template_references
from tools.timewindow import (
    Duration,
    TimeWindowArgs,
    format_duration,
    iso,
    require_span_at_most,
)

ChangeKind = Literal["rollout", "config", "secret", "scaling", "node", "warning"]
MAX_WINDOW = timedelta(days=7)
SCALING_REASONS = ("ScalingReplicaSet", "SuccessfulRescale")
SCALING_GAP = timedelta(minutes=5)
REVISION = "deployment.kubernetes.io/revision"


class ChangeEntry(BaseModel):
    at: datetime
    kind: ChangeKind
    object: str = Field(description="Kind/name of what changed.")
    what: str


class ChangeTimelineData(BaseModel):
    """Structured result of change_timeline."""

    namespace: str
    service: str | None
    start: datetime
    end: datetime
    total: int
    changes: list[ChangeEntry] = Field(description="Oldest first; the newest kept at the cap.")
    not_checked: list[str] = Field(default_factory=list)


class ChangeTimelineArgs(TimeWindowArgs):
    namespace: str | None = namespace_field()
    service: str | None = Field(
        None,
        max_length=253,
        pattern=DNS_SUBDOMAIN,
        description="Only this Deployment's rollouts and the events about its objects; "
        "omit for the whole namespace.",
    )
    lookback: Duration = Field(
        "2h", description="Window length before end when start is omitted, e.g. 30m, 2h."
    )


def rollout_entries(deployment: str, infos: list[RevisionInfo]) -> list[ChangeEntry]:
    """One entry per revision after the first: image changes first, then the rest."""
    entries = []
    for info in infos:
        if info.created is None or not info.changes:
            continue
        changes = sorted(info.changes, key=lambda c: not c.field.endswith(".image"))
        what = f"revision {info.revision}: " + "; ".join(c.describe() for c in changes)
        if info.change_cause:
            what += f" (cause {info.change_cause!r})"
        entries.append(ChangeEntry(at=info.created, kind="rollout", object=deployment, what=what))
    return entries


def event_entry(event: EventInfo, kind: ChangeKind) -> ChangeEntry | None:
    if event.last_seen is None:
        return None
    repeats = f" (x{event.count})" if event.count > 1 else ""
    return ChangeEntry(
        at=event.last_seen,
        kind=kind,
        object=event.object,
        what=f"{event.reason}: {shorten(event.message, 240)}{repeats}",
    )


def merged_scaling(entries: list[ChangeEntry], gap: timedelta = SCALING_GAP) -> list[ChangeEntry]:
    """Scaling steps of one object less than `gap` apart as one entry (a rollout scales its
    two ReplicaSets step by step: one line says it, not six)."""
    merged: list[ChangeEntry] = []
    runs: dict[str, list[ChangeEntry]] = {}
    for entry in sorted(entries, key=lambda e: e.at):
        run = runs.get(entry.object)
        if run and entry.at - run[-1].at <= gap:
            run.append(entry)
            continue
        if run:
            merged.append(_merge(run))
        runs[entry.object] = [entry]
    merged += [_merge(run) for run in runs.values()]
    return merged


def _merge(run: list[ChangeEntry]) -> ChangeEntry:
    if len(run) == 1:
        return run[0]
    first, last = run[0], run[-1]
    return last.model_copy(
        update={
            "what": f"{len(run)} scaling steps since {iso(first.at)}: first {first.what}; "
            f"last {last.what}"
        }
    )


def not_read(plural: str, failure: ToolFailure) -> str:
    """Why a kind of object was not read, in words that fit a list call."""
    if failure.kind is ErrorKind.NOT_FOUND:
        return f"{plural}: this API server does not serve them (404)"
    if failure.kind is ErrorKind.UNAUTHORIZED:
        return f"{plural}: the bot may not list them (RBAC)"
    return f"{plural}: {failure.message}"


def describe_change(entry: ChangeEntry) -> str:
    return f"- {iso(entry.at)} {entry.kind} {entry.object}: {entry.what}"


class ChangeTimelineTool(KubeTool[ChangeTimelineArgs]):
    name = "change_timeline"
    description = (
        "What changed in a namespace or around one service in a window, oldest first: "
        "rollouts with what each revision changed (image diff first, env, resources), "
        "ConfigMap and Secret writes (metadata only) with the deployments that read each "
        "(a config write reaches pods started after it: a release may only have restarted "
        "them), scaling, node events and warnings. "
        "Anchor the window on when the alert started."
    )
    args_model = ChangeTimelineArgs

    def caps(self) -> str:
        c = self.config
        return (
            f"window at most {format_duration(MAX_WINDOW)}; at most {c.max_events} changes, "
            f"the newest kept; about {c.output.max_tokens} tokens; events expire after about "
            "1h in most clusters"
        )

    def execute(self, args: ChangeTimelineArgs) -> ToolResult:
        window = args.window(self.clock())
        require_span_at_most(window, MAX_WINDOW, "Use a shorter window around the alert.")
        namespace = self.namespace(args.namespace)
        not_checked: list[str] = []
        entries, readers = self._rollouts(namespace, args.service)
        for plural in ("configmaps", "secrets"):
            try:
                entries += self._writes(namespace, plural, readers)
            except ToolFailure as failure:
                not_checked.append(not_read(plural, failure))
        entries += self._events(namespace, args.service, not_checked)
        chosen = sorted(
            (e for e in entries if window.start <= e.at <= window.end), key=lambda e: e.at
        )
        kept = chosen[-self.config.max_events :]
        data = ChangeTimelineData(
            namespace=namespace,
            service=args.service,
            start=window.start,
            end=window.end,
            total=len(chosen),
            changes=kept,
            not_checked=not_checked,
        )
        scope = f"{namespace}" + (f"/{args.service}" if args.service else "")
        footer = "\n".join(f"Not checked: {shorten(n, 300)}" for n in not_checked)
        call = f"GET /apis/apps/v1/namespaces/{namespace}/replicasets + events + metadata"
        link = dashboard_object("event", namespace, None)
        if not kept:
            content = (
                f"No data: no rollout, config, scaling, node or warning change in {scope} from "
                f"{window.describe()}. Events expire after about an hour."
            ) + (f"\n{footer}" if footer else "")
            evidence = self.evidence(call, {}, "no changes", link)
            return ToolResult.empty(self.name, content, data=data, evidence=[evidence])
        earlier = len(chosen) - len(kept)
        header = f"{len(chosen)} changes in {scope} from {window.describe()}, oldest first:"
        if earlier:
            header += f" ({earlier} earlier ones left out at the cap)"
        content, left_out = fit_items(
            header,
            [describe_change(e) for e in kept],
            self.config.output.max_chars,
            lambda n: f"... and {n} newer changes left out; narrow the window or name a service.",
            footer,
        )
        evidence = self.evidence(call, {}, describe_change(kept[-1]), link)
        return ToolResult.success(
            self.name,
            content,
            data=data,
            evidence=[evidence],
            truncated=bool(left_out or earlier),
        )

    def _rollouts(
        self, namespace: str, service: str | None
    ) -> tuple[list[ChangeEntry], dict[str, list[str]]]:
        """Each deployment's rollouts, and which deployments read each ConfigMap/Secret."""
        if service:
            deployments = [
                kube_call(
                    f"deployment {namespace}/{service}",
                    lambda: self.apps.read_namespaced_deployment(
                        service, namespace, _request_timeout=self.timeout
                    ),
                )
            ]
        else:
            deployments = kube_call(
                f"deployments in {namespace}",
                lambda: self.apps.list_namespaced_deployment(
                    namespace, _request_timeout=self.timeout
                ),
            ).items
        replica_sets = kube_call(
            f"replicasets in {namespace}",
            lambda: self.apps.list_namespaced_replica_set(namespace, _request_timeout=self.timeout),
        ).items
        entries: list[ChangeEntry] = []
        for deployment in deployments:
            meta = deployment.metadata
            owned = [rs for rs in replica_sets if _owned_by(rs, meta.uid if meta else None)]
            current = (meta.annotations or {}).get(REVISION) if meta else None
            infos = revisions(owned, int(current) if current and current.isdigit() else None)
            entries += rollout_entries(f"Deployment/{meta.name if meta else '?'}", infos)
        return entries, config_readers(deployments)

    def _writes(
        self, namespace: str, plural: str, readers: dict[str, list[str]]
    ) -> list[ChangeEntry]:
        """ConfigMap or Secret writes, read as metadata only (no value is fetched), each with
        the deployments whose pods read it (a write reaches pods started after it)."""
        headers = {"Accept": METADATA_ONLY}
        listed: client.V1ConfigMapList | client.V1SecretList
        if plural == "configmaps":
            label, kind = "ConfigMap", "config"
            listed = kube_call(
                f"configmaps in {namespace}",
                lambda: self.core.list_namespaced_config_map(
                    namespace, _headers=headers, _request_timeout=self.timeout
                ),
            )
        else:
            label, kind = "Secret", "secret"
            listed = kube_call(
                f"secrets in {namespace}",
                lambda: self.core.list_namespaced_secret(
                    namespace, _headers=headers, _request_timeout=self.timeout
                ),
            )
        entries = []
        for item in listed.items or []:
            at, how = written_at(item.metadata)
            if at is not None and item.metadata is not None:
                name = f"{label}/{item.metadata.name}"
                read_by = readers.get(name)
                what = how + (f"; read by {', '.join(read_by)}" if read_by else "")
                entries.append(ChangeEntry(at=at, kind=kind, object=name, what=what))
        return entries

    def _events(
        self, namespace: str, service: str | None, not_checked: list[str]
    ) -> list[ChangeEntry]:
        entries: list[ChangeEntry] = []
        scaling: list[ChangeEntry] = []
        try:
            listed = kube_call(
                f"events in {namespace}",
                lambda: self.core.list_namespaced_event(namespace, _request_timeout=self.timeout),
            ).items
        except ToolFailure as failure:
            not_checked.append(not_read("events", failure))
            listed = []
        for raw in listed:
            event = event_info(raw)
            if service and not event.object.split("/", 1)[-1].startswith(service):
                continue
            kind: ChangeKind | None = None
            if event.reason in SCALING_REASONS:
                kind = "scaling"
            elif event.type == "Warning":
                kind = "warning"
            entry = event_entry(event, kind) if kind else None
            if entry is not None:
                (scaling if kind == "scaling" else entries).append(entry)
        entries += merged_scaling(scaling)
        try:
            nodes = kube_call(
                "node events",
                lambda: self.core.list_event_for_all_namespaces(
                    field_selector="involvedObject.kind=Node", _request_timeout=self.timeout
                ),
            ).items
        except ToolFailure as failure:
            if failure.kind is ErrorKind.INTERNAL:
                raise
            not_checked.append(not_read("node events", failure))
            nodes = []
        entries += [e for e in (event_entry(event_info(n), "node") for n in nodes) if e]
        return entries


def config_readers(deployments: list[client.V1Deployment]) -> dict[str, list[str]]:
    """`ConfigMap/name` (or `Secret/name`) -> `Deployment/web (container app envFrom)` for
    every deployment whose pod template reads it through env, envFrom or a volume."""
    readers: dict[str, list[str]] = {}
    for deployment in deployments:
        name = deployment.metadata.name if deployment.metadata else "?"
        template = deployment.spec.template.spec if deployment.spec else None
        for reference in template_references(template):
            key = f"{reference.kind}/{reference.name}"
            entry = f"Deployment/{name} ({reference.used_by})"
            if entry not in readers.setdefault(key, []):
                readers[key].append(entry)
    return readers


def _owned_by(rs: client.V1ReplicaSet, uid: str | None) -> bool:
    owners = (rs.metadata.owner_references if rs.metadata else None) or []
    return uid is not None and any(owner.uid == uid for owner in owners)
