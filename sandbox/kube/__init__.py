"""A local Kubernetes API server stand-in: the official client and kubectl work against it.

with KubeSandbox() as kube:            # default seed, time runs 10x in the background
    core = kubernetes.client.CoreV1Api(kube.api_client())
    kube.cluster.add_fault(Fault(kind="bad_image", image="shop/checkout:2.0.0"))
"""

from sandbox.kube.app import ClockDriver, KubeSandbox, build_app
from sandbox.kube.cluster import Cluster
from sandbox.kube.faults import Fault, FaultKind
from sandbox.kube.kubeconfig import api_client, kubeconfig_dict, write_kubeconfig
from sandbox.kube.objects import Timings
from sandbox.kube.podlogs import LogProfile
from sandbox.kube.rbac import DEFAULT_USER, Identity, RbacPolicy, RbacRule
from sandbox.kube.seed import DEFAULT_SEED, SeedError, apply_seed, read_seed

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_USER",
    "ClockDriver",
    "Cluster",
    "Fault",
    "FaultKind",
    "Identity",
    "KubeSandbox",
    "LogProfile",
    "RbacPolicy",
    "RbacRule",
    "SeedError",
    "Timings",
    "api_client",
    "apply_seed",
    "build_app",
    "kubeconfig_dict",
    "read_seed",
    "write_kubeconfig",
]
