"""Object shapes checked against the generated models of the official `kubernetes` client.

The API server decodes bodies into Go structs: unknown fields are dropped (with a warning)
and wrongly typed values are refused with 400. The client's model definitions carry the
same schema, so they are the reference here; the tests use `schema_problems` to prove
every object the sandbox emits deserializes strictly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from kubernetes.client import models

from sandbox.kube.clock import format_micro_time, format_time, parse_time
from sandbox.kube.config_objects import base64_problem
from sandbox.kube.quantity import QuantityError, parse_quantity

QUANTITY_MAPS = frozenset(
    {"limits", "requests", "capacity", "allocatable", "allocatedResources", "hard", "used"}
)
# metav1.MicroTime fields keep microseconds; every other time is metav1.Time (seconds).
MICRO_TIME_FIELDS = frozenset({"acquireTime", "renewTime", "eventTime"})
_LIST = re.compile(r"^List\[(.*)\]$")
_DICT = re.compile(r"^Dict\[str, (.*)\]$")


@dataclass(frozen=True)
class ModelField:
    attribute: str
    type_name: str
    required: bool


@dataclass
class SchemaReport:
    unknown: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


@cache
def model_fields(model_name: str) -> dict[str, ModelField]:
    """JSON key -> field description of one generated model."""
    model = getattr(models, model_name)
    required = {
        info.serialization_alias or info.alias or name
        for name, info in model.model_fields.items()
        if info.is_required()
    }
    fields: dict[str, ModelField] = {}
    for attribute, json_key in model.attribute_map.items():
        fields[json_key] = ModelField(
            attribute, model.openapi_types[attribute], json_key in required
        )
    return fields


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# scalar type name -> (check, what the error calls it)
_SCALARS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "str": (lambda v: isinstance(v, str), "a string"),
    "int": (_is_int, "an integer"),
    "float": (_is_number, "a number"),
    "bool": (lambda v: isinstance(v, bool), "a boolean"),
    "datetime": (lambda v: isinstance(v, str) and _is_time(v), "an RFC 3339 time"),
    "object": (lambda v: True, "anything"),
}


def _conform_value(value: Any, type_name: str, path: str, key: str, report: SchemaReport) -> Any:
    if value is None:
        return None
    list_match, dict_match = _LIST.match(type_name), _DICT.match(type_name)
    if list_match or dict_match:
        return _conform_container(value, type_name, path, key, report)
    if type_name == "bytes":  # []byte travels as standard base64, refused otherwise
        problem = base64_problem(value) if isinstance(value, str) else "expected a string"
        if problem:
            report.errors.append(f"{path}: decode base64: {problem}")
        return value
    if type_name in _SCALARS:
        check, expected = _SCALARS[type_name]
        if not check(value):
            report.errors.append(f"{path}: expected {expected}, got {type(value).__name__}")
        elif type_name == "datetime":
            return _normalize_time(value, micro=key in MICRO_TIME_FIELDS)
        return value
    return conform(value, type_name, path, report)


def _conform_container(
    value: Any, type_name: str, path: str, key: str, report: SchemaReport
) -> Any:
    list_match = _LIST.match(type_name)
    if list_match:
        if not isinstance(value, list):
            report.errors.append(f"{path}: expected an array")
            return value
        inner = list_match.group(1)
        return [
            _conform_value(item, inner, f"{path}[{i}]", key, report) for i, item in enumerate(value)
        ]
    if not isinstance(value, dict):
        report.errors.append(f"{path}: expected an object")
        return value
    inner = type_name[len("Dict[str, ") : -1]
    if inner == "str" and key in QUANTITY_MAPS:
        return {
            name: _conform_quantity(item, f"{path}.{name}", report) for name, item in value.items()
        }
    return {
        name: _conform_value(item, inner, f"{path}.{name}", name, report)
        for name, item in value.items()
    }


def _conform_quantity(value: Any, path: str, report: SchemaReport) -> Any:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        report.errors.append(f"{path}: expected a quantity")
        return value
    try:
        parse_quantity(value)
    except QuantityError as exc:
        report.errors.append(f"{path}: {exc}")
        return value
    return str(value)


def _normalize_time(text: str, *, micro: bool) -> str:
    """Times are stored in UTC with a Z, as the API server re-serializes them."""
    when = parse_time(text)
    return format_micro_time(when) if micro else format_time(when)


def _is_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def conform(data: Any, model_name: str, path: str, report: SchemaReport) -> Any:
    """A copy of `data` with unknown fields dropped and quantities as strings."""
    if not isinstance(data, dict):
        report.errors.append(f"{path or '<root>'}: expected an object")
        return data
    fields = model_fields(model_name)
    result: dict[str, Any] = {}
    for key, value in data.items():
        child = f"{path}.{key}" if path else key
        spec = fields.get(key)
        if spec is None:
            report.unknown.append(child)
            continue
        result[key] = _conform_value(value, spec.type_name, child, key, report)
    for key, spec in fields.items():
        if spec.required and data.get(key) is None:
            report.missing.append(f"{path}.{key}" if path else key)
    return result


def schema_problems(data: Any, model_name: str) -> list[str]:
    """Every unknown field, wrongly typed value and missing required field, for tests."""
    report = SchemaReport()
    conform(data, model_name, "", report)
    return (
        [f"unknown field {name}" for name in report.unknown]
        + report.errors
        + [f"missing required field {name}" for name in report.missing]
    )
