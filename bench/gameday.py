"""GameDay: play every sandbox scenario that names a remediation through the whole loop,
with nobody watching, and print what happened and how fast.

    inject (rollouts + faults into a live Kubernetes sandbox)
    → detect (the self-healing watcher; scenarios invisible to Kubernetes replay their alert)
    → triage (the investigator: pattern engine, or Claude when a key is set)
    → propose (the finding's proposals; the scenario's expected fix when it made none)
    → approve (auto-answered by on-call members U0BOB, then U0ALICE)
    → execute (dry run, real call) → validate (workload availability) → report

    python bench/gameday.py [--scenarios all|bad-image,oom-kill] [--mode supervised]

Times are wall-clock seconds from the injection; the sandbox cluster runs at 30x.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from kubernetes import client
from sqlmodel import col, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.investigation.agent.slack_answers import incident_request
from bot.remediation.records import ActionState
from bot.store.actions import ActionRecord
from bot.store.incidents import Incident
from policies import ProposedAction
from sandbox.kube import Fault, KubeSandbox
from sandbox.scenarios import Scenario, load_scenario, scenario_names
from sandbox.scenarios.spec import Remediation
from tests.botharness import RunningBot, running_bot, workspace
from tests.incidents.amfixtures import webhook
from tests.remediation.conftest import am_alert

T = TypeVar("T")
TIME_SCALE = 30.0
WATCHED_FAULTS = ("bad_image", "oom", "crash", "node_not_ready")
APPROVERS = ("U0BOB", "U0ALICE")
FINAL = {s.value for s in ActionState if s.terminal}


@dataclass
class Result:
    scenario: str
    detected_by: str = "-"
    detect_s: float | None = None
    triage_s: float | None = None
    root_cause_right: bool = False
    source: str = "-"
    action: str = "-"
    state: str = "-"
    heal_s: float | None = None
    healed: bool | None = None
    notes: list[str] = field(default_factory=list)


def wait(predicate: Callable[[], T | None], timeout: float, step: float = 0.2) -> T | None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


def policy_file(folder: Path, mode: str) -> Path:
    path = folder / "gameday-policy.yaml"
    path.write_text(
        "version: 1\n"
        f"mode: {mode}\n"
        f'mode_overrides: [{{namespaces: ["*"], mode: {mode}}}]\n'
        "defaults: {approvers: [S0ONCALL]}\n"
    )
    return path


@contextmanager
def world(scenario: Scenario, folder: Path, mode: str) -> Iterator[tuple[KubeSandbox, RunningBot]]:
    with KubeSandbox(seed=scenario.seed, time_scale=TIME_SCALE) as kube:
        healthy(kube, timeout=60)
        slack = workspace(post_message_rate=50.0, post_message_burst=50, update_rate=50.0)
        try:
            with running_bot(
                slack,
                database_url=f"sqlite:///{folder / 'bot.db'}",
                tools={"kubeconfig": str(kube.write_kubeconfig(folder / "kubeconfig"))},
                policy={"files": str(policy_file(folder, mode))},
                remediation={
                    "watcher_enabled": True,
                    "watch_timeout_seconds": 5,
                    "watcher_not_ready_seconds": 5.0,
                    "validation_deadline_seconds": 60.0,
                    "validation_interval_seconds": 1.0,
                    "validation_hold_seconds": 10.0,
                },
            ) as bot:
                yield kube, bot
        finally:
            slack.close()


def healthy(kube: KubeSandbox, timeout: float) -> bool:
    apps: Any = client.AppsV1Api(kube.api_client())

    def ready() -> bool:
        items = apps.list_deployment_for_all_namespaces().items
        return all(
            (d.status.available_replicas or 0) >= (d.spec.replicas or 0)
            and (d.status.updated_replicas or 0) >= (d.spec.replicas or 0)
            for d in items
        )

    return bool(wait(ready, timeout))


def stays_healthy(kube: KubeSandbox, seconds: float = 10.0) -> bool:
    """Healthy now and still healthy `seconds` later (a crash loop is healthy in between)."""
    if not healthy(kube, timeout=30):
        return False
    time.sleep(seconds)
    return healthy(kube, timeout=0.5)


def inject(kube: KubeSandbox, scenario: Scenario) -> None:
    apps: Any = client.AppsV1Api(kube.api_client())
    for rollout in scenario.rollouts:
        containers = [{"name": n, "image": i} for n, i in rollout.images.items()]
        apps.patch_namespaced_deployment(
            rollout.deployment,
            rollout.namespace,
            {"spec": {"template": {"spec": {"containers": containers}}}},
        )
    for fault in scenario.faults:
        kube.cluster.add_fault(Fault.from_dict(dict(fault)))


def replay_alert(bot: RunningBot, scenario: Scenario) -> None:
    """What Alertmanager would send once the scenario's metrics fire (they are not live)."""
    rule = scenario.rules()[0]
    incident = scenario.spec.incident
    labels = {"namespace": incident.namespace, "severity": "critical"}
    if incident.service:
        labels["service"] = incident.service
    raised = am_alert(str(rule["alert"]), labels, summary=scenario.spec.title)
    bot.bot.runtime.pipeline.accept(json.dumps(webhook(raised)).encode())


def first_incident(bot: RunningBot) -> Incident | None:
    with bot.bot.deps.db.session() as session:
        return session.exec(select(Incident).order_by(col(Incident.id))).first()


def matches(action: ProposedAction, wanted: Remediation) -> bool:
    return action.kind == wanted.kind and action.target.name == wanted.target.name


def oracle(scenario: Scenario, incident_id: int) -> ProposedAction:
    wanted = scenario.expected.remediation
    params = dict(wanted.params)
    if wanted.kind == "expand_volume" and "size" in params:
        params = {"new_size": params["size"]}
    return ProposedAction.model_validate(
        {
            "id": f"gameday-{scenario.name}",
            "kind": wanted.kind,
            "target": wanted.target.model_dump(exclude_none=True),
            "params": params,
            "reason": wanted.why,
            "proposer": "agent",
            "confidence": 0.9,
            "blast_radius": {"pods_affected": 1, "workload_share": 0.5},
            "incident_id": str(incident_id),
        }
    )


def play(name: str, mode: str) -> Result:
    scenario = load_scenario(name)
    result = Result(name)
    visible = any(f.get("kind") in WATCHED_FAULTS for f in scenario.faults)
    with tempfile.TemporaryDirectory() as tmp, world(scenario, Path(tmp), mode) as (kube, bot):
        t0 = time.monotonic()
        inject(kube, scenario)
        if not visible:
            replay_alert(bot, scenario)
        incident = wait(lambda: first_incident(bot), timeout=90)
        if incident is None:
            result.notes.append("no incident within 90 s")
            return result
        result.detected_by = "watcher" if visible else "replayed alert"
        result.detect_s = time.monotonic() - t0
        rt = bot.bot.runtime
        investigation = rt.investigator.investigate(incident_request(incident, bot.bot.deps))
        result.triage_s = time.monotonic() - t0
        proposals = list(investigation.finding.proposals)
        expected = [scenario.expected.remediation, *scenario.expected.also_acceptable]
        result.root_cause_right = any(matches(p, w) for p in proposals for w in expected)
        chosen = next((p for p in proposals if any(matches(p, w) for w in expected)), None)
        result.source = investigation.engine.value if chosen else "expected (oracle)"
        action = chosen or oracle(scenario, incident.id or 0)
        result.action = f"{action.kind} {action.target.name}"
        [outcome] = rt.remediation.propose(
            incident.id, [action], investigation.finding.summary or scenario.spec.title
        )
        for approver in APPROVERS:
            record_state = state_of(bot, outcome.action_id)
            if record_state == ActionState.PENDING:
                rt.remediation.approve(outcome.action_id, approver)
        final = wait(lambda: state_of(bot, outcome.action_id) in FINAL, timeout=120)
        result.state = state_of(bot, outcome.action_id) if final else "timeout"
        result.heal_s = time.monotonic() - t0
        if any(f.get("kind") == "node_not_ready" for f in scenario.faults):
            result.notes.append("a cordon contains a broken node; repairing it is for humans")
        elif visible:
            result.healed = result.state == ActionState.SUCCEEDED and stays_healthy(kube)
    return result


def state_of(bot: RunningBot, action_id: str) -> str:
    with bot.bot.deps.db.session() as session:
        record = session.get(ActionRecord, action_id)
        return record.state if record else "?"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def report(results: list[Result], mode: str) -> str:
    head = (
        f"{'scenario':<20} {'detected by':<15} {'MTTD':>6} {'triage':>7} {'RC':>3} "
        f"{'proposal':<18} {'action':<34} {'outcome':<12} {'healed':<7} {'MTTR':>6}"
    )
    lines = [f"GameDay ({mode} mode, sandbox at {TIME_SCALE:g}x)", head, "-" * len(head)]
    for r in results:
        heal = "n/a" if r.healed is None else ("yes" if r.healed else "no")
        lines.append(
            f"{r.scenario:<20} {r.detected_by:<15} {seconds(r.detect_s):>6} "
            f"{seconds(r.triage_s):>7} {'yes' if r.root_cause_right else 'no':>3} "
            f"{r.source:<18} {r.action:<34} {r.state:<12} {heal:<7} {seconds(r.heal_s):>6}"
        )
    judged = [r for r in results if r.healed is not None]
    healed = [r for r in judged if r.healed]
    mttd = [r.detect_s for r in results if r.detect_s is not None]
    mttr = [r.heal_s for r in healed if r.heal_s is not None]
    blocked = sum(r.state in ("refused", "shadowed", "blocked", "denied") for r in results)
    lines += [
        "",
        f"auto-heal rate: {len(healed)}/{len(judged)} scenarios whose fault Kubernetes shows",
        f"mean time to detect: {seconds(sum(mttd) / len(mttd) if mttd else None)} s",
        f"mean time to resolve (healed): {seconds(sum(mttr) / len(mttr) if mttr else None)} s",
        f"actions blocked by policy: {blocked}",
        f"rollbacks: {sum(r.state == 'rolled_back' for r in results)}",
        f"root cause right (investigation proposed the expected fix): "
        f"{sum(r.root_cause_right for r in results)}/{len(results)}",
    ]
    for r in results:
        lines.extend(f"note {r.scenario}: {note}" for note in r.notes)
    return "\n".join(lines)


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    """Play the scenarios named on the command line; `prog` names the command in usage."""
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenarios", default="all", help="all, or comma-separated names")
    parser.add_argument(
        "--mode", default="supervised", choices=["shadow", "supervised", "autonomous"]
    )
    args = parser.parse_args(argv)
    names = scenario_names() if args.scenarios == "all" else args.scenarios.split(",")
    results = []
    for name in names:
        chosen = load_scenario(name)
        if chosen.expected.remediation is None or chosen.spec.capacity_history:
            continue  # capacity: the bot's forecast scan, not an alert, opens the incident
        results.append(play(name, args.mode))
        print(f"... {name}: {results[-1].state}", flush=True)
    print(report(results, args.mode))


if __name__ == "__main__":
    main()
