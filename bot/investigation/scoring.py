"""Scoring localisation like the literature: AS@k (the faulty service within the top k) and
fault-kind accuracy, over a list of per-fault outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class FaultOutcome:
    """What the investigation answered for one recorded fault, next to the truth."""

    name: str
    inject_time: str
    truth_service: str
    truth_type: str
    ranked_services: list[str]
    predicted_type: str
    seconds: float

    def hit(self, k: int) -> bool:
        """The faulty service is among the first ``k`` ranked."""
        return self.truth_service in self.ranked_services[:k]


def accuracy_at(outcomes: Sequence[FaultOutcome], k: int) -> float:
    """AS@k: share of faults whose faulty service is ranked within the top ``k``."""
    return sum(o.hit(k) for o in outcomes) / len(outcomes) if outcomes else 0.0


def type_accuracy(outcomes: Sequence[FaultOutcome]) -> float:
    """Share of faults whose kind was named right."""
    if not outcomes:
        return 0.0
    return sum(o.predicted_type == o.truth_type for o in outcomes) / len(outcomes)


def report(outcomes: Sequence[FaultOutcome]) -> dict[str, Any]:
    """The ``--json`` document: per-fault rows and the three accuracies."""
    return {
        "faults": [asdict(o) for o in outcomes],
        "as_at_1": accuracy_at(outcomes, 1),
        "as_at_3": accuracy_at(outcomes, 3),
        "type_accuracy": type_accuracy(outcomes),
        "seconds_per_fault": sum(o.seconds for o in outcomes) / len(outcomes) if outcomes else 0.0,
    }
