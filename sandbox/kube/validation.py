"""Field validation with the real API server's wording; problems become 422 Invalid causes."""

from __future__ import annotations

import json
import re
from typing import Any

from sandbox.kube.errors import Cause
from sandbox.kube.label_selectors import labels_match, selector_from_label_selector
from sandbox.kube.objects import clone
from sandbox.kube.quantity import QuantityError, parse_quantity

JsonDict = dict[str, Any]
CLUSTER_SCOPED = frozenset({"namespaces", "nodes", "persistentvolumes", "storageclasses"})

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
NAME_PART_HELP = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character"
)
LABEL_VALUE_HELP = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character"
)
PERCENT_HELP = (
    "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or "
    "'93%', regex used for validation is '[0-9]+%')"
)
SUBDOMAIN_HELP = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_HELP = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


def show(value: Any) -> str:
    """How Go's field errors print a bad value."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value) if isinstance(value, int | float) else json.dumps(value)


def invalid_value(path: str, value: Any, detail: str) -> Cause:
    return Cause(path, "FieldValueInvalid", f"Invalid value: {show(value)}: {detail}")


def required(path: str, detail: str = "") -> Cause:
    return Cause(path, "FieldValueRequired", f"Required value{': ' + detail if detail else ''}")


def validate_subdomain(path: str, name: Any) -> list[Cause]:
    if not isinstance(name, str) or len(name) > 253 or not _SUBDOMAIN.match(name):
        return [invalid_value(path, name, SUBDOMAIN_HELP)]
    return []


def validate_label_name(path: str, name: Any) -> list[Cause]:
    if not isinstance(name, str) or len(name) > 63 or not _LABEL.match(name):
        return [invalid_value(path, name, LABEL_HELP)]
    return []


def validate_labels(path: str, labels: Any) -> list[Cause]:
    causes: list[Cause] = []
    for key, value in (labels or {}).items():
        name = key.split("/", 1)[-1]
        prefix = key.split("/", 1)[0] if "/" in key else None
        if (
            len(name) > 63
            or not _QUALIFIED_NAME.match(name)
            or (prefix is not None and not _SUBDOMAIN.match(prefix))
        ):
            causes.append(
                invalid_value(
                    path,
                    key,
                    NAME_PART_HELP,
                )
            )
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
            causes.append(
                invalid_value(
                    f"{path}",
                    value,
                    LABEL_VALUE_HELP,
                )
            )
    return causes


def validate_metadata(meta: JsonDict, *, namespaced: bool, label_name: bool = False) -> list[Cause]:
    causes: list[Cause] = []
    name = meta.get("name")
    if not name:
        causes.append(required("metadata.name", "name or generateName is required"))
    elif label_name:
        causes += validate_label_name("metadata.name", name)
    else:
        causes += validate_subdomain("metadata.name", name)
    if namespaced and not meta.get("namespace"):
        causes.append(required("metadata.namespace"))
    causes += validate_labels("metadata.labels", meta.get("labels"))
    return causes


def _non_negative(path: str, value: Any) -> list[Cause]:
    if isinstance(value, int) and value < 0:
        return [invalid_value(path, value, "must be greater than or equal to 0")]
    return []


def _validate_resources(path: str, resources: Any) -> list[Cause]:
    causes: list[Cause] = []
    limits = (resources or {}).get("limits") or {}
    requests = (resources or {}).get("requests") or {}
    for name, request in requests.items():
        if name in limits:
            try:
                too_big = parse_quantity(request) > parse_quantity(limits[name])
            except QuantityError:
                continue
            if too_big:
                causes.append(
                    invalid_value(
                        f"{path}.requests",
                        request,
                        f"must be less than or equal to {name} limit of {limits[name]}",
                    )
                )
    return causes


def validate_pod_spec(path: str, spec: Any, *, template: bool) -> list[Cause]:
    if not isinstance(spec, dict):
        return [required(path)]
    causes: list[Cause] = []
    containers = spec.get("containers")
    if not containers:
        causes.append(required(f"{path}.containers"))
    seen: set[str] = set()
    for index, container in enumerate(containers or []):
        at = f"{path}.containers[{index}]"
        name = container.get("name")
        if not name:
            causes.append(required(f"{at}.name"))
        else:
            causes += validate_label_name(f"{at}.name", name)
            if name in seen:
                causes.append(
                    Cause(f"{at}.name", "FieldValueDuplicate", f"Duplicate value: {show(name)}")
                )
            seen.add(name)
        if not container.get("image") and not template:
            causes.append(required(f"{at}.image"))
        for port_index, port in enumerate(container.get("ports") or []):
            number = port.get("containerPort")
            if not isinstance(number, int) or not 0 < number < 65536:
                causes.append(
                    invalid_value(
                        f"{at}.ports[{port_index}].containerPort",
                        number,
                        "must be between 1 and 65535, inclusive",
                    )
                )
        causes += _validate_resources(f"{at}.resources", container.get("resources"))
    if template and spec.get("restartPolicy", "Always") != "Always":
        causes.append(
            Cause(
                f"{path}.restartPolicy",
                "FieldValueNotSupported",
                f'Unsupported value: {show(spec["restartPolicy"])}: supported values: "Always"',
            )
        )
    return causes


def _percent_or_int(path: str, value: Any) -> list[Cause]:
    if isinstance(value, str) and not re.match(r"^[0-9]+%$", value):
        return [
            invalid_value(
                path,
                value,
                PERCENT_HELP,
            )
        ]
    return _non_negative(path, value)


def _is_zero(value: Any) -> bool:
    return value in (0, "0%")


def validate_workload(obj: JsonDict, *, deployment: bool) -> list[Cause]:
    spec = obj.get("spec") or {}
    causes = _non_negative("spec.replicas", spec.get("replicas"))
    selector = spec.get("selector")
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        causes.append(required("spec.selector"))
    elif not labels_match(selector_from_label_selector(selector), labels):
        causes.append(
            invalid_value(
                "spec.template.metadata.labels",
                labels,
                "`selector` does not match template `labels`",
            )
        )
    if not spec.get("template"):
        causes.append(required("spec.template"))
    else:
        causes += validate_labels("spec.template.metadata.labels", labels)
        causes += validate_pod_spec("spec.template.spec", template.get("spec"), template=True)
    if deployment:
        causes += _non_negative("spec.revisionHistoryLimit", spec.get("revisionHistoryLimit"))
        rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        causes += _percent_or_int("spec.strategy.rollingUpdate.maxSurge", rolling.get("maxSurge"))
        causes += _percent_or_int(
            "spec.strategy.rollingUpdate.maxUnavailable", rolling.get("maxUnavailable")
        )
        if (
            rolling
            and _is_zero(rolling.get("maxSurge"))
            and _is_zero(rolling.get("maxUnavailable"))
        ):
            causes.append(
                invalid_value(
                    "spec.strategy.rollingUpdate.maxUnavailable",
                    rolling.get("maxUnavailable"),
                    "may not be 0 when `maxSurge` is 0",
                )
            )
        deadline = spec.get("progressDeadlineSeconds")
        if isinstance(deadline, int) and deadline <= (spec.get("minReadySeconds") or 0):
            causes.append(
                invalid_value(
                    "spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"
                )
            )
    return causes


def validate_object(plural: str, obj: JsonDict) -> list[Cause]:
    meta = obj.get("metadata") or {}
    namespaced = plural not in CLUSTER_SCOPED
    causes = validate_metadata(meta, namespaced=namespaced, label_name=plural == "namespaces")
    if plural == "pods":
        causes += validate_pod_spec("spec", obj.get("spec"), template=False)
    elif plural in ("deployments", "replicasets"):
        causes += validate_workload(obj, deployment=plural == "deployments")
    elif plural == "leases":
        spec = obj.get("spec") or {}
        duration = spec.get("leaseDurationSeconds")
        if isinstance(duration, int) and duration <= 0:
            causes.append(
                invalid_value("spec.leaseDurationSeconds", duration, "must be greater than 0")
            )
        causes += _non_negative("spec.leaseTransitions", spec.get("leaseTransitions"))
    elif plural == "events":
        involved = obj.get("involvedObject") or {}
        if involved.get("namespace") and involved.get("namespace") != meta.get("namespace"):
            causes.append(
                invalid_value(
                    "involvedObject.namespace",
                    involved.get("namespace"),
                    "does not match event.namespace",
                )
            )
    return causes


def validate_pod_update(old: JsonDict, new: JsonDict) -> list[Cause]:
    """Pods are mostly immutable: only images, tolerations additions and a few fields change."""

    def mutable_view(spec: JsonDict) -> JsonDict:
        view = clone(spec)
        for container in view.get("containers") or []:
            container.pop("image", None)
        for key in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
            view.pop(key, None)
        return view

    if mutable_view(old.get("spec") or {}) != mutable_view(new.get("spec") or {}):
        message = (
            "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
            "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
            "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
            "(allow it to be set to 1 if it was previously negative)"
        )
        return [Cause("spec", "FieldValueForbidden", message)]
    return []
