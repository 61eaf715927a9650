"""The investigation tools that join several reads into one answer, each against the same
real backends as the other tool tests: the Kubernetes API stand-in (workload_resources,
change_timeline), the Jaeger query stand-in (service_graph) and a real Prometheus with two
alerting rules loaded (alert_rule)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import yaml
from kubernetes import client

from bot.investigation.patterns.observe import Observations, Observer
from sandbox.kube import KubeSandbox, RbacPolicy, RbacRule
from sandbox.procs import PrometheusProcess
from sandbox.serve import ServerThread
from tools.base import ErrorKind
from tools.config import (
    JaegerConfig,
    KubernetesConfig,
    LogSearchConfig,
    PrometheusConfig,
    ToolsConfig,
)
from tools.k8s.changes import ChangeTimelineArgs, ChangeTimelineData, ChangeTimelineTool
from tools.k8s.pods import PodsArgs, PodsData, PodsTool
from tools.k8s.workload_resources import (
    WorkloadResourcesArgs,
    WorkloadResourcesData,
    WorkloadResourcesTool,
)
from tools.metrics.rules import AlertRuleArgs, AlertRuleData, AlertRuleTool
from tools.registry import build_toolbox
from tools.toolbox import Toolbox
from tools.traces.graph import ServiceGraphArgs, ServiceGraphData, ServiceGraphTool

ROOT = Path(__file__).resolve().parents[2]


def kube_config() -> KubernetesConfig:
    return KubernetesConfig(default_namespace="prod")


def api(kube: KubeSandbox) -> client.ApiClient:
    return kube.api_client()


def test_workload_resources_put_the_last_oom_kill_next_to_the_memory_limit_it_hit(
    kube: KubeSandbox,
) -> None:
    tool = WorkloadResourcesTool(kube_config(), api_client=api(kube))
    result = tool.run(WorkloadResourcesArgs(workload="payments"))
    assert result.ok, result.content
    data = result.data
    assert isinstance(data, WorkloadResourcesData)
    limit = data.containers[0].limits.get("memory")
    assert limit is not None
    assert data.last_oom is not None
    assert data.last_oom.memory_limit == limit
    assert data.last_oom.pod.startswith("payments-")
    assert data.last_oom.exit_code == 137
    assert data.oom_killed_containers >= 1
    assert f"Last OOM kill: pod {data.last_oom.pod}" in result.content
    assert f"against a memory limit of {limit}" in result.content


def test_workload_resources_of_a_healthy_workload_say_no_oom_kill_is_recorded(
    kube: KubeSandbox,
) -> None:
    tool = WorkloadResourcesTool(kube_config(), api_client=api(kube))
    result = tool.run(WorkloadResourcesArgs(workload="checkout"))
    assert isinstance(result.data, WorkloadResourcesData), result.content
    assert result.data.last_oom is None
    assert result.data.containers[0].limits["memory"] == "256Mi"
    assert "No OOM kill recorded" in result.content
    missing = tool.run(WorkloadResourcesArgs(workload="no-such-app"))
    assert missing.error_kind is ErrorKind.NOT_FOUND


def test_change_timeline_shows_the_rollout_image_diff_and_the_lost_node_in_time_order(
    kube: KubeSandbox,
) -> None:
    tool = ChangeTimelineTool(kube_config(), api_client=api(kube), clock=kube.cluster.clock.now)
    result = tool.run(ChangeTimelineArgs(namespace="prod", lookback="1h"))
    assert result.ok, result.content
    data = result.data
    assert isinstance(data, ChangeTimelineData)
    kinds = {change.kind for change in data.changes}
    assert {"rollout", "node", "warning"} <= kinds, result.content
    rollouts = [c for c in data.changes if c.kind == "rollout"]
    assert {c.object for c in rollouts} == {"Deployment/checkout"}
    rollout = rollouts[-1]  # the fixture's rollout to 1.9.0, after the seeded 1.8.2
    assert rollout.what.startswith("revision 3: ")
    image_diff = "containers[app].image: "
    assert image_diff in rollout.what
    assert "checkout:1.9.0" in rollout.what
    assert rollout.what.index(image_diff) < rollout.what.index("LOG_LEVEL")
    assert any(c.kind == "node" and c.object == "Node/node-3" for c in data.changes)
    times = [c.at for c in data.changes]
    assert times == sorted(times)
    # what could not be read is said, not passed off as "no change"
    assert {n.split(":")[0] for n in data.not_checked} <= {"configmaps", "secrets"}
    for note in data.not_checked:
        assert f"Not checked: {note}" in result.content
    # a rollout's step-by-step scaling is one line per run, not one per event
    scaling = [c for c in data.changes if c.kind == "scaling" and c.object == "Deployment/checkout"]
    assert len(scaling) <= 2, scaling


def shipped_read_role() -> list[RbacRule]:
    """The rules of deploy/rbac.yaml's opsbot-read ClusterRole."""
    documents = yaml.safe_load_all((ROOT / "deploy" / "rbac.yaml").read_text())
    role = next(d for d in documents if d["metadata"]["name"] == "opsbot-read")
    return [
        RbacRule.of(rule["verbs"], rule["resources"], rule.get("apiGroups"))
        for rule in role["rules"]
    ]


def test_change_timeline_with_the_shipped_read_role_names_what_it_may_not_read() -> None:
    without_events = [rule for rule in shipped_read_role() if "events" not in rule.resources]
    with KubeSandbox(auto_advance=False) as kube:
        tool = ChangeTimelineTool(kube_config(), api_client=api(kube), clock=kube.cluster.clock.now)
        kube.cluster.set_rbac(RbacPolicy(rules=shipped_read_role()))
        allowed = tool.run(ChangeTimelineArgs(namespace="prod", lookback="1h"))
        kube.cluster.set_rbac(RbacPolicy(rules=without_events))
        denied = tool.run(ChangeTimelineArgs(namespace="prod", lookback="1h"))
    assert isinstance(allowed.data, ChangeTimelineData), allowed.content
    assert any(c.kind == "rollout" for c in allowed.data.changes)
    # Secrets are never granted by the shipped role (or not served at all): never silent
    assert any(n.startswith("secrets: ") for n in allowed.data.not_checked)
    assert not any(n.startswith("events") for n in allowed.data.not_checked)
    assert isinstance(denied.data, ChangeTimelineData), denied.content
    assert "events: the bot may not list them (RBAC)" in denied.data.not_checked
    assert "node events: the bot may not list them (RBAC)" in denied.data.not_checked
    assert any(c.kind == "rollout" for c in denied.data.changes)


def test_change_timeline_of_one_service_leaves_out_the_others(kube: KubeSandbox) -> None:
    tool = ChangeTimelineTool(kube_config(), api_client=api(kube), clock=kube.cluster.clock.now)
    result = tool.run(ChangeTimelineArgs(namespace="prod", service="payments", lookback="1h"))
    assert isinstance(result.data, ChangeTimelineData), result.content
    objects = {c.object for c in result.data.changes if c.kind != "node"}
    assert objects
    assert all("payments" in o for o in objects), objects
    assert not any(c.object == "Deployment/checkout" for c in result.data.changes)
    too_long = tool.run(ChangeTimelineArgs(namespace="prod", lookback="30d"))
    assert too_long.error_kind is ErrorKind.TOO_LARGE


def test_service_graph_shows_the_failing_edge_with_its_error_rate_and_latency(
    jaeger: ServerThread,
) -> None:
    tool = ServiceGraphTool(JaegerConfig(url=jaeger.url))
    result = tool.run(ServiceGraphArgs(service="checkout", lookback="1h"))
    assert result.ok, result.content
    data = result.data
    assert isinstance(data, ServiceGraphData)
    assert [e.caller for e in data.callers] == ["frontend"]
    to_payments = next(e for e in data.callees if e.callee == "payments")
    assert to_payments.failing_calls >= 3
    assert data.callees[0] is to_payments, "edges with failures come first"
    assert to_payments.p95_ms >= to_payments.p50_ms > 0
    healthy = [e for e in data.callees if e.callee != "payments"]
    assert healthy
    assert all(e.errors == 0 for e in healthy)
    line = re.compile(r"- checkout -> payments: \d+ calls, \d+ errors \(\d+%\)")
    assert line.search(result.content), result.content
    nothing = tool.run(ServiceGraphArgs(service="no-such-service", lookback="1h"))
    assert nothing.no_data


def test_alert_rule_gives_expression_for_labels_annotations_and_runbook(
    prometheus: PrometheusProcess,
) -> None:
    tool = AlertRuleTool(PrometheusConfig(url=prometheus.url))
    result = tool.run(AlertRuleArgs(name="OrdersQueueBacklog"))
    assert result.ok, result.content
    data = result.data
    assert isinstance(data, AlertRuleData)
    rule = data.rules[0]
    assert rule.expr == 'max(queue_depth{queue="orders"}) > 1000'
    assert timedelta(seconds=rule.for_seconds) == timedelta(minutes=10)
    assert rule.labels == {"severity": "ticket", "team": "orders"}
    assert rule.runbook == "https://runbooks.example/orders-queue"
    assert "for: 10m" in result.content
    assert "runbook: https://runbooks.example/orders-queue" in result.content
    firing = tool.run(AlertRuleArgs(name="HighErrorRate"))
    assert isinstance(firing.data, AlertRuleData), firing.content
    assert firing.data.rules[0].runbook is None
    assert "runbook: (none given)" in firing.content


def test_an_unknown_alert_rule_is_not_found_and_the_known_rules_are_named(
    prometheus: PrometheusProcess,
) -> None:
    result = AlertRuleTool(PrometheusConfig(url=prometheus.url)).run(AlertRuleArgs(name="Nope"))
    assert result.error_kind is ErrorKind.NOT_FOUND
    assert "HighErrorRate" in result.content
    assert "OrdersQueueBacklog" in result.content


def test_every_tool_description_states_its_caps_in_numbers() -> None:
    toolbox = build_toolbox(
        ToolsConfig(
            prometheus=PrometheusConfig(url="http://prometheus:9090", shown_series=7),
            logs=LogSearchConfig(url="http://logs:9200"),
            jaeger=JaegerConfig(url="http://jaeger:16686", max_traces=33),
            kubernetes=KubernetesConfig(api_url="https://kube:6443", max_events=44),
        )
    )
    vague = re.compile(r"\(capped|are capped|top series|capped by configuration", re.I)
    for definition in toolbox.definitions():
        description = definition["description"]
        caps = description.partition("Caps: ")[2]
        assert re.search(r"\d", caps), f"{definition['name']}: {description}"
        assert not vague.search(str(definition)), definition["name"]
    by_name = {d["name"]: d["description"] for d in toolbox.definitions()}
    assert "at most 7 series" in by_name["prometheus_query"]
    assert "at most 33 traces" in by_name["jaeger_find_traces"]
    assert "at most 33 newest and 33 failing traces" in by_name["service_graph"]
    assert "at most 44 changes" in by_name["change_timeline"]
    toolbox.close()


def test_an_investigation_focused_on_a_caller_reads_the_oom_killed_workloads_resources(
    kube: KubeSandbox,
) -> None:
    toolbox = Toolbox([WorkloadResourcesTool(kube_config(), api_client=api(kube))])
    pods = PodsTool(kube_config(), api_client=api(kube)).run(PodsArgs())
    assert isinstance(pods.data, PodsData), pods.content
    obs = Observations(namespace="prod", service="checkout", pods=pods.data)
    Observer(toolbox)._killed_elsewhere(obs)
    assert set(obs.workload_resources) == {"payments"}
    (container,) = obs.workload_resources["payments"].containers
    assert container.limits.get("memory")
    assert obs.evidence["resources:payments"]
