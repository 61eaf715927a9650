"""The object store: one global resourceVersion counter, a watch history and subscribers.

Callers hold the cluster lock around every call. Stored objects are private copies; what
`get`/`items` return must be treated as read-only (copy before changing).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.kube.objects import clone

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED
    plural: str
    namespace: str
    obj: JsonDict
    previous: JsonDict | None
    resource_version: int


Listener = Callable[[WatchEvent], None]


class TooOld(Exception):
    """A watch asked to resume from a resourceVersion the history no longer holds."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


class ObjectStore:
    def __init__(self, history_limit: int = 20000, first_version: int = 1000) -> None:
        self._objects: dict[str, dict[tuple[str, str], JsonDict]] = {}
        self._history: deque[WatchEvent] = deque(maxlen=history_limit)
        self._listeners: dict[int, tuple[str, Listener]] = {}
        self._listener_ids = itertools.count(1)
        self.resource_version = first_version
        self._compacted_before = first_version

    def get(self, plural: str, namespace: str | None, name: str) -> JsonDict | None:
        return self._objects.get(plural, {}).get((namespace or "", name))

    def items(self, plural: str, namespace: str | None = None) -> list[JsonDict]:
        bucket = self._objects.get(plural, {})
        keys = sorted(key for key in bucket if namespace is None or key[0] == namespace)
        return [bucket[key] for key in keys]

    def count(self, plural: str) -> int:
        return len(self._objects.get(plural, {}))

    def put(self, plural: str, obj: JsonDict) -> JsonDict:
        """Store a new or changed object under a fresh resourceVersion; returns the stored copy."""
        meta = obj["metadata"]
        key = (meta.get("namespace") or "", meta["name"])
        bucket = self._objects.setdefault(plural, {})
        previous = bucket.get(key)
        self.resource_version += 1
        stored = clone(obj)
        stored["metadata"]["resourceVersion"] = str(self.resource_version)
        bucket[key] = stored
        self._emit(
            WatchEvent(
                "MODIFIED" if previous else "ADDED",
                plural,
                key[0],
                stored,
                previous,
                self.resource_version,
            )
        )
        return stored

    def remove(self, plural: str, namespace: str | None, name: str) -> JsonDict | None:
        bucket = self._objects.get(plural, {})
        previous = bucket.pop((namespace or "", name), None)
        if previous is None:
            return None
        self.resource_version += 1
        final = clone(previous)
        final["metadata"]["resourceVersion"] = str(self.resource_version)
        self._emit(
            WatchEvent("DELETED", plural, namespace or "", final, previous, self.resource_version)
        )
        return final

    def _emit(self, event: WatchEvent) -> None:
        if len(self._history) == self._history.maxlen:
            self._compacted_before = self._history[0].resource_version
        self._history.append(event)
        for plural, listener in list(self._listeners.values()):
            if plural == event.plural:
                listener(event)

    def events_since(self, plural: str, resource_version: int) -> list[WatchEvent]:
        if resource_version < self._compacted_before:
            raise TooOld(resource_version, self._compacted_before)
        return [
            e for e in self._history if e.plural == plural and e.resource_version > resource_version
        ]

    def subscribe(self, plural: str, listener: Listener) -> int:
        token = next(self._listener_ids)
        self._listeners[token] = (plural, listener)
        return token

    def unsubscribe(self, token: int) -> None:
        self._listeners.pop(token, None)
