"""Watch streams: newline-delimited JSON events, resumable by resourceVersion, with bookmarks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.kube.errors import gone
from sandbox.kube.label_selectors import (
    FieldSelector,
    LabelSelector,
    fields_match,
    labels_match,
    object_fields,
)
from sandbox.kube.resources import ResourceType
from sandbox.kube.store import TooOld, WatchEvent
from sandbox.kube.tables import to_table

if TYPE_CHECKING:
    from sandbox.kube.cluster import Cluster

JsonDict = dict[str, Any]
BOOKMARK_INTERVAL = 5.0


@dataclass(frozen=True)
class WatchRequest:
    resource: ResourceType
    namespace: str | None
    labels: LabelSelector
    fields: FieldSelector
    resource_version: str | None
    timeout_seconds: float
    bookmarks: bool
    send_initial_events: bool
    as_table: bool


class WatchHub:
    """Tracks open watch queues so shutdown can end every stream at once."""

    def __init__(self) -> None:
        self._queues: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[WatchEvent | None]]] = (
            set()
        )
        self.closed = False

    def add(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[WatchEvent | None]) -> None:
        self._queues.add((loop, queue))

    def discard(
        self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[WatchEvent | None]
    ) -> None:
        self._queues.discard((loop, queue))

    def close(self) -> None:
        self.closed = True
        for loop, queue in list(self._queues):
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, None)


def _visible(request: WatchRequest, obj: JsonDict | None) -> bool:
    if obj is None:
        return False
    meta = obj["metadata"]
    if request.namespace is not None and meta.get("namespace") != request.namespace:
        return False
    return labels_match(request.labels, meta.get("labels")) and fields_match(
        request.fields, object_fields(obj, request.resource.field_labels)
    )


def translate(request: WatchRequest, event: WatchEvent) -> tuple[str, JsonDict] | None:
    """An event as this watcher sees it: objects leaving its selector arrive as DELETED."""
    now_visible = _visible(request, event.obj)
    was_visible = _visible(request, event.previous)
    if event.type == "DELETED":
        return ("DELETED", event.obj) if was_visible or now_visible else None
    if now_visible and was_visible:
        return "MODIFIED", event.obj
    if now_visible:
        return "ADDED", event.obj
    if was_visible:
        return "DELETED", event.obj
    return None


class WatchStream:
    def __init__(self, cluster: Cluster, hub: WatchHub, request: WatchRequest) -> None:
        self.cluster = cluster
        self.hub = hub
        self.request = request
        self._first_table = True

    def _line(self, kind: str, obj: JsonDict) -> bytes:
        if self.request.as_table and kind in ("ADDED", "MODIFIED", "DELETED"):
            rv = obj["metadata"].get("resourceVersion", "")
            obj = to_table(
                self.request.resource,
                [obj],
                self.cluster.now(),
                resource_version=rv,
                with_columns=self._first_table,
            )
            self._first_table = False
        return json.dumps({"type": kind, "object": obj}, separators=(",", ":")).encode() + b"\n"

    def _bookmark(self, annotations: dict[str, str] | None = None) -> bytes:
        meta: JsonDict = {"resourceVersion": str(self.cluster.store.resource_version)}
        if annotations:
            meta["annotations"] = annotations
        obj = {
            "kind": self.request.resource.kind,
            "apiVersion": self.request.resource.api_version,
            "metadata": meta,
        }
        return (
            json.dumps({"type": "BOOKMARK", "object": obj}, separators=(",", ":")).encode() + b"\n"
        )

    def _start(
        self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[WatchEvent | None]
    ) -> tuple[list[bytes], int]:
        request = self.request
        lines: list[bytes] = []
        store = self.cluster.store
        with self.cluster.lock:
            version = request.resource_version
            if request.send_initial_events or version in (None, "", "0"):
                for obj in store.items(request.resource.plural, request.namespace):
                    if _visible(request, obj):
                        lines.append(self._line("ADDED", obj))
                if request.send_initial_events and request.bookmarks:
                    lines.append(self._bookmark({"k8s.io/initial-events-end": "true"}))
            else:
                try:
                    history = store.events_since(request.resource.plural, int(version))
                except (TooOld, ValueError) as exc:
                    error = gone(
                        str(exc)
                        if isinstance(exc, TooOld)
                        else f"invalid resource version: {version}"
                    )
                    return [
                        json.dumps({"type": "ERROR", "object": error.status()}).encode() + b"\n"
                    ], 0
                for event in history:
                    seen = translate(request, event)
                    if seen:
                        lines.append(self._line(*seen))

            def deliver(event: WatchEvent) -> None:
                loop.call_soon_threadsafe(queue.put_nowait, event)

            token = store.subscribe(request.resource.plural, deliver)
        self.hub.add(loop, queue)
        return lines, token

    async def stream(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[WatchEvent | None] = asyncio.Queue()
        lines, token = self._start(loop, queue)
        try:
            for line in lines:
                yield line
            if token == 0 or self.hub.closed:
                return
            deadline = time.monotonic() + self.request.timeout_seconds
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                try:
                    event = await asyncio.wait_for(
                        queue.get(), timeout=min(remaining, BOOKMARK_INTERVAL)
                    )
                except TimeoutError:
                    if self.request.bookmarks:
                        yield self._bookmark()
                    continue
                if event is None:
                    return
                seen = translate(self.request, event)
                if seen:
                    yield self._line(*seen)
        finally:
            if token:
                with self.cluster.lock:
                    self.cluster.store.unsubscribe(token)
            self.hub.discard(loop, queue)
