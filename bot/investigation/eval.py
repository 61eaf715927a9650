"""The eval harness: play scenario packs in the sandbox world, investigate each the way an
incident does, and grade the answer against the pack's `expected.yaml`.

    report = evaluate(Path("sandbox/scenarios"), engine="pattern", only=("oom-kill",))
    report.packs[0].grade_root_cause      # "right" | "partly" | "wrong"
    report.as_json()                      # the `opsbot eval --json` document

The interface is small and stable so packs written by others keep working:
`pack_names(directory)` lists the incident packs of any folder (a pack may `extends:` a
cluster file in that folder), `evaluate(...)` plays and grades them, and `PackResult` /
`EvalReport` hold the rows. A pack with `capacity_history` is not an incident (the
forecast scan opens it) and is left out.

Recorded packs (folders with a `pack.json`, the shape `bot.investigation.recorded` documents
and `opsbot replay nezha --write-packs` writes) sit next to scenario packs: each is loaded
into the world's backends and its alerts investigated the same way; its root cause is graded
against the pack's ground truth from the finding's ranked suspects (right when the faulty
service is ranked first, partly when it is within the first three); it names no remediation
(`n/a`).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from bot.deps import build_deps
from bot.errors import ConfigError
from bot.investigation.agent.finding import Investigation
from bot.investigation.agent.request import AlertContext, InvestigationRequest, Workflow
from bot.investigation.grading import (
    ActionRef,
    CalibrationRow,
    GroundTruth,
    RemediationGrade,
    RootCauseGrade,
    calibration,
    grade_remediation,
    grade_root_cause,
    grade_suspects,
    target_text,
)
from bot.investigation.investigator import Investigator
from bot.settings import load_settings
from policies.routing import workload_of
from sandbox.scenarios.catalog import Scenario, load_scenario, scenario_names
from sandbox.scenarios.spec import Expected
from sandbox.world import World, WorldOptions

EngineName = Literal["pattern", "claude"]
HISTORY = 2 * 3600  # metric history before the load moment: room for the change points


class EvalError(ValueError):
    """The eval cannot run as asked (no packs, unknown pack, no API key for Claude)."""


@dataclass(frozen=True)
class PackResult:
    """One pack's graded answer (a row of the table and of `--json`)."""

    name: str
    engine: str
    summary: str
    root_cause: str
    proposals: tuple[ActionRef, ...]
    confidence: float
    grade_root_cause: RootCauseGrade
    grade_remediation: RemediationGrade
    seconds: float
    tokens: int
    cost_usd: float
    rule: str | None = None
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "engine": self.engine,
            "summary": self.summary,
            "root_cause": self.root_cause,
            "proposals": [{"kind": p.kind, "target": p.target} for p in self.proposals],
            "confidence": round(self.confidence, 3),
            "grade_root_cause": self.grade_root_cause,
            "grade_remediation": self.grade_remediation,
            "seconds": round(self.seconds, 2),
            "tokens": self.tokens,
            "cost_usd": round(self.cost_usd, 6),
        }


@dataclass(frozen=True)
class EvalReport:
    packs: list[PackResult] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {
            "packs": len(self.packs),
            "root_cause_right": sum(p.grade_root_cause == "right" for p in self.packs),
            "remediation_right": sum(p.grade_remediation == "right" for p in self.packs),
            "harmful": sum(p.grade_remediation == "harmful" for p in self.packs),
        }

    def calibration(self) -> list[CalibrationRow]:
        return calibration((p.confidence, p.grade_root_cause) for p in self.packs)

    def as_json(self) -> dict[str, Any]:
        return {"packs": [p.as_json() for p in self.packs], "summary": self.summary()}


def recorded_names(directory: Path) -> list[str]:
    """The recorded packs in `directory` (folders with a pack.json), sorted."""
    return sorted(p.name for p in directory.iterdir() if p.is_dir() and (p / "pack.json").is_file())


def pack_names(directory: Path) -> list[str]:
    """The incident packs in `directory`: folders with a scenario.yaml and recorded packs
    (folders with a pack.json), sorted."""
    if not directory.is_dir():
        raise EvalError(f"{directory} is not a folder")
    scenarios = [
        name
        for name in scenario_names(directory)
        if not load_scenario(name, directory).spec.capacity_history
    ]
    return sorted(set(scenarios) | set(recorded_names(directory)))


def ground_truth(expected: Expected) -> GroundTruth:
    """The grading view of a pack's expected.yaml."""

    def ref(kind: str, target: Any) -> ActionRef:
        text = None if target is None else target_text(target.kind, target.namespace, target.name)
        return ActionRef(kind, text)

    remediation = expected.remediation
    return GroundTruth(
        culprit=expected.root_cause.culprit or remediation.target.name,
        keywords=tuple(expected.root_cause.keywords),
        remediation=ref(remediation.kind, remediation.target),
        acceptable=tuple(ref(r.kind, r.target) for r in expected.also_acceptable),
        harmful=tuple(ref(h.kind, h.target) for h in expected.harmful),
    )


def incident_request(
    scenario_alerts: Sequence[AlertContext], now: datetime
) -> InvestigationRequest:
    """What the incident pipeline hands the investigator: every alert of the incident in the
    order they fired; title, namespace and service from the first (as the incident row)."""
    first = scenario_alerts[0].labels if scenario_alerts else {}
    return InvestigationRequest(
        workflow=Workflow.INCIDENT,
        question="",
        now=now,
        incident_id=1,
        title=scenario_alerts[0].name if scenario_alerts else "incident",
        namespace=first.get("namespace") or None,
        service=workload_of({str(k): str(v) for k, v in first.items()}),
        alerts=tuple(scenario_alerts),
    )


def grade(name: str, answer: Investigation, seconds: float, expected: Expected) -> PackResult:
    """Grade one investigation against the pack's expected.yaml."""
    finding = answer.finding
    truth = ground_truth(expected)
    proposals = tuple(ActionRef(p.kind.value, str(p.target)) for p in finding.proposals)
    text = f"{finding.summary}\n{finding.root_cause}"
    return PackResult(
        name=name,
        engine=answer.engine.value,
        summary=finding.summary,
        root_cause=finding.root_cause,
        proposals=proposals,
        confidence=finding.confidence,
        grade_root_cause=grade_root_cause(text, truth),
        grade_remediation=grade_remediation(proposals, truth),
        seconds=seconds,
        tokens=answer.usage.total_tokens,
        cost_usd=answer.usage.cost_usd,
        rule=finding.rule,
        notes=tuple(finding.notes),
    )


def failed(name: str, engine: str, exc: Exception) -> PackResult:
    """The row of a pack that could not be played or investigated: graded wrong."""
    return PackResult(
        name=name,
        engine=engine,
        summary=f"the pack failed: {type(exc).__name__}: {str(exc)[:300]}",
        root_cause="",
        proposals=(),
        confidence=0.0,
        grade_root_cause="wrong",
        grade_remediation="wrong",
        seconds=0.0,
        tokens=0,
        cost_usd=0.0,
    )


def llm_settings(engine: EngineName) -> dict[str, Any]:
    """The model settings for `engine`: none for the pattern engine; for Claude the key (and
    base URL) from the environment, refused early when the key is missing."""
    if engine != "claude":
        return {"api_key": None}
    key = os.environ.get("ANTHROPIC_API_KEY")
    if not key:
        raise EvalError("--engine claude needs ANTHROPIC_API_KEY")
    llm: dict[str, Any] = {"api_key": key, "answer_cache_seconds": 0}
    if os.environ.get("ANTHROPIC_BASE_URL"):
        llm["base_url"] = os.environ["ANTHROPIC_BASE_URL"]
    return llm


@contextmanager
def _investigator(world: World, engine: EngineName, workdir: Path) -> Iterator[Investigator]:
    urls = world.urls
    tools = {
        "logs_flavor": "opensearch",
        "logs_index": "logs-*",
        "kubeconfig": urls.kubeconfig,
        "prometheus_url": urls.prometheus,
        "logs_url": urls.opensearch,
        "jaeger_url": urls.jaeger,
    }
    llm = llm_settings(engine)
    try:
        settings = load_settings(
            database={"url": f"sqlite:///{workdir / 'eval.db'}"}, tools=tools, llm=llm
        )
    except ConfigError as exc:
        raise EvalError(str(exc)) from exc
    deps = build_deps(settings)
    investigator = Investigator.from_settings(settings, deps.db, deps.metrics, deps.cache)
    try:
        yield investigator
    finally:
        investigator.close()
        deps.close()


def play_and_grade(world: World, investigator: Investigator, scenario: Scenario) -> PackResult:
    """Load one pack into the world, investigate its alerts, grade the answer."""
    loaded = world.load(scenario)
    alerts = [
        AlertContext(a.name, "firing", a.active_since, dict(a.labels), dict(a.annotations))
        for a in sorted(loaded.alerts, key=lambda a: a.fired_at)
    ]
    started = time.monotonic()
    answer = investigator.investigate(incident_request(alerts, datetime.now(UTC)))
    seconds = time.monotonic() - started
    return grade(scenario.name, answer, seconds, scenario.expected)


def evaluate(
    directory: Path,
    *,
    engine: EngineName = "pattern",
    only: Sequence[str] = (),
    world: World | None = None,
    progress: Callable[[PackResult], None] | None = None,
) -> EvalReport:
    """Play and grade every incident pack of `directory` (or the `only` ones) in `world`
    (a fresh sandbox world when None); `progress` sees each row as it is graded."""
    names = pack_names(directory)
    unknown = sorted(set(only) - set(names))
    if unknown:
        raise EvalError(f"no incident pack {', '.join(unknown)} in {directory}")
    chosen = [n for n in names if not only or n in only]
    if not chosen:
        raise EvalError(f"no incident packs in {directory}")
    llm_settings(engine)  # a missing key fails before any server starts
    recorded = set(recorded_names(directory))
    packs: list[Scenario | Path] = [
        directory / name if name in recorded else load_scenario(name, directory) for name in chosen
    ]
    results: list[PackResult] = []
    with (
        tempfile.TemporaryDirectory(prefix="opsbot-eval-") as tmp,
        _world(world) as playing,
        _investigator(playing, engine, Path(tmp)) as investigator,
    ):
        for pack in packs:
            try:
                result = (
                    play_and_grade_recorded(playing, investigator, pack)
                    if isinstance(pack, Path)
                    else play_and_grade(playing, investigator, pack)
                )
            except Exception as exc:  # noqa: BLE001 - one broken pack must not stop the rest
                result = failed(pack.name, engine, exc)
            results.append(result)
            if progress is not None:
                progress(result)
    return EvalReport(results)


def recorded_alerts(alerts: Sequence[dict[str, Any]]) -> list[AlertContext]:
    """A recorded pack's Alertmanager (v4) alerts as the investigation sees them."""
    return [
        AlertContext(
            str((a.get("labels") or {}).get("alertname", "alert")),
            str(a.get("status", "firing")),
            datetime.fromisoformat(str(a["startsAt"]).replace("Z", "+00:00")),
            dict(a.get("labels") or {}),
            dict(a.get("annotations") or {}),
        )
        for a in sorted(alerts, key=lambda a: str(a.get("startsAt", "")))
    ]


def play_recorded(world: World, investigator: Investigator, directory: Path) -> Investigation:
    """Load a recorded pack (its directory) into the world's backends and investigate its
    alerts exactly as an incident is investigated."""
    loaded = world.load_recorded(directory)
    request = incident_request(recorded_alerts(loaded.alerts), datetime.now(UTC))
    return investigator.investigate(request)


def grade_recorded(
    name: str, answer: Investigation, seconds: float, culprit: str | None
) -> PackResult:
    """Grade one recorded pack's investigation: its ranked suspects against the faulty
    service (``grade_suspects``; wrong when the pack has no ground truth)."""
    finding = answer.finding
    return PackResult(
        name=name,
        engine=answer.engine.value,
        summary=finding.summary,
        root_cause=finding.root_cause,
        proposals=tuple(ActionRef(p.kind.value, str(p.target)) for p in finding.proposals),
        confidence=finding.confidence,
        grade_root_cause=grade_suspects(finding.suspects, culprit) if culprit else "wrong",
        grade_remediation="n/a",
        seconds=seconds,
        tokens=answer.usage.total_tokens,
        cost_usd=answer.usage.cost_usd,
        rule=finding.rule,
        notes=tuple(finding.notes),
    )


def play_and_grade_recorded(
    world: World, investigator: Investigator, directory: Path
) -> PackResult:
    """Load one recorded pack into the world, investigate its alerts, grade the answer."""
    meta = json.loads((directory / "pack.json").read_text())
    truth = meta.get("truth") or {}
    started = time.monotonic()
    answer = play_recorded(world, investigator, directory)
    seconds = time.monotonic() - started
    return grade_recorded(directory.name, answer, seconds, truth.get("service"))


@contextmanager
def investigating_world(engine: EngineName = "pattern") -> Iterator[tuple[World, Investigator]]:
    """A fresh sandbox world and an investigator reading it (for recorded packs)."""
    llm_settings(engine)
    with (
        tempfile.TemporaryDirectory(prefix="opsbot-eval-") as tmp,
        _world(None) as playing,
        _investigator(playing, engine, Path(tmp)) as investigator,
    ):
        yield playing, investigator


@contextmanager
def _world(given: World | None) -> Iterator[World]:
    if given is not None:
        yield given
        return
    with World(WorldOptions(slack=None, history=HISTORY)).start() as started:
        yield started
