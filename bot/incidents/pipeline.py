"""The alert pipeline: persist first, answer second, process after.

`accept` validates a webhook body and writes it to the inbox before the HTTP 200, so an
accepted alert survives any crash; a worker thread drains the inbox (also at start) and
turns each body into incident changes in the same transaction that marks it processed.
Rows are claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so replicas share the work.
Each row is ingested in its own savepoint: one row that fails never holds back the rows
behind it; it is retried with back-off and set aside after its budget (`bot.incidents.inbox`).
Logs of failed rows carry the row id and the error's kind, never the alert's contents.
"""

from __future__ import annotations

import threading
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import Session, col, func, select
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from bot.deps import guarded
from bot.errors import BadInput, Retryable
from bot.incidents.alertmanager import AmWebhook
from bot.incidents.inbox import Failure, database_reason, due_rows, record_failure
from bot.incidents.lifecycle import ingest
from bot.incidents.notifier import IncidentNotifier
from bot.logs import get_logger
from bot.metrics import Metrics
from bot.slack.json_guard import load_untrusted
from bot.store.db import Database
from bot.store.incidents import AlertInbox
from bot.store.models import utcnow
from policies.routing import IncidentRules

log = get_logger("opsbot.pipeline")
BATCH = 50
RETRY_AFTER_SECONDS = 5
DATABASE_DOWN = (OperationalError, InterfaceError)


def parse_webhook(body: bytes) -> AmWebhook:
    """Validate an Alertmanager webhook body; BadInput names the offending field."""
    data = load_untrusted(body)
    if not isinstance(data, dict):
        raise BadInput("body must be a JSON object (Alertmanager webhook version 4)")
    try:
        return AmWebhook.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise BadInput(f"{where}: {first['msg']}", status=422) from None


class AlertPipeline:
    """Accepts webhooks into the inbox and drains it into incidents on its own thread."""

    def __init__(
        self,
        db: Database,
        metrics: Metrics,
        notifier: IncidentNotifier,
        rules: IncidentRules,
        incidents_channel: str,
    ) -> None:
        """`incidents_channel`: where new incidents go when no rule routes them elsewhere."""
        self.db = db
        self.metrics = metrics
        self.incidents_channel = incidents_channel
        self.notifier = notifier
        self.rules = rules
        self._wake = threading.Event()
        self._stop = threading.Event()
        # One drain at a time in this process: the loop's and an explicit `drain()` (the
        # capacity scan's, start-up's) would otherwise take the same rows — SQLite has no
        # SKIP LOCKED, and its WAL refuses the second writer's commit outright. Replicas
        # on PostgreSQL still drain side by side (each row locked by one of them).
        self._draining = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="alert-pipeline", daemon=True)

    def accept(self, body: bytes) -> int:
        """Validate and persist; returns the inbox id. Raises BadInput (nothing written) or
        Retryable when the database cannot take the row (the sender must retry: 503)."""
        parse_webhook(body)
        try:
            inbox_id = self._persist(body)
        except DATABASE_DOWN as exc:
            log.warning("webhook not accepted: database unavailable", error=type(exc).__name__)
            raise Retryable("the database is unavailable; retry later") from exc
        self._wake.set()
        return inbox_id

    @retry(
        retry=retry_if_exception_type(DATABASE_DOWN),
        stop=stop_after_attempt(3),
        wait=wait_exponential(multiplier=0.1, max=0.4),
        reraise=True,
    )
    def _persist(self, body: bytes) -> int:
        """Insert the inbox row; a connection cut by a database restart is retried at once
        (a duplicate row from an ambiguous commit is harmless: ingest is idempotent)."""
        with self.db.session() as session:
            row = AlertInbox(body=body.decode("utf-8"))
            session.add(row)
            session.flush()
            return row.id or 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=2.0)
            self._wake.clear()
            guarded("alert inbox drain", "drain", self.drain)

    def drain(self) -> int:
        """Process every inbox row that is due; returns how many were processed.

        Never raises because of a row: each row is ingested in its own savepoint, and a row
        that fails is counted, backed off and, after MAX_ATTEMPTS, set aside (see
        `bot.incidents.inbox`). Only a database outage stops a drain (the loop tries again)."""
        done = 0
        with self._draining:
            while not self._stop.is_set():
                processed = self._process(BATCH)
                if processed is None:
                    break
                done += processed
        self._report_depth()
        return done

    def _process(self, limit: int) -> int | None:
        """Ingest up to `limit` due rows in one transaction, each in its own savepoint;
        None when none is due (or the database is down)."""
        now = utcnow()
        touched: set[int] = set()
        handled = 0
        try:
            with self.db.session(writes_after_reading=True) as session:
                due = due_rows(now).limit(limit).with_for_update(skip_locked=True)
                rows = session.exec(due).all()
                if not rows:
                    return None
                for row in rows:
                    failure = self._ingest_row(session, row, now, touched)
                    if failure is None:
                        row.processed_at, row.error, row.next_attempt_at = now, None, None
                        row.attempts += 1
                    else:
                        record_failure(row, failure, now)
                        log.warning(
                            "inbox row not ingested",
                            inbox_id=row.id,
                            attempts=row.attempts,
                            set_aside=row.dead_at is not None,
                            error=failure.kind,
                        )
                    session.add(row)
                    handled += 1
        except DATABASE_DOWN as exc:
            # An outage (or a commit the database refused as a whole): stop this drain, no
            # attempt counted, so an outage never pushes a row past its retry budget.
            log.warning("inbox drain paused: database unavailable", error=type(exc).__name__)
            return None
        try:
            for incident_id in touched:
                self.notifier.request(incident_id)
        except DATABASE_DOWN as exc:
            # The batch is committed; the notifier's periodic catch-up posts these threads
            # once the database is back, so nothing is lost by stopping here.
            log.warning(
                "incident notification deferred: database unavailable", error=type(exc).__name__
            )
        return handled

    def _ingest_row(
        self, session: Session, row: AlertInbox, now: datetime, touched: set[int]
    ) -> Failure | None:
        """Ingest one row inside a savepoint; the failure (without the row's contents) if
        it could not be. A lost connection is re-raised: that is an outage, not the row."""
        try:
            with session.begin_nested():
                result = ingest(
                    session,
                    parse_webhook(row.body.encode()),
                    now,
                    self.rules,
                    self.incidents_channel,
                )
        except BadInput as exc:
            return Failure("invalid", str(exc)[:300], permanent=True)
        except DBAPIError as exc:
            if isinstance(exc, DATABASE_DOWN) and not self._database_up():
                raise
            return Failure(type(exc.orig or exc).__name__, database_reason(exc))
        except Exception as exc:  # noqa: BLE001 - the per-row boundary: one row never stops the rest
            return Failure(type(exc).__name__, "unexpected error while ingesting")
        touched |= result.touched
        return None

    def _database_up(self) -> bool:
        try:
            return self.db.ping()
        except DATABASE_DOWN:
            return False

    def pending(self) -> int:
        with self.db.session() as session:
            return int(
                session.exec(
                    select(func.count())
                    .select_from(AlertInbox)
                    .where(col(AlertInbox.processed_at).is_(None))
                    .where(col(AlertInbox.dead_at).is_(None))
                ).one()
            )

    def _report_depth(self) -> None:
        try:
            depth = self.pending()
        except DATABASE_DOWN:
            return  # paused by an outage: the gauge keeps its last value
        self.metrics.queue_depth.labels("alert_inbox").set(depth)
