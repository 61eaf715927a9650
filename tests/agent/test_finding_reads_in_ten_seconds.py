"""A finding reads in ten seconds: headline, one-sentence root cause, confidence, ruled out,
proposed action, evidence as short linked observations; raw queries only behind a button."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.cache import MemoryCache
from bot.investigation.agent.finding import Engine, Finding, Investigation, MetricChange
from bot.investigation.agent.proposals import make_action
from bot.investigation.blocks import evidence_modal, finding_blocks, first_sentence
from bot.investigation.evidence_shelf import shelve, take
from bot.investigation.observations import kubectl_equivalent, observation_text, source_name
from bot.slack.blocks import ActionId, as_dicts
from policies import ActionKind
from tools.base import Evidence

RANGE_QUERY = (
    'sum(rate(http_requests_total{namespace="prod",service="checkout",status=~"5.."}[5m])) / '
    'sum(rate(http_requests_total{namespace="prod",service="checkout"}[5m]))'
)
STARTED = datetime(2026, 12, 7, 1, 33, tzinfo=UTC)


def deploy_finding() -> Investigation:
    evidence = [
        Evidence(
            tool="prometheus_range_query",
            query=RANGE_QUERY,
            link="http://prometheus:9090/graph?g0.expr=sum",
            excerpt=f"Range query `{RANGE_QUERY}` from 2026-12-06T22:45Z to 2026-12-07T01:45Z "
            "(3h), step 1m: 1 series | - {}: last=0.123 min=0.00172 avg=0.011 max=0.13",
        ),
        Evidence(
            tool="k8s_pods",
            query="GET /api/v1/namespaces/prod/pods?labelSelector=app%3Dpayments",
            excerpt="3 pods: 3 running, 0 restarts",
        ),
        Evidence(
            tool="k8s_deployment",
            query="GET /apis/apps/v1/namespaces/prod/deployments/checkout",
            excerpt="revision 3: 3 desired, 3 updated, 3 ready",
        ),
    ]
    finding = Finding(
        summary="The error rate of checkout jumped from 0.2% to 12% right after revision 3.",
        root_cause="Revision 3 (image shop/checkout:1.8.2 -> shop/checkout:1.9.0) introduced "
        "the regression. The error rate changed when it went out and not before.",
        confidence=0.8,
        evidence=evidence,
        proposals=[
            make_action(
                ActionKind.ROLLBACK_DEPLOYMENT,
                name="checkout",
                namespace="prod",
                reason="the error rate jumped when revision 3 went out",
                confidence=0.8,
                incident_id=1,
            )
        ],
        changes=[
            MetricChange(
                query=RANGE_QUERY,
                series="error_ratio",
                at=STARTED,
                before=0.00241,
                after=0.122,
                score=49,
            )
        ],
        ruled_out=["OOM kills", "an unhealthy node"],
        rule="deploy-regression",
    )
    return Investigation(finding=finding, engine=Engine.PATTERN)


def shown(inv: Investigation, **kw: object) -> str:
    return json.dumps(as_dicts(finding_blocks(inv, "Investigation of incident #1", **kw)))  # type: ignore[arg-type]


def test_the_headline_says_what_where_and_since_when() -> None:
    text = shown(deploy_finding(), where="checkout in prod", since=STARTED)
    assert "checkout in prod" in text
    assert "since <!date^" in text
    assert "2026-12-07 01:33 UTC" in text
    assert "The error rate of checkout jumped" in text


def test_root_cause_is_one_sentence_with_confidence_ruled_out_and_the_proposed_action() -> None:
    text = shown(deploy_finding())
    assert "introduced the regression." in text
    assert "not before" not in text
    assert "80% (high)" in text
    assert "*Ruled out:* OOM kills, an unhealthy node" in text
    assert "`rollback_deployment` on `prod/checkout`" in text or "rollback_deployment" in text


def test_raw_queries_and_tool_output_never_appear_inline() -> None:
    text = shown(deploy_finding(), evidence_ref="abc")
    assert "http_requests_total" not in text
    assert "/api/v1/namespaces" not in text
    assert "last=0.123" not in text


def test_evidence_is_a_short_list_of_observations_linked_to_their_source_ui() -> None:
    text = shown(deploy_finding())
    assert "error_ratio went up from 0.00241 to 0.122 at 01:33 UTC" in text
    assert "<http://prometheus:9090/graph?g0.expr=sum|Prometheus graph>" in text
    assert "`kubectl get pods -n prod -l app=payments`" in text
    assert "`kubectl get deployments checkout -n prod`" in text
    assert "3 pods: 3 running, 0 restarts" in text


def test_show_evidence_opens_a_modal_with_the_exact_queries_kept_on_the_shelf() -> None:
    inv = deploy_finding()
    cache = MemoryCache()
    ref = shelve(cache, inv.finding.evidence)
    blocks = as_dicts(finding_blocks(inv, evidence_ref=ref))
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons[0]["action_id"] == ActionId.FINDING_EVIDENCE.value
    assert buttons[0]["value"] == ref
    modal = json.dumps(evidence_modal(take(cache, ref)).to_dict())
    assert "http_requests_total" in modal
    assert "GET /api/v1/namespaces/prod/pods" in modal
    assert "no longer kept" in json.dumps(evidence_modal(take(cache, "gone")).to_dict())


def test_kubectl_equivalents_of_kubernetes_api_reads() -> None:
    assert kubectl_equivalent("GET /api/v1/nodes") == "kubectl get nodes"
    assert (
        kubectl_equivalent("GET /api/v1/namespaces/prod/pods/web-1/log?container=app&tailLines=50")
        == "kubectl logs web-1 -n prod -c app --tail 50"
    )
    assert kubectl_equivalent("sum(rate(x[5m]))") is None
    assert kubectl_equivalent("GET /api/v1/namespaces/prod/pods/a/exec") is None


def test_observations_name_the_log_store_ui_from_the_link() -> None:
    logs = Evidence(tool="log_search", query="{}", link="http://k/app/discover#/?_g=()")
    assert source_name(logs) == "Discover"
    assert source_name(Evidence(tool="jaeger_get_trace", query="t")) == "Jaeger"
    assert observation_text(Evidence(tool="log_search", query="{}", excerpt="no data")) == (
        "no data for this query"
    )


def test_first_sentence_keeps_dotted_names_whole() -> None:
    assert first_sentence("Image shop/checkout:1.9.0 broke it. Then more.") == (
        "Image shop/checkout:1.9.0 broke it."
    )


@given(st.text(max_size=300), st.text(max_size=300), st.lists(st.text(max_size=80), max_size=4))
def test_hostile_text_in_a_finding_never_becomes_mrkdwn_control(
    summary: str, cause: str, ruled: list[str]
) -> None:
    inv = Investigation(
        finding=Finding(
            summary=summary,
            root_cause=cause,
            confidence=0.5,
            ruled_out=ruled,
            evidence=[Evidence(tool="k8s_pods", query="GET /api/v1/pods", excerpt=summary)],
        ),
        engine=Engine.PATTERN,
    )
    for block in as_dicts(finding_blocks(inv, where=cause[:40])):
        for text in json.dumps(block).split("\\n"):
            assert "<!channel>" not in text
            assert "<!here>" not in text
        for piece in [block.get("text", {}), *list(block.get("elements", []))]:
            if isinstance(piece, dict) and piece.get("type") == "mrkdwn":
                body = piece["text"]
                for token in body.split("<")[1:]:
                    assert token.startswith(("!date^", "http://", "https://")), body


def test_queries_without_data_are_one_line_not_one_each() -> None:
    inv = deploy_finding()
    empty = [
        Evidence(tool="prometheus_query", query=f"up{{job='{n}'}}", excerpt="no data")
        for n in range(3)
    ]
    inv.finding.evidence.extend(empty)
    text = shown(inv)
    assert text.count("no data") == 1
    assert "no data from 3 other queries (Prometheus graph)" in text


def test_an_observation_drops_the_query_it_repeats_without_leaving_an_empty_code_span() -> None:
    query = 'sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="prod"}[5m]))'
    shown = observation_text(
        Evidence(
            tool="prometheus_range_query",
            query=query,
            excerpt=f"Range query `{query}` from 11:46 to 14:46 (3h), step 1m | 1 series",
        )
    )
    assert "``" not in shown
    assert query not in shown
    assert "from 11:46 to 14:46" in shown
