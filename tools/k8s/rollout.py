"""What changed between two pod templates (two rollout revisions), as readable changes.

Templates are compared as the API serialises them (camelCase dicts). Containers are matched
by name; image, env, resources, command and args are compared field by field, anything else
as a whole value. The `pod-template-hash` label is the ReplicaSet's own and is ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

IGNORED_LABELS = ("pod-template-hash",)
VALUE_CHARS = 200


class TemplateChange(BaseModel):
    field: str
    old: str | None
    new: str | None

    def describe(self) -> str:
        return f"{self.field}: {self.old or '(none)'} -> {self.new or '(none)'}"


def compact(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def template_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[TemplateChange]:
    old_meta, new_meta = old.get("metadata") or {}, new.get("metadata") or {}
    changes = _map_changes(
        "labels",
        _without(old_meta.get("labels"), IGNORED_LABELS),
        _without(new_meta.get("labels"), IGNORED_LABELS),
    )
    changes += _map_changes("annotations", old_meta.get("annotations"), new_meta.get("annotations"))
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    for kind in ("initContainers", "containers"):
        changes += _containers_changes(kind, old_spec.get(kind) or [], new_spec.get(kind) or [])
    for key in sorted((set(old_spec) | set(new_spec)) - {"containers", "initContainers"}):
        if old_spec.get(key) != new_spec.get(key):
            changes.append(
                TemplateChange(
                    field=f"spec.{key}",
                    old=compact(old_spec.get(key)),
                    new=compact(new_spec.get(key)),
                )
            )
    return changes


def _containers_changes(
    kind: str, old: list[Mapping[str, Any]], new: list[Mapping[str, Any]]
) -> list[TemplateChange]:
    old_by_name = {str(c.get("name")): c for c in old}
    new_by_name = {str(c.get("name")): c for c in new}
    changes: list[TemplateChange] = []
    for name in sorted(set(old_by_name) | set(new_by_name)):
        prefix = f"{kind}[{name}]"
        before, after = old_by_name.get(name), new_by_name.get(name)
        if before is None or after is None:
            changes.append(
                TemplateChange(
                    field=prefix,
                    old=compact(before.get("image")) if before else None,
                    new=compact(after.get("image")) if after else None,
                )
            )
            continue
        changes += _container_changes(prefix, before, after)
    return changes


def _container_changes(
    prefix: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> list[TemplateChange]:
    changes: list[TemplateChange] = []
    if old.get("image") != new.get("image"):
        changes.append(
            TemplateChange(field=f"{prefix}.image", old=old.get("image"), new=new.get("image"))
        )
    changes += _map_changes(f"{prefix}.env", _env(old.get("env")), _env(new.get("env")))
    old_resources, new_resources = old.get("resources") or {}, new.get("resources") or {}
    for part in ("requests", "limits"):
        changes += _map_changes(
            f"{prefix}.resources.{part}", old_resources.get(part), new_resources.get(part)
        )
    handled = {"name", "image", "env", "resources"}
    for key in sorted((set(old) | set(new)) - handled):
        if old.get(key) != new.get(key):
            changes.append(
                TemplateChange(
                    field=f"{prefix}.{key}", old=compact(old.get(key)), new=compact(new.get(key))
                )
            )
    return changes


def _env(items: list[Mapping[str, Any]] | None) -> dict[str, Any]:
    """Env vars by name: the literal value, or the valueFrom reference as JSON."""
    env: dict[str, Any] = {}
    for item in items or []:
        name = str(item.get("name"))
        env[name] = (
            item.get("value") if "valueFrom" not in item else {"valueFrom": item["valueFrom"]}
        )
    return env


def _map_changes(
    prefix: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> list[TemplateChange]:
    before, after = dict(old or {}), dict(new or {})
    return [
        TemplateChange(
            field=f"{prefix}.{key}", old=compact(before.get(key)), new=compact(after.get(key))
        )
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]


def _without(labels: Mapping[str, Any] | None, ignored: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in (labels or {}).items() if k not in ignored}
