"""Deployments, ReplicaSets, the scheduler and the kubelet behave like their real counterparts."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from sandbox.kube import KubeSandbox

REVISION = "deployment.kubernetes.io/revision"


def _apps(sandbox: KubeSandbox, token: str | None = None) -> Any:
    """The typed AppsV1Api, used as Any: every field of its models is Optional."""
    return client.AppsV1Api(sandbox.api_client(token))


def _leases(sandbox: KubeSandbox, token: str | None = None) -> Any:
    """The typed CoordinationV1Api, used as Any: every field of its models is Optional."""
    return client.CoordinationV1Api(sandbox.api_client(token))


def _core(sandbox: KubeSandbox, token: str | None = None) -> Any:
    """The typed CoreV1Api, used as Any: every field of its models is Optional."""
    return client.CoreV1Api(sandbox.api_client(token))


def _live_pods(kube: KubeSandbox, selector: str, namespace: str = "prod") -> list[Any]:
    pods = _core(kube).list_namespaced_pod(namespace, label_selector=selector).items
    return [p for p in pods if p.metadata.deletion_timestamp is None]


def test_a_deleted_pod_is_replaced_by_its_replicaset(kube: KubeSandbox) -> None:
    core = _core(kube)
    victim = _live_pods(kube, "app=checkout")[0]
    deleted = core.delete_namespaced_pod(victim.metadata.name, "prod")
    assert deleted.metadata.deletion_timestamp is not None
    assert len(_live_pods(kube, "app=checkout")) == 3
    kube.cluster.advance(5)
    names = {p.metadata.name for p in _live_pods(kube, "app=checkout")}
    assert victim.metadata.name not in names
    assert len(names) == 3
    events = core.list_namespaced_event(
        "prod", field_selector="involvedObject.kind=ReplicaSet,reason=SuccessfulCreate"
    ).items
    assert any(e.message.startswith("Created pod: checkout-") for e in events)


def test_template_change_rolls_out_a_new_revisioned_replicaset(kube: KubeSandbox) -> None:
    apps = _apps(kube)
    before = apps.read_namespaced_deployment("payments", "prod")
    patch = {
        "spec": {
            "template": {
                "metadata": {
                    "annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"}
                }
            }
        }
    }
    after = apps.patch_namespaced_deployment("payments", "prod", patch)
    assert after.metadata.generation == before.metadata.generation + 1
    kube.cluster.advance(1)
    mid = apps.read_namespaced_deployment("payments", "prod")
    assert mid.metadata.annotations[REVISION] == "2"
    progressing = next(c for c in mid.status.conditions if c.type == "Progressing")
    assert progressing.reason in ("NewReplicaSetCreated", "ReplicaSetUpdated")
    assert mid.status.replicas <= 3  # maxSurge 25% of 2 rounds up to one extra pod
    assert kube.cluster.settle(120)
    done = apps.read_namespaced_deployment("payments", "prod")
    assert (done.status.replicas, done.status.updated_replicas, done.status.available_replicas) == (
        2,
        2,
        2,
    )
    assert done.status.observed_generation == done.metadata.generation
    conditions = {c.type: (c.status, c.reason) for c in done.status.conditions}
    assert conditions == {
        "Available": ("True", "MinimumReplicasAvailable"),
        "Progressing": ("True", "NewReplicaSetAvailable"),
    }
    replica_sets = apps.list_namespaced_replica_set("prod", label_selector="app=payments").items
    by_revision = {rs.metadata.annotations[REVISION]: rs for rs in replica_sets}
    assert by_revision["1"].spec.replicas == 0
    assert by_revision["2"].spec.replicas == 2
    new_rs = by_revision["2"]
    assert new_rs.metadata.name == f"payments-{new_rs.metadata.labels['pod-template-hash']}"
    assert new_rs.metadata.owner_references[0].kind == "Deployment"
    assert new_rs.metadata.owner_references[0].controller
    for pod in _live_pods(kube, "app=payments"):
        assert (
            pod.metadata.annotations["kubectl.kubernetes.io/restartedAt"] == "2025-01-01T00:00:00Z"
        )
    scaling = [
        e.message
        for e in _core(kube).list_namespaced_event("prod").items
        if e.reason == "ScalingReplicaSet" and e.involved_object.name == "payments"
    ]
    assert f"Scaled up replica set {new_rs.metadata.name} from 0 to 1" in scaling


def test_revision_history_limit_prunes_old_replicasets(kube: KubeSandbox) -> None:
    apps = _apps(kube)
    apps.patch_namespaced_deployment("payments", "prod", {"spec": {"revisionHistoryLimit": 1}})
    for index in range(3):
        apps.patch_namespaced_deployment(
            "payments",
            "prod",
            {"spec": {"template": {"metadata": {"annotations": {"restart": str(index)}}}}},
        )
        assert kube.cluster.settle(120)
    replica_sets = apps.list_namespaced_replica_set("prod", label_selector="app=payments").items
    assert sorted(rs.metadata.annotations[REVISION] for rs in replica_sets) == ["3", "4"]


def test_scheduler_spreads_round_robin_and_reports_failed_scheduling(kube: KubeSandbox) -> None:
    apps = _apps(kube)
    labels = {"app": "greedy"}
    container = {
        "name": "app",
        "image": "greedy:1",
        "resources": {"requests": {"cpu": "64", "memory": "1Gi"}},
    }
    body = {
        "metadata": {"name": "greedy"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }
    apps.create_namespaced_deployment("default", body)
    kube.cluster.advance(2)
    pod = _live_pods(kube, "app=greedy", "default")[0]
    scheduled = next(c for c in pod.status.conditions if c.type == "PodScheduled")
    assert (scheduled.status, scheduled.reason) == ("False", "Unschedulable")
    assert scheduled.message.startswith("0/3 nodes are available: 3 Insufficient cpu.")
    events = (
        _core(kube).list_namespaced_event("default", field_selector="reason=FailedScheduling").items
    )
    assert events
    assert events[0].type == "Warning"
    nodes = {p.spec.node_name for p in _core(kube).list_namespaced_pod("prod").items}
    assert nodes == {"node-1", "node-2", "node-3"}


def test_pod_lifecycle_events_come_from_the_right_components(shared_kube: KubeSandbox) -> None:
    core = _core(shared_kube)
    pod = _live_pods(shared_kube, "app=orders-db")[0]
    events = core.list_namespaced_event(
        "prod", field_selector=f"involvedObject.name={pod.metadata.name}"
    ).items
    by_reason = {e.reason: e for e in events}
    assert by_reason["Scheduled"].source.component == "default-scheduler"
    assert (
        by_reason["Scheduled"].message
        == f"Successfully assigned prod/{pod.metadata.name} to {pod.spec.node_name}"
    )
    pulled = by_reason["Pulled"]
    assert (pulled.source.component, pulled.source.host) == ("kubelet", pod.spec.node_name)
    assert pulled.involved_object.field_path == "spec.containers{postgres}"
    assert by_reason["Created"].message == "Created container: postgres"
    assert by_reason["Started"].message == "Started container postgres"


def test_progress_deadline_exceeded_when_a_rollout_stalls(kube: KubeSandbox) -> None:
    from sandbox.kube import Fault

    apps = _apps(kube)
    kube.cluster.add_fault(Fault(kind="bad_image", image="broken:*"))
    apps.patch_namespaced_deployment(
        "payments",
        "prod",
        {
            "spec": {
                "progressDeadlineSeconds": 60,
                "template": {"spec": {"containers": [{"name": "app", "image": "broken:1"}]}},
            }
        },
    )
    kube.cluster.advance(90)
    deployment = apps.read_namespaced_deployment("payments", "prod")
    progressing = next(c for c in deployment.status.conditions if c.type == "Progressing")
    assert (progressing.status, progressing.reason) == ("False", "ProgressDeadlineExceeded")
    assert deployment.status.available_replicas == 2


def test_deleting_a_deployment_cascades_to_replicasets_and_pods(kube: KubeSandbox) -> None:
    apps = _apps(kube)
    status = apps.delete_namespaced_deployment("payments", "prod")
    assert status["status"] == "Success"
    assert status["details"]["name"] == "payments"
    kube.cluster.advance(3)
    assert apps.list_namespaced_replica_set("prod", label_selector="app=payments").items == []
    assert _core(kube).list_namespaced_pod("prod", label_selector="app=payments").items == []


def test_node_leases_are_renewed_in_kube_node_lease(kube: KubeSandbox) -> None:
    leases = _leases(kube)
    before = leases.read_namespaced_lease("node-1", "kube-node-lease")
    assert before.spec.holder_identity == "node-1"
    assert before.spec.lease_duration_seconds == 40
    kube.cluster.advance(15)
    after = leases.read_namespaced_lease("node-1", "kube-node-lease")
    assert after.spec.renew_time > before.spec.renew_time
