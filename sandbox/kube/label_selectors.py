"""Label selectors (=, ==, !=, in, notin, exists, !key, gt, lt) and field selectors (=, ==, !=)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.kube.errors import bad_request

_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # =, !=, in, notin, exists, !, gt, lt
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        value = labels.get(self.key)
        if self.operator in ("=", "in", "!=", "notin"):
            found = value is not None and value in self.values
            return found if self.operator in ("=", "in") else not found
        if self.operator in ("exists", "!"):
            return (value is not None) == (self.operator == "exists")
        return _compare(value, self.values[0], greater=self.operator == "gt")


def _compare(value: str | None, bound: str, *, greater: bool) -> bool:
    try:
        number, limit = int(value or ""), int(bound)
    except ValueError:
        return False
    return number > limit if greater else number < limit


LabelSelector = tuple[Requirement, ...]


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _check_key(key: str, text: str) -> str:
    if not _KEY.match(key) or len(key.rsplit("/", maxsplit=1)[-1]) > 63:
        raise bad_request(f'unable to parse requirement: invalid label key "{key}": in {text!r}')
    return key


def _check_value(value: str, text: str) -> str:
    if len(value) > 63 or not _VALUE.match(value):
        raise bad_request(
            f'unable to parse requirement: invalid label value: "{value}": in {text!r}'
        )
    return value


_SET = re.compile(r"^(\S+)\s+(in|notin)\s*\((.*)\)$")
_COMPARE = re.compile(r"^([^!=<>\s]+)\s*(==|!=|=|>|<)\s*(.*)$")


def parse_label_selector(text: str | None) -> LabelSelector:
    if not text or not text.strip():
        return ()
    requirements: list[Requirement] = []
    for part in _split_top_level(text):
        if match := _SET.match(part):
            key, operator, raw_values = match.groups()
            values = tuple(
                _check_value(v.strip(), text) for v in raw_values.split(",") if v.strip()
            )
            requirements.append(Requirement(_check_key(key, text), operator, values))
        elif part.startswith("!"):
            requirements.append(Requirement(_check_key(part[1:].strip(), text), "!"))
        elif match := _COMPARE.match(part):
            key, operator, value = match.groups()
            value = value.strip()
            if operator in (">", "<"):
                if not value.lstrip("-").isdigit():
                    raise bad_request(
                        "unable to parse requirement: for 'Gt', 'Lt' operators, "
                        f"the value must be an integer: in {text!r}"
                    )
                requirements.append(
                    Requirement(_check_key(key, text), "gt" if operator == ">" else "lt", (value,))
                )
            else:
                op = "!=" if operator == "!=" else "="
                requirements.append(
                    Requirement(_check_key(key, text), op, (_check_value(value, text),))
                )
        elif re.match(r"^[^\s!=<>(),]+$", part):
            requirements.append(Requirement(_check_key(part, text), "exists"))
        else:
            raise bad_request(f"unable to parse requirement: found '{part}', expected: identifier")
    return tuple(requirements)


def labels_match(selector: LabelSelector, labels: Mapping[str, str] | None) -> bool:
    actual = labels or {}
    return all(requirement.matches(actual) for requirement in selector)


def selector_from_label_selector(spec: Mapping[str, Any] | None) -> LabelSelector:
    """A metav1.LabelSelector (matchLabels + matchExpressions) as requirements."""
    if not spec:
        return ()
    requirements = [
        Requirement(k, "=", (v,)) for k, v in sorted((spec.get("matchLabels") or {}).items())
    ]
    operators = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expression in spec.get("matchExpressions") or []:
        operator = operators.get(expression.get("operator", ""), "exists")
        requirements.append(
            Requirement(expression["key"], operator, tuple(expression.get("values") or ()))
        )
    return tuple(requirements)


def selector_string(spec: Mapping[str, Any] | None) -> str:
    """The canonical text form of a metav1.LabelSelector (as in Scale.status.selector)."""
    parts: list[str] = []
    for requirement in selector_from_label_selector(spec):
        if requirement.operator == "=":
            parts.append(f"{requirement.key}={requirement.values[0]}")
        elif requirement.operator in ("in", "notin"):
            parts.append(
                f"{requirement.key} {requirement.operator} ({','.join(requirement.values)})"
            )
        elif requirement.operator == "exists":
            parts.append(requirement.key)
        elif requirement.operator == "!":
            parts.append(f"!{requirement.key}")
    return ",".join(parts)


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    value: str
    negated: bool

    def matches(self, fields: Mapping[str, str]) -> bool:
        equal = fields.get(self.field, "") == self.value
        return not equal if self.negated else equal


FieldSelector = tuple[FieldRequirement, ...]


def parse_field_selector(text: str | None, supported: tuple[str, ...]) -> FieldSelector:
    if not text or not text.strip():
        return ()
    requirements: list[FieldRequirement] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        for operator in ("!=", "==", "="):
            if operator in part:
                name, value = part.split(operator, 1)
                break
        else:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        name = name.strip()
        if name not in supported:
            raise bad_request(f"field label not supported: {name}")
        requirements.append(FieldRequirement(name, value.strip(), operator == "!="))
    return tuple(requirements)


def fields_match(selector: FieldSelector, fields: Mapping[str, str]) -> bool:
    return all(requirement.matches(fields) for requirement in selector)


def _dig(obj: Mapping[str, Any], dotted: str) -> str:
    current: Any = obj
    for part in dotted.split("."):
        if not isinstance(current, Mapping):
            return ""
        current = current.get(part)
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


def object_fields(obj: Mapping[str, Any], supported: tuple[str, ...]) -> dict[str, str]:
    """The values field selectors see; absent booleans read as "false" like the real server."""
    fields = {name: _dig(obj, name) for name in supported}
    for name in ("spec.hostNetwork", "spec.unschedulable"):
        if name in fields and not fields[name]:
            fields[name] = "false"
    if "source" in fields:
        fields["source"] = _dig(obj, "source.component")
    return fields


FieldExtractor = Callable[[Mapping[str, Any]], dict[str, str]]
