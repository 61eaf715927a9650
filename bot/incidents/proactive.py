"""The forecast scan: 'runs out in N days' becomes an incident through the same intake as
Alertmanager's alerts, and the action that prevents it is proposed in its thread.

Each due exhaustion (see `is_due`) is sent as a `CapacityExhaustionForecast` webhook to
`AlertPipeline.accept`, so dedup, grouping, routing, muting and the thread all apply; its
fingerprint depends on the resource only and a firing alert keeps its first `startsAt`,
so every later scan is a repeat of the same alert (its annotations refresh). The proposal
(expand_volume for a volume, scale_deployment for a workload) goes to remediation when the
incident's thread is posted: the composition root tells the scan (`thread_posted`), nothing
waits in a worker; proposal ids are stable, so a later scan never repeats one.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlmodel import col, select

from bot.capacity.forecasts import ForecastScan, forecast_all
from bot.capacity.models import Exhaustion, Scope
from bot.incidents.proactive_alert import (
    expanded_size,
    fingerprint,
    is_due,
    scaled_replicas,
    summary,
    webhook,
)
from bot.investigation.agent.proposals import make_action
from bot.logs import get_logger
from bot.remediation import Rationale
from bot.scheduler import Scheduler
from bot.settings import CapacitySettings, ToolsSettings
from bot.sources import tools_config
from bot.store.db import Database
from bot.store.incidents import Alert, Incident
from bot.store.models import aware
from policies import ActionKind, ProposedAction
from tools.metrics.api import PrometheusApi
from tools.metrics.frames import RangeFrames

log = get_logger("opsbot.capacity.proactive")
JOB = "capacity-forecast-scan"
THREAD_WAIT = timedelta(minutes=5)  # after the incident's notify_at


class Intake(Protocol):
    """Where alerts enter (the alert pipeline): accept a webhook body, ingest now."""

    def accept(self, body: bytes) -> int: ...

    def drain(self) -> int: ...


class Proposer(Protocol):
    """Remediation's hand-off: classify, card and (maybe) run proposed actions."""

    def propose(
        self,
        incident_id: int | None,
        actions: Sequence[ProposedAction],
        finding_summary: str,
        *,
        rationale: Rationale | None = None,
    ) -> Sequence[Any]: ...


@dataclass(frozen=True)
class ProactiveIncident:
    """One due exhaustion: the incident it opened (or refreshed) and the actions proposed."""

    exhaustion: Exhaustion
    incident_id: int | None
    actions: tuple[ProposedAction, ...]


@dataclass(frozen=True)
class _Waiting:
    exhaustion: Exhaustion
    actions: tuple[ProposedAction, ...]
    until: datetime


class CapacityScan:
    """The forecast scan of one process, built by the composition root with what it uses:
    the database, the capacity and data-source settings, the alert intake and remediation's
    proposer."""

    def __init__(
        self,
        db: Database,
        settings: CapacitySettings,
        tools: ToolsSettings,
        intake: Intake,
        proposer: Proposer,
    ) -> None:
        self.db = db
        self.settings = settings
        self.tools = tools
        self.intake = intake
        self.proposer = proposer
        self._waiting: dict[int, _Waiting] = {}
        self._lock = threading.Lock()

    def schedule(self, scheduler: Scheduler) -> None:
        """Run the scan on `capacity.scan_schedule`, once per fire time across replicas."""
        if not self.settings.enabled or not self.settings.scan_schedule.strip():
            scheduler.forget(JOB)
            return
        scheduler.cron(JOB, self.settings.scan_schedule, self.scan_and_open)

    def scan_and_open(self, now: datetime | None = None) -> list[ProactiveIncident]:
        """Forecast, open (or refresh) one incident per due exhaustion, propose its action."""
        config = tools_config(self.tools).prometheus
        if config is None:
            log.info("capacity scan skipped: no Prometheus configured")
            return []
        at = now or datetime.now(UTC)
        api = PrometheusApi(config)
        frames = RangeFrames(config)
        try:
            scan = forecast_all(api, frames, self.settings, at)
            return self.open_incidents(scan, at, api)
        finally:
            frames.close()
            api.close()

    def open_incidents(
        self, scan: ForecastScan, now: datetime, prom: PrometheusApi | None = None
    ) -> list[ProactiveIncident]:
        """Send each due exhaustion through the intake; its action is proposed as soon as
        the incident's thread exists (at once when it already does)."""
        due = [e for e in scan.exhaustions if is_due(e, self.settings)]
        for exhaustion in due:
            starts_at = self._first_seen(fingerprint(exhaustion)) or now
            body = webhook(exhaustion, exhaustion.severity, starts_at)
            self.intake.accept(json.dumps(body).encode())
        if due:
            self.intake.drain()  # ingest now, so the incident ids are known
        self._forget_expired(now)
        opened = []
        for exhaustion in due:
            incident_id = self._incident_of(fingerprint(exhaustion))
            actions = tuple(_actions(exhaustion, self.settings, incident_id, prom, now))
            opened.append(ProactiveIncident(exhaustion, incident_id, actions))
            if incident_id is None:  # its inbox row is backing off: the next scan proposes
                log.warning("capacity alert not ingested yet", resource=exhaustion.resource.label)
            elif actions:
                self._propose_when_posted(incident_id, exhaustion, actions)
        log.info(
            "capacity scan", forecasts=len(scan.forecasts), due=len(due), skipped=len(scan.skipped)
        )
        return opened

    def thread_posted(self, incident_id: int) -> None:
        """The incident's thread exists now: propose what was waiting for it, in the
        caller's worker (the composition root runs it before the incident's investigation,
        so the forecast's own sizing is the proposal that stands, whatever the timing)."""
        with self._lock:
            waiting = self._waiting.pop(incident_id, None)
        if waiting is not None:
            self._propose(incident_id, waiting.exhaustion, waiting.actions)

    def _propose_when_posted(
        self, incident_id: int, exhaustion: Exhaustion, actions: tuple[ProposedAction, ...]
    ) -> None:
        """Wait for the thread by registering first, then looking: a thread posted between
        the look and the registration still gets its proposal (`thread_posted` or here,
        whichever takes the registration). A re-scan of a posted incident proposes before
        it returns, so what it found is settled when the scan is done."""
        with self.db.session() as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                return
            notify_at = aware(incident.notify_at)
        with self._lock:
            self._waiting[incident_id] = _Waiting(exhaustion, actions, notify_at + THREAD_WAIT)
        with self.db.session() as session:
            incident = session.get(Incident, incident_id)
            posted = incident is not None and incident.thread_ts is not None
        if posted:  # propose now, in the scan's own worker
            self.thread_posted(incident_id)

    def _forget_expired(self, now: datetime) -> None:
        with self._lock:
            expired = [i for i, w in self._waiting.items() if w.until < now]
            for incident_id in expired:
                del self._waiting[incident_id]
        for incident_id in expired:
            log.warning("capacity proposal dropped: thread never posted", incident=incident_id)

    def _propose(
        self, incident_id: int, exhaustion: Exhaustion, actions: tuple[ProposedAction, ...]
    ) -> None:
        forecast = exhaustion.forecast
        self.proposer.propose(
            incident_id,
            list(actions),
            summary(exhaustion),
            rationale=Rationale(
                summary=summary(exhaustion),
                root_cause=f"{exhaustion.resource.label} grows toward its capacity.",
                confidence=exhaustion.probability,
                evidence=[
                    f"forecast: {forecast.method}",
                    f"history: {forecast.history_days:.1f} d",
                ],
                engine="forecast",
            ),
        )

    def _first_seen(self, alert_fingerprint: str) -> datetime | None:
        """The startsAt of the firing alert with this fingerprint, so a re-scan repeats it."""
        with self.db.session() as session:
            row = session.exec(
                select(Alert)
                .where(Alert.fingerprint == alert_fingerprint, Alert.status == "firing")
                .order_by(col(Alert.starts_at).desc())
            ).first()
            return aware(row.starts_at) if row else None

    def _incident_of(self, alert_fingerprint: str) -> int | None:
        with self.db.session() as session:
            row = session.exec(
                select(Alert)
                .where(Alert.fingerprint == alert_fingerprint)
                .order_by(col(Alert.starts_at).desc())
            ).first()
            return row.incident_id if row else None


def _actions(
    exhaustion: Exhaustion,
    settings: CapacitySettings,
    incident_id: int | None,
    prom: PrometheusApi | None,
    now: datetime,
) -> list[ProposedAction]:
    ref = exhaustion.resource
    reason = summary(exhaustion)
    params: dict[str, object]
    confidence = min(0.95, exhaustion.probability)
    if ref.scope is Scope.VOLUME:
        size = expanded_size(exhaustion, settings)
        if size is None:
            return []
        kind, params, replicas = ActionKind.EXPAND_VOLUME, {"new_size": size}, None
    elif ref.scope is Scope.WORKLOAD:
        # at the scan's moment: the first forecast point lies ahead, where no sample is
        replicas = _replicas(prom, ref.namespace or "", ref.name, now)
        if replicas is None:
            return []
        wanted = scaled_replicas(exhaustion, settings, replicas)
        kind = ActionKind.SCALE_DEPLOYMENT
        params = {"replicas": wanted, "previous_replicas": replicas}
    else:
        return []  # node disks: the advice in the summary (no cluster action fits)
    return [
        make_action(
            kind,
            name=ref.name,
            namespace=ref.namespace,
            params=params,
            reason=reason,
            confidence=confidence,
            incident_id=incident_id,
            replicas=replicas,
            prefix="capacity",
        )
    ]


def _replicas(prom: PrometheusApi | None, namespace: str, name: str, at: datetime) -> int | None:
    if prom is None:
        return None
    query = f'max(kube_deployment_spec_replicas{{namespace="{namespace}",deployment="{name}"}})'
    rows = prom.query(query, at)["result"]
    return int(float(rows[0]["value"][1])) if rows else None
