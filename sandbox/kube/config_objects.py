"""ConfigMaps, Secrets and HorizontalPodAutoscalers: defaults, validation and table rows.

Follows the real server (Kubernetes 1.33): a Secret's `data` is `map[string][]byte`, so the
wire form is standard base64 and anything else is refused at decode time (400, "illegal
base64 data at input byte N"); `stringData` is write-only and merged into `data` on every
write; keys of both kinds must be valid config keys; an `immutable` object's payload cannot
change; `type` cannot change. HPAs (autoscaling/v2) default `minReplicas` to 1 and, without
metrics, to 80% CPU utilisation, and are validated as `ValidateHorizontalPodAutoscaler`.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Any

from sandbox.kube.errors import Cause
from sandbox.kube.table_columns import AGE, NAME, age, column
from sandbox.kube.validation import invalid_value, required

JsonDict = dict[str, Any]
Row = list[Any]
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
CONFIG_KEY_HELP = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
)
MAX_PAYLOAD_BYTES = 1024 * 1024
_BASE64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
DEFAULT_CPU_UTILIZATION = 80
IMMUTABLE_SET = "Forbidden: field is immutable when `immutable` is set"


def base64_problem(text: str) -> str | None:
    """Why `text` is not standard padded base64 (Go's wording), or None when it is."""
    stripped = text.replace("\r", "").replace("\n", "")
    body = stripped.rstrip("=")
    for index, char in enumerate(body):
        if char not in _BASE64_ALPHABET:
            return f"illegal base64 data at input byte {index}"
    padding = len(stripped) - len(body)
    if padding > 2 or len(stripped) % 4 or (padding and len(body) % 4 in (0, 1)):
        return f"illegal base64 data at input byte {len(stripped) - len(stripped) % 4}"
    return None


def default_secret(obj: JsonDict) -> None:
    """`type: Opaque` unless given; `stringData` encoded into `data` (it wins) and dropped."""
    obj.setdefault("type", "Opaque")
    plain = obj.pop("stringData", None) or {}
    if plain:
        data = obj.setdefault("data", {}) or {}
        for key, value in plain.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        obj["data"] = data


def default_autoscaler(obj: JsonDict) -> None:
    """autoscaling/v2 defaults: minReplicas 1, and 80% CPU utilisation when no metric is set."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("minReplicas", 1)
    if not spec.get("metrics"):
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {
                        "type": "Utilization",
                        "averageUtilization": DEFAULT_CPU_UTILIZATION,
                    },
                },
            }
        ]


def _keys(path: str, mapping: Any) -> list[Cause]:
    causes: list[Cause] = []
    for key in mapping or {}:
        if not _CONFIG_KEY.match(key) or key in (".", ".."):
            causes.append(invalid_value(f"{path}[{key}]", key, CONFIG_KEY_HELP))
    return causes


def _secret_size(obj: JsonDict) -> int:
    total = 0
    for value in (obj.get("data") or {}).values():
        try:
            total += len(base64.b64decode(value))
        except ValueError:
            continue
    return total


def validate_secret(obj: JsonDict) -> list[Cause]:
    causes = _keys("data", obj.get("data"))
    if _secret_size(obj) > MAX_PAYLOAD_BYTES:
        causes.append(
            Cause(
                "data",
                "FieldValueTooLong",
                f"Too long: may not be more than {MAX_PAYLOAD_BYTES} bytes",
            )
        )
    if obj.get("type") == "kubernetes.io/tls":
        for key in ("tls.crt", "tls.key"):
            if key not in (obj.get("data") or {}):
                causes.append(required(f"data[{key}]"))
    return causes


def validate_config_map(obj: JsonDict) -> list[Cause]:
    data, binary = obj.get("data") or {}, obj.get("binaryData") or {}
    causes = _keys("data", data) + _keys("binaryData", binary)
    for key in binary:
        if key in data:
            causes.append(
                invalid_value(f"data[{key}]", key, "duplicate of key present in binaryData")
            )
    return causes


def validate_autoscaler(obj: JsonDict) -> list[Cause]:
    spec = obj.get("spec") or {}
    causes: list[Cause] = []
    target = spec.get("scaleTargetRef") or {}
    if not target.get("kind"):
        causes.append(required("spec.scaleTargetRef.kind"))
    if not target.get("name"):
        causes.append(required("spec.scaleTargetRef.name"))
    low, high = spec.get("minReplicas"), spec.get("maxReplicas")
    if isinstance(low, int) and low < 1:
        causes.append(invalid_value("spec.minReplicas", low, "must be greater than or equal to 1"))
    if not isinstance(high, int) or high < 1:
        causes.append(invalid_value("spec.maxReplicas", high, "must be greater than 0"))
    elif isinstance(low, int) and high < low:
        causes.append(
            invalid_value(
                "spec.maxReplicas", high, "must be greater than or equal to `minReplicas`"
            )
        )
    return causes


def validate_config_object(plural: str, obj: JsonDict) -> list[Cause]:
    """Create-time rules of ConfigMaps, Secrets and HPAs (empty for every other kind)."""
    rules = {
        "configmaps": validate_config_map,
        "secrets": validate_secret,
        "horizontalpodautoscalers": validate_autoscaler,
    }
    rule = rules.get(plural)
    return rule(obj) if rule else []


def validate_config_update(plural: str, old: JsonDict, new: JsonDict) -> list[Cause]:
    """Update rules: an immutable payload stays, `immutable` cannot be unset, nor `type` change."""
    if plural not in ("configmaps", "secrets"):
        return []
    causes: list[Cause] = []
    if old.get("immutable"):
        fields = ("data",) if plural == "secrets" else ("data", "binaryData")
        for name in fields:
            if (old.get(name) or {}) != (new.get(name) or {}):
                causes.append(Cause(name, "FieldValueForbidden", IMMUTABLE_SET))
        if not new.get("immutable"):
            causes.append(Cause("immutable", "FieldValueForbidden", IMMUTABLE_SET))
    if plural == "secrets" and old.get("type") != new.get("type"):
        causes.append(invalid_value("type", new.get("type"), "field is immutable"))
    return causes


def _config_map_row(obj: JsonDict, now: datetime) -> Row:
    count = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    return [obj["metadata"]["name"], count, age(obj, now)]


def _secret_row(obj: JsonDict, now: datetime) -> Row:
    return [obj["metadata"]["name"], obj.get("type", ""), len(obj.get("data") or {}), age(obj, now)]


def _targets(obj: JsonDict) -> str:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    current = status.get("currentMetrics") or []
    cells = []
    for index, metric in enumerate(spec.get("metrics") or []):
        target = (metric.get("resource") or {}).get("target") or {}
        wanted = target.get("averageUtilization")
        seen = ((current[index] if index < len(current) else {}).get("resource") or {}).get(
            "current"
        ) or {}
        now_value = seen.get("averageUtilization")
        if wanted is None:
            cells.append("<unknown>")
            continue
        name = (metric.get("resource") or {}).get("name", "")
        shown = f"{now_value}%" if now_value is not None else "<unknown>"
        cells.append(f"{name}: {shown}/{wanted}%")
    return ", ".join(cells) or "<none>"


def _autoscaler_row(obj: JsonDict, now: datetime) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    target = spec.get("scaleTargetRef") or {}
    return [
        obj["metadata"]["name"],
        f"{target.get('kind', '')}/{target.get('name', '')}",
        _targets(obj),
        spec.get("minReplicas", 1),
        spec.get("maxReplicas", 0),
        status.get("currentReplicas", 0),
        age(obj, now),
    ]


CONFIG_PRINTERS: dict[str, tuple[list[JsonDict], Any]] = {
    "configmaps": ([NAME, column("Data", "integer"), AGE], _config_map_row),
    "secrets": ([NAME, column("Type"), column("Data", "integer"), AGE], _secret_row),
    "horizontalpodautoscalers": (
        [
            NAME,
            column("Reference"),
            column("Targets"),
            column("MinPods", "integer"),
            column("MaxPods", "integer"),
            column("Replicas", "integer"),
            AGE,
        ],
        _autoscaler_row,
    ),
}
