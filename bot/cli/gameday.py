"""`opsbot gameday [DIR] [--mode supervised|autonomous] [--only NAME…] [--json OUT]`.

Plays every scenario pack of DIR (default: the shipped packs) in the closed-loop sandbox
world, with the real bot in-process and nobody watching:

    load (the incident already under way; its series live from then on)
    → detect (Prometheus fires the pack's rules through the real Alertmanager)
    → investigate and propose (the bot's own pipeline: pattern engine, or Claude)
    → approve (supervised: every proposal, as the on-call members U0BOB then U0ALICE
      where a rule needs two; autonomous: the policy lets opsbot act alone)
    → execute → validate on live signals
    → healed when the alerts resolve by themselves in the live world

and prints per pack: detected, MTTD, diagnosed right, action, validation, undone,
escalated, healed (an escalation counts only when it names the pack's human step),
harmful, MTTR; then the auto-heal rate, harmful actions and fixes undone (see
`bot.cli.gameday_score`; an action the pack lists as harmful that ran counts as harmful).
Times are wall-clock seconds from the load moment.

The rate limits and circuit breakers are opened wide: a GameDay packs a day of incidents
into an hour, and it measures the loop, not the guards.
"""

from __future__ import annotations

import argparse
import json
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from rich.console import Console
from sqlmodel import col, select

from bot.app.server import Bot, build_bot
from bot.cli.gameday_score import PackResult, summary, table
from bot.remediation.records import ActionState
from bot.settings import load_settings
from bot.store.actions import ActionRecord, Escalation
from bot.store.incidents import Incident
from bot.store.models import utcnow
from sandbox.procs import free_port
from sandbox.scenarios.catalog import SCENARIOS_DIR, Scenario, load_scenario, scenario_names
from sandbox.serve import ServerThread
from sandbox.slack.config import SlackConfig
from sandbox.world import World, WorldOptions

T = TypeVar("T")
console = Console()
APPROVERS = ("U0BOB", "U0ALICE")
"""The named test approvers (on-call members of the emulated workspace), in order: the
second answers only where a rule needs two approvals."""
SETTLE_SECONDS = 600.0
"""How long a pack may take from the load to its alerts resolving."""


ACTS_ALONE = (
    "restart_deployment",
    "rollback_deployment",
    "scale_deployment",
    "set_resources",
    "cordon_node",
    "expand_volume",
    "delete_pod",
)
"""The action kinds an autonomous GameDay lets opsbot take alone (the shipped policy makes
every production change RISKY, which waits for a click nobody gives). The policy's
confidence floor still holds: a finding less certain than it waits for a human."""


def gameday_policy(folder: Path, mode: str) -> Path:
    """The site policy of the run: everyone on call approves, and the listed action kinds
    are allowed anywhere but the protected namespaces (the shipped rules name common
    production namespaces only; a GameDay measures the loop, not the site's namespace
    naming). Supervised: they need the on-call's approval (RISKY); autonomous: opsbot takes
    them alone (SAFE; the confidence floor still holds)."""
    path = folder / "gameday-policy.yaml"
    name, verdict, says = (
        ("gameday-acts-alone", "SAFE", "opsbot takes the listed actions alone")
        if mode == "autonomous"
        else ("gameday-approves", "RISKY", "the on-call approves the listed actions")
    )
    path.write_text(
        "version: 1\n"
        f"mode: {mode}\n"
        f'mode_overrides: [{{namespaces: ["*"], mode: {mode}}}]\n'
        "defaults: {approvers: [S0ONCALL]}\n"
        "rules:\n"
        f"  - name: {name}\n"
        f"    description: In a {mode} GameDay {says} in any namespace.\n"
        f"    match: {{kinds: [{', '.join(ACTS_ALONE)}]}}\n"
        f"    verdict: {verdict}\n"
    )
    return path


def wait(predicate: Callable[[], T | None], timeout: float, step: float = 1.0) -> T | None:
    """Poll `predicate` until it returns something truthy or `timeout` seconds pass."""
    end = time.monotonic() + timeout
    while True:
        found = predicate()
        if found or time.monotonic() >= end:
            return found
        time.sleep(step)


@contextmanager
def _running(
    world: World, folder: Path, name: str, mode: str, port: int, secret: str
) -> Iterator[Bot]:
    """A bot of its own for one pack (fresh database: one pack's incidents never correlate
    with the previous pack's)."""
    urls = world.urls
    assert world.slack is not None
    settings = load_settings(
        slack={
            "bot_token": world.slack.config.bot_token,
            "signing_secret": secret,
            "api_url": world.slack.api_url,
        },
        database={"url": f"sqlite:///{folder / f'{name}.db'}"},
        tools={
            "prometheus_url": urls.prometheus,
            "logs_url": urls.opensearch,
            "logs_flavor": "opensearch",
            "jaeger_url": urls.jaeger,
            "kubeconfig": urls.kubeconfig,
        },
        alertmanager={"url": urls.alertmanager},
        policy={"files": str(gameday_policy(folder, mode))},
        remediation={
            "validation_deadline_seconds": 420.0,
            "validation_interval_seconds": 10.0,
            "validation_hold_seconds": 30.0,
            "max_actions_per_namespace_per_hour": 1000,
            "max_actions_per_hour": 1000,
            "breaker_failure_ratio": 1.0,
            "breaker_window": 100,
        },
    )
    bot = build_bot(settings)
    bot.runtime.start()
    server = ServerThread(bot.asgi, port=port).start()
    try:
        yield bot
    finally:
        server.stop()
        bot.runtime.stop()


def _first_incident(bot: Bot) -> Incident | None:
    """The first incident posted to Slack (an earlier one may still be held back, e.g. a
    warning that must persist before it is posted)."""
    with bot.deps.db.session() as session:
        posted = select(Incident).where(col(Incident.thread_ts).is_not(None))
        return session.exec(posted.order_by(col(Incident.id))).first()


def _actions(bot: Bot, incident_id: int | None = None) -> list[ActionRecord]:
    """The actions proposed for one incident (None: for any incident of the pack)."""
    with bot.deps.db.session() as session:
        query = select(ActionRecord)
        if incident_id is not None:
            query = query.where(ActionRecord.incident_id == incident_id)
        return list(session.exec(query.order_by(col(ActionRecord.created_at))).all())


def _state(bot: Bot, action_id: str) -> str:
    with bot.deps.db.session() as session:
        found = session.get(ActionRecord, action_id)
        return found.state if found is not None else ""


def _escalations(bot: Bot, incident_id: int) -> list[str]:
    """The reasons of the incident's escalations (what the humans were told)."""
    with bot.deps.db.session() as session:
        found = session.exec(select(Escalation).where(Escalation.incident_id == incident_id))
        return [row.reason for row in found.all()]


def _status(bot: Bot, incident_id: int) -> Incident | None:
    with bot.deps.db.session() as session:
        return session.get(Incident, incident_id)


def _matches(record: ActionRecord, scenario: Scenario) -> bool:
    wanted = [scenario.expected.remediation, *scenario.expected.also_acceptable]
    name = record.target.rsplit("/", 1)[-1]
    return any(w is not None and w.kind == record.kind and w.target.name == name for w in wanted)


RAN = frozenset(
    {
        ActionState.EXECUTING,
        ActionState.SUCCEEDED,
        ActionState.FAILED,
        ActionState.ROLLED_BACK,
        ActionState.NOT_RECOVERED,
    }
)
"""States of an action that was carried out (or began to be)."""


def ran_harmful(records: Sequence[ActionRecord], scenario: Scenario) -> str | None:
    """The first carried-out action the pack lists as harmful ("kind name"), if any (a
    listed harmful action without a target means that kind on anything)."""
    for record in records:
        name = record.target.rsplit("/", 1)[-1]
        for harmful in scenario.expected.harmful:
            same_target = harmful.target is None or harmful.target.name == name
            if record.state in RAN and harmful.kind == record.kind and same_target:
                return f"{record.kind} {name}"
    return None


def play(world: World, bot: Bot, scenario: Scenario, mode: str) -> PackResult:
    """Play one pack in the (already started) world against a running bot of its own."""
    result = PackResult(scenario.name)
    # The clock starts before the load: a live world's Prometheus evaluates the pack's rules
    # as soon as it restarts inside the load, so an alert can reach the bot before it returns.
    t0 = time.monotonic()
    world.load(scenario)
    world.play()
    incident = wait(lambda: _first_incident(bot), timeout=180)
    if incident is None or incident.id is None:
        result.notes = ("no incident within 180 s",)
        return result
    result.detected, result.mttd_s = True, time.monotonic() - t0
    # A pack may open several incidents (an unrelated alert beside the real one): the
    # proposals of all of them are looked at, and the pack's incident is the one whose
    # action is played (else the first posted).
    proposed = wait(lambda: _actions(bot), timeout=240, step=2.0) or []
    if proposed and not any(_matches(r, scenario) for r in proposed):
        # Another incident's may come later: a warning is posted once it has persisted 2 m.
        matching = wait(
            lambda: [r for r in _actions(bot) if _matches(r, scenario)], timeout=180, step=2.0
        )
        proposed = _actions(bot) if matching else proposed
    result.diagnosed_right = any(_matches(r, scenario) for r in proposed)
    if not proposed:
        result.notes = ("the investigation proposed no action",)
    chosen = next((r for r in proposed if _matches(r, scenario)), proposed[0] if proposed else None)
    incident_id, latest = incident.id, chosen
    if chosen is not None and chosen.incident_id is not None:
        incident_id = chosen.incident_id
    if chosen is not None:
        result.action = f"{chosen.kind} {chosen.target.rsplit('/', 1)[-1]}"
        if mode == "supervised":
            for record in proposed:
                for approver in APPROVERS:
                    if _state(bot, record.id) == ActionState.PENDING:
                        bot.runtime.remediation.approve(record.id, approver)

        def finished() -> ActionRecord | None:
            found = next((r for r in _actions(bot, incident_id) if r.id == chosen.id), None)
            done = found is not None and ActionState(found.state).terminal
            return found if done else None

        final = wait(finished, timeout=SETTLE_SECONDS, step=2.0)
        latest = final or chosen
        if final is not None:
            health = (final.outcome.get("validation") or {}).get("health")
            result.validation = str(health or final.state)
            result.undone = final.state == ActionState.ROLLED_BACK
    resolved = wait(
        lambda: (i := _status(bot, incident_id)) is not None and i.status == "resolved",
        timeout=max(0.0, SETTLE_SECONDS - (time.monotonic() - t0)),
        step=2.0,
    )
    result.resolved = bool(resolved)
    if resolved:
        result.mttr_s = time.monotonic() - t0
    _score_escalations(result, _escalations(bot, incident_id), scenario, latest)
    result.ran_harmful = ran_harmful(_actions(bot), scenario)
    if result.ran_harmful is not None:
        result.notes = (*result.notes, f"ran {result.ran_harmful}, which the pack lists as harmful")
    return result


def handed_over(record: ActionRecord, scenario: Scenario, told: Sequence[str]) -> bool:
    """Whether the pack's own action was refused as FORBIDDEN by the site policy (a protected
    namespace) and an escalation handed exactly that action to a human: then no action
    opsbot may take heals the pack, and the hand-over counts like a named human step."""
    forbidden = record.state == ActionState.REFUSED and record.verdict.upper() == "FORBIDDEN"
    named = any(record.kind in t and record.target in t for t in told)
    return forbidden and named and _matches(record, scenario)


def _score_escalations(
    result: PackResult, told: Sequence[str], scenario: Scenario, chosen: ActionRecord | None
) -> None:
    """Whether the humans were called, and whether what they were told names the human
    step the pack expects (only then does the escalation count as the fix), or hands them
    the pack's own action that the policy forbids opsbot (`handed_over`)."""
    step = scenario.expected.human_step
    result.escalated = bool(told)
    result.escalated_right = step is not None and any(step.named_in(t) for t in told)
    if chosen is not None and handed_over(chosen, scenario, told):
        result.escalated_right = True
        note = "the pack's action is FORBIDDEN to opsbot by the site policy; handed to a human"
        result.notes = (*result.notes, note)
    if told and not result.escalated_right:
        missing = "names no human step the pack expects" if step is None else "misses the step"
        result.notes = (*result.notes, f"the escalation {missing}")


def playable(root: Path, only: Sequence[str]) -> list[Scenario]:
    """The packs to play: those that name a remediation (a capacity story's incident comes
    from the forecast scan, not from alerts, so it is left to `opsbot eval`)."""
    names = list(only) or scenario_names(root)
    packs = [load_scenario(name, root) for name in names]
    return [p for p in packs if p.expected.remediation is not None and not p.spec.capacity_history]


def gameday_main(argv: Sequence[str]) -> int:
    """Parse the arguments, play the packs, print the table, write the JSON."""
    parser = argparse.ArgumentParser(
        prog="opsbot gameday",
        description="Play every scenario pack of DIR in the closed-loop sandbox world with "
        "nobody watching: detect, investigate, propose, approve, execute, validate on live "
        "signals; print per pack whether it healed, MTTD and MTTR, then the auto-heal rate.",
    )
    parser.add_argument(
        "dir", nargs="?", type=Path, default=SCENARIOS_DIR, help="a folder of scenario packs"
    )
    parser.add_argument(
        "--mode",
        default="supervised",
        choices=["supervised", "autonomous"],
        help="supervised: a named test approver approves every proposal; autonomous: the "
        "policy lets opsbot act alone",
    )
    parser.add_argument("--only", nargs="+", default=[], metavar="NAME", help="these packs only")
    parser.add_argument("--json", type=Path, default=None, metavar="OUT", help="write the rows")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="play the packs in N worlds at once (each world its own Prometheus, "
        "Alertmanager and bot; about 0.8 GB of memory each)",
    )
    parser.add_argument("--rows", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(list(argv))
    packs = playable(args.dir, args.only)
    signal.signal(signal.SIGTERM, _stopped)
    started = utcnow()
    if args.jobs > 1 and len(packs) > 1:
        results = in_parallel(args.dir, [p.name for p in packs], args.mode, args.jobs)
    else:
        results = in_one_world(packs, args.mode)
    print(table(results, args.mode))
    print(f"(started {started:%Y-%m-%d %H:%M} UTC, {len(results)} packs)")
    if args.json is not None:
        report: dict[str, Any] = summary(results)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    if args.rows is not None:
        args.rows.write_text(json.dumps([asdict(r) for r in results]))
    return 0


def _stopped(_signum: int, _frame: FrameType | None) -> None:
    """SIGTERM ends a GameDay like Ctrl-C does: the worlds' Prometheus, Alertmanager and
    stand-ins are stopped on the way out instead of outliving it."""
    raise KeyboardInterrupt


def in_one_world(packs: Sequence[Scenario], mode: str) -> list[PackResult]:
    """Play `packs` one after another in one closed-loop world, a fresh bot for each."""
    port, secret = free_port(), secrets.token_hex(16)
    slack = SlackConfig(signing_secret=secret, bot_url=f"http://127.0.0.1:{port}/slack/events")
    options = WorldOptions(history=3600, step=60, slack=slack, live=True)
    results: list[PackResult] = []
    with tempfile.TemporaryDirectory(prefix="opsbot-gameday-") as tmp:
        folder = Path(tmp)
        with World(options).start() as world:
            for scenario in packs:
                console.print(f"... {scenario.name}", highlight=False)
                with _running(world, folder, scenario.name, mode, port, secret) as bot:
                    world.route_alerts_to(f"http://127.0.0.1:{port}/alertmanager")
                    results.append(play(world, bot, scenario, mode))
                    world.resolve_alerts()
                    world.route_alerts_to(None)
                console.print(json.dumps(results[-1].as_json()), highlight=False)
    return results


def in_parallel(root: Path, names: Sequence[str], mode: str, jobs: int) -> list[PackResult]:
    """Play `names` in `jobs` worlds at once: each world is a child `opsbot gameday` with a
    share of the packs (dealt round-robin), and the rows come back in the packs' order.
    A child that fails leaves its packs undetected rows with a note, never a lost pack."""
    shares = [list(names[i::jobs]) for i in range(min(jobs, len(names)))]
    with tempfile.TemporaryDirectory(prefix="opsbot-gameday-jobs-") as tmp:
        rows = [Path(tmp) / f"rows-{i}.json" for i in range(len(shares))]
        children = [
            subprocess.Popen(  # noqa: S603 - our own interpreter, pack names from the folder
                [
                    sys.executable,
                    "-m",
                    "bot",
                    "gameday",
                    str(root),
                    "--mode",
                    mode,
                    "--rows",
                    str(out),
                    "--only",
                    *share,
                ]
            )
            for share, out in zip(shares, rows, strict=True)
        ]
        try:
            codes = [child.wait() for child in children]
        finally:  # stopped early: each child stops its own world
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                child.wait()
        found: dict[str, PackResult] = {}
        for out, code in zip(rows, codes, strict=True):
            if out.exists():
                for row in json.loads(out.read_text()):
                    found[row["name"]] = PackResult(**{**row, "notes": tuple(row["notes"])})
            elif code != 0:
                console.print(f"a GameDay world exited with {code}", highlight=False)
    lost = ("its GameDay world stopped before it was played",)
    return [found.get(name) or PackResult(name, notes=lost) for name in names]
