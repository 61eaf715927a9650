"""Deterministic identifiers: uids, name suffixes, container ids, pod IPs, template hashes."""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from typing import Any

# The alphabet Kubernetes uses for generated name suffixes and hashes (no vowels, no 0/1/3).
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
POD_TEMPLATE_HASH = "pod-template-hash"


class IdGenerator:
    """All randomness of the sandbox comes from one seeded generator, so runs repeat."""

    def __init__(self, seed: int = 0) -> None:
        self._random = random.Random(seed)  # noqa: S311 - reproducible ids, not secrets

    def uid(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def suffix(self, length: int = 5) -> str:
        return "".join(self._random.choice(SAFE_ALPHABET) for _ in range(length))

    def hex(self, length: int) -> str:
        return "".join(self._random.choice("0123456789abcdef") for _ in range(length))

    def container_id(self) -> str:
        return f"containerd://{self.hex(64)}"


def prune_empty(value: Any) -> Any:
    """Drop nulls, empty maps and empty lists, so Go's zero-value round trips compare equal."""
    if isinstance(value, dict):
        pruned = {key: prune_empty(item) for key, item in value.items()}
        return {key: item for key, item in pruned.items() if item not in (None, {}, [])}
    if isinstance(value, list):
        return [prune_empty(item) for item in value]
    return value


def comparable_template(template: dict[str, Any]) -> dict[str, Any]:
    """A pod template without the pod-template-hash label, pruned for comparison."""
    pruned = prune_empty(template)  # builds new containers, so it is safe to edit
    labels = (pruned.get("metadata") or {}).get("labels")
    if isinstance(labels, dict) and POD_TEMPLATE_HASH in labels:
        labels.pop(POD_TEMPLATE_HASH)
        pruned = prune_empty(pruned)
    result: dict[str, Any] = pruned
    return result


def templates_equal(left: dict[str, Any], right: dict[str, Any]) -> bool:
    return comparable_template(left) == comparable_template(right)


def pod_template_hash(template: dict[str, Any], collision_count: int = 0) -> str:
    """FNV-1a over the canonical template, its decimal digits spelled in SAFE_ALPHABET."""
    data = json.dumps(comparable_template(template), sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(collision_count).encode()
    value = 0x811C9DC5
    for byte in data:
        value ^= byte
        value = (value * 0x01000193) & 0xFFFFFFFF
    return "".join(SAFE_ALPHABET[int(digit) % len(SAFE_ALPHABET)] for digit in str(value))


def image_digest(image: str) -> str:
    return "sha256:" + hashlib.sha256(image.encode()).hexdigest()


def normalize_image(image: str) -> str:
    """`nginx` -> `docker.io/library/nginx:latest`, as containerd reports it."""
    name, tag = image, ""
    if "@" in name:
        return image
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    return f"{name}:{tag or 'latest'}"


def image_id(image: str) -> str:
    repository = normalize_image(image).rsplit(":", 1)[0]
    return f"{repository}@{image_digest(normalize_image(image))}"
