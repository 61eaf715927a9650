"""What a question gets when nothing deviates: that the service is fine now, with the numbers
that say so (pure). "Why is checkout slow?" on a quiet day is answered "checkout is not
slow now: p95 23 ms …", never with a cause made of everyday noise."""

from __future__ import annotations

import math
import re

from bot.investigation.patterns.observe import Observations, workload_of_pod_owner
from tools.k8s.pods import PodInfo
from tools.metrics.query_tools import RangeQueryData

_SLOW = re.compile(r"\b(slow\w*|latenc\w*|lag\w*|timeouts?|timing out|sluggish|p9\d)\b")
_FAILING = re.compile(
    r"\b(errors?|fail\w*|5\d\d|5xx|down|broken|crash\w*|outage|unavailable|not working)\b"
)
MAX_STEADY = 2  # everyday errors named in the answer


def _finite(data: RangeQueryData | None) -> list[float]:
    if data is None or not data.series:
        return []
    return [v for _, v in data.series[0].values if math.isfinite(v)]


def health_numbers(obs: Observations) -> list[str]:
    """The figures looked at, in words: trace latency and errors, the RED metrics' latest
    values (and their peak over the window)."""
    found: list[str] = []
    traces = obs.traces
    if traces is not None and traces.traces and traces.p95_ms is not None:
        found.append(
            f"p95 {traces.p95_ms:.1f} ms and p50 {traces.p50_ms or 0:.1f} ms over the "
            f"{len(traces.traces)} newest traces of the last hour, {traces.with_errors} with errors"
        )
    latency = _finite(obs.ranges.get("latency_p95"))
    if latency:
        found.append(
            f"p95 latency {latency[-1] * 1000:.0f} ms now (at most {max(latency) * 1000:.0f} "
            "ms in the last 3 h)"
        )
    errors = _finite(obs.ranges.get("error_ratio"))
    if errors:
        found.append(
            f"{errors[-1]:.2%} of requests failing now (at most {max(errors):.2%} in the last 3 h)"
        )
    rate = _finite(obs.ranges.get("request_rate"))
    if rate:
        found.append(f"{rate[-1]:.1f} requests/s")
    pods = pod_figures(obs)
    if pods:
        found.append(pods)
    return found


def pod_figures(obs: Observations) -> str | None:
    """`1/1 pods ready, 0 restarts` for the service's own pods (a database or cache has no
    request metrics, but its pods still say whether it serves), and whether one of them is
    up again after a crash in the last minutes (ready, yet not healthy)."""
    pods = obs.pods.pods if obs.pods else []
    mine = [p for p in pods if obs.service and workload_of_pod_owner(p.owner) == obs.service]
    if not mine:
        return None
    # a pod up again after a recent crash is ready (kubectl's READY) though not healthy
    up_again = [p for p in mine if p.recent_crash is not None and p.phase == "Running"]
    serving = [p for p in mine if p.healthy] + [p for p in up_again if all_ready(p)]
    restarts = sum(p.restarts for p in mine)
    noun = "pod" if len(mine) == 1 else "pods"
    figures = f"{len(serving)}/{len(mine)} {noun} ready, {restarts} restart"
    figures += "" if restarts == 1 else "s"
    if up_again:
        figures += f" ({len(up_again)} up again after a crash in the last 10 minutes)"
    return figures


def all_ready(pod: PodInfo) -> bool:
    """Every container of the pod reports ready."""
    return bool(pod.containers) and all(c.ready for c in pod.containers)


def steady_notes(obs: Observations) -> list[str]:
    """The everyday errors seen and not blamed, with their usual rate."""
    return [
        f"not blamed, usual for {s.service}: {s.describe()}"
        for s in obs.steady_errors[:MAX_STEADY]
        if s.baseline_per_hour > 0
    ]


def verdict(question: str, service: str) -> str:
    """`checkout is not slow now`, `… is not failing now` or `… looks healthy now`,
    answering what the question asks about."""
    asked = question.lower()
    if _SLOW.search(asked):
        return f"{service} is not slow now"
    if _FAILING.search(asked):
        return f"{service} is not failing now"
    return f"{service} looks healthy now"


def healthy_summary(obs: Observations, question: str) -> str | None:
    """The answer's headline when nothing deviated, or None when there are no figures for
    the service to back it (then the answer only says no pattern matched)."""
    numbers = health_numbers(obs)
    if not (obs.service and numbers):
        return None
    return f"{verdict(question, str(obs.service))}: " + "; ".join(numbers) + "."
