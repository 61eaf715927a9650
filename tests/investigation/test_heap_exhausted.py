"""A process that runs out of memory in its own words (Java heap space, MemoryError) with no
kernel OOM kill gets the OOM split: a release just before → roll it back; none → raise the
limit a heap sized from it grows with; an OOM kill leaves it to the OOM-kill rule."""

from __future__ import annotations

from datetime import timedelta

from bot.investigation.patterns.base import RuleContext
from bot.investigation.patterns.observe import Observations
from bot.investigation.patterns.rules_memory import heap_exhausted
from policies import ActionKind
from tests.investigation.test_pattern_rules_cross_service import (
    NOW,
    errors,
    oom_killed_frontend_pod,
    release,
)
from tools.metrics.query_tools import InstantQueryData, InstantSample

JAVA_OOM = 'Exception in thread "http-nio-8080-exec-7" java.lang.OutOfMemoryError: Java heap space'
PYTHON_OOM = "Traceback (most recent call last): ... MemoryError"


def limits(memory_bytes: float) -> InstantQueryData:
    return InstantQueryData(
        query="limits",
        time=NOW,
        result_type="vector",
        samples=[InstantSample(labels={"resource": "memory"}, value=memory_bytes)],
    )


def heap_errors_of(service: str, message: str, *timeline: object) -> Observations:
    obs = Observations(namespace="prod", service=service)
    obs.top_errors = errors(message, {service: 120}, since=timedelta(minutes=20))
    obs.instants["resource_limits"] = limits(1024 * 2**20)
    obs.timeline = list(timeline)  # type: ignore[arg-type]
    return obs


def test_heap_exhaustion_without_a_release_raises_the_memory_limit() -> None:
    obs = heap_errors_of("payments", JAVA_OOM)
    found = heap_exhausted(obs, RuleContext(NOW, 1, ()))
    assert found is not None
    assert "no pod was OOM-killed" in found.summary
    assert "too small for its working set" in found.root_cause
    (proposal,) = found.actions
    assert proposal.kind is ActionKind.SET_RESOURCES
    assert str(getattr(proposal.params, "memory_limit", "")) == "2048Mi"


def test_heap_exhaustion_after_a_release_rolls_the_release_back() -> None:
    obs = heap_errors_of("inventory", PYTHON_OOM, release("inventory", timedelta(minutes=40)))
    found = heap_exhausted(obs, RuleContext(NOW, 1, ()))
    assert found is not None
    assert [a.kind for a in found.actions] == [ActionKind.ROLLBACK_DEPLOYMENT]
    assert "Since the release of inventory" in found.root_cause


def test_an_oom_kill_is_left_to_the_oom_kill_rule() -> None:
    from tools.k8s.pods import PodsData

    obs = heap_errors_of("frontend", JAVA_OOM)
    obs.pods = PodsData(namespace="prod", selector=None, total=1, pods=[oom_killed_frontend_pod(1)])
    assert heap_exhausted(obs, RuleContext(NOW, 1, ())) is None


def test_other_errors_are_not_heap_exhaustion() -> None:
    obs = heap_errors_of("payments", "java.net.SocketTimeoutException: Read timed out")
    assert heap_exhausted(obs, RuleContext(NOW, 1, ())) is None
