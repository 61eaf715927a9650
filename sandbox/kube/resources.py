"""The resource types this API server serves, described once for routing, discovery and errors."""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str | None = None  # set when the subresource's kind lives in another group
    version: str | None = None


@dataclass(frozen=True)
class ResourceType:
    plural: str
    singular: str
    kind: str
    group: str
    version: str
    namespaced: bool
    model: str  # kubernetes.client model name, used for schema conformance
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = ()
    field_labels: tuple[str, ...] = field(default=())
    has_status: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def qualified(self) -> str:
        """`pods`, `deployments.apps`: how errors name the resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        """`Pod`, `Deployment.apps`: how validation errors name the kind."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    def subresource(self, name: str) -> Subresource | None:
        return next((sub for sub in self.subresources if sub.name == name), None)


_META = ("metadata.name", "metadata.namespace")
_STATUS_VERBS = ("get", "patch", "update")

NAMESPACES = ResourceType(
    plural="namespaces",
    singular="namespace",
    kind="Namespace",
    group="",
    version="v1",
    namespaced=False,
    model="V1Namespace",
    short_names=("ns",),
    subresources=(Subresource("status", "Namespace", _STATUS_VERBS),),
    field_labels=(*_META, "status.phase"),
)
NODES = ResourceType(
    plural="nodes",
    singular="node",
    kind="Node",
    group="",
    version="v1",
    namespaced=False,
    model="V1Node",
    short_names=("no",),
    subresources=(Subresource("status", "Node", _STATUS_VERBS),),
    field_labels=(*_META, "spec.unschedulable"),
)
PODS = ResourceType(
    plural="pods",
    singular="pod",
    kind="Pod",
    group="",
    version="v1",
    namespaced=True,
    model="V1Pod",
    short_names=("po",),
    categories=("all",),
    subresources=(
        Subresource("eviction", "Eviction", ("create",), group="policy", version="v1"),
        Subresource("log", "Pod", ("get",)),
        Subresource("status", "Pod", _STATUS_VERBS),
    ),
    field_labels=(
        *_META,
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
)
EVENTS = ResourceType(
    plural="events",
    singular="event",
    kind="Event",
    group="",
    version="v1",
    namespaced=True,
    model="CoreV1Event",
    short_names=("ev",),
    field_labels=(
        *_META,
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    has_status=False,
)
_SCALE = Subresource("scale", "Scale", _STATUS_VERBS, group="autoscaling", version="v1")
DEPLOYMENTS = ResourceType(
    plural="deployments",
    singular="deployment",
    kind="Deployment",
    group="apps",
    version="v1",
    namespaced=True,
    model="V1Deployment",
    short_names=("deploy",),
    categories=("all",),
    subresources=(_SCALE, Subresource("status", "Deployment", _STATUS_VERBS)),
    field_labels=_META,
)
REPLICASETS = ResourceType(
    plural="replicasets",
    singular="replicaset",
    kind="ReplicaSet",
    group="apps",
    version="v1",
    namespaced=True,
    model="V1ReplicaSet",
    short_names=("rs",),
    categories=("all",),
    subresources=(_SCALE, Subresource("status", "ReplicaSet", _STATUS_VERBS)),
    field_labels=(*_META, "status.replicas"),
)
LEASES = ResourceType(
    plural="leases",
    singular="lease",
    kind="Lease",
    group="coordination.k8s.io",
    version="v1",
    namespaced=True,
    model="V1Lease",
    field_labels=_META,
    has_status=False,
)

PERSISTENT_VOLUME_CLAIMS = ResourceType(
    plural="persistentvolumeclaims",
    singular="persistentvolumeclaim",
    kind="PersistentVolumeClaim",
    group="",
    version="v1",
    namespaced=True,
    model="V1PersistentVolumeClaim",
    short_names=("pvc",),
    subresources=(Subresource("status", "PersistentVolumeClaim", _STATUS_VERBS),),
    field_labels=_META,
)
PERSISTENT_VOLUMES = ResourceType(
    plural="persistentvolumes",
    singular="persistentvolume",
    kind="PersistentVolume",
    group="",
    version="v1",
    namespaced=False,
    model="V1PersistentVolume",
    short_names=("pv",),
    subresources=(Subresource("status", "PersistentVolume", _STATUS_VERBS),),
    field_labels=(*_META, "status.phase"),
)
STORAGE_CLASSES = ResourceType(
    plural="storageclasses",
    singular="storageclass",
    kind="StorageClass",
    group="storage.k8s.io",
    version="v1",
    namespaced=False,
    model="V1StorageClass",
    short_names=("sc",),
    field_labels=_META,
    has_status=False,
)
JOBS = ResourceType(
    plural="jobs",
    singular="job",
    kind="Job",
    group="batch",
    version="v1",
    namespaced=True,
    model="V1Job",
    categories=("all",),
    subresources=(Subresource("status", "Job", _STATUS_VERBS),),
    field_labels=(*_META, "status.successful"),
)
CONFIG_MAPS = ResourceType(
    plural="configmaps",
    singular="configmap",
    kind="ConfigMap",
    group="",
    version="v1",
    namespaced=True,
    model="V1ConfigMap",
    short_names=("cm",),
    field_labels=_META,
    has_status=False,
)
SECRETS = ResourceType(
    plural="secrets",
    singular="secret",
    kind="Secret",
    group="",
    version="v1",
    namespaced=True,
    model="V1Secret",
    field_labels=(*_META, "type"),
    has_status=False,
)
HORIZONTAL_POD_AUTOSCALERS = ResourceType(
    plural="horizontalpodautoscalers",
    singular="horizontalpodautoscaler",
    kind="HorizontalPodAutoscaler",
    group="autoscaling",
    version="v2",
    namespaced=True,
    model="V2HorizontalPodAutoscaler",
    short_names=("hpa",),
    categories=("all",),
    subresources=(Subresource("status", "HorizontalPodAutoscaler", _STATUS_VERBS),),
    field_labels=_META,
)

RESOURCE_TYPES: tuple[ResourceType, ...] = (
    NAMESPACES,
    NODES,
    PODS,
    EVENTS,
    PERSISTENT_VOLUME_CLAIMS,
    PERSISTENT_VOLUMES,
    DEPLOYMENTS,
    REPLICASETS,
    LEASES,
    STORAGE_CLASSES,
    JOBS,
    CONFIG_MAPS,
    SECRETS,
    HORIZONTAL_POD_AUTOSCALERS,
)
GROUP_VERSIONS: tuple[tuple[str, str], ...] = (
    ("", "v1"),
    ("apps", "v1"),
    ("autoscaling", "v2"),
    ("batch", "v1"),
    ("coordination.k8s.io", "v1"),
    ("storage.k8s.io", "v1"),
)


def find_resource(group: str, version: str, plural: str) -> ResourceType | None:
    for resource in RESOURCE_TYPES:
        if (resource.group, resource.version, resource.plural) == (group, version, plural):
            return resource
    return None


def resource_for_kind(kind: str) -> ResourceType | None:
    return next((resource for resource in RESOURCE_TYPES if resource.kind == kind), None)


def resources_in(group: str, version: str) -> list[ResourceType]:
    return [r for r in RESOURCE_TYPES if (r.group, r.version) == (group, version)]
