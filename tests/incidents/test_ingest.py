from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.incidents.alertmanager import AmWebhook
from bot.incidents.lifecycle import IngestResult, ingest
from bot.store.db import Database
from bot.store.incidents import Alert, Incident, IncidentEvent
from policies.routing import load_incident_rules
from tests.incidents.amfixtures import alert, fixture, webhook

RULES = load_incident_rules()
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def run(db: Database, body: dict[str, Any], now: datetime = T0) -> IngestResult:
    with db.session() as session:
        return ingest(session, AmWebhook.model_validate(body), now, RULES, "incidents")


def incidents(db: Database) -> list[Incident]:
    with db.session() as session:
        return list(session.exec(select(Incident).order_by(col(Incident.id))).all())


def test_every_recorded_alertmanager_payload_opens_an_incident(db: Database) -> None:
    for name in [
        "firing-from-prometheus-rule.json",
        "firing-from-api-v2-alerts.json",
        "prometheus-msteams/large_prom_post_request.json",
        "prometheus-msteams/prom_post_request_12_alerts.json",
    ]:
        result = run(db, fixture(name))
        assert result.new_alerts == len(fixture(name)["alerts"]), name
    assert incidents(db)


def test_an_exact_repeat_delivery_changes_nothing(db: Database) -> None:
    body = webhook(alert("HighErrorRate", T0, namespace="prod", service="checkout"))
    first = run(db, body)
    again = run(db, body, T0 + timedelta(seconds=10))
    assert (first.new_alerts, again.new_alerts, again.repeats) == (1, 0, 1)
    assert again.touched == set()
    with db.session() as session:
        assert session.exec(select(Alert)).one().receive_count == 1


def test_errors_latency_and_crashloops_of_one_service_are_one_incident(db: Database) -> None:
    run(db, webhook(alert("HighErrorRate", T0, namespace="prod", service="checkout")))
    run(db, webhook(alert("HighLatency", T0, namespace="prod", service="checkout")))
    run(db, webhook(alert("PodCrashLooping", T0, namespace="prod", pod="checkout-7d9f8b6c5-x2k9z")))
    run(db, webhook(alert("HighErrorRate", T0, namespace="prod", service="payments")))
    found = incidents(db)
    assert [i.service for i in found] == ["checkout", "payments"]
    with db.session() as session:
        joined = session.exec(
            select(IncidentEvent).where(IncidentEvent.kind == "alert_joined")
        ).all()
    assert len(joined) == 2
    assert all("workload" in e.text for e in joined)


def test_an_incident_resolves_when_all_its_alerts_resolve(db: Database) -> None:
    a = alert("HighErrorRate", T0, namespace="prod", service="checkout", severity="critical")
    b = alert("HighLatency", T0, namespace="prod", service="checkout", severity="warning")
    run(db, webhook(a, b))
    assert incidents(db)[0].severity == "critical"
    run(
        db,
        webhook(
            alert(
                "HighErrorRate",
                T0,
                status="resolved",
                ends=T0 + timedelta(minutes=5),
                namespace="prod",
                service="checkout",
                severity="critical",
            )
        ),
        T0 + timedelta(minutes=5),
    )
    assert incidents(db)[0].status == "open"
    assert incidents(db)[0].severity == "warning"
    run(
        db,
        webhook(
            alert(
                "HighLatency",
                T0,
                status="resolved",
                ends=T0 + timedelta(minutes=6),
                namespace="prod",
                service="checkout",
                severity="warning",
            )
        ),
        T0 + timedelta(minutes=6),
    )
    assert incidents(db)[0].status == "resolved"


def test_a_refire_within_the_reopen_window_reopens_the_same_incident(db: Database) -> None:
    run(db, webhook(alert("HighErrorRate", T0, namespace="prod", service="checkout")))
    run(
        db,
        webhook(
            alert(
                "HighErrorRate",
                T0,
                status="resolved",
                ends=T0 + timedelta(minutes=3),
                namespace="prod",
                service="checkout",
            )
        ),
        T0 + timedelta(minutes=3),
    )
    later = T0 + timedelta(minutes=20)
    run(db, webhook(alert("HighErrorRate", later, namespace="prod", service="checkout")), later)
    much_later = T0 + timedelta(hours=5)
    run(
        db,
        webhook(
            alert(
                "HighErrorRate",
                later,
                status="resolved",
                ends=later,
                namespace="prod",
                service="checkout",
            )
        ),
        later + timedelta(minutes=1),
    )
    run(
        db,
        webhook(alert("HighErrorRate", much_later, namespace="prod", service="checkout")),
        much_later,
    )
    found = incidents(db)
    assert len(found) == 2
    assert found[0].reopen_count == 1


def test_a_critical_alert_joining_a_delayed_warning_incident_makes_it_notify_at_once(
    db: Database,
) -> None:
    run(
        db,
        webhook(alert("HighLatency", T0, namespace="prod", service="checkout", severity="warning")),
    )
    assert incidents(db)[0].notify_at.replace(tzinfo=None) > T0.replace(tzinfo=None)
    run(
        db,
        webhook(
            alert("HighErrorRate", T0, namespace="prod", service="checkout", severity="critical")
        ),
    )
    assert incidents(db)[0].notify_at.replace(tzinfo=None) == T0.replace(tzinfo=None)


def test_a_mute_window_records_the_incident_without_posting_it(db: Database) -> None:
    from policies.routing import IncidentRules, MuteWindow
    from policies.windows import WeeklyWindow

    rules = IncidentRules.model_validate(
        {
            **RULES.model_dump(),
            "mute": [
                MuteWindow(
                    name="staging-weekend",
                    match={"namespace": "staging*"},
                    weekly=(WeeklyWindow(days=("mon",), start="00:00", end="24:00"),),
                )
            ],
        }
    )
    with db.session() as session:  # T0 is a Monday
        ingest(
            session,
            AmWebhook.model_validate(
                webhook(alert("HighLatency", T0, namespace="staging-eu", service="search"))
            ),
            T0,
            rules,
            "incidents",
        )
        ingest(
            session,
            AmWebhook.model_validate(
                webhook(alert("HighLatency", T0, namespace="prod", service="search"))
            ),
            T0,
            rules,
            "incidents",
        )
    muted = {i.namespace: i.muted_by for i in incidents(db)}
    assert muted == {"staging-eu": "staging-weekend", "prod": None}


def test_crashlooping_pods_of_two_services_with_the_same_container_name_are_two_incidents(
    db: Database,
) -> None:
    for pod in ("payments-6f7c9d8b5-kx2lp", "checkout-5d8f7c9b4-z9q1w"):
        run(
            db,
            webhook(
                alert(
                    "KubePodCrashLooping",
                    T0,
                    namespace="prod",
                    pod=pod,
                    container="app",
                    job="kube-state-metrics",
                )
            ),
        )
    assert sorted(i.service for i in incidents(db)) == ["checkout", "payments"]
