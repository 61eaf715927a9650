"""Kubernetes tools through the official client against the API server stand-in (sandbox.kube)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kubernetes import client

from sandbox.kube import KubeSandbox
from sandbox.procs import free_port
from tools.base import ErrorKind
from tools.budget import OutputBudget
from tools.config import KubernetesConfig
from tools.k8s.connection import build_api_client
from tools.k8s.deployments import DeploymentArgs, DeploymentData, DeploymentTool
from tools.k8s.events import EventsArgs, EventsData, EventsTool
from tools.k8s.nodes import NodesArgs, NodesData, NodesTool
from tools.k8s.pod_logs import PodLogData, PodLogsArgs, PodLogsTool
from tools.k8s.pods import CRASH_MEMORY, PodInfo, PodsArgs, PodsData, PodsTool, pod_info
from tools.k8s.rollout import TemplateChange, template_changes

DASHBOARD = "https://dashboard.example"
OOM_ERROR = "java.lang.OutOfMemoryError: Java heap space"


def config(**overrides: object) -> KubernetesConfig:
    return KubernetesConfig(default_namespace="prod", **overrides)


def api(kube: KubeSandbox) -> client.ApiClient:
    return kube.api_client()


def payments_pods(kube: KubeSandbox) -> list[PodInfo]:
    result = PodsTool(config(), api_client=api(kube)).run(PodsArgs(workload="payments"))
    assert isinstance(result.data, PodsData), result.content
    return result.data.pods


def test_pods_of_a_workload_put_the_oom_killed_container_first(kube: KubeSandbox) -> None:
    tool = PodsTool(config(dashboard_url=DASHBOARD), api_client=api(kube))
    result = tool.run(PodsArgs(workload="payments"))
    assert isinstance(result.data, PodsData), result.content
    first = result.data.pods[0]
    assert result.data.selector == "app=payments"
    assert first.restarts >= 1
    (container,) = first.containers
    assert container.last_termination_reason == "OOMKilled"
    assert container.last_exit_code == 137
    assert "last terminated OOMKilled (exit 137)" in result.content.splitlines()[1]
    (evidence,) = result.evidence
    assert evidence.query == "GET /api/v1/namespaces/prod/pods?labelSelector=app%3Dpayments"
    assert evidence.link == f"{DASHBOARD}/#/pod?namespace=prod"


def test_unhealthy_pods_include_those_on_the_lost_node(kube: KubeSandbox) -> None:
    result = PodsTool(config(), api_client=api(kube)).run(PodsArgs(only_unhealthy=True))
    assert isinstance(result.data, PodsData)
    lost = [p for p in result.data.pods if p.node == "node-3"]
    assert lost
    assert all(p.ready_condition == "False" for p in lost)
    assert "Ready condition False" in result.content
    assert all(not p.healthy for p in result.data.pods)


def test_pod_log_previous_returns_the_crashed_container_output(kube: KubeSandbox) -> None:
    crashed = next(p for p in payments_pods(kube) if p.restarts and p.node != "node-3")
    result = PodLogsTool(config(), api_client=api(kube)).run(
        PodLogsArgs(pod=crashed.name, previous=True, tail_lines=5)
    )
    assert isinstance(result.data, PodLogData), result.content
    assert result.data.lines[-2:] == ["allocating report buffer", OOM_ERROR]
    assert result.content.endswith(OOM_ERROR)
    assert "previous instance" in result.content
    query = result.evidence[0].query
    assert query.startswith(f"GET /api/v1/namespaces/prod/pods/{crashed.name}/log?tailLines=5")
    assert "previous=true" in query
    assert result.evidence[0].link is None  # no dashboard configured


def test_pod_log_keeps_the_newest_lines_within_the_budget(kube: KubeSandbox) -> None:
    crashed = next(p for p in payments_pods(kube) if p.restarts and p.node != "node-3")
    budget = OutputBudget(max_tokens=100)
    result = PodLogsTool(config(output=budget), api_client=api(kube)).run(
        PodLogsArgs(pod=crashed.name, previous=True, tail_lines=200)
    )
    assert len(result.content) <= budget.max_chars
    assert result.truncated
    assert "older lines left out" in result.content
    assert result.content.endswith(OOM_ERROR)


def test_logs_of_a_pod_on_a_lost_node_give_an_actionable_error(kube: KubeSandbox) -> None:
    stranded = next(p for p in payments_pods(kube) if p.node == "node-3")
    result = PodLogsTool(config(), api_client=api(kube)).run(PodLogsArgs(pod=stranded.name))
    assert result.is_error
    assert result.error_kind is ErrorKind.UNAVAILABLE
    assert "10250" in result.content
    assert "check k8s_nodes" in result.content


def test_events_of_a_crashing_pod_show_back_off_warnings(kube: KubeSandbox) -> None:
    crashed = next(p for p in payments_pods(kube) if p.restarts and p.node != "node-3")
    result = EventsTool(config(), api_client=api(kube)).run(
        EventsArgs(kind="Pod", name=crashed.name, warnings_only=True)
    )
    assert isinstance(result.data, EventsData), result.content
    assert {e.reason for e in result.data.events} == {"BackOff"}
    stamps = [e.last_seen for e in result.data.events]
    assert stamps == sorted(stamps, reverse=True)  # type: ignore[type-var]
    assert "involvedObject.name%3D" + crashed.name in result.evidence[0].query


def test_node_events_are_found_across_namespaces(kube: KubeSandbox) -> None:
    result = EventsTool(config(), api_client=api(kube)).run(EventsArgs(kind="Node", name="node-3"))
    assert isinstance(result.data, EventsData), result.content
    assert "NodeNotReady" in {e.reason for e in result.data.events}
    assert result.evidence[0].query.startswith("GET /api/v1/events?")


def test_deployment_history_names_image_env_and_resource_changes(kube: KubeSandbox) -> None:
    tool = DeploymentTool(config(dashboard_url=DASHBOARD), api_client=api(kube))
    result = tool.run(DeploymentArgs(name="checkout"))
    assert isinstance(result.data, DeploymentData), result.content
    data = result.data
    assert data.revision == 3
    assert [r.revision for r in data.revisions] == [3, 2, 1]
    assert data.revisions[0].current
    image = "registry.example.com/shop/checkout"
    assert data.revisions[0].changes == [
        TemplateChange(field="containers[app].image", old=f"{image}:1.8.2", new=f"{image}:1.9.0"),
        TemplateChange(field="containers[app].env.LOG_LEVEL", old="info", new="debug"),
        TemplateChange(field="containers[app].resources.limits.memory", old="512Mi", new="256Mi"),
    ]
    assert "containers[app].env.LOG_LEVEL: info -> debug" in result.content
    assert [e.link for e in result.evidence] == [
        f"{DASHBOARD}/#/deployment/prod/checkout?namespace=prod"
    ] * 2


def test_template_changes_cover_added_containers_and_env_references() -> None:
    old = {
        "spec": {
            "containers": [{"name": "app", "image": "a:1", "env": [{"name": "X", "value": "1"}]}]
        }
    }
    new = {
        "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2024-05-01T00:00:00Z"}},
        "spec": {
            "serviceAccountName": "shop",
            "containers": [
                {
                    "name": "app",
                    "image": "a:1",
                    "env": [
                        {"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
                    ],
                },
                {"name": "proxy", "image": "envoy:1.30"},
            ],
        },
    }
    fields = {c.field: (c.old, c.new) for c in template_changes(old, new)}
    assert fields == {
        "annotations.kubectl.kubernetes.io/restartedAt": (None, "2024-05-01T00:00:00Z"),
        "containers[app].env.X": (
            "1",
            '{"valueFrom": {"secretKeyRef": {"key": "k", "name": "s"}}}',
        ),
        "containers[proxy]": (None, "envoy:1.30"),
        "spec.serviceAccountName": (None, "shop"),
    }


def test_nodes_put_the_lost_node_first_with_its_taints(kube: KubeSandbox) -> None:
    result = NodesTool(config(), api_client=api(kube)).run(NodesArgs(only_problems=True))
    assert isinstance(result.data, NodesData), result.content
    (lost,) = result.data.nodes
    assert lost.name == "node-3"
    assert lost.ready == "Unknown"
    assert "node.kubernetes.io/unreachable:NoExecute" in lost.taints
    assert "node-3: Ready=Unknown (NodeStatusUnknown: Kubelet stopped posting" in result.content


def test_unknown_pod_and_workload_are_not_found(kube: KubeSandbox) -> None:
    logs = PodLogsTool(config(), api_client=api(kube)).run(PodLogsArgs(pod="no-such-pod"))
    assert logs.error_kind is ErrorKind.NOT_FOUND
    assert 'pods "no-such-pod" not found' in logs.content
    pods = PodsTool(config(), api_client=api(kube)).run(PodsArgs(workload="no-such-app"))
    assert pods.error_kind is ErrorKind.NOT_FOUND
    assert "Deployment, StatefulSet or DaemonSet" in pods.content


def test_namespace_outside_the_allowed_list_is_refused(kube: KubeSandbox) -> None:
    tool = PodsTool(config(allowed_namespaces=("prod",)), api_client=api(kube))
    result = tool.run(PodsArgs(namespace="kube-system"))
    assert result.error_kind is ErrorKind.INVALID_INPUT
    assert "'kube-system'" in result.content


def test_malformed_label_selector_is_rejected_with_the_servers_reason(kube: KubeSandbox) -> None:
    result = PodsTool(config(), api_client=api(kube)).run(PodsArgs(selector="app in (a"))
    assert result.error_kind is ErrorKind.REJECTED
    assert "Fix the arguments" in result.content


def test_unreachable_api_server_gives_an_error_result() -> None:
    settings = config(api_url=f"http://127.0.0.1:{free_port()}", timeout_seconds=2.0)
    result = NodesTool(settings, api_client=build_api_client(settings)).run(NodesArgs())
    assert result.error_kind is ErrorKind.UNAVAILABLE
    assert "Cannot reach the Kubernetes API server" in result.content


def running_pod(last: client.V1ContainerStateTerminated | None) -> client.V1Pod:
    """A pod whose one container is running and ready, with `last` as its previous run."""
    status = client.V1ContainerStatus(
        name="app",
        image="registry.example.com/shop/inventory:1.0",
        image_id="",
        ready=True,
        restart_count=0 if last is None else 7,
        state=client.V1ContainerState(running=client.V1ContainerStateRunning()),
        last_state=client.V1ContainerState(terminated=last),
    )
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name="inventory-5d8f7-abcde", namespace="prod"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="app", image=status.image)]),
        status=client.V1PodStatus(
            phase="Running",
            conditions=[client.V1PodCondition(type="Ready", status="True")],
            container_statuses=[status],
        ),
    )


def terminated(reason: str, exit_code: int, at: datetime) -> client.V1ContainerStateTerminated:
    return client.V1ContainerStateTerminated(reason=reason, exit_code=exit_code, finished_at=at)


def test_a_pod_up_again_between_two_oom_kills_is_unhealthy() -> None:
    killed = datetime(2026, 12, 8, 0, 41, tzinfo=UTC)
    pod = running_pod(terminated("OOMKilled", 137, killed))
    assert not pod_info(pod, killed + timedelta(seconds=40)).healthy
    assert pod_info(pod, killed + timedelta(seconds=40)).recent_crash == killed
    assert pod_info(pod, killed + CRASH_MEMORY + timedelta(seconds=1)).healthy


def test_a_pod_whose_container_last_exited_cleanly_or_never_restarted_is_healthy() -> None:
    now = datetime(2026, 12, 8, 0, 41, tzinfo=UTC)
    assert pod_info(running_pod(terminated("Completed", 0, now)), now).healthy
    assert pod_info(running_pod(None), now).healthy
    assert not pod_info(running_pod(terminated("Error", 1, now)), now).healthy
