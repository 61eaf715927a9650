"""Grading one investigation against a scenario pack's ground truth: pure functions.

Root cause: `right` when the finding names the culprit and enough of the pack's keywords,
`partly` when it names the culprit or some keywords, `wrong` otherwise. Remediation:
`harmful` when any proposal is one the pack lists as harmful, `right` when a proposal is the
expected one or an acceptable alternative, `wrong` otherwise. Targets are compared as
`kind/namespace/name` (`kind/name` for cluster-scoped objects), as policies prints them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

RootCauseGrade = Literal["right", "partly", "wrong"]
RemediationGrade = Literal["right", "wrong", "harmful", "n/a"]
"""``n/a``: the pack names no remediation (a recorded incident grades the root cause only)."""
MIN_KEYWORDS = 2  # besides the culprit's name, this many keywords make a root cause right


@dataclass(frozen=True)
class ActionRef:
    """An action kind and its target text; `target` None (harmful lists only) means any."""

    kind: str
    target: str | None


@dataclass(frozen=True)
class GroundTruth:
    """What a pack says is right: the culprit's name, keywords of the cause, the expected
    action, the acceptable alternatives and the harmful actions."""

    culprit: str
    keywords: tuple[str, ...]
    remediation: ActionRef
    acceptable: tuple[ActionRef, ...] = ()
    harmful: tuple[ActionRef, ...] = ()


def target_text(kind: str, namespace: str | None, name: str) -> str:
    """`deployment/prod/checkout`, or `node/worker-2` for a cluster-scoped object."""
    return "/".join(part for part in (kind, namespace or "", name) if part)


def _mentions(text: str, phrase: str, *, identifier: bool = False) -> bool:
    """`phrase` appears in `text` as a whole word (case-insensitive). An identifier (the
    culprit's name) must not run on with a hyphen (`inventory-sync` is another service); a
    keyword may (`HikariPool-1` mentions HikariPool)."""
    edge = r"[\w-]" if identifier else r"\w"
    pattern = rf"(?<!{edge})" + re.escape(phrase.lower()) + rf"(?!{edge})"
    return re.search(pattern, text.lower()) is not None


# "Ruled out: <reason>." up to the first full stop that ends a sentence (not `2.4.0`)
_RULED_OUT = re.compile(r"ruled out:.*?(?:\.(?=\s|$)|$)", re.IGNORECASE | re.DOTALL)


def claimed(text: str) -> str:
    """The finding's words without its "Ruled out: ..." sentences: a finding that names the
    culprit only to reject it has not named it."""
    return _RULED_OUT.sub(" ", text)


def grade_root_cause(text: str, truth: GroundTruth) -> RootCauseGrade:
    """Grade the finding's words (summary plus root cause, less what it rules out) against
    the pack's truth."""
    text = claimed(text)
    named = _mentions(text, truth.culprit, identifier=True)
    others = [k for k in truth.keywords if k.lower() != truth.culprit.lower()]
    hits = sum(1 for keyword in others if _mentions(text, keyword))
    needed = min(MIN_KEYWORDS, len(others))
    if named and hits >= needed:
        return "right"
    if named or hits:
        return "partly"
    return "wrong"


def _matches(proposal: ActionRef, wanted: ActionRef) -> bool:
    return proposal.kind == wanted.kind and wanted.target in (None, proposal.target)


def grade_suspects(suspects: Sequence[str], culprit: str) -> RootCauseGrade:
    """A ranking against the faulty service: right when it is ranked first, partly when it
    is within the first three (AS@1 and AS@3 of the localisation literature)."""
    if suspects[:1] == [culprit]:
        return "right"
    return "partly" if culprit in suspects[:3] else "wrong"


def grade_remediation(proposals: Sequence[ActionRef], truth: GroundTruth) -> RemediationGrade:
    """Harmful beats right: one harmful proposal makes the whole answer harmful."""
    if any(_matches(p, h) for p in proposals for h in truth.harmful):
        return "harmful"
    wanted: Iterable[ActionRef] = (truth.remediation, *truth.acceptable)
    if any(_matches(p, w) for p in proposals for w in wanted):
        return "right"
    return "wrong"


@dataclass(frozen=True)
class CalibrationRow:
    """Findings whose stated confidence fell in [low, high): how many, and how many of
    them had the root cause right."""

    low: float
    high: float
    findings: int
    right: int

    @property
    def accuracy(self) -> float | None:
        return self.right / self.findings if self.findings else None


def calibration(
    graded: Iterable[tuple[float, RootCauseGrade]],
    edges: Sequence[float] = (0.0, 0.5, 0.7, 0.8, 0.9, 1.01),
) -> list[CalibrationRow]:
    """Stated confidence against right answers, bucketed by `edges`."""
    pairs = list(graded)
    rows = []
    for low, high in itertools.pairwise(edges):
        inside = [grade for confidence, grade in pairs if low <= confidence < high]
        rows.append(CalibrationRow(low, high, len(inside), inside.count("right")))
    return rows
