"""Turn pydantic validation errors on a policy document into messages a person can act on."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError

from policies.actions import ActionKind
from policies.decision import Mode, Verdict
from policies.errors import did_you_mean
from policies.schema import DefaultsPatch, Freeze, Match, ModeOverride, PolicyFile, Rule
from policies.windows import DateRange, WeeklyWindow

DataPath = tuple[str | int, ...]

_MODEL_UNDER: dict[str, type[BaseModel]] = {
    "rules": Rule,
    "freezes": Freeze,
    "match": Match,
    "mode_overrides": ModeOverride,
    "defaults": DefaultsPatch,
    "weekly": WeeklyWindow,
    "dates": DateRange,
}
_ENUM_OF_FIELD: dict[str, tuple[str, type[StrEnum]]] = {
    "kinds": ("action kind", ActionKind),
    "verdict": ("verdict", Verdict),
    "mode": ("mode", Mode),
}


def _resolve(loc: tuple[str | int, ...], data: Any) -> DataPath:
    """The part of pydantic's `loc` that exists in the data (drops union/validator tags)."""
    path: list[str | int] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
            path.append(part)
    return tuple(path)


def _scope(path: DataPath, data: dict[str, Any]) -> tuple[str, int]:
    """("rule 'scale-prod': ", 2) for paths inside a named rule, freeze or mode override."""
    if len(path) < 2 or not isinstance(path[1], int):
        return "", 0
    section, index = path[0], path[1]
    if section in ("rules", "freezes"):
        item = data[section][index]
        name = item.get("name") if isinstance(item, dict) else None
        label = "rule" if section == "rules" else "freeze"
        return (f"{label} {name!r}: " if isinstance(name, str) else f"{section}[{index}]: "), 2
    if section == "mode_overrides":
        return f"mode_overrides[{index}]: ", 2
    return "", 0


def _dotted(path: DataPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _model_at(path: DataPath) -> type[BaseModel]:
    for part in reversed(path):
        if isinstance(part, str) and part in _MODEL_UNDER:
            return _MODEL_UNDER[part]
    return PolicyFile


def _message(error: Mapping[str, Any], path: DataPath, field: str) -> str:
    kind, loc, value = error["type"], error["loc"], error.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        return f"unknown key {key!r}{did_you_mean(key, _model_at(path[:-1]).model_fields)}"
    if kind == "missing":
        return f"missing required key {loc[-1]!r}"
    named = [part for part in path if isinstance(part, str)]
    if kind == "enum" and named and named[-1] in _ENUM_OF_FIELD:
        what, enum = _ENUM_OF_FIELD[named[-1]]
        hint = did_you_mean(str(value), [m.value for m in enum])
        if not hint:
            hint = f" (expected one of {', '.join(m.value for m in enum)})"
        return f"unknown {what} {value!r}{hint}"
    message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind not in ("value_error", "assertion_error") and isinstance(value, str | int | float):
        message += f" (got {value!r})"
    return f"{field}: {message}" if field else message


def describe_validation_error(
    error: ValidationError, data: dict[str, Any]
) -> list[tuple[DataPath, str]]:
    """(path in the data, message) per distinct problem; the path gives the line number."""
    found: list[tuple[DataPath, str]] = []
    for details in error.errors():
        path = _resolve(details["loc"], data)
        prefix, consumed = _scope(path, data)
        entry = (path, prefix + _message(details, path, _dotted(path[consumed:])))
        if entry not in found:
            found.append(entry)
    return found
