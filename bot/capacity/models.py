"""What capacity analysis produces: plain, immutable values shared by the analysis, the digest,
`/opsbot capacity`, `/ask-ai` and the proactive incidents.

Units are base units throughout: bytes for memory and storage, cores for CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Metric(StrEnum):
    """The quantity a forecast follows."""

    CPU = "cpu"  # cores used
    MEMORY = "memory"  # bytes used (working set)
    DISK = "disk"  # bytes used on a node filesystem
    VOLUME = "volume"  # bytes used on a persistent volume claim


class Scope(StrEnum):
    """What owns the quantity."""

    NODE = "node"
    VOLUME = "persistentvolumeclaim"
    WORKLOAD = "deployment"


@dataclass(frozen=True)
class ResourceRef:
    """One forecastable thing: `node/worker-1 disk`, `prod/orders-db-data volume`."""

    scope: Scope
    metric: Metric
    name: str
    namespace: str | None = None
    detail: str = ""  # e.g. the node filesystem's mountpoint

    @property
    def unit(self) -> str:
        return "cores" if self.metric is Metric.CPU else "bytes"

    @property
    def label(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        suffix = f" {self.detail}" if self.detail else ""
        return f"{self.scope.value}/{where}{suffix} {self.metric.value}"


@dataclass(frozen=True)
class ForecastPoint:
    at: datetime
    mean: float
    lower: float
    upper: float


@dataclass(frozen=True)
class Forecast:
    """A fitted model's look ahead for one resource, with its prediction interval."""

    resource: ResourceRef
    capacity: float | None  # None when the resource has no hard limit
    used_now: float
    history: tuple[tuple[datetime, float], ...]
    points: tuple[ForecastPoint, ...]
    method: str  # e.g. "holt-winters(additive trend, daily season)"
    interval: float  # e.g. 0.8 for an 80 % prediction interval
    history_days: float


@dataclass(frozen=True)
class Exhaustion:
    """A forecast that crosses capacity: 'runs out in N days'."""

    forecast: Forecast
    days_likely: float | None  # when the mean forecast crosses capacity (None: not in horizon)
    days_earliest: float  # when the upper interval bound crosses capacity
    probability: float  # share of the prediction distribution that crosses inside the horizon
    severity: str  # "critical" | "warning" | "info", from time to exhaustion

    @property
    def resource(self) -> ResourceRef:
        return self.forecast.resource


@dataclass(frozen=True)
class ContainerUsage:
    """Requested versus used for one container of one workload over the rightsizing window."""

    namespace: str
    workload: str  # deployment name
    container: str
    replicas: int
    cpu_request: float | None  # cores, None = not set
    cpu_limit: float | None
    memory_request: float | None  # bytes
    memory_limit: float | None
    cpu_p95: float
    cpu_max: float
    memory_p95: float
    memory_max: float
    history_days: float


@dataclass(frozen=True)
class Rightsizing:
    """A recommendation: new requests/limits and what they save per month for all replicas."""

    usage: ContainerUsage
    cpu_request: float
    cpu_limit: float | None
    memory_request: float
    memory_limit: float
    saving_cores: float  # positive = freed, negative = more needed (under-provisioned)
    saving_gib: float
    saving_usd_month: float
    reason: str


class IdleKind(StrEnum):
    IDLE_WORKLOAD = "idle_workload"
    UNATTACHED_VOLUME = "unattached_volume"
    SCALED_TO_ZERO = "scaled_to_zero"
    FAILED_JOB = "failed_job"


@dataclass(frozen=True)
class IdleResource:
    kind: IdleKind
    namespace: str
    name: str
    since: datetime | None
    detail: str
    monthly_cost_usd: float = 0.0


@dataclass(frozen=True)
class Skip:
    """Why something could not be analysed; `workload` is its (namespace, deployment) when
    the line is about one (so a workload known to be scaled to zero is not listed as such)."""

    text: str
    workload: tuple[str, str] | None = None


@dataclass(frozen=True)
class CapacityReport:
    """Everything the digest, `/opsbot capacity` and `/ask-ai` show, for one scope."""

    generated_at: datetime
    namespace: str | None
    forecasts: tuple[Forecast, ...] = ()
    exhaustions: tuple[Exhaustion, ...] = ()
    rightsizing: tuple[Rightsizing, ...] = ()
    idle: tuple[IdleResource, ...] = ()
    skipped: tuple[str, ...] = field(default=())  # what could not be analysed, and why
