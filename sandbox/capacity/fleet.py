"""The shop cluster's capacity story: nodes, volumes and workloads with their usage curves.

Names follow sandbox/scenarios/shop-cluster.yaml (worker-1..3, prod frontend/checkout/
inventory/payments/postgres) plus a `staging` namespace holding idle leftovers.
`noise` scales every curve's noise; `shift_days_ago` moves postgres-data's step change.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sandbox.capacity.shapes import Shape

MIB = 1024.0**2
GIB = 1024.0**3
NODES = ("worker-1", "worker-2", "worker-3")
NODE_CPUS = 4
NODE_MEMORY = 16 * GIB
ROOT_DISK = 100 * GIB
KUBE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def node_ip(node: str) -> str:
    return f"10.0.0.{10 + NODES.index(node)}"


def kube_suffix(seed: str, length: int) -> str:
    """A stable name suffix from Kubernetes' safe alphabet, as ReplicaSets and pods get."""
    digest = hashlib.blake2b(seed.encode(), digest_size=16).digest()
    return "".join(KUBE_ALPHABET[b % len(KUBE_ALPHABET)] for b in digest[:length])


@dataclass(frozen=True)
class Volume:
    namespace: str
    claim: str
    node: str
    capacity: float
    used: Shape


@dataclass(frozen=True)
class NodeDisk:
    node: str
    used: Shape  # bytes used on `/`


@dataclass(frozen=True)
class Workload:
    """A Deployment (or StatefulSet) whose pods all run one container with the same curves."""

    namespace: str
    name: str
    container: str
    image: str
    replicas: int
    cpu_request: float | None
    cpu_limit: float | None
    memory_request: float | None
    memory_limit: float | None
    cpu: Shape  # cores per pod
    memory: Shape  # working-set bytes per pod
    requests_per_second: Shape  # of the whole service
    kind: str = "Deployment"
    idle_days_ago: float | None = None  # CPU and traffic drop to ~0 from then on
    scaled_to_zero_days_ago: float | None = None  # replicas 0 (and no pods) from then on

    @property
    def replicaset(self) -> str:
        return f"{self.name}-{kube_suffix(self.namespace + '/' + self.name, 10)}"

    @property
    def pods(self) -> tuple[str, ...]:
        if self.kind == "StatefulSet":
            return tuple(f"{self.name}-{i}" for i in range(self.replicas))
        return tuple(
            f"{self.replicaset}-{kube_suffix(f'{self.namespace}/{self.name}/{i}', 5)}"
            for i in range(self.replicas)
        )


@dataclass(frozen=True)
class FailedJob:
    """A Job (as in shop-cluster.yaml) that failed `failed_days_ago` and was left behind."""

    namespace: str
    name: str
    created_days_ago: float
    failed_days_ago: float


@dataclass(frozen=True)
class Fleet:
    disks: tuple[NodeDisk, ...]
    volumes: tuple[Volume, ...]
    workloads: tuple[Workload, ...]
    failed_jobs: tuple[FailedJob, ...] = ()


def shop_fleet(noise: float = 1.0, shift_days_ago: float = 8.0) -> Fleet:
    n = noise
    disks = (
        NodeDisk("worker-1", Shape(38 * GIB, daily=0.2 * GIB, noise=0.15 * GIB * n)),
        NodeDisk("worker-2", Shape(55 * GIB, 1.0 * GIB, daily=0.3 * GIB, noise=0.2 * GIB * n)),
        NodeDisk("worker-3", Shape(41 * GIB, weekly=0.5 * GIB, noise=0.15 * GIB * n)),
    )
    volumes = (
        Volume(
            "prod",
            "postgres-data",
            "worker-3",
            50 * GIB,
            Shape(
                44 * GIB,  # 6 GiB left at 1.2 GiB/day: full in 5 days
                1.2 * GIB,
                daily=0.3 * GIB,
                noise=0.08 * GIB * n,
                shift_days_ago=shift_days_ago,
                shift=4 * GIB,  # a bulk import of historic orders
                slope_before_shift=0.5 * GIB,
            ),
        ),
        Volume(
            "monitoring",
            "prometheus-data",
            "worker-1",
            100 * GIB,
            Shape(62 * GIB, daily=1.5 * GIB, noise=0.4 * GIB * n),
        ),
        Volume(
            "prod",
            "orders-archive",
            "worker-2",
            200 * GIB,
            Shape(170 * GIB, 0.5 * GIB, daily=0.1 * GIB, noise=0.1 * GIB * n),  # 60 days left
        ),
    )

    def cores(level: float, daily: float, noise_sd: float) -> Shape:
        return Shape(level, daily=daily, weekly=daily * 0.5, noise=noise_sd * n, floor=0.0005)

    def mib(level: float, daily: float, noise_sd: float) -> Shape:
        return Shape(level * MIB, daily=daily * MIB, noise=noise_sd * MIB * n, floor=8 * MIB)

    def rps(peak: float) -> Shape:
        return Shape(peak * 0.6, daily=peak * 0.4, weekly=peak * 0.2, noise=peak * 0.03 * n)

    registry = "registry.example.com/shop"
    workloads = (
        Workload(
            "prod",
            "frontend",
            "web",
            f"{registry}/frontend:4.12.0",
            2,
            0.2,
            None,
            256 * MIB,
            512 * MIB,
            cores(0.09, 0.05, 0.01),
            mib(180, 15, 4),
            rps(40),
        ),
        Workload(
            "prod",
            "checkout",
            "app",
            f"{registry}/checkout:1.8.2",
            3,
            0.25,
            1.0,
            256 * MIB,
            512 * MIB,
            cores(0.17, 0.06, 0.012),
            mib(205, 12, 4),
            rps(12),
        ),
        Workload(
            "prod",
            "inventory",
            "app",
            f"{registry}/inventory:2.3.1",
            2,
            0.25,
            0.5,
            256 * MIB,
            512 * MIB,
            cores(0.15, 0.05, 0.01),
            mib(330, 20, 5),
            rps(25),
        ),
        Workload(
            "prod",
            "payments",
            "app",
            f"{registry}/payments:3.2.0",
            2,
            0.5,
            None,
            512 * MIB,
            768 * MIB,
            cores(0.028, 0.007, 0.003),
            mib(140, 3, 2),
            rps(8),
        ),
        Workload(
            "prod",
            "postgres",
            "postgres",
            "postgres:15.4",
            1,
            0.5,
            None,
            1024 * MIB,
            2048 * MIB,
            cores(0.18, 0.06, 0.015),
            mib(920, 40, 10),
            rps(0),
            kind="StatefulSet",
        ),
        Workload(
            "staging",
            "legacy-report",
            "report",
            f"{registry}/legacy-report:0.9.4",
            1,
            0.2,
            None,
            256 * MIB,
            512 * MIB,
            cores(0.12, 0.05, 0.01),
            mib(190, 10, 3),
            rps(0.5),
            idle_days_ago=10.0,
        ),
        Workload(
            "staging",
            "old-api",
            "api",
            f"{registry}/old-api:1.4.0",
            2,
            0.1,
            None,
            128 * MIB,
            256 * MIB,
            cores(0.05, 0.02, 0.005),
            mib(110, 5, 2),
            rps(3),
            scaled_to_zero_days_ago=20.0,
        ),
    )
    failed = (FailedJob("staging", "nightly-export-28", 3 + 1 / 24, 3.0),)
    return Fleet(disks, volumes, workloads, failed)


def pod_node(workload: Workload, index: int) -> str:
    """Spread pods over the workers; postgres sits on worker-3 with its volume."""
    if workload.name == "postgres":
        return "worker-3"
    offset = int(hashlib.blake2b(workload.name.encode(), digest_size=2).hexdigest(), 16)
    return NODES[(offset + index) % len(NODES)]


def pod_ip(workload: Workload, index: int) -> str:
    node = NODES.index(pod_node(workload, index)) + 1
    host = int(hashlib.blake2b(f"{workload.name}/{index}".encode(), digest_size=1).hexdigest(), 16)
    return f"10.244.{node}.{2 + host % 250}"
