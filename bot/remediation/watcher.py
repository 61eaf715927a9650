"""The self-healing watcher: Kubernetes watch streams over pods, nodes and deployments,
resumed from the last resourceVersion (kept in the store) after a disconnect or on
another replica; a 410 Gone relists. One replica watches each stream at a time (a lease
in the database). Problems go to the `ProblemBook`, which opens incidents through the
alert pipeline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from bot import leases
from bot.logs import get_logger
from bot.remediation.problems import ProblemBook
from bot.remediation.watch_rules import (
    Observation,
    deleted_keys,
    deployment_observation,
    node_observation,
    pod_observation,
)
from bot.settings import RemediationSettings
from bot.store.actions import WatchCursor
from bot.store.db import Database
from bot.store.models import utcnow

log = get_logger("opsbot.remediation.watcher")
CURSOR_SAVE_SECONDS = 1.0


@dataclass(frozen=True)
class Stream:
    name: str
    prefixes: tuple[str, ...]
    lister: Callable[[], Callable[..., Any]]
    observe: Callable[[Any], Observation]


class KubeWatcher:
    def __init__(
        self,
        db: Database,
        api: client.ApiClient,
        book: ProblemBook,
        settings: RemediationSettings,
    ) -> None:
        """`settings`: the watch timeout and how long a node may be not ready."""
        self.db = db
        self.book = book
        self.timeout = settings.watch_timeout_seconds
        core: Any = client.CoreV1Api(api)
        apps: Any = client.AppsV1Api(api)
        not_ready = settings.watcher_not_ready_seconds
        self.streams = [
            Stream("pods", ("pod:",), lambda: core.list_pod_for_all_namespaces, pod_observation),
            Stream(
                "nodes",
                ("node:",),
                lambda: core.list_node,
                lambda node: node_observation(node, not_ready),
            ),
            Stream(
                "deployments",
                ("rollout:",),
                lambda: apps.list_deployment_for_all_namespaces,
                deployment_observation,
            ),
        ]
        self._stop = threading.Event()
        self.holding: set[str] = set()
        """Streams this replica watches now (it holds their leases)."""
        self.relists: dict[str, int] = {stream.name: 0 for stream in self.streams}
        self._threads: list[threading.Thread] = []
        self._watches: list[Any] = []

    def start(self) -> None:
        for stream in self.streams:
            thread = threading.Thread(
                target=self._loop, args=(stream,), name=f"kube-watch-{stream.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for active in list(self._watches):
            active.stop()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)

    def _loop(self, stream: Stream) -> None:
        name = f"kube-watch:{stream.name}"
        holder = leases.new_holder()
        ttl = self.timeout + 30.0
        while not self._stop.is_set():
            try:
                if leases.acquire(self.db, name, ttl, holder):
                    self.holding.add(stream.name)
                    self.watch_once(stream, lambda: leases.acquire(self.db, name, ttl, holder))
                    continue
                self.holding.discard(stream.name)
            except (ApiException, urllib3.exceptions.HTTPError) as exc:
                if self._stop.is_set():
                    break  # stop() cut the stream
                log.warning("watch failed; retrying", stream=stream.name, error=str(exc)[:200])
            except Exception:  # outer boundary: the watcher thread must survive anything
                log.exception("watch loop failed", stream=stream.name)
            self._stop.wait(2.0)
        self.holding.discard(stream.name)
        leases.release(self.db, name, holder)

    def watch_once(self, stream: Stream, still_mine: Callable[[], bool]) -> None:
        """One watch request from the stored cursor (a full list first when there is none)."""
        version = self._cursor(stream.name)
        if version is None:
            version = self._relist(stream)
        active: Any = watch.Watch()  # type: ignore[no-untyped-call]
        self._watches.append(active)
        saved_at = time.monotonic()
        try:
            for event in active.stream(
                stream.lister(),
                resource_version=version,
                timeout_seconds=self.timeout,
                allow_watch_bookmarks=True,
            ):
                if self._stop.is_set():
                    break
                if event["type"] != "BOOKMARK":
                    self._apply(stream, event["type"], event["object"])
                version = active.resource_version or version
                if time.monotonic() - saved_at > CURSOR_SAVE_SECONDS:
                    self._save_cursor(stream.name, version)
                    saved_at = time.monotonic()
                    if not still_mine():
                        break
        except ApiException as exc:
            if exc.status != 410:
                raise
            log.info("watch cursor expired; relisting", stream=stream.name)
            version = None
        finally:
            self._watches.remove(active)
        if version is None:
            self._drop_cursor(stream.name)
        else:
            self._save_cursor(stream.name, version)
        self.book.flush()

    def _apply(self, stream: Stream, kind: str, obj: Any) -> None:
        now = utcnow()
        if kind == "DELETED":
            self.book.clear(deleted_keys(stream.name, obj), now, at_once=True)
        else:
            seen = stream.observe(obj)
            self.book.observe(seen.problems, now)
            self.book.clear(seen.healthy, now)
        self.book.flush()

    def _relist(self, stream: Stream) -> str:
        """List everything: record what is wrong now, clear what is no longer there."""
        self.relists[stream.name] += 1
        listed = stream.lister()(timeout_seconds=self.timeout)
        now = utcnow()
        still_bad: set[str] = set()
        for obj in listed.items:
            seen = stream.observe(obj)
            self.book.observe(seen.problems, now)
            self.book.clear(seen.healthy, now)
            still_bad.update(p.key for p in seen.problems)
        for prefix in stream.prefixes:
            gone = self.book.open_keys(prefix) - still_bad
            self.book.clear(gone, now)
        self.book.flush()
        version = str(listed.metadata.resource_version)
        self._save_cursor(stream.name, version)
        return version

    def _cursor(self, name: str) -> str | None:
        with self.db.session() as session:
            row = session.get(WatchCursor, name)
            return row.resource_version if row else None

    def _save_cursor(self, name: str, version: str) -> None:
        with self.db.session() as session:
            row = session.get(WatchCursor, name) or WatchCursor(name=name, resource_version="")
            row.resource_version, row.updated_at = version, utcnow()
            session.add(row)

    def _drop_cursor(self, name: str) -> None:
        with self.db.session() as session:
            row = session.get(WatchCursor, name)
            if row is not None:
                session.delete(row)
