"""The parts of a scenario folder, validated: scenario.yaml, cluster.yaml, expected.yaml.

Models forbid unknown keys so a typo in a scenario fails loudly when it is read.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sandbox.scenarios.timeline import parse_duration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- scenario.yaml ------------------------------------------------------------------------


class Effect(_Strict):
    """A change to the generated metrics of one service from the incident start on.

    kind:
      errors        `ratio` of requests answer `code` (callers see it too)
      latency       requests take `add_ms` longer (callers too); `spread` widens the tail
      traffic       request rate times `factor`
      memory_growth working set climbs from its usual level to the limit within `fill`
                    after each container start (the kube OOM fault kills it there)
      cpu_saturation CPU use pinned at `cores`, `throttled` share of CFS periods throttled
      db_pool       the service's connection pool is full: `pending` waiters, `timeouts`/s
      db_load       postgres does `factor` times the usual work (N+1 queries); with
                    `client` (a workload, any namespace) that work is its sessions', which
                    postgres_exporter shows by `application_name` (`client`) and `usename`
                    (`user`, default `client`): more active sessions, hour-long transactions
      volume_fill   the PVC `claim` fills from `from_ratio` (at `since` before now) to
                    `to_ratio` at now, and on at the same pace
      node_cpu_contention  the pods of workload `service` (any namespace) on `node` burn
                    `cores` CPU (no limit stops them); every request served by a pod on that
                    node takes up to `add_ms` longer (the node's CPU is contended)
      cert_expiry   the TLS Secret `secret` (serving `service`) holds a certificate whose
                    notAfter is `since` seconds after the incident start (0: it expires
                    then), as x509-certificate-exporter and cert-manager publish it
    """

    kind: Literal[
        "errors",
        "latency",
        "traffic",
        "memory_growth",
        "cpu_saturation",
        "db_pool",
        "db_load",
        "volume_fill",
        "cert_expiry",
        "node_cpu_contention",
    ]
    service: str = ""
    node: str = ""
    ramp: int = 60
    code: str = "500"
    ratio: float = 0.0
    route: str | None = None
    add_ms: float = 0.0
    spread: float = 0.0
    factor: float = 1.0
    fill: int = 90
    cores: float = 0.0
    throttled: float = 0.0
    pending: float = 0.0
    timeouts: float = 0.0
    claim: str = ""
    secret: str = ""
    from_ratio: float = 0.0
    to_ratio: float = 0.0
    since: int = 0
    client: str = ""
    user: str = ""
    lasting: bool = False
    """The cause lives outside the pods (a rotated password in the database, an expired
    certificate in a Secret): no action on the cluster ends the effect; a human step does."""

    @field_validator("ramp", "fill", "since", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> int:
        return parse_duration(value)


class LogBurst(_Strict):
    """Incident log lines: each running pod of `service` writes one of `messages` every
    `every` seconds from `offset` after the incident start, for `lasting` seconds (0: up to
    now). Placeholders: see logs.py. `fields` go to ECS fields (error.type, log.logger) or
    labels."""

    service: str
    level: Literal["debug", "info", "warn", "error", "fatal"] = "error"
    every: int = 20
    offset: int = 0
    lasting: int = 0
    messages: list[str] = Field(min_length=1)
    fields: dict[str, str] = Field(default_factory=dict)
    with_trace: bool = True

    @field_validator("every", "offset", "lasting", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> int:
        return parse_duration(value)


class TracePattern(_Strict):
    """A sandbox.jaeger.generate pattern applied to traces after the incident start."""

    kind: Literal["slow_dependency", "n_plus_one", "sequential_calls", "error_responses"]
    options: dict[str, Any] = Field(default_factory=dict)


class TraceSpec(_Strict):
    normal_per_hour: int = 60
    incident_per_hour: int = 120
    patterns: list[TracePattern] = Field(default_factory=list)


class Incident(_Strict):
    """When the incident began and what it is about: a service, or a node."""

    started_ago: int
    namespace: str = "prod"
    service: str | None = None
    node: str | None = None

    @field_validator("started_ago", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> int:
        return parse_duration(value)


class ScenarioSpec(_Strict):
    """`capacity_history` (e.g. `28d`): Prometheus holds that much of the capacity story
    (sandbox/capacity: weeks of usage, the filling postgres-data volume, idle leftovers)
    instead of the metrics generated from the cluster; 0 for an incident scenario."""

    title: str
    summary: str
    incident: Incident
    metrics: list[Effect] = Field(default_factory=list)
    logs: list[LogBurst] = Field(default_factory=list)
    traces: TraceSpec = Field(default_factory=TraceSpec)
    capacity_history: int = 0

    @field_validator("capacity_history", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> int:
        return parse_duration(value)


# --- cluster.yaml: the incident-time part (the rest is the kube seed) ----------------------


class Rollout(_Strict):
    """A `kubectl set image` (and `kubectl set resources`, per container) at the incident
    start: one new revision."""

    deployment: str
    namespace: str = "prod"
    images: dict[str, str] = Field(default_factory=dict)
    resources: dict[str, dict[str, dict[str, str]]] = Field(default_factory=dict)
    innocent: bool = False
    """A release that carries no fault (it only went out at the same time): the world's
    effects do not come from it, so rolling it back fixes nothing and rolling back the
    faulty one fixes the incident while this one stays out."""


class ObjectWrite(_Strict):
    """A write of a ConfigMap or Secret `before` the incident start (after the cluster was
    seeded, which is two days before now): `data` (and/or `stringData` for a Secret) is
    merged into the object as a `kubectl apply` by `manager` would, so the API server stamps
    the write in its `managedFields`. Running pods keep the environment they started with;
    pods started afterwards (a rollout, a restart) read the new values."""

    kind: Literal["ConfigMap", "Secret"]
    name: str
    namespace: str = "prod"
    before: int
    manager: str = "kubectl-client-side-apply"
    data: dict[str, str] = Field(default_factory=dict)
    stringData: dict[str, str] = Field(default_factory=dict)

    @field_validator("before", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> int:
        return parse_duration(value)


class Autoscale(_Strict):
    """What the HorizontalPodAutoscaler `hpa` measures at the incident start: its target's
    average CPU at `utilization` percent of requests. It rescales the target as the HPA
    controller does (desired = ceil(current x utilization / target), kept within min..max)
    and reports it in its status (ScalingLimited when max capped it; the current
    utilisation then is the same load spread over the new replica count)."""

    hpa: str
    namespace: str = "prod"
    utilization: int = Field(gt=0)


# --- expected.yaml ------------------------------------------------------------------------


class RootCause(_Strict):
    """`culprit`: the name the finding must give (default: the remediation target's)."""

    summary: str
    keywords: list[str] = Field(min_length=1)
    culprit: str | None = None


class Target(_Strict):
    kind: Literal["deployment", "pod", "node", "persistentvolumeclaim", "service", "job"]
    namespace: str | None = None
    name: str


class Remediation(_Strict):
    kind: str  # a policies.ActionKind value; tests check it against the enum
    target: Target
    params: dict[str, Any] = Field(default_factory=dict)
    why: str = ""


class HarmfulAction(_Strict):
    """An action that would make things worse (e.g. rolling back an innocent service);
    without a target, the kind is harmful on any target."""

    kind: str
    target: Target | None = None
    why: str = ""


class MetricCheck(_Strict):
    """A PromQL query whose single answer is `before` the incident and `during` it."""

    query: str
    before: dict[Literal["below", "above"], float]
    during: dict[Literal["below", "above"], float]


class LogCheck(_Strict):
    service: str
    level: str = "error"
    contains: str
    min_count: int = 1


class TraceCheck(_Strict):
    service: str
    operation: str | None = None
    min_duration_ms: float = 0
    error: bool = False
    min_spans: int = 0  # spans of the operation in one trace (N+1 queries)


class ClusterCheck(_Strict):
    """A pod of `deployment` waiting for `waiting_reason`, or `node` with Ready=`ready`."""

    deployment: str | None = None
    namespace: str = "prod"
    waiting_reason: str | None = None
    not_ready: bool = False
    node: str | None = None
    ready: str | None = None
    image: str | None = None  # the deployment's current image


class Evidence(_Strict):
    metrics: list[MetricCheck] = Field(default_factory=list)
    logs: list[LogCheck] = Field(default_factory=list)
    traces: list[TraceCheck] = Field(default_factory=list)
    cluster: list[ClusterCheck] = Field(default_factory=list)


class HumanStep(_Strict):
    """What a human must do that no action kind can (renew a certificate, put a password
    in a Secret): an escalation counts as the fix only when it names it, i.e. holds one
    word of every group of `words` (case-insensitive)."""

    words: list[list[str]] = Field(min_length=1)
    why: str = ""

    def named_in(self, text: str) -> bool:
        """Whether `text` names this step."""
        lowered = text.lower()
        return all(any(w.lower() in lowered for w in group) for group in self.words)


class Expected(_Strict):
    root_cause: RootCause
    remediation: Remediation
    human_step: HumanStep | None = None
    also_acceptable: list[Remediation] = Field(default_factory=list)
    harmful: list[HarmfulAction] = Field(default_factory=list)
    evidence: Evidence = Field(default_factory=Evidence)
    sandbox_note: str = ""
