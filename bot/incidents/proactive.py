"""The forecast scan: 'runs out in N days' becomes an incident through the same intake as
Alertmanager's alerts, and the action that prevents it is proposed in its thread.

Each due exhaustion (see `is_due`) is sent as a `CapacityExhaustionForecast` webhook to
`AlertPipeline.accept`, so dedup, grouping, routing, muting and the thread all apply; its
fingerprint depends on the resource only and a firing alert keeps its first `startsAt`,
so every later scan is a repeat of the same alert (its annotations refresh). The proposal
(expand_volume for a volume, scale_deployment for a workload) goes to remediation once the
incident's thread is posted; proposal ids are stable, so a later scan never repeats one.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

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
from bot.remediation import Rationale, propose
from bot.sources import tools_config
from bot.store.incidents import Alert, Incident
from policies import ActionKind, ProposedAction
from tools.metrics.api import PrometheusApi

if TYPE_CHECKING:
    from bot.app.runtime import Runtime
    from bot.scheduler import Scheduler

log = get_logger("opsbot.capacity.proactive")
JOB = "capacity-forecast-scan"
THREAD_WAIT = timedelta(minutes=5)  # after the incident's notify_at
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class ProactiveIncident:
    exhaustion: Exhaustion
    incident_id: int | None
    actions: tuple[ProposedAction, ...]


def schedule_capacity_scan(scheduler: Scheduler, rt: Runtime) -> None:
    """Run the scan on `capacity.scan_schedule`, once per fire time across replicas."""
    settings = rt.deps.settings.capacity
    if not settings.enabled or not settings.scan_schedule.strip():
        scheduler.forget(JOB)
        return
    scheduler.cron(JOB, settings.scan_schedule, lambda fire_time: scan_and_open(rt, fire_time))


def scan_and_open(rt: Runtime, now: datetime | None = None) -> list[ProactiveIncident]:
    """Forecast, open (or refresh) one incident per due exhaustion, propose its action."""
    config = tools_config(rt.deps.settings.tools).prometheus
    if config is None:
        log.info("capacity scan skipped: no Prometheus configured")
        return []
    at = now or datetime.now(UTC)
    api = PrometheusApi(config)
    try:
        scan = forecast_all(api, rt.deps.settings.capacity, at)
        return open_incidents(rt, scan, at, api)
    finally:
        api.close()


def open_incidents(
    rt: Runtime, scan: ForecastScan, now: datetime, prom: PrometheusApi | None = None
) -> list[ProactiveIncident]:
    settings = rt.deps.settings.capacity
    due = [e for e in scan.exhaustions if is_due(e, settings)]
    for exhaustion in due:
        starts_at = _first_seen(rt, fingerprint(exhaustion)) or now
        body = webhook(exhaustion, exhaustion.severity, starts_at)
        rt.pipeline.accept(json.dumps(body).encode())
    if due:
        rt.pipeline.drain()  # ingest now, so the incident ids are known
    opened = []
    for exhaustion in due:
        incident_id = _incident_of(rt, fingerprint(exhaustion))
        actions = tuple(_actions(exhaustion, rt, incident_id, prom, now))
        opened.append(ProactiveIncident(exhaustion, incident_id, actions))
        if incident_id is not None and actions:
            rt.deps.run_later(
                "capacity-proposal", propose_when_posted, rt, incident_id, exhaustion, actions
            )
    log.info(
        "capacity scan", forecasts=len(scan.forecasts), due=len(due), skipped=len(scan.skipped)
    )
    return opened


def propose_when_posted(
    rt: Runtime, incident_id: int, exhaustion: Exhaustion, actions: tuple[ProposedAction, ...]
) -> None:
    """Propose once the incident's thread exists (warnings are posted after a delay)."""
    deadline: datetime | None = None
    while True:
        with rt.deps.db.session() as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                return
            posted, notify_at = incident.thread_ts is not None, incident.notify_at
        if posted:
            break
        deadline = deadline or _aware(notify_at) + THREAD_WAIT
        if datetime.now(UTC) > deadline:
            log.warning("capacity proposal dropped: thread never posted", incident=incident_id)
            return
        time.sleep(POLL_SECONDS)
    forecast = exhaustion.forecast
    propose(
        rt,
        incident_id,
        list(actions),
        summary(exhaustion),
        rationale=Rationale(
            summary=summary(exhaustion),
            root_cause=f"{exhaustion.resource.label} grows toward its capacity.",
            confidence=exhaustion.probability,
            evidence=[f"forecast: {forecast.method}", f"history: {forecast.history_days:.1f} d"],
            engine="forecast",
        ),
    )


def _actions(
    exhaustion: Exhaustion,
    rt: Runtime,
    incident_id: int | None,
    prom: PrometheusApi | None,
    now: datetime,
) -> list[ProposedAction]:
    ref, settings = exhaustion.resource, rt.deps.settings.capacity
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


def _first_seen(rt: Runtime, alert_fingerprint: str) -> datetime | None:
    """The startsAt of the firing alert with this fingerprint, so a re-scan repeats it."""
    with rt.deps.db.session() as session:
        row = session.exec(
            select(Alert)
            .where(Alert.fingerprint == alert_fingerprint, Alert.status == "firing")
            .order_by(col(Alert.starts_at).desc())
        ).first()
        return _aware(row.starts_at) if row else None


def _incident_of(rt: Runtime, alert_fingerprint: str) -> int | None:
    with rt.deps.db.session() as session:
        row = session.exec(
            select(Alert)
            .where(Alert.fingerprint == alert_fingerprint)
            .order_by(col(Alert.starts_at).desc())
        ).first()
        return row.incident_id if row else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
