"""A configuration change, not the release, is named as the root cause when the failing
pods' errors name a value that a ConfigMap they read now holds and that ConfigMap was
rewritten after the pods that worked had started: the finding asks a human to restore the
key, proposes a restart only for after that, and rules the coincident release out. A
ConfigMap that changed long ago, or holds nothing the errors name, is not blamed, and a
release that only changed the image is still rolled back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.investigation.agent.finding import MetricChange
from bot.investigation.change_timeline import ConfigChange, config_changes
from bot.investigation.patterns.base import RuleContext
from bot.investigation.patterns.config_reads import named_values
from bot.investigation.patterns.engine import decide
from bot.investigation.patterns.observe import Observations
from bot.investigation.patterns.rules_config import config_change
from policies import ActionKind
from tools.k8s.deployments import DeploymentData, RevisionInfo
from tools.k8s.rollout import TemplateChange
from tools.k8s.workload_config import (
    ConfigMatch,
    ConfigReference,
    ConfigWrite,
    WorkloadConfigData,
)
from tools.logs.aggregation_tools import MessageGroup, TopErrorsData
from tools.metrics.query_tools import RangeQueryData

NOW = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)
HOST = "orders.staging.svc.cluster.local"
IMAGE = "registry.example.com/shop/web:"


def revision(
    number: int, ago: timedelta, *, current: bool, changes: list[TemplateChange]
) -> RevisionInfo:
    return RevisionInfo(
        revision=number,
        replicaset=f"web-{number}",
        created=NOW - ago,
        images=[f"{IMAGE}2.{number}.0"],
        replicas=2 if current else 0,
        ready=0,
        current=current,
        changes=changes,
    )


def image_change(number: int) -> TemplateChange:
    return TemplateChange(
        field="spec.template.spec.containers[app].image",
        old=f"{IMAGE}2.{number - 1}.0",
        new=f"{IMAGE}2.{number}.0",
    )


def released(
    ago: timedelta = timedelta(minutes=15), change: TemplateChange | None = None
) -> DeploymentData:
    """web: revision 2 rolled out three days ago, revision 3 `ago` (image only, by default)."""
    return DeploymentData(
        namespace="shop", name="web", revision=3, desired=2, updated=2, ready=0, available=0,
        unavailable=2, strategy="RollingUpdate", paused=False, conditions=[],
        revisions=[
            revision(3, ago, current=True, changes=[change or image_change(3)]),
            revision(2, timedelta(days=3), current=False, changes=[image_change(2)]),
        ],
    )  # fmt: skip


def errors(message: str) -> TopErrorsData:
    group = MessageGroup(
        message=message, count=40, services={"web": 40}, first_seen=NOW - timedelta(minutes=14),
        last_seen=NOW,
    )  # fmt: skip
    return TopErrorsData(total_errors=40, groups=[group], other_count=0)


def read_config(
    used_by: str, key: str | None, written_ago: timedelta, *, holds: bool = True
) -> WorkloadConfigData:
    """What workload_config answers: web reads ConfigMap web-config (`used_by`), last
    written `written_ago`; its ORDERS_URL holds the host the errors name when `holds`."""
    reference = ConfigReference(
        kind="ConfigMap", name="web-config", key=key, used_by=used_by, optional=False,
        state="present",
    )  # fmt: skip
    return WorkloadConfigData(
        namespace="shop",
        name="web",
        kind="Deployment",
        autoscalers=[],
        references=[reference],
        config_keys={"web-config": ["ORDERS_URL", "LOG_LEVEL"]},
        written=[
            ConfigWrite(
                object="ConfigMap/web-config", at=NOW - written_ago, how="Update by kubectl"
            )
        ],
        matches=[ConfigMatch(text=HOST, config_map="web-config", key="ORDERS_URL")]
        if holds
        else [],
    )


def observed(data: WorkloadConfigData, deployment: DeploymentData | None = None) -> Observations:
    obs = Observations(namespace="shop", service="web")
    obs.deployment = deployment or released()
    obs.top_errors = errors(
        f"orders call failed: java.net.UnknownHostException: {HOST}: Name or service not known"
    )
    obs.config_changes = config_changes("web", data)
    return obs


CTX = RuleContext(now=NOW, incident_id=7, changes=())


def test_a_configmap_rewritten_after_the_working_pods_started_is_the_cause_not_the_release() -> (
    None
):
    found = config_change(
        observed(read_config("container app envFrom", None, timedelta(days=2))), CTX
    )
    assert found is not None
    assert "ConfigMap/web-config" in found.summary
    assert "ORDERS_URL" in found.summary
    assert HOST in found.root_cause
    assert "Ruled out: the release of web (revision 3" in found.root_cause
    assert "A rollback starts pods that read the same value" in found.root_cause
    assert [(a.kind, a.target.name) for a in found.actions] == [
        (ActionKind.RESTART_DEPLOYMENT, "web")
    ]
    assert found.actions[0].confidence < found.confidence  # the restart waits on a human
    assert found.recommendations[0].startswith(
        "Human step first: restore ConfigMap/web-config key ORDERS_URL"
    )
    assert any("Do not roll web back" in r for r in found.recommendations)


def test_the_configmap_is_blamed_whether_read_through_env_envfrom_or_a_volume() -> None:
    for used_by, key in (
        ("container app env ORDERS_URL", "ORDERS_URL"),
        ("container app envFrom", None),
        ("volume settings", "ORDERS_URL"),
    ):
        found = config_change(observed(read_config(used_by, key, timedelta(hours=1))), CTX)
        assert found is not None, used_by
        assert used_by in found.root_cause


def test_a_configmap_written_before_the_working_pods_started_is_not_blamed() -> None:
    assert (
        config_change(observed(read_config("container app envFrom", None, timedelta(days=40))), CTX)
        is None
    )


def test_a_configmap_holding_nothing_the_errors_name_is_not_blamed() -> None:
    data = read_config("container app envFrom", None, timedelta(hours=3), holds=False)
    assert config_change(observed(data), CTX) is None


def test_a_release_that_changed_where_pods_read_configuration_stays_the_suspect() -> None:
    moved = TemplateChange(
        field="spec.template.spec.containers[app].envFrom", old="web-config-v1", new="web-config"
    )
    data = read_config("container app envFrom", None, timedelta(days=2))
    assert config_change(observed(data, released(change=moved)), CTX) is None


def test_a_config_write_without_a_recent_release_is_blamed_when_it_followed_the_pods_start() -> (
    None
):
    deployment = released(ago=timedelta(days=1))
    found = config_change(
        observed(read_config("volume settings", "ORDERS_URL", timedelta(minutes=20)), deployment),
        CTX,
    )
    assert found is not None
    assert "Ruled out" not in found.root_cause


def test_a_release_that_only_changed_the_image_with_no_config_change_is_still_rolled_back() -> None:
    obs = observed(read_config("container app envFrom", None, timedelta(days=40)))
    obs.ranges["error_ratio"] = RangeQueryData(
        query="errors(web)",
        start=NOW - timedelta(hours=3),
        end=NOW,
        step_seconds=60,
        total_series=1,
        series=[],
    )
    jump = MetricChange(
        query="errors(web)", series="error_ratio", at=NOW - timedelta(minutes=14), before=0.001,
        after=0.4, score=12.0,
    )  # fmt: skip
    candidates, _ = decide(obs, RuleContext(now=NOW, incident_id=7, changes=(jump,)))
    assert candidates[0].rule == "deploy-regression"
    assert candidates[0].actions[0].kind is ActionKind.ROLLBACK_DEPLOYMENT


def test_hosts_and_urls_in_error_lines_are_the_values_looked_up_in_configuration() -> None:
    lines = [
        "request to http://checkout.staging.svc.cluster.local:8080/checkout failed, reason: "
        "getaddrinfo ENOTFOUND checkout.staging.svc.cluster.local",
        "at GetAddrInfoReqWrap.onlookup (node:dns:109:26)",
        "dial tcp 10.0.3.4:5432: connect: connection refused",
        "Caused by: java.net.UnknownHostException: payments.prod.internal",
    ]
    assert named_values(lines) == [
        "checkout.staging.svc.cluster.local",
        "10.0.3.4",
        "payments.prod.internal",
    ]


def test_the_config_changes_say_where_the_pod_template_reads_each_object() -> None:
    (change,) = config_changes(
        "web", read_config("volume settings", "ORDERS_URL", timedelta(hours=1))
    )
    assert isinstance(change, ConfigChange)
    assert change.used_by == ("volume settings",)
    assert change.keys == ("ORDERS_URL",)
    assert "read by web: volume settings" in change.describe()


def test_a_configmap_written_with_the_release_is_named_with_less_confidence_than_a_rollback() -> (
    None
):
    data = read_config("container app envFrom", None, timedelta(minutes=17))
    found = config_change(observed(data), CTX)
    assert found is not None
    assert found.confidence < 0.8  # deploy_regression's rollback outranks it
    assert "within minutes of the release" in found.root_cause
