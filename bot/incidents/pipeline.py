"""The alert pipeline: persist first, answer second, process after.

`accept` validates a webhook body and writes it to the inbox before the HTTP 200, so an
accepted alert survives any crash; a worker thread drains the inbox (also at start) and
turns each body into incident changes in the same transaction that marks it processed.
Rows are claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so replicas share the work.
"""

from __future__ import annotations

import threading

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlmodel import col, func, select
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from bot.deps import Deps, guarded
from bot.errors import BadInput, Retryable
from bot.incidents.alertmanager import AmWebhook
from bot.incidents.lifecycle import ingest
from bot.incidents.notifier import IncidentNotifier
from bot.logs import get_logger
from bot.slack.json_guard import load_untrusted
from bot.store.incidents import AlertInbox
from bot.store.models import utcnow
from policies.routing import IncidentRules

log = get_logger("opsbot.pipeline")
MAX_ATTEMPTS = 8
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
    def __init__(self, deps: Deps, notifier: IncidentNotifier, rules: IncidentRules) -> None:
        self.deps = deps
        self.notifier = notifier
        self.rules = rules
        self._wake = threading.Event()
        self._stop = threading.Event()
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
        with self.deps.db.session() as session:
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
        """Process every pending inbox row; returns how many were processed.

        Rows go in batches (one transaction, one commit); a batch that hits a race with
        another replica is retried row by row, so one conflict never blocks the rest."""
        done = 0
        batch = BATCH
        while not self._stop.is_set():
            processed = self._process(batch)
            if processed is None:
                break
            done += processed
            batch = BATCH if processed else 1
        self._report_depth()
        return done

    def _process(self, limit: int) -> int | None:
        """Ingest up to `limit` pending rows in one transaction; None when none is pending,
        0 when the batch had to be rolled back (its attempts are counted)."""
        now = utcnow()
        touched: set[int] = set()
        claimed: list[int] = []
        try:
            with self.deps.db.session() as session:
                rows = session.exec(
                    select(AlertInbox)
                    .where(col(AlertInbox.processed_at).is_(None))
                    .where(AlertInbox.attempts < MAX_ATTEMPTS)
                    .order_by(col(AlertInbox.id))
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                ).all()
                if not rows:
                    return None
                for row in rows:
                    claimed.append(row.id or 0)
                    result = ingest(
                        session,
                        parse_webhook(row.body.encode()),
                        now,
                        self.rules,
                        self.deps.settings.slack.incidents_channel,
                    )
                    row.processed_at = now
                    row.attempts += 1
                    session.add(row)
                    touched |= result.touched
        except (IntegrityError, *DATABASE_DOWN) as exc:
            if isinstance(exc, DATABASE_DOWN) and not self._database_up():
                # Stop this drain (the loop and the scheduler try again); no attempt is
                # counted, so an outage never pushes a row past MAX_ATTEMPTS.
                log.warning("inbox drain paused: database unavailable", error=type(exc).__name__)
                return None
            # Another replica won a race (same alert or incident key) or the database
            # hiccupped: count the attempt and retry; ingest is idempotent.
            log.info("inbox batch retried", rows=len(claimed), error=type(exc).__name__)
            if len(claimed) == 1:
                self._count_attempt(claimed[0])
            return 0
        except BadInput as exc:
            # A stored body that no longer validates (stored before a rule tightened) must
            # not wedge the inbox: alone in its batch, it is set aside for good.
            log.warning("inbox row set aside: invalid", rows=len(claimed), error=str(exc)[:200])
            if len(claimed) == 1:
                self._count_attempt(claimed[0], final=True)
            return 0
        try:
            for incident_id in touched:
                self.notifier.request(incident_id)
        except DATABASE_DOWN as exc:
            # The batch is committed; the notifier's periodic catch-up posts these threads
            # once the database is back, so nothing is lost by stopping here.
            log.warning(
                "incident notification deferred: database unavailable", error=type(exc).__name__
            )
        return len(claimed)

    def _database_up(self) -> bool:
        try:
            return self.deps.db.ping()
        except DATABASE_DOWN:
            return False

    def _count_attempt(self, inbox_id: int, *, final: bool = False) -> None:
        with self.deps.db.session() as session:
            row = session.get(AlertInbox, inbox_id)
            if row is not None:
                row.attempts = MAX_ATTEMPTS if final else row.attempts + 1
                session.add(row)

    def pending(self) -> int:
        with self.deps.db.session() as session:
            return int(
                session.exec(
                    select(func.count())
                    .select_from(AlertInbox)
                    .where(col(AlertInbox.processed_at).is_(None))
                ).one()
            )

    def _report_depth(self) -> None:
        try:
            depth = self.pending()
        except DATABASE_DOWN:
            return  # paused by an outage: the gauge keeps its last value
        self.deps.metrics.queue_depth.labels("alert_inbox").set(depth)
