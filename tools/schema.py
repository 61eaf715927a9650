"""Turn a pydantic args model into a compact JSON schema for Claude's `input_schema`.

Pydantic's schema carries titles, `$defs` references and `anyOf [X, null]` for optional
fields. The model reads a flat schema better: references are inlined, titles dropped, and an
optional field is described by its non-null type (leaving it out means "not given").
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def tool_input_schema(model: type[BaseModel]) -> dict[str, Any]:
    raw = model.model_json_schema()
    defs: dict[str, Any] = raw.pop("$defs", {})
    schema = _inline(raw, defs)
    assert isinstance(schema, dict)
    schema.pop("description", None)
    schema["type"] = "object"
    schema.setdefault("properties", {})
    schema.setdefault("required", [])
    required = schema["required"]
    properties = schema["properties"]
    ordered = {name: properties[name] for name in required}  # what must be given comes first
    for name, prop in properties.items():
        if name not in ordered:
            ordered[name] = _drop_null_branch(prop)
    schema["properties"] = ordered
    return schema


def undocumented_properties(schema: dict[str, Any], path: str = "") -> list[str]:
    """Property paths that lack a description (every field the model sees needs one)."""
    missing: list[str] = []
    for name, prop in schema.get("properties", {}).items():
        where = f"{path}{name}"
        if not prop.get("description"):
            missing.append(where)
        if prop.get("type") == "object":
            missing.extend(undocumented_properties(prop, f"{where}."))
        items = prop.get("items")
        if isinstance(items, dict) and items.get("type") == "object":
            missing.extend(undocumented_properties(items, f"{where}[]."))
    return missing


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _inline(merged, defs)
    return {key: _inline(value, defs) for key, value in node.items() if key != "title"}


def _drop_null_branch(prop: dict[str, Any]) -> dict[str, Any]:
    branches = prop.get("anyOf")
    if not isinstance(branches, list):
        return prop
    non_null = [b for b in branches if b != {"type": "null"}]
    if len(non_null) != 1 or len(non_null) == len(branches):
        return prop
    simplified = {k: v for k, v in prop.items() if k != "anyOf"}
    simplified.update(non_null[0])
    if simplified.get("default", ...) is None:
        del simplified["default"]
    return simplified
