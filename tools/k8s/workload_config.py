"""A workload's autoscaler and the configuration it reads: the HorizontalPodAutoscaler that
targets it (bounds, replicas, metrics, whether it is capped at its maximum) and every
ConfigMap key its pod template references, checked against what the ConfigMap holds, so a
pod failing on a missing key or a deployment pinned at maxReplicas can be read in one call.

Read-only. ConfigMap values are never returned (a key's presence is what a failure turns
on); Secrets are named as referenced but not read, as the bot's read role does not grant
them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from kubernetes import client
from pydantic import BaseModel, Field

from tools.base import ErrorKind, ToolFailure, ToolResult
from tools.budget import fit_items
from tools.k8s.base import KubeTool, NamespacedArgs, dashboard_object, name_field
from tools.k8s.connection import kube_call
from tools.k8s.object_writes import METADATA_ONLY, written_at
from tools.k8s.pods import find_workload
from tools.timewindow import iso


class AutoscalerMetric(BaseModel):
    """One metric of an HPA: its target and what the controller last measured."""

    name: str
    target: str
    current: str | None


class AutoscalerInfo(BaseModel):
    """An autoscaling/v2 HorizontalPodAutoscaler as its status reports it."""

    name: str
    min_replicas: int | None
    max_replicas: int
    current_replicas: int | None
    desired_replicas: int | None
    metrics: list[AutoscalerMetric]
    conditions: list[str] = Field(description="`type=status (reason): message`.")
    at_max: bool = Field(description="Current replicas reached maxReplicas.")
    limited: bool = Field(description="ScalingLimited is True: it wants more than it may.")


class ConfigReference(BaseModel):
    """Where the pod template reads a ConfigMap or Secret, and what that reading finds."""

    kind: str = Field(description="ConfigMap or Secret.")
    name: str
    key: str | None = Field(description="The key read; None when every key is (envFrom).")
    used_by: str = Field(description="`container app env GATEWAY_URL`, `volume config`...")
    optional: bool
    state: str = Field(
        description="present | missing key | missing object (either may say optional) | not read"
    )


class ConfigWrite(BaseModel):
    """When a referenced ConfigMap or Secret was last written (its newest managedFields
    entry, else its creation), and by whom."""

    object: str = Field(description="`ConfigMap/name` or `Secret/name`.")
    at: datetime
    how: str = Field(description="`Update by kubectl-client-side-apply`, `created`...")


class ConfigMatch(BaseModel):
    """A string from the failing pods' errors found in a referenced ConfigMap's value."""

    text: str
    config_map: str
    key: str


class WorkloadConfigData(BaseModel):
    """Structured result of workload_config."""

    namespace: str
    name: str
    kind: str
    autoscalers: list[AutoscalerInfo]
    references: list[ConfigReference]
    config_keys: dict[str, list[str]] = Field(
        description="Keys each referenced ConfigMap holds (values are not read)."
    )
    written: list[ConfigWrite] = Field(
        default_factory=list, description="Last write of each referenced object, newest first."
    )
    matches: list[ConfigMatch] = Field(
        default_factory=list, description="Which `find` strings a referenced value holds."
    )
    not_checked: list[str] = Field(default_factory=list)


class WorkloadConfigArgs(NamespacedArgs):
    workload: str = name_field("Name of the Deployment, StatefulSet or DaemonSet.")
    find: list[Annotated[str, Field(min_length=3, max_length=253)]] = Field(
        default_factory=list,
        max_length=8,
        description="Strings from the failing pods' errors (a host, URL or name): the result "
        "says which referenced ConfigMap key holds a value containing each (values are not "
        "shown).",
    )


def _attr(obj: Any, *path: str) -> Any:
    for name in path:
        obj = getattr(obj, name, None) if obj is not None else None
    return obj


def _quantity(target: Any) -> str:
    if target is None:
        return "?"
    if _attr(target, "average_utilization") is not None:
        return f"{target.average_utilization}% of requests"
    for field in ("average_value", "value"):
        if _attr(target, field) is not None:
            return str(getattr(target, field))
    return "?"


def autoscaler_info(hpa: Any) -> AutoscalerInfo:
    """What an HPA says of itself: bounds, replicas, each metric's target and reading."""
    spec, status = hpa.spec, hpa.status
    current: dict[str, str] = {}
    for metric in _attr(status, "current_metrics") or []:
        source = _attr(metric, "resource") or _attr(metric, "pods") or _attr(metric, "external")
        name = _attr(source, "name") or _attr(source, "metric", "name") or str(metric.type)
        current[str(name)] = _quantity(_attr(source, "current"))
    metrics = []
    for metric in _attr(spec, "metrics") or []:
        source = _attr(metric, "resource") or _attr(metric, "pods") or _attr(metric, "external")
        name = str(_attr(source, "name") or _attr(source, "metric", "name") or metric.type)
        metrics.append(
            AutoscalerMetric(
                name=name, target=_quantity(_attr(source, "target")), current=current.get(name)
            )
        )
    conditions = [
        f"{c.type}={c.status}" + (f" ({c.reason})" if c.reason else "")
        + (f": {c.message}" if c.message else "")
        for c in _attr(status, "conditions") or []
    ]  # fmt: skip
    limited = any(
        c.type == "ScalingLimited" and c.status == "True" for c in _attr(status, "conditions") or []
    )
    replicas = _attr(status, "current_replicas")
    return AutoscalerInfo(
        name=hpa.metadata.name,
        min_replicas=spec.min_replicas,
        max_replicas=spec.max_replicas,
        current_replicas=replicas,
        desired_replicas=_attr(status, "desired_replicas"),
        metrics=metrics,
        conditions=conditions,
        at_max=replicas is not None and replicas >= spec.max_replicas,
        limited=limited,
    )


def template_references(template_spec: Any) -> Iterator[ConfigReference]:
    """Every ConfigMap and Secret the pod template reads: env keys, envFrom, volumes."""
    containers = [
        *(_attr(template_spec, "init_containers") or []),
        *(_attr(template_spec, "containers") or []),
    ]
    for container in containers:
        where = f"container {container.name}"
        for env in container.env or []:
            for kind, ref in (
                ("ConfigMap", _attr(env, "value_from", "config_map_key_ref")),
                ("Secret", _attr(env, "value_from", "secret_key_ref")),
            ):
                if ref is not None:
                    yield ConfigReference(
                        kind=kind, name=ref.name, key=ref.key, used_by=f"{where} env {env.name}",
                        optional=bool(ref.optional), state="",
                    )  # fmt: skip
        for source in container.env_from or []:
            for kind, ref in (
                ("ConfigMap", source.config_map_ref),
                ("Secret", source.secret_ref),
            ):
                if ref is not None:
                    yield ConfigReference(
                        kind=kind, name=ref.name, key=None, used_by=f"{where} envFrom",
                        optional=bool(ref.optional), state="",
                    )  # fmt: skip
    for volume in _attr(template_spec, "volumes") or []:
        for kind, ref, name in (
            ("ConfigMap", volume.config_map, _attr(volume.config_map, "name")),
            ("Secret", volume.secret, _attr(volume.secret, "secret_name")),
        ):
            if ref is None or not name:
                continue
            keys = [item.key for item in ref.items or []] or [None]
            for key in keys:
                yield ConfigReference(
                    kind=kind, name=name, key=key, used_by=f"volume {volume.name}",
                    optional=bool(ref.optional), state="",
                )  # fmt: skip


def reference_state(reference: ConfigReference, keys: list[str] | None) -> str:
    """present / missing key / missing object, for a ConfigMap whose keys are `keys`
    (None: it does not exist)."""
    if keys is None:
        return "missing object" + (
            " (optional: pods start without it)" if reference.optional else ""
        )
    if reference.key is not None and reference.key not in keys:
        return "missing key" + (" (optional: pods start without it)" if reference.optional else "")
    return "present"


def describe_autoscaler(hpa: AutoscalerInfo) -> str:
    metrics = "; ".join(f"{m.name} target {m.target}, now {m.current or '?'}" for m in hpa.metrics)
    capped = ""
    if hpa.at_max:
        capped = " AT maxReplicas" + (" and wants more (ScalingLimited)" if hpa.limited else "")
    return (
        f"HPA {hpa.name}: replicas {hpa.current_replicas} (desired {hpa.desired_replicas}, "
        f"min {hpa.min_replicas}, max {hpa.max_replicas}){capped}; {metrics or 'no metrics'}; "
        + ("; ".join(hpa.conditions) or "no conditions")
    )


def describe_reference(reference: ConfigReference) -> str:
    key = f" key {reference.key}" if reference.key else " (every key)"
    optional = ", optional" if reference.optional else ""
    return (
        f"- {reference.used_by} reads {reference.kind} {reference.name}{key}{optional}: "
        f"{reference.state}"
    )


class WorkloadConfigTool(KubeTool[WorkloadConfigArgs]):
    name = "workload_config"
    description = (
        "Show the HorizontalPodAutoscaler that scales a workload (min/max replicas, current "
        "and desired replicas, metric targets and readings, conditions such as "
        "ScalingLimited) and every ConfigMap/Secret key its pods read (env, envFrom, "
        "volumes), each checked against the ConfigMap: present, missing key or missing "
        "object; when each was last written (managedFields; Secrets only with a `list` grant); "
        "and, given `find` strings from the errors (a host, a URL), which ConfigMap key "
        "holds each. Values are not shown; Secrets are named, not read. Use it when pods "
        "fail on configuration (or on a host their configuration names) or a workload is "
        "pinned at its autoscaler's maximum."
    )
    args_model = WorkloadConfigArgs

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.autoscaling = client.AutoscalingV2Api(self.api_client)

    def caps(self) -> str:
        return f"about {self.config.output.max_tokens} tokens; ConfigMap values never read"

    def execute(self, args: WorkloadConfigArgs) -> ToolResult:
        namespace = self.namespace(args.namespace)
        workload = find_workload(self.apps, namespace, args.workload, self.timeout)
        kind = str(getattr(workload, "kind", None) or type(workload).__name__.removeprefix("V1"))
        not_checked: list[str] = []
        autoscalers = self._autoscalers(namespace, kind, args.workload, not_checked)
        template = _attr(workload, "spec", "template", "spec")
        references = list(template_references(template))
        read = self._config_maps(namespace, references, not_checked)
        keys = {name: _keys_of(found) for name, found in read.items()}
        written = [w for w in (_write_of("ConfigMap", f) for f in read.values()) if w]
        written += self._secret_writes(namespace, references, not_checked)
        written.sort(key=lambda w: w.at, reverse=True)
        matches = [
            ConfigMatch(text=text, config_map=name, key=key)
            for text in args.find
            for name, found in read.items()
            for key, value in sorted(((found.data if found else None) or {}).items())
            if text.lower() in str(value).lower()
        ]
        for reference in references:
            reference.state = (
                "not read (Secrets are not read)"
                if reference.kind == "Secret"
                else reference_state(reference, keys.get(reference.name))
                if reference.name in keys
                else "not read"
            )
        data = WorkloadConfigData(
            namespace=namespace,
            name=args.workload,
            kind=kind,
            autoscalers=autoscalers,
            references=references,
            config_keys={k: v for k, v in keys.items() if v is not None},
            written=written,
            matches=matches,
            not_checked=not_checked,
        )
        lines = [describe_autoscaler(h) for h in autoscalers] or [
            "No HorizontalPodAutoscaler targets it."
        ]
        lines += [describe_reference(r) for r in references] or [
            "Its pod template reads no ConfigMap or Secret."
        ]
        lines += [
            f"- ConfigMap {name} holds keys: {', '.join(held) or '(none)'}"
            for name, held in data.config_keys.items()
        ]
        lines += [f"- {w.object} last written {iso(w.at)} ({w.how})" for w in written]
        lines += [f"- {m.text!r} is in ConfigMap {m.config_map} key {m.key}" for m in matches] + [
            f"- {text!r} is in no referenced ConfigMap value"
            for text in args.find
            if not any(m.text == text for m in matches)
        ]
        lines += [f"Not checked: {note}" for note in not_checked]
        content, left_out = fit_items(
            f"{kind} {namespace}/{args.workload}:",
            lines,
            self.config.output.max_chars,
            lambda n: f"... and {n} more lines left out.",
        )
        broken = [r for r in references if r.state in ("missing key", "missing object")]  # required
        excerpt = (
            "; ".join(describe_reference(r)[2:] for r in broken)
            or "; ".join(describe_autoscaler(h) for h in autoscalers)
            or "no autoscaler; every referenced ConfigMap key present"
        )
        evidence = [
            self.evidence(
                f"GET /apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers "
                f"+ /api/v1/namespaces/{namespace}/configmaps/<name>",
                {},
                excerpt,
                dashboard_object("configmap", namespace, None),
            )
        ]
        return ToolResult.success(
            self.name, content, data=data, evidence=evidence, truncated=left_out > 0
        )

    def _autoscalers(
        self, namespace: str, kind: str, name: str, not_checked: list[str]
    ) -> list[AutoscalerInfo]:
        try:
            listed = kube_call(
                f"horizontalpodautoscalers in {namespace}",
                lambda: self.autoscaling.list_namespaced_horizontal_pod_autoscaler(
                    namespace, _request_timeout=self.timeout
                ),
            )
        except ToolFailure as failure:
            not_checked.append(_why("horizontalpodautoscalers", failure))
            return []
        return [
            autoscaler_info(hpa)
            for hpa in listed.items or []
            if _attr(hpa, "spec", "scale_target_ref", "name") == name
            and _attr(hpa, "spec", "scale_target_ref", "kind") == kind
        ]

    def _config_maps(
        self, namespace: str, references: list[ConfigReference], not_checked: list[str]
    ) -> dict[str, Any]:
        """Each referenced ConfigMap as read; None for one that does not exist."""
        found: dict[str, Any] = {}
        for name in dict.fromkeys(r.name for r in references if r.kind == "ConfigMap"):
            try:
                found[name] = kube_call(
                    f"configmap {namespace}/{name}",
                    lambda name=name: self.core.read_namespaced_config_map(  # type: ignore[misc]
                        name, namespace, _request_timeout=self.timeout
                    ),
                )
            except ToolFailure as failure:
                if failure.kind is ErrorKind.NOT_FOUND:
                    found[name] = None
                else:
                    not_checked.append(_why(f"configmap {name}", failure))
        return found

    def _secret_writes(
        self, namespace: str, references: list[ConfigReference], not_checked: list[str]
    ) -> list[ConfigWrite]:
        """When each referenced Secret was last written, from a metadata-only list (no value
        is fetched). The shipped read role does not grant Secrets (an opt-in `list` grant
        does), so a refusal is expected and not reported; other failures are."""
        names = {r.name for r in references if r.kind == "Secret"}
        if not names:
            return []
        try:
            listed = kube_call(
                f"secrets in {namespace} (metadata)",
                lambda: self.core.list_namespaced_secret(
                    namespace, _headers={"Accept": METADATA_ONLY}, _request_timeout=self.timeout
                ),
            )
        except ToolFailure as failure:
            if failure.kind not in (ErrorKind.UNAUTHORIZED, ErrorKind.NOT_FOUND):
                not_checked.append(_why("secret write times", failure))
            return []
        found = [_write_of("Secret", item) for item in listed.items or []]
        return [w for w in found if w is not None and w.object.split("/", 1)[1] in names]


def _keys_of(found: Any) -> list[str] | None:
    if found is None:
        return None
    return sorted({*(found.data or {}), *(found.binary_data or {})})


def _write_of(kind: str, found: Any) -> ConfigWrite | None:
    meta = getattr(found, "metadata", None)
    at, how = written_at(meta)
    if at is None or meta is None:
        return None
    return ConfigWrite(object=f"{kind}/{meta.name}", at=at, how=how)


def _why(what: str, failure: ToolFailure) -> str:
    if failure.kind is ErrorKind.UNAUTHORIZED:
        return f"{what}: the bot may not read them (RBAC)"
    if failure.kind is ErrorKind.NOT_FOUND:
        return f"{what}: this API server does not serve them (404)"
    return f"{what}: {failure.message}"
