"""The shop's application services as the metric and log generators see them.

Request rates follow one daily cycle (peak in the afternoon, UTC); a route that calls
another service inherits that service's extra latency and errors.
"""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE = "prod"
APP_PORT = 8080


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    share: float  # of the service's requests
    base_ms: float  # median latency of a healthy request
    calls: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class AppService:
    name: str
    container: str
    language: str
    peak_rps: float
    routes: tuple[Route, ...]
    memory_mib: float  # usual working set of one pod
    cpu_ms_per_request: float
    base_error: float = 0.0008


SERVICES: dict[str, AppService] = {
    service.name: service
    for service in (
        AppService(
            "frontend",
            "web",
            "node",
            peak_rps=90.0,
            routes=(
                Route("GET", "/api/products", 0.7, 28.0),
                Route("POST", "/api/checkout", 0.3, 12.0, calls=("checkout",)),
            ),
            memory_mib=180.0,
            cpu_ms_per_request=2.5,
        ),
        AppService(
            "checkout",
            "app",
            "go",
            peak_rps=27.0,
            routes=(Route("POST", "/checkout", 1.0, 18.0, calls=("inventory", "payments")),),
            memory_mib=95.0,
            cpu_ms_per_request=4.0,
        ),
        AppService(
            "inventory",
            "app",
            "python",
            peak_rps=45.0,
            routes=(
                Route("POST", "/reserve", 0.6, 9.0),
                Route("GET", "/stock/{sku}", 0.4, 4.0),
            ),
            memory_mib=210.0,
            cpu_ms_per_request=6.0,
        ),
        AppService(
            "payments",
            "app",
            "java",
            peak_rps=27.0,
            routes=(Route("POST", "/charge", 1.0, 42.0),),
            memory_mib=560.0,
            cpu_ms_per_request=9.0,
        ),
    )
}

# Callees before callers, so a route's latency can add up what it calls.
CALL_ORDER = ("inventory", "payments", "checkout", "frontend")

LATENCY_BOUNDS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, float("inf"))


@dataclass(frozen=True)
class Volume:
    namespace: str
    claim: str
    workload: str  # the deployment whose pod mounts it
    capacity_gib: float
    used_ratio: float  # on a normal day


VOLUMES = (Volume(NAMESPACE, "postgres-data", "postgres", 50.0, 0.41),)

# Usual CPU (cores) and memory (MiB) of containers that serve no shop traffic.
SUPPORT_USAGE: dict[str, tuple[float, float]] = {
    "postgres": (0.18, 920.0),
    "coredns": (0.012, 24.0),
    "kube-state-metrics": (0.02, 62.0),
}
