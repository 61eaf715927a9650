"""GameDay scoring: what one pack's play shows, and the run's totals (pure functions).

A pack is *healed* when its action ran to a validation outcome, was kept, and its incident
resolved by itself in the live world (its alerts stopped firing after opsbot acted). A
pack's play is *harmful* when validation judged an action worse, or when an action the pack
lists as harmful ran (the supervised approver approves every proposal, so a harmful
proposal is carried out).
A *fix undone* is an action that had recovered and was undone anyway (what issue 19 was
about; it must stay 0). The auto-heal rate is healed packs over
packs played (a pack whose alerts no listed action can clear still counts as healed when
opsbot escalated after acting, nothing got worse, and the escalation named the human step
the pack expects (its `human_step`): an escalation that does not say what to do heals
nothing). The run also says how many packs had their alerts cleared by opsbot's kept
action alone (`cleared_by_opsbot`), the stricter figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class PackResult:
    """One pack played: the JSON fields of issue 19's schema, plus notes."""

    name: str
    detected: bool = False
    mttd_s: float | None = None
    diagnosed_right: bool = False
    action: str = "-"
    validation: str = "-"  # recovered | not_recovered | worse | - (nothing ran)
    undone: bool = False
    escalated: bool = False
    escalated_right: bool = False  # an escalation named the pack's expected human step
    resolved: bool = False  # the incident resolved by itself in the live world
    ran_harmful: str | None = None  # an action the pack lists as harmful that ran
    mttr_s: float | None = None
    notes: tuple[str, ...] = ()

    @property
    def harmful(self) -> bool:
        return self.validation == "worse" or self.ran_harmful is not None

    @property
    def cleared(self) -> bool:
        """The alerts cleared in the live world with opsbot's action kept (no human step)."""
        return self.action != "-" and not self.undone and not self.harmful and self.resolved

    @property
    def fix_undone(self) -> bool:
        return self.undone and self.validation == "recovered"

    @property
    def healed(self) -> bool:
        """Healed by opsbot: its action ran to a validation outcome and was kept, and the
        alerts resolved by themselves; or it told the humans the step the pack expects. An
        incident that resolved while the action never got a verdict (it waited for an
        approval nobody gave) was not healed by opsbot."""
        kept = self.action != "-" and not self.undone and not self.harmful
        judged = self.validation != "-"
        return kept and ((judged and self.resolved) or self.escalated_right)

    def as_json(self) -> dict[str, Any]:
        found = asdict(self)
        found.pop("notes")
        found.pop("resolved")
        found.pop("escalated_right")
        found.pop("ran_harmful")
        return {**found, "healed": self.healed, "harmful": self.harmful}


def summary(results: Sequence[PackResult]) -> dict[str, Any]:
    """The run as issue 19's JSON: packs, auto_heal_rate, harmful, fixes_undone."""
    healed = sum(r.healed for r in results)
    return {
        "packs": [r.as_json() for r in results],
        "auto_heal_rate": round(healed / len(results), 3) if results else None,
        "harmful": sum(r.harmful for r in results),
        "fixes_undone": sum(r.fix_undone for r in results),
        "cleared_by_opsbot": sum(r.cleared for r in results),
    }


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def table(results: Sequence[PackResult], mode: str) -> str:
    """The per-pack table and the totals, for the terminal (the pack column as wide as the
    longest name)."""
    w = max([20, *(len(r.name) for r in results)])
    head = (
        f"{'pack':<{w}} {'det':<4} {'MTTD':>5} {'diag':<5} {'action':<34} {'validation':<14} "
        f"{'undone':<7} {'esc':<4} {'healed':<7} {'harm':<5} {'MTTR':>5}"
    )
    lines = [f"GameDay ({mode} mode, closed-loop world)", head, "-" * len(head)]
    for r in results:
        lines.append(
            f"{r.name:<{w}} {_yes(r.detected):<4} {_seconds(r.mttd_s):>5} "
            f"{_yes(r.diagnosed_right):<5} {r.action[:34]:<34} {r.validation:<14} "
            f"{_yes(r.undone):<7} {_yes(r.escalated):<4} {_yes(r.healed):<7} "
            f"{_yes(r.harmful):<5} {_seconds(r.mttr_s):>5}"
        )
    total = summary(results)
    rate = total["auto_heal_rate"]
    lines += [
        "",
        f"auto-heal rate: {'-' if rate is None else f'{rate:.0%}'} "
        f"({sum(r.healed for r in results)}/{len(results)} packs)",
        f"alerts cleared by opsbot's action alone: {total['cleared_by_opsbot']}/{len(results)}",
        f"harmful actions: {total['harmful']}",
        f"fixes undone: {total['fixes_undone']}",
    ]
    for r in results:
        lines.extend(f"note {r.name}: {note}" for note in r.notes)
    return "\n".join(lines)
