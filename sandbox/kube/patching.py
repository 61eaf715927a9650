"""The three patch types the API server accepts: JSON merge, JSON patch and strategic merge."""

from __future__ import annotations

from typing import Any

from sandbox.kube.errors import ApiError, bad_request
from sandbox.kube.objects import clone

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)

# patchMergeKey of list fields in core/v1 and apps/v1 (a field name identifies it well enough).
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "conditions": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
    "addresses": "type",
    "podIPs": "ip",
    "hostIPs": "ip",
    "resourceClaims": "name",
    "topologySpreadConstraints": "topologyKey",
}
# Lists of scalars merged as sets.
MERGED_SCALAR_LISTS = frozenset({"finalizers"})


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: maps merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return clone(patch)
    result = clone(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise bad_request(f"invalid JSON pointer: {path!r}")
    return [_unescape(token) for token in path.split("/")[1:]] if path else []


def _failed(message: str) -> ApiError:
    return ApiError(422, "Invalid", message)


def _parent(doc: Any, tokens: list[str], op: str) -> tuple[Any, str]:
    current = doc
    for token in tokens[:-1]:
        if isinstance(current, dict) and token in current:
            current = current[token]
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            raise _failed(
                f"{op} operation does not apply: doc is missing path: /{'/'.join(tokens)}"
            )
    return current, tokens[-1]


def _get(doc: Any, tokens: list[str], op: str) -> Any:
    if not tokens:
        return doc
    parent, last = _parent(doc, tokens, op)
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise _failed(f"{op} operation does not apply: doc is missing path: /{'/'.join(tokens)}")


def _add(doc: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent, last = _parent(doc, tokens, "add")
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise _failed(f"add operation does not apply: index out of bounds: /{'/'.join(tokens)}")
    else:
        raise _failed(f"add operation does not apply: doc is missing path: /{'/'.join(tokens)}")
    return doc


def _remove(doc: Any, tokens: list[str], op: str) -> Any:
    if not tokens:
        raise _failed(f"{op} operation does not apply: cannot remove the root")
    parent, last = _parent(doc, tokens, op)
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise _failed(f"{op} operation does not apply: doc is missing key: /{'/'.join(tokens)}")


def _replace(doc: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    _get(doc, tokens, "replace")
    parent, last = _parent(doc, tokens, "replace")
    parent[int(last) if isinstance(parent, list) else last] = value
    return doc


def _apply_operation(doc: Any, operation: dict[str, Any]) -> Any:
    op = operation["op"]
    tokens = _pointer(operation.get("path"))
    value = clone(operation.get("value"))
    if op == "add":
        return _add(doc, tokens, value)
    if op == "remove":
        _remove(doc, tokens, "remove")
        return doc
    if op == "replace":
        return _replace(doc, tokens, value)
    if op in ("move", "copy"):
        source = _pointer(operation.get("from"))
        moved = _remove(doc, source, op) if op == "move" else clone(_get(doc, source, op))
        return _add(doc, tokens, moved)
    if op == "test":
        if _get(doc, tokens, "test") != operation.get("value"):
            raise _failed(f"testing value /{'/'.join(tokens)} failed: test failed")
        return doc
    raise bad_request(f"Unexpected kind: {op}")


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902: add, remove, replace, move, copy, test."""
    if not isinstance(operations, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = clone(target)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation:
            raise bad_request("Unexpected kind: missing op")
        doc = _apply_operation(doc, operation)
    return doc


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Kubernetes strategic merge: lists with a merge key merge element-wise, directives apply."""
    if not isinstance(patch, dict):
        raise bad_request("strategic merge patch must be a JSON object")
    return _merge_map(target if isinstance(target, dict) else {}, patch)


def _merge_map(original: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any] | None:
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: clone(v) for k, v in patch.items() if k != "$patch"}
    result = clone(original)
    orders: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/"):
            orders[key.split("/", 1)[1]] = value
        elif key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            result[name] = [item for item in result.get(name) or [] if item not in (value or [])]
        elif key not in ("$patch", "$retainKeys"):
            _merge_key(result, key, value)
    for name, order in orders.items():
        if isinstance(result.get(name), list):
            result[name] = _apply_order(name, result[name], order)
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_key(result: dict[str, Any], key: str, value: Any) -> None:
    if isinstance(value, dict):
        current = result.get(key)
        merged = _merge_map(current if isinstance(current, dict) else {}, value)
        if merged is not None:
            result[key] = merged
            return
    elif isinstance(value, list):
        result[key] = _merge_list(key, result.get(key), value)
        return
    elif value is not None:
        result[key] = clone(value)
        return
    result.pop(key, None)


def _merge_list(name: str, original: Any, patch: list[Any]) -> list[Any]:
    current = clone(original) if isinstance(original, list) else []
    key = MERGE_KEYS.get(name)
    if name in MERGED_SCALAR_LISTS:
        return current + [item for item in patch if item not in current]
    if key is None or not all(isinstance(item, dict) for item in patch):
        return [clone(item) for item in patch if not (isinstance(item, dict) and "$patch" in item)]
    if any(item.get("$patch") == "replace" for item in patch):
        return [clone(item) for item in patch if item.get("$patch") != "replace"]
    for item in patch:
        if key not in item:
            raise bad_request(f"map: {item} does not contain declared merge key: {key}")
        index = next(
            (
                i
                for i, old in enumerate(current)
                if isinstance(old, dict) and old.get(key) == item[key]
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                current.pop(index)
            continue
        if index is None:
            merged = _merge_map({}, item)
            if merged is not None:
                current.append(merged)
        else:
            merged = _merge_map(current[index], item)
            if merged is None:
                current.pop(index)
            else:
                current[index] = merged
    return current


def _apply_order(name: str, items: list[Any], order: list[Any]) -> list[Any]:
    key = MERGE_KEYS.get(name)

    def identity(item: Any) -> Any:
        return item.get(key) if key and isinstance(item, dict) else item

    wanted = [identity(entry) for entry in order]
    ranked = sorted(
        range(len(items)),
        key=lambda i: (
            wanted.index(identity(items[i])) if identity(items[i]) in wanted else len(wanted),
            i,
        ),
    )
    return [items[i] for i in ranked]


def apply_patch(target: dict[str, Any], patch: Any, content_type: str) -> Any:
    if content_type == JSON_PATCH:
        return json_patch(target, patch)
    if content_type == MERGE_PATCH:
        if not isinstance(patch, dict):
            raise bad_request("merge patch must be a JSON object")
        return merge_patch(target, patch)
    return strategic_merge_patch(target, patch)
