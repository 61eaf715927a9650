"""Two incidents of one problem on services that depend on each other are linked: the
decision from the service graph (pure), and end to end in the local workspace with the
graph read from the Jaeger stand-in's traces."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlmodel import select

from bot.incidents.linker import IncidentLinker
from bot.incidents.linking import LinkCandidate, Relation, call_path, links_for
from bot.investigation.service_graph import ServiceGraph
from bot.store.db import Database
from bot.store.incidents import Incident, IncidentEvent
from sandbox.jaeger import TraceStore, create_app
from sandbox.jaeger.generate import generate_traces
from sandbox.serve import ServerThread
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import running_bot
from tests.incidents.amfixtures import alert, webhook
from tools.base import ErrorKind, ToolFailure

Json = dict[str, Any]
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SHOP = ServiceGraph(
    frozenset(
        {
            ("frontend", "checkout"),
            ("checkout", "payments"),
            ("checkout", "inventory"),
            ("payments", "postgres"),
        }
    )
)


def incident(n: int, service: str, minutes: int = 0, namespace: str = "prod") -> LinkCandidate:
    return LinkCandidate(n, service, namespace, NOW + timedelta(minutes=minutes))


def test_a_callers_incident_is_likely_caused_by_the_incident_of_the_service_it_calls() -> None:
    links = links_for(incident(2, "checkout", 2), [incident(1, "payments")], SHOP)
    assert [(link.other_id, link.relation) for link in links] == [(1, Relation.CAUSED_BY)]
    assert links[0].because() == "checkout calls payments"
    assert links[0].mirrored.relation is Relation.CAUSES
    assert links[0].mirrored.incident_id == 1


def test_the_callees_incident_is_the_likely_cause_whichever_opened_first() -> None:
    links = links_for(incident(2, "payments", 2), [incident(1, "checkout")], SHOP)
    assert [(link.other_id, link.relation) for link in links] == [(1, Relation.CAUSES)]


def test_a_dependency_two_calls_away_is_linked_and_the_path_says_how() -> None:
    links = links_for(incident(2, "frontend", 1), [incident(1, "postgres")], SHOP)
    assert links[0].relation is Relation.CAUSED_BY
    assert (
        links[0].because() == "frontend calls checkout, which calls payments, which calls postgres"
    )


def test_services_that_do_not_depend_on_each_other_are_not_linked() -> None:
    assert links_for(incident(2, "inventory"), [incident(1, "payments")], SHOP) == []
    assert links_for(incident(2, "search"), [incident(1, "payments")], SHOP) == []


def test_incidents_far_apart_in_time_or_in_other_namespaces_are_not_linked() -> None:
    late = incident(2, "checkout", 45)
    assert links_for(late, [incident(1, "payments")], SHOP) == []
    staging = incident(2, "checkout", 1, namespace="staging")
    assert links_for(staging, [incident(1, "payments")], SHOP) == []


def test_two_incidents_of_one_service_are_left_to_the_grouping_rules() -> None:
    assert links_for(incident(2, "payments", 1), [incident(1, "payments")], SHOP) == []


def test_services_calling_each_other_both_ways_are_only_related() -> None:
    loop = ServiceGraph(frozenset({("orders", "billing"), ("billing", "orders")}))
    links = links_for(incident(2, "orders"), [incident(1, "billing")], loop)
    assert [link.relation for link in links] == [Relation.RELATED]


def test_a_call_path_is_the_shortest_chain_of_calls() -> None:
    assert call_path(SHOP, "frontend", "payments") == ("frontend", "checkout", "payments")
    assert call_path(SHOP, "payments", "frontend") is None


@pytest.fixture
def jaeger() -> Iterator[str]:
    """The Jaeger stand-in with the shop's traces (frontend -> checkout -> payments ...)."""
    end_us = int(time.time() * 1_000_000)
    with ServerThread(create_app(TraceStore(generate_traces(count=8, end_us=end_us)))) as server:
        yield server.url


def bot_headers(slack: SlackWorkspace) -> list[Json]:
    return [m for m in slack.messages("incidents") if m.get("bot_id")]


def link_replies(slack: SlackWorkspace, header: Json) -> list[Json]:
    thread = slack.thread("incidents", str(header["ts"]))[1:]
    return [m for m in thread if ":link:" in json.dumps(m.get("blocks", []))]


def test_checkout_failing_because_payments_crash_loops_links_the_two_incidents_both_ways(
    slack: SlackWorkspace, jaeger: str, tmp_path: Path
) -> None:
    tools = {"jaeger_url": jaeger}
    with running_bot(
        slack, database_url=f"sqlite:///{tmp_path / 'bot.db'}", tools=tools
    ) as running:
        accept = running.bot.runtime.pipeline.accept
        checkout = alert(
            "CheckoutHighErrorRate",
            datetime.now(UTC),
            namespace="prod",
            service="checkout",
            severity="critical",
            summary="checkout is failing 31% of requests",
        )
        accept(json.dumps(webhook(checkout)).encode())
        first = slack.wait_for(lambda: bot_headers(slack), timeout=10)[0]
        payments = alert(
            "KubePodCrashLooping",
            datetime.now(UTC),
            namespace="prod",
            pod="payments-7d9f8b6c5-x2x9k",
            severity="critical",
            summary="Pod is crash looping.",
        )
        accept(json.dumps(webhook(payments)).encode())
        second = slack.wait_for(lambda: bot_headers(slack)[1:], timeout=10)[0]
        later = slack.wait_for(lambda: link_replies(slack, second), timeout=30)
        earlier = slack.wait_for(lambda: link_replies(slack, first), timeout=30)

        def headers_linked() -> list[Json]:
            shown = [json.dumps(m.get("blocks", [])) for m in bot_headers(slack)]
            return bot_headers(slack) if all("Linked incidents" in s for s in shown) else []

        slack.wait_for(headers_linked, timeout=30)
    later_text = json.dumps(later[0]["blocks"])
    assert "This incident is likely the cause of" in later_text
    assert "#1 checkout is failing 31% of requests" in later_text
    assert "checkout calls payments" in later_text
    assert "/archives/" in later_text, "it links to the other incident's thread"
    earlier_text = json.dumps(earlier[0]["blocks"])
    assert "This incident is likely caused by" in earlier_text
    assert "#2 payments: Pod is crash looping." in earlier_text
    first_header, second_header = (json.dumps(m["blocks"]) for m in bot_headers(slack)[:2])
    assert "Likely caused by" in first_header
    assert "Likely the cause of" in second_header
    assert len(later) == 1
    assert len(earlier) == 1, "one link message per thread, however many replicas look"


class JaegerDown:
    """A dependency source whose trace store does not answer."""

    def graph(self, services: Iterable[str], now: datetime) -> ServiceGraph:
        raise ToolFailure(ErrorKind.UNAVAILABLE, "Jaeger is not reachable")

    def close(self) -> None:
        return None


def test_incidents_are_not_linked_and_go_on_when_the_trace_store_does_not_answer(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with db.session() as session:
        for n, service in ((1, "payments"), (2, "checkout")):
            session.add(
                Incident(
                    id=n,
                    key=f"k{n}",
                    open_key=f"k{n}",
                    title=f"{service} alert",
                    service=service,
                    namespace="prod",
                    channel="C0INCIDENTS",
                    thread_ts=f"1700000000.00000{n}",
                )
            )
    requested: list[int] = []
    linker = IncidentLinker(db, WebClient(token="unused"), JaegerDown(), requested.append)
    assert linker.link(2) == []
    assert requested == []
    with db.session() as session:
        linked = session.exec(select(IncidentEvent).where(IncidentEvent.kind == "linked")).all()
    assert linked == []
    assert "incidents not linked: no dependency graph" in caplog.text
