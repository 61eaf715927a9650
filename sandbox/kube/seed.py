"""Loading cluster state from a YAML/JSON description (see default_cluster.yaml)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from sandbox.kube.clock import format_time, parse_time
from sandbox.kube.errors import ApiError
from sandbox.kube.faults import Fault
from sandbox.kube.objects import clone
from sandbox.kube.operations import ObjectVerbs
from sandbox.kube.patching import MERGE_PATCH
from sandbox.kube.podlogs import LogProfile
from sandbox.kube.quantity import parse_quantity
from sandbox.kube.rbac import RbacPolicy
from sandbox.kube.resources import DEPLOYMENTS, NAMESPACES, resource_for_kind

if TYPE_CHECKING:
    from sandbox.kube.cluster import Cluster

JsonDict = dict[str, Any]
DEFAULT_SEED = Path(__file__).with_name("default_cluster.yaml")
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


_RELATIVE = re.compile(r"^now(?:-((?:\d+[dhms])+))?$")
_RELATIVE_PART = re.compile(r"(\d+)([dhms])")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


class SeedError(ValueError):
    """The seed description is malformed or describes an invalid object."""


def resolve_times(value: Any, now: datetime) -> Any:
    """Seed strings like `now`, `now-3d` or `now-2h30m` become timestamps of the cluster clock,
    so seeded history (a job that failed three days ago) stays relative to when it is seeded."""
    if isinstance(value, dict):
        return {key: resolve_times(item, now) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_times(item, now) for item in value]
    if isinstance(value, str):
        match = _RELATIVE.match(value)
        if match:
            seconds = sum(
                int(amount) * _UNIT_SECONDS[unit]
                for amount, unit in _RELATIVE_PART.findall(match.group(1) or "")
            )
            return format_time(now - timedelta(seconds=seconds))
    return value


def read_seed(path: str | Path) -> JsonDict:
    data = yaml.safe_load(Path(path).read_text())
    if not isinstance(data, dict):
        raise SeedError(f"{path}: a seed is a mapping")
    return data


def build_node(spec: JsonDict, index: int, version: str) -> JsonDict:
    name = str(spec["name"])
    memory = str(spec.get("memory", "16Gi"))
    cpu = str(spec.get("cpu", "4"))
    capacity = {
        "cpu": cpu,
        "ephemeral-storage": "101430960Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": f"{int(parse_quantity(memory) / 1024)}Ki",
        "pods": str(spec.get("pods", 110)),
    }
    capacity.update({k: str(v) for k, v in (spec.get("capacity") or {}).items()})
    allocatable = dict(capacity)
    allocatable["cpu"] = f"{int(parse_quantity(capacity['cpu']) * 1000) - 100}m"
    allocatable["memory"] = f"{int(parse_quantity(capacity['memory']) / 1024) - 524288}Ki"
    allocatable["ephemeral-storage"] = "93478772582"
    allocatable.update({k: str(v) for k, v in (spec.get("allocatable") or {}).items()})
    zone = str(spec.get("zone", "zone-a"))
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "topology.kubernetes.io/zone": zone,
        "node.kubernetes.io/instance-type": str(spec.get("instance_type", "standard-4")),
        **{k: str(v) for k, v in (spec.get("labels") or {}).items()},
    }
    seeded = uuid.uuid5(uuid.NAMESPACE_DNS, name)
    node_info = {
        "machineID": seeded.hex,
        "systemUUID": str(seeded),
        "bootID": str(uuid.uuid5(seeded, "boot")),
        "kernelVersion": "6.1.0-28-cloud-amd64",
        "osImage": "Debian GNU/Linux 12 (bookworm)",
        "containerRuntimeVersion": "containerd://1.7.24",
        "kubeletVersion": version,
        "kubeProxyVersion": version,
        "operatingSystem": "linux",
        "architecture": "amd64",
        **(spec.get("nodeInfo") or {}),
    }
    node_spec: JsonDict = {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"]}
    if spec.get("taints"):
        node_spec["taints"] = clone(spec["taints"])
    if spec.get("unschedulable"):
        node_spec["unschedulable"] = True
    images = [
        {"names": [str(i)], "sizeBytes": 50_000_000 + 1000 * n}
        for n, i in enumerate(spec.get("images") or [])
    ]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": node_spec,
        "status": {
            "capacity": capacity,
            "allocatable": allocatable,
            "addresses": [
                {"type": "InternalIP", "address": f"10.0.0.{10 + index}"},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": node_info,
            "images": images,
        },
    }


def _container(spec: JsonDict) -> JsonDict:
    container = {k: clone(v) for k, v in spec.items() if k not in ("logs",)}
    ports = container.get("ports") or []
    container["ports"] = [
        {"containerPort": p, "protocol": "TCP"} if isinstance(p, int) else p for p in ports
    ]
    if not container["ports"]:
        container.pop("ports")
    if isinstance(container.get("env"), dict):
        container["env"] = [{"name": k, "value": str(v)} for k, v in container["env"].items()]
    if container.get("readinessProbe") is True:
        port = container["ports"][0]["containerPort"] if container.get("ports") else 8080
        container["readinessProbe"] = {
            "httpGet": {"path": "/ready", "port": port},
            "periodSeconds": 10,
        }
    return container


def build_deployment(spec: JsonDict) -> JsonDict:
    if "manifest" in spec:
        return clone(spec["manifest"])
    name = str(spec["name"])
    labels = {"app": name, **{k: str(v) for k, v in (spec.get("labels") or {}).items()}}
    template: JsonDict = {
        "metadata": {"labels": labels},
        "spec": {"containers": [_container(c) for c in spec["containers"]]},
    }
    if spec.get("pod_annotations"):
        template["metadata"]["annotations"] = dict(spec["pod_annotations"])
    deployment_spec: JsonDict = {
        "replicas": int(spec.get("replicas", 1)),
        "selector": {"matchLabels": {"app": name}},
        "template": template,
    }
    for key in ("strategy", "revisionHistoryLimit", "minReadySeconds", "progressDeadlineSeconds"):
        if key in spec:
            deployment_spec[key] = clone(spec[key])
    metadata: JsonDict = {
        "name": name,
        "namespace": str(spec.get("namespace", "default")),
        "labels": labels,
    }
    if spec.get("annotations"):
        metadata["annotations"] = dict(spec["annotations"])
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": deployment_spec,
    }


def _with_images(deployment: JsonDict, images: JsonDict) -> JsonDict:
    result = clone(deployment)
    for container in result["spec"]["template"]["spec"]["containers"]:
        if container["name"] in images:
            container["image"] = str(images[container["name"]])
    return result


def seed_start(data: JsonDict, default: datetime | None) -> datetime | None:
    """`clock: {start: RFC 3339}` or `clock: {offset_seconds: -3600}` (relative to now)."""
    clock = data.get("clock") or {}
    if clock.get("start"):
        return parse_time(str(clock["start"]))
    if clock.get("offset_seconds") is not None:
        return datetime.now(UTC) + timedelta(seconds=float(clock["offset_seconds"]))
    return default


def seeded_writes(recorded: list[JsonDict], written: Any, created_at: Any) -> list[JsonDict]:
    """The managedFields of a seeded object: the seed's own (an object last written at a
    given time, times may be relative), else the creation's entry dated at the seeded
    `creationTimestamp` (an object never written since it was created that long ago)."""
    if isinstance(written, list) and written:
        return [
            {**(recorded[0] if recorded else {}), **entry}
            for entry in written
            if isinstance(entry, dict)
        ]
    if created_at:
        return [{**entry, "time": str(created_at)} for entry in recorded]
    return recorded


class _Seeder:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.verbs = ObjectVerbs(cluster)

    def create(self, body: JsonDict) -> None:
        """Create through the API's own verb (defaults, validation); existing objects are kept.

        A seeded `metadata.creationTimestamp` or `status` (e.g. a finished Job's) is written
        afterwards, as if the object had lived that long; times may be relative (`now-3d`).
        """
        resource = resource_for_kind(str(body.get("kind", "")))
        if resource is None:
            raise SeedError(f"unsupported kind in seed: {body.get('kind')!r}")
        body = resolve_times(body, self.cluster.now())
        meta = body.get("metadata") or {}
        namespace = meta.get("namespace") or ("default" if resource.namespaced else None)
        if self.cluster.store.get(resource.plural, namespace, meta.get("name", "")) is not None:
            return
        try:
            self.verbs.create(resource, namespace, body, dry_run=False)
        except ApiError as exc:
            raise SeedError(f"seed {body.get('kind')} {meta.get('name')}: {exc.message}") from exc
        created_at, status = meta.get("creationTimestamp"), body.get("status")
        written = meta.get("managedFields")
        if created_at or written or (status and resource.has_status):
            found = self.cluster.store.get(resource.plural, namespace, meta["name"])
            if found is None:
                return
            stored = clone(found)
            if created_at:
                stored["metadata"]["creationTimestamp"] = str(created_at)
            stored["metadata"]["managedFields"] = seeded_writes(
                stored["metadata"].get("managedFields") or [], written, created_at
            )
            if status and resource.has_status:
                stored["status"] = {**(stored.get("status") or {}), **clone(status)}
            self.cluster.write(resource.plural, stored)
            self.cluster.reconcile()

    def deployments(self, specs: list[JsonDict]) -> None:
        """Create deployments at their oldest revision, then roll each through its history."""
        staged: list[tuple[JsonDict, list[JsonDict]]] = []
        for spec in specs:
            deployment = build_deployment(spec)
            meta = deployment["metadata"]
            for container in spec.get("containers") or []:
                if container.get("logs"):
                    key = (meta.get("namespace", "default"), meta["name"], container["name"])
                    self.cluster.log_profiles[key] = LogProfile.from_dict(container["logs"])
            history = [_with_images(deployment, images) for images in spec.get("history") or []]
            staged.append((deployment, history))
            self.create(history[0] if history else deployment)
        for step in range(max((len(h) for _, h in staged), default=0)):
            self.cluster.settle()
            for deployment, history in staged:
                if step >= len(history):
                    continue
                following = history[step + 1] if step + 1 < len(history) else deployment
                meta = deployment["metadata"]
                patch = {"spec": {"template": following["spec"]["template"]}}
                self.verbs.patch(
                    DEPLOYMENTS, meta["namespace"], meta["name"], patch, MERGE_PATCH, dry_run=False
                )

    def faults(self, faults: list[JsonDict]) -> None:
        for fault in faults:
            try:
                self.cluster.add_fault(Fault.from_dict(dict(fault)))
            except (TypeError, ValueError) as exc:
                raise SeedError(f"seed fault {fault}: {exc}") from exc


def apply_seed(cluster: Cluster, data: JsonDict) -> None:
    """Create everything the seed describes, settle the rollouts, then inject its faults."""
    seeder = _Seeder(cluster)
    namespaces = [n if isinstance(n, dict) else {"name": n} for n in data.get("namespaces") or []]
    for item in [*({"name": n} for n in SYSTEM_NAMESPACES), *namespaces]:
        labels = item.get("labels") or {}
        seeder.create(
            {"kind": NAMESPACES.kind, "metadata": {"name": item["name"], "labels": labels}}
        )
    first = cluster.store.count("nodes") + 1
    for offset, node in enumerate(data.get("nodes") or []):
        seeder.create(build_node(node, first + offset, cluster.server_version))
    for manifest in data.get("objects") or []:
        seeder.create(manifest)
    seeder.deployments(list(data.get("deployments") or []))
    if data.get("settle", True):
        cluster.settle()
    seeder.faults(list(data.get("faults") or []))
    if data.get("rbac") is not None:
        cluster.set_rbac(RbacPolicy.from_dict(dict(data["rbac"])))
    if data.get("advance_seconds"):
        cluster.advance(float(data["advance_seconds"]))
