"""Where a finding's raw evidence waits for its "Show evidence" button: the exact queries and
tool output, kept in the cache (Redis when configured) for two weeks under a short key the
button carries. Slack's button values hold 2,000 characters; a finding's evidence does not."""

from __future__ import annotations

import hashlib
import json

from pydantic import TypeAdapter, ValidationError

from bot.cache import Cache
from tools.base import Evidence

KEEP_SECONDS = 14 * 24 * 3600
_EVIDENCE = TypeAdapter(list[Evidence])


def _key(ref: str) -> str:
    return f"finding-evidence:{ref}"


def shelve(cache: Cache, evidence: list[Evidence]) -> str:
    """Keep the evidence; returns the reference the button carries (same evidence, same ref)."""
    raw = _EVIDENCE.dump_json(evidence)
    ref = hashlib.sha256(raw).hexdigest()[:24]
    cache.set(_key(ref), raw, ttl=KEEP_SECONDS)
    return ref


def take(cache: Cache, ref: str) -> list[Evidence] | None:
    """The evidence behind `ref`, or None when it is gone (expired, or never kept here)."""
    raw = cache.get(_key(ref))
    if raw is None:
        return None
    try:
        return _EVIDENCE.validate_json(raw)
    except (ValidationError, json.JSONDecodeError):
        return None
