"""Running an approved action: gate (kill switch, rate limits) → dry run → the real call →
validation against what proves the action worked and the triggering alert → kept, or
undone only when it made things worse (see `aftermath`); humans are called when it did
not recover.

Each state change is one transaction with its audit row; the breakers learn the outcome
in that same transaction. Every step shows on the card as it happens (at least every
`PROGRESS_SECONDS` while validating).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from bot import leases
from bot.audit import chain as audit
from bot.logs import get_logger
from bot.remediation.aftermath import after_validation
from bot.remediation.escalation import human_steps, thread_of_record
from bot.remediation.operation import ActionError, Plan
from bot.remediation.parts import Parts
from bot.remediation.records import ActionState, note_progress, transition, unit_of_work
from bot.remediation.signals import signal_for
from bot.remediation.validation import Health, Judgement, Reading, watch
from bot.store.actions import ActionRecord
from bot.store.models import aware, utcnow
from policies import ProposedAction

log = get_logger("opsbot.remediation.executor")
RUN_LEASE_TTL = 30.0
PROGRESS_SECONDS = 10.0
"""While validating, the card shows the latest reading at least this often."""
INTERRUPTED = (
    "Interrupted: the process running it stopped mid-way, so it may or may not have been "
    "applied. Check the target; ask for a new proposal if it is still needed."
)


def run_lease(action_id: str) -> str:
    return f"action-run:{action_id}"


@dataclass
class Run:
    """What happened while executing, for the card and the audit log; `live` is the line
    that changes while validating (the current reading), shown last until it is done."""

    lines: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    live: str | None = None
    escalate: bool = False

    def shown(self) -> list[str]:
        return [*self.lines, self.live] if self.live else list(self.lines)


class Executor:
    def __init__(self, svc: Parts) -> None:
        self.svc = svc

    def run(self, action_id: str) -> ActionState | None:
        """Execute an approved action once; None when it was not approved (or is running).

        The run holds a kept lease, so a process that dies mid-way is seen to have died
        (its lease lapses) and `reap_interrupted` marks the action interrupted."""
        with leases.kept(self.svc.db, run_lease(action_id), RUN_LEASE_TTL) as token:
            if token is None:
                return None
            return self._run(action_id)

    def _run(self, action_id: str) -> ActionState | None:
        started = self._start(action_id)
        self.svc.cards.refresh(action_id)
        if started is None or started.state != ActionState.EXECUTING:
            return None if started is None else ActionState(started.state)
        action = ProposedAction.model_validate(started.action)
        run = Run()
        try:
            state = self._execute(started, action, run)
        except ActionError as exc:
            run.lines.append(f"Failed: {exc}")
            state = ActionState.FAILED
        self._finish(action_id, state, run)
        self.svc.cards.refresh(action_id)
        self.svc.metrics.actions.labels(started.verdict, state.value).inc()
        if run.escalate or state is ActionState.FAILED:
            self.svc.escalator.escalate(
                started.incident_id,
                action_id,
                f"{action.kind} on {action.target} {state.value.replace('_', ' ')}: "
                + (run.lines[-1] if run.lines else "")
                + human_steps(started.rationale),
                approvers=tuple(started.approvers) + self.svc.policy.defaults.approvers,
                summary=started.summary,
                thread=thread_of_record(started),
            )
        return state

    def _start(self, action_id: str) -> ActionRecord | None:
        now = utcnow()
        guards = self.svc.guards

        def work(session: Session) -> ActionRecord | None:
            control = guards.lock_gate(session)
            record = session.get(ActionRecord, action_id, populate_existing=True)
            if record is None or record.state != ActionState.APPROVED:
                return None
            refusal = None
            if control.paused:
                refusal = f"opsbot is paused by <@{control.changed_by}>: nothing runs"
            refusal = refusal or guards.budget_refusal(session, record.namespace, now)
            if refusal is not None:
                return transition(
                    session,
                    action_id,
                    [ActionState.APPROVED],
                    ActionState.BLOCKED,
                    actor="opsbot",
                    detail={"reason": refusal},
                    finished_at=now,
                    outcome={"lines": [f"Blocked: {refusal}"]},
                )
            return transition(
                session,
                action_id,
                [ActionState.APPROVED],
                ActionState.EXECUTING,
                actor="opsbot",
                started_at=now,
            )

        return unit_of_work(self.svc.db, work)

    def _execute(self, record: ActionRecord, action: ProposedAction, run: Run) -> ActionState:
        svc = self.svc
        plan = svc.catalog.plan(action)
        signal = signal_for(svc, record, plan)
        baseline = signal.read() if signal is not None else None
        self._step(record, "action.dry_run", svc.catalog.dry_run(plan), run, prefix="Dry run")
        self._show(record, run)
        self._step(
            record,
            "action.applied",
            svc.catalog.execute(plan),
            run,
            facts=plan.facts,
            prefix="Applied",
        )
        self._show(record, run)
        if signal is None or baseline is None:
            run.lines.append("Not validated: no signal to re-check for this action.")
            return ActionState.SUCCEEDED
        settings = svc.settings
        judgement = watch(
            signal,
            baseline,
            deadline_seconds=settings.validation_deadline_seconds,
            interval_seconds=settings.validation_interval_seconds,
            worse_ratio=settings.validation_worse_ratio,
            hold_seconds=settings.validation_hold_seconds,
            confirmations=3,
            progress=self._progress(record, run, signal.description),
        )
        run.live = None
        run.detail["validation"] = _validation_detail(signal.description, judgement)
        run.lines.append(f"Validation of {signal.description}: {judgement.describe()}")
        decision = after_validation(
            judgement.health,
            kind=action.kind,
            has_inverse=plan.inverse is not None,
            failing_before=_failing(baseline),
        )
        run.lines.append(decision.line)
        run.escalate = decision.escalate
        if not decision.undo:
            return decision.state
        return self._undo(record, plan, run)

    def _progress(
        self, record: ActionRecord, run: Run, description: str
    ) -> Callable[[int, int, Reading, Health], None]:
        """Shows `validating n/N` with the current reading on the card: on every change of
        verdict, else at most every PROGRESS_SECONDS."""
        last: dict[str, Any] = {"at": 0.0, "health": None}

        def told(number: int, planned: int, reading: Reading, health: Health) -> None:
            now = time.monotonic()
            run.live = (
                f"Validating {number}/{planned}: {reading.note or description} "
                f"({health.replace('_', ' ')} so far)"
            )
            if health != last["health"] or now - last["at"] >= PROGRESS_SECONDS:
                last.update(at=now, health=health)
                self._show(record, run)

        return told

    def _show(self, record: ActionRecord, run: Run) -> None:
        """Put the steps so far on the card (the record stays EXECUTING)."""
        if note_progress(self.svc.db, record.id, run.shown()):
            self.svc.cards.refresh(record.id)

    def _undo(self, record: ActionRecord, plan: Plan, run: Run) -> ActionState:
        assert plan.inverse is not None
        try:
            inverse_plan = self.svc.catalog.plan(plan.inverse)
            self._step(
                record,
                "action.rollback_dry_run",
                self.svc.catalog.dry_run(inverse_plan),
                run,
                prefix="Undo dry run",
            )
            note = self.svc.catalog.execute(inverse_plan)
            self._step(record, "action.rollback_applied", note, run, facts=inverse_plan.facts)
        except ActionError as exc:
            run.lines.append(f"Undo failed: {exc}")
            return ActionState.FAILED
        run.lines.append(f"Undone by opsbot: {plan.inverse.kind} ({note}).")
        return ActionState.ROLLED_BACK

    def _step(
        self,
        record: ActionRecord,
        what: str,
        note: str,
        run: Run,
        facts: dict[str, Any] | None = None,
        prefix: str = "",
    ) -> None:
        shown = note[0].upper() + note[1:] if note else note
        run.lines.append(f"{prefix}: {note}" if prefix and note else shown)
        audit.record(
            self.svc.db,
            actor="opsbot",
            action=what,
            subject=f"action:{record.id}",
            rule=record.rule,
            detail={"result": note, "target": record.target, "facts": facts or {}},
        )

    def _finish(self, action_id: str, state: ActionState, run: Run) -> None:
        now = utcnow()
        guards = self.svc.guards

        def work(session: Session) -> None:
            record = transition(
                session,
                action_id,
                [ActionState.EXECUTING],
                state,
                actor="opsbot",
                detail={"result": run.lines, **run.detail},
                finished_at=now,
                outcome={"lines": run.lines, **run.detail},
            )
            if record is not None:
                changes = guards.record_attempt(
                    session, record.kind, succeeded=state is ActionState.SUCCEEDED, now=now
                )
                run.lines.extend(change.capitalize() + "." for change in changes)
                if changes:
                    record.outcome = {"lines": run.lines, **run.detail}
                    session.add(record)

        unit_of_work(self.svc.db, work)

    def reap_interrupted(self) -> int:
        """Mark executions whose process died mid-way (their run lease lapsed) as failed,
        visibly: the card and the audit log say it was interrupted (a scheduled job)."""
        now = utcnow()
        db = self.svc.db
        with db.session() as session:
            executing = session.exec(
                select(ActionRecord).where(ActionRecord.state == ActionState.EXECUTING)
            ).all()
        stale = [
            r.id
            for r in executing
            if r.started_at is not None
            and (now - aware(r.started_at)).total_seconds() > RUN_LEASE_TTL
            and not leases.alive(db, run_lease(r.id))
        ]
        for action_id in stale:
            self._finish(action_id, ActionState.FAILED, Run(lines=[INTERRUPTED]))
            self.svc.cards.refresh(action_id)
        return len(stale)


def _failing(baseline: Reading) -> bool:
    """Whether the signals showed a failure before the action (an unreadable one counts:
    opsbot does not assume a state was healthy when it could not see it)."""
    parts = baseline.parts or (baseline,)
    return any(part.value is not None or part.error for part in parts)


def _validation_detail(description: str, judgement: Judgement) -> dict[str, Any]:
    def shown(reading: Reading) -> dict[str, Any]:
        return {"value": reading.value, "note": reading.note}

    return {
        "signal": description,
        "health": judgement.health.value,
        "baseline": shown(judgement.baseline),
        "readings": [shown(r) for r in judgement.readings],
    }
