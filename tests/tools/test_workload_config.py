"""workload_config against the Kubernetes API stand-in: the autoscaler that scales a
workload (capped at its maximum or not) and every ConfigMap key its pods read, checked
against the ConfigMap without ever showing a value; what RBAC withholds is said. A host
from the errors is found in the ConfigMap key that holds it, and a ConfigMap rewritten
before the incident shows when (managedFields) and, in the change timeline, which
deployment reads it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from sandbox.kube import KubeSandbox, RbacPolicy
from sandbox.scenarios import load_scenario
from sandbox.scenarios.cluster_history import play_cluster
from sandbox.scenarios.timeline import Timeline
from tests.tools.test_investigation_tools import shipped_read_role
from tools.config import KubernetesConfig
from tools.k8s.changes import ChangeTimelineArgs, ChangeTimelineData, ChangeTimelineTool
from tools.k8s.workload_config import WorkloadConfigArgs, WorkloadConfigData, WorkloadConfigTool

SECRET_VALUE = "http://gateway.internal:9000/v2?token=abc"  # a value that must never show


@pytest.fixture
def configured() -> Iterator[KubeSandbox]:
    """checkout reads two keys of checkout-config (one absent), every key of a ConfigMap
    that does not exist, and a Secret key; an HPA targets it."""
    with KubeSandbox(auto_advance=False) as kube:
        api = kube.api_client()
        client.CoreV1Api(api).create_namespaced_config_map(
            "prod",
            client.V1ConfigMap(
                metadata=client.V1ObjectMeta(name="checkout-config"),
                data={"GATEWAY_URL": SECRET_VALUE},
            ),
        )
        env = [
            ("GATEWAY_URL", "configMapKeyRef", "checkout-config", "GATEWAY_URL"),
            ("GATEWAY_KEY", "configMapKeyRef", "checkout-config", "GATEWAY_KEY"),
            ("DB_PASSWORD", "secretKeyRef", "checkout-db", "password"),
        ]
        container = {
            "name": "app",
            "env": [
                {"name": n, "valueFrom": {ref: {"name": obj, "key": key}}}
                for n, ref, obj, key in env
            ],
            "envFrom": [{"configMapRef": {"name": "checkout-flags"}}],
        }
        client.AppsV1Api(api).patch_namespaced_deployment(
            "checkout", "prod", {"spec": {"template": {"spec": {"containers": [container]}}}}
        )
        target = client.V2CrossVersionObjectReference(
            api_version="apps/v1", kind="Deployment", name="checkout"
        )
        client.AutoscalingV2Api(api).create_namespaced_horizontal_pod_autoscaler(
            "prod",
            client.V2HorizontalPodAutoscaler(
                api_version="autoscaling/v2",
                kind="HorizontalPodAutoscaler",
                metadata=client.V1ObjectMeta(name="checkout"),
                spec=client.V2HorizontalPodAutoscalerSpec(
                    scale_target_ref=target, min_replicas=2, max_replicas=4
                ),
            ),
        )
        yield kube


def tool_for(kube: KubeSandbox) -> WorkloadConfigTool:
    return WorkloadConfigTool(
        KubernetesConfig(default_namespace="prod"), api_client=kube.api_client()
    )


def test_a_missing_key_and_a_missing_configmap_are_named_and_no_value_is_shown(
    configured: KubeSandbox,
) -> None:
    result = tool_for(configured).run(WorkloadConfigArgs(workload="checkout"))
    assert result.ok, result.content
    data = result.data
    assert isinstance(data, WorkloadConfigData)
    states = {(r.kind, r.name, r.key): r.state for r in data.references}
    assert states[("ConfigMap", "checkout-config", "GATEWAY_URL")] == "present"
    assert states[("ConfigMap", "checkout-config", "GATEWAY_KEY")] == "missing key"
    assert states[("ConfigMap", "checkout-flags", None)] == "missing object"
    assert states[("Secret", "checkout-db", "password")].startswith("not read")
    assert "GATEWAY_KEY reads ConfigMap checkout-config key GATEWAY_KEY: missing key" in (
        result.content
    )
    assert data.config_keys == {"checkout-config": ["GATEWAY_URL"]}
    assert SECRET_VALUE not in result.content
    assert SECRET_VALUE not in data.model_dump_json()
    assert all(SECRET_VALUE not in e.excerpt for e in result.evidence)
    (hpa,) = data.autoscalers
    assert (hpa.min_replicas, hpa.max_replicas) == (2, 4)


def test_with_the_shipped_read_role_it_reads_both_and_without_the_hpa_grant_it_says_so(
    configured: KubeSandbox,
) -> None:
    tool = tool_for(configured)
    configured.cluster.set_rbac(RbacPolicy(rules=shipped_read_role()))
    allowed = tool.run(WorkloadConfigArgs(workload="checkout"))
    without_hpa = [r for r in shipped_read_role() if "horizontalpodautoscalers" not in r.resources]
    configured.cluster.set_rbac(RbacPolicy(rules=without_hpa))
    denied = tool.run(WorkloadConfigArgs(workload="checkout"))
    assert isinstance(allowed.data, WorkloadConfigData), allowed.content
    assert allowed.data.not_checked == []
    assert [h.name for h in allowed.data.autoscalers] == ["checkout"]
    assert isinstance(denied.data, WorkloadConfigData), denied.content
    assert denied.data.not_checked == ["horizontalpodautoscalers: the bot may not read them (RBAC)"]
    assert "Not checked: horizontalpodautoscalers" in denied.content
    assert any(r.state == "missing key" for r in denied.data.references)


def test_a_workload_its_autoscaler_holds_at_max_replicas_is_said_to_be_capped() -> None:
    scenario = load_scenario("hpa-at-max-replicas")
    with KubeSandbox(auto_advance=False) as kube:
        timeline = Timeline.ending_now(
            incident_ago=scenario.spec.incident.started_ago, history=3600, horizon=0
        )
        play_cluster(kube, scenario, timeline)
        result = tool_for(kube).run(WorkloadConfigArgs(workload="checkout"))
    assert isinstance(result.data, WorkloadConfigData), result.content
    (hpa,) = result.data.autoscalers
    assert hpa.at_max
    assert hpa.limited
    assert hpa.current_replicas == hpa.max_replicas == 4
    assert "AT maxReplicas and wants more (ScalingLimited)" in result.content
    assert any(m.name == "cpu" and m.current for m in hpa.metrics)


def test_a_host_from_the_errors_is_found_in_the_configmap_key_that_holds_it_without_its_value(
    configured: KubeSandbox,
) -> None:
    args = WorkloadConfigArgs(workload="checkout", find=["gateway.internal", "nowhere.example"])
    result = tool_for(configured).run(args)
    assert isinstance(result.data, WorkloadConfigData), result.content
    (match,) = result.data.matches
    assert (match.text, match.config_map, match.key) == (
        "gateway.internal",
        "checkout-config",
        "GATEWAY_URL",
    )
    assert "'nowhere.example' is in no referenced ConfigMap value" in result.content
    assert SECRET_VALUE not in result.content
    assert [w.object for w in result.data.written] == ["ConfigMap/checkout-config"]


def test_a_configmap_applied_before_the_incident_shows_when_it_was_written() -> None:
    scenario = load_scenario(
        "frontend-configmap-points-at-staging", Path(__file__).parents[2] / "sandbox/heldout/round6"
    )
    with KubeSandbox(auto_advance=False) as kube:
        timeline = Timeline.ending_now(
            incident_ago=scenario.spec.incident.started_ago, history=3600, horizon=0
        )
        play_cluster(kube, scenario, timeline)
        args = WorkloadConfigArgs(
            namespace="prod", workload="frontend", find=["checkout.staging.svc.cluster.local"]
        )
        result = tool_for(kube).run(args)
    assert isinstance(result.data, WorkloadConfigData), result.content
    (written,) = result.data.written
    (write,) = scenario.writes
    assert written.at.timestamp() == pytest.approx(timeline.incident - write.before, abs=1)
    assert written.how == "Update by kubectl-client-side-apply"
    assert [m.key for m in result.data.matches] == ["CHECKOUT_URL"]


def test_the_change_timeline_names_the_deployment_that_reads_a_rewritten_configmap() -> None:
    scenario = load_scenario(
        "frontend-configmap-points-at-staging", Path(__file__).parents[2] / "sandbox/heldout/round6"
    )
    with KubeSandbox(auto_advance=False) as kube:
        timeline = Timeline.ending_now(
            incident_ago=scenario.spec.incident.started_ago, history=3600, horizon=0
        )
        play_cluster(kube, scenario, timeline)
        tool = ChangeTimelineTool(
            KubernetesConfig(default_namespace="prod"),
            api_client=kube.api_client(),
            clock=kube.cluster.clock.now,
        )
        result = tool.run(ChangeTimelineArgs(namespace="prod", service="frontend", lookback="3d"))
    assert isinstance(result.data, ChangeTimelineData), result.content
    (config,) = [c for c in result.data.changes if c.object == "ConfigMap/frontend-config"]
    assert config.what == (
        "Update by kubectl-client-side-apply; read by Deployment/frontend (container web envFrom)"
    )
    assert any(c.kind == "rollout" and "4.12.1" in c.what for c in result.data.changes)
