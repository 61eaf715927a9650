"""How a scenario's metric effects change one service at one moment (see spec.Effect)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sandbox.scenarios.shapes import ramp
from sandbox.scenarios.spec import Effect


@dataclass(frozen=True)
class CpuPressure:
    cores: float
    throttled: float


@dataclass(frozen=True)
class PoolPressure:
    pending: float
    timeouts_per_s: float


class EffectBook:
    """`gate` (live worlds): how much of an effect's cause remains at a moment, 0..1."""

    def __init__(
        self,
        effects: Sequence[Effect],
        incident: float,
        gate: Callable[[Effect, float], float] | None = None,
    ) -> None:
        self.effects = list(effects)
        self.incident = incident
        self.gate = gate

    def _active(self, kind: str, service: str | None, at: float) -> list[tuple[Effect, float]]:
        """Effects of `kind` on `service` (None: any) with their ramp weight at `at`."""
        found = []
        for effect in self.effects:
            if effect.kind != kind or (service is not None and effect.service != service):
                continue
            weight = ramp(at, self.incident, effect.ramp)
            if weight > 0 and self.gate is not None:
                weight *= self.gate(effect, at)
            if weight > 0:
                found.append((effect, weight))
        return found

    def errors(self, service: str, route: str, at: float) -> dict[str, float]:
        ratios: dict[str, float] = {}
        for effect, weight in self._active("errors", service, at):
            if effect.route is None or effect.route == route:
                ratios[effect.code] = ratios.get(effect.code, 0.0) + effect.ratio * weight
        return ratios

    def error_codes(self, service: str) -> set[str]:
        return {e.code for e in self.effects if e.kind == "errors" and e.service == service}

    def add_ms(self, service: str, at: float) -> float:
        return sum(e.add_ms * w for e, w in self._active("latency", service, at))

    def spread(self, service: str, at: float) -> float:
        return sum(e.spread * w for e, w in self._active("latency", service, at))

    def traffic(self, service: str, at: float) -> float:
        factor = 1.0
        for effect, weight in self._active("traffic", service, at):
            factor *= 1.0 + (effect.factor - 1.0) * weight
        return factor

    def memory_fill(self, service: str, at: float) -> float | None:
        """Seconds a container of `service` takes to grow to its limit, once the leak is on."""
        active = self._active("memory_growth", service, at)
        return float(active[0][0].fill) if active else None

    def cpu(self, service: str, at: float) -> CpuPressure | None:
        active = self._active("cpu_saturation", service, at)
        if not active:
            return None
        effect, weight = active[0]
        return CpuPressure(cores=effect.cores * weight, throttled=effect.throttled * weight)

    def hog_cores(self, workload: str, node: str, at: float) -> float | None:
        """CPU a contending workload's pod on `node` burns at `at` (None: not a hog)."""
        for effect, weight in self._active("node_cpu_contention", workload, at):
            if effect.node == node:
                return effect.cores * weight
        return None

    def node_extra_s(self, node: str, at: float) -> float:
        """Latency added to every request served on `node` while its CPU is contended."""
        return sum(
            e.add_ms * w / 1000.0
            for e, w in self._active("node_cpu_contention", None, at)
            if e.node == node
        )

    def pool(self, service: str, at: float) -> PoolPressure | None:
        active = self._active("db_pool", service, at)
        if not active:
            return None
        effect, weight = active[0]
        return PoolPressure(
            pending=effect.pending * weight, timeouts_per_s=effect.timeouts * weight
        )

    def db_load(self, at: float) -> float:
        factor = 1.0
        for effect, weight in self._active("db_load", None, at):
            factor *= 1.0 + (effect.factor - 1.0) * weight
        return factor

    def db_clients(self) -> list[tuple[str, str]]:
        """(application_name, usename) of every workload a `db_load` effect names as the
        source of the load, whether or not the effect has begun."""
        found = [(e.client, e.user or e.client) for e in self.effects if e.kind == "db_load"]
        return list(dict.fromkeys((c, u) for c, u in found if c))

    def db_client_load(self, client: str, at: float) -> float:
        """How far the `db_load` effects naming `client` have grown at `at` (0: not begun),
        in multiples of the usual work beyond it (factor - 1, times the ramp)."""
        return sum(
            (e.factor - 1.0) * w for e, w in self._active("db_load", None, at) if e.client == client
        )

    def volume_fill(self, claim: str, now: float, at: float) -> float | None:
        """The used share of PVC `claim` at `at`: linear from `from_ratio` (`since` before
        `now`) to `to_ratio` at `now`, continuing at the same pace after."""
        for effect in self.effects:
            if effect.kind != "volume_fill" or effect.claim != claim:
                continue
            begin = now - effect.since
            if at <= begin:
                return effect.from_ratio
            pace = (effect.to_ratio - effect.from_ratio) / max(effect.since, 1)
            return min(0.995, effect.from_ratio + pace * (at - begin))
        return None
