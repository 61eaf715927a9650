"""An alert storm sent the way Alertmanager sends it: each webhook is retried on a 5xx or a
network error (with back-off, honouring a short Retry-After) until it gets a 2xx; a 4xx is
final. Every response status is counted, so a test can prove no 500 was ever answered."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlmodel import col, func, select

from bot.store.db import Database
from bot.store.incidents import Alert, AlertInbox, Incident
from tests.incidents.amfixtures import alert, webhook


def storm_bodies(problems: list[str], count: int, per_webhook: int = 2) -> list[dict[str, Any]]:
    """`count` webhooks, each with `per_webhook` distinct firing alerts; webhook n belongs to
    problem n % len(problems) (a service: the default grouping keys incidents by workload)."""
    started = datetime.now(UTC) - timedelta(minutes=5)
    bodies = []
    for n in range(count):
        service = problems[n % len(problems)]
        alerts = [
            alert(
                f"Storm{k}",
                started,
                namespace="prod",
                service=service,
                severity="critical",
                pod=f"{service}-7d9f8c6b5-x{n:04d}",
            )
            for k in range(per_webhook)
        ]
        bodies.append(webhook(*alerts))
    return bodies


def fingerprints(bodies: list[dict[str, Any]]) -> set[str]:
    return {a["fingerprint"] for body in bodies for a in body["alerts"]}


@dataclass
class StormSender:
    """Posts `bodies` to `url` from `threads` threads; `sent` counts webhooks that got a 2xx."""

    url: str
    bodies: list[dict[str, Any]]
    threads: int = 4
    pace_seconds: float = 0.05
    give_up_after: float = 90.0
    statuses: Counter[int | str] = field(default_factory=Counter)
    accepted: list[int] = field(default_factory=list)
    retry_after_missing: int = 0
    failed: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> StormSender:
        for index in range(self.threads):
            mine = list(range(index, len(self.bodies), self.threads))
            worker = threading.Thread(target=self._send_all, args=(mine,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def join(self) -> None:
        for worker in self._workers:
            worker.join(self.give_up_after + 30)

    def progress(self) -> int:
        with self._lock:
            return len(self.accepted)

    def wait_for_progress(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.progress() < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {self.progress()} of {count} webhooks accepted")
            time.sleep(0.02)

    def _count(self, status: int | str, index: int, outcome: list[int] | None = None) -> None:
        with self._lock:
            self.statuses.update([status])
            if outcome is not None:
                outcome.append(index)

    def _send_all(self, indexes: list[int]) -> None:
        with httpx.Client(timeout=10) as client:
            for index in indexes:
                self._send_one(client, index)
                time.sleep(self.pace_seconds)

    def _send_one(self, client: httpx.Client, index: int) -> None:
        deadline = time.monotonic() + self.give_up_after
        backoff = 0.05
        while time.monotonic() < deadline:
            try:
                response = client.post(self.url, json=self.bodies[index])
            except httpx.TransportError as exc:
                self._count(type(exc).__name__, index)
            else:
                status = response.status_code
                if status < 300:
                    self._count(status, index, self.accepted)
                    return
                if status < 500:
                    self._count(status, index, self.failed)
                    return
                self._count(status, index)
                if "retry-after" not in response.headers:
                    with self._lock:
                        self.retry_after_missing += 1
            time.sleep(backoff)
            backoff = min(backoff * 2, 0.5)
        with self._lock:
            self.failed.append(index)


def storm_settled(db: Database) -> bool:
    """Every inbox row processed and every incident's thread posted."""
    with db.session() as session:
        pending = session.exec(
            select(func.count())
            .select_from(AlertInbox)
            .where(col(AlertInbox.processed_at).is_(None))
        ).one()
        incidents = session.exec(select(Incident)).all()
    return pending == 0 and bool(incidents) and all(i.thread_ts for i in incidents)


def stored_fingerprints(db: Database) -> set[str]:
    with db.session() as session:
        return set(session.exec(select(Alert.fingerprint)).all())
