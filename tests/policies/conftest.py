"""Builders for policy tests: actions from short strings, policy files in a temp folder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from policies import (
    BlastRadius,
    EvaluationContext,
    Policy,
    ProposedAction,
    load_policy,
    parse_action_kind,
    parse_target,
)

WEDNESDAY_MORNING = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)
SITE_APPROVERS = """
defaults:
  approvers: [S0ONCALL]
"""

ActionFactory = Callable[..., ProposedAction]
PolicyWriter = Callable[..., Path]


@pytest.fixture
def make_action() -> ActionFactory:
    counter = iter(range(1, 1_000_000))

    def build(
        kind: str,
        target: str,
        *,
        params: dict[str, Any] | None = None,
        confidence: float = 0.95,
        pods: int = 1,
        share: float = 0.1,
        namespaces: int = 1,
        nodes: int = 0,
        labels: dict[str, str] | None = None,
        proposer: str = "agent",
    ) -> ProposedAction:
        ref = parse_target(target)
        return ProposedAction.model_validate(
            {
                "id": f"act-{next(counter)}",
                "kind": parse_action_kind(kind),
                "target": ref.model_copy(update={"labels": labels}),
                "params": params,
                "reason": "test",
                "proposer": proposer,
                "confidence": confidence,
                "blast_radius": BlastRadius(
                    pods_affected=pods,
                    replicas_affected=pods,
                    workload_share=share,
                    namespaces_touched=namespaces,
                    nodes_touched=nodes,
                ),
            }
        )

    return build


@pytest.fixture
def context() -> EvaluationContext:
    return EvaluationContext(now=WEDNESDAY_MORNING)


@pytest.fixture
def write_policy(tmp_path: Path) -> PolicyWriter:
    def write(text: str, name: str = "site.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


@pytest.fixture
def site_policy(write_policy: PolicyWriter) -> Policy:
    """The shipped defaults plus a site file naming the on-call group as approvers."""
    return load_policy([write_policy(SITE_APPROVERS)])
