"""Request rate, errors and latency of every route at one moment, callers included.

A route inherits what it calls: the callee's errors come back as 502s, a callee with no
serving pod as 503s, and the callee's extra latency adds to the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.scenarios.effects import EffectBook
from sandbox.scenarios.frames import ClusterHistory, PodFrame
from sandbox.scenarios.shapes import SceneClock
from sandbox.scenarios.shop import NAMESPACE, SERVICES


@dataclass(frozen=True)
class RoutePoint:
    rps: float  # the whole service's requests per second on this route
    errors: dict[str, float]  # status code -> share of requests
    median_s: float
    sigma: float
    extra_s: float  # latency above the healthy level
    node_extra_s: float = 0.0  # the part of it from contended nodes, averaged over the pods

    @property
    def error_share(self) -> float:
        return sum(self.errors.values())


class Traffic:
    def __init__(
        self, history: ClusterHistory, effects: EffectBook, key: str, clock: SceneClock
    ) -> None:
        self.history = history
        self.clock = clock
        self.effects = effects
        self.key = key
        self._routes: dict[tuple[str, int], list[RoutePoint]] = {}
        self._serving: dict[tuple[int, str], list[PodFrame]] = {}

    def serving(self, service: str, at: float) -> list[PodFrame]:
        """Pods of `service` in its endpoints at `at`."""
        frame = self.history.at(at)
        key = (id(frame), service)
        if key not in self._serving:
            self._serving[key] = [
                pod
                for pod in frame.pods
                if pod.workload == service and pod.namespace == NAMESPACE and pod.serving
            ]
        return self._serving[key]

    def routes(self, service: str, at: int) -> list[RoutePoint]:
        cached = self._routes.get((service, at))
        if cached is None:
            cached = self._compute(service, at)
            self._routes[(service, at)] = cached
        return cached

    def _compute(self, service: str, at: int) -> list[RoutePoint]:
        app = SERVICES[service]
        load = self.clock.diurnal(at)
        base = app.peak_rps * load * self.clock.jitter(f"{self.key}:{service}:rps", at, 0.04)
        base *= self.effects.traffic(service, at)
        points = []
        for route in app.routes:
            errors = {
                "500": app.base_error * self.clock.jitter(f"{self.key}:{service}:err", at, 0.3)
            }
            for code, share in self.effects.errors(service, route.name, at).items():
                errors[code] = errors.get(code, 0.0) + share
            extra = self.effects.add_ms(service, at) / 1000.0
            serving = self.serving(service, at)
            on_nodes = (
                sum(self.effects.node_extra_s(pod.node, at) for pod in serving) / len(serving)
                if serving
                else 0.0
            )
            extra += on_nodes
            callee_extra = 0.0
            for callee in route.calls:
                if not self.serving(callee, at):
                    errors["503"] = errors.get("503", 0.0) + 1.0
                    continue
                callee_points = self.routes(callee, at)
                failing = max(p.error_share for p in callee_points)
                errors["502"] = errors.get("502", 0.0) + failing
                callee_extra = max(callee_extra, *(p.extra_s for p in callee_points))
            extra += callee_extra
            total = sum(errors.values())
            if total > 1.0:
                errors = {code: share / total for code, share in errors.items()}
            wobble = self.clock.jitter(f"{self.key}:{service}:{route.path}:lat", at, 0.06)
            median = route.base_ms / 1000.0 * (0.85 + 0.3 * load) * wobble + extra
            points.append(
                RoutePoint(
                    rps=base * route.share,
                    errors=errors,
                    median_s=median,
                    sigma=0.5 + self.effects.spread(service, at),
                    extra_s=extra,
                    node_extra_s=on_nodes,
                )
            )
        return points
