"""The PagerDuty client against the local Events API v2: trigger, resolve, retries, and
the 400s PagerDuty answers for invalid events."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.errors import DependencyDown, Retryable
from bot.remediation.pagerduty import PagerDuty
from sandbox.pagerduty import PagerDutySandbox
from tests.remediation.conftest import ROUTING_KEY


@pytest.fixture
def pd() -> Iterator[PagerDutySandbox]:
    with PagerDutySandbox() as server:
        yield server


def test_trigger_then_resolve_one_alert_by_dedup_key(pd: PagerDutySandbox) -> None:
    pager = PagerDuty(pd.enqueue_url, ROUTING_KEY)
    assert (
        pager.trigger("opsbot-incident-7", "checkout down", source="opsbot") == "opsbot-incident-7"
    )
    pager.trigger("opsbot-incident-7", "checkout still down", source="opsbot")
    [alert] = pd.alerts()
    assert (alert.status, alert.log, alert.severity) == (
        "triggered",
        ["trigger", "trigger"],
        "critical",
    )
    pager.resolve("opsbot-incident-7")
    assert pd.alerts()[0].status == "resolved"
    pager.trigger("opsbot-incident-7", "again", source="opsbot")
    assert [a.status for a in pd.alerts()] == ["resolved", "triggered"]


def test_acknowledge_or_resolve_of_nothing_open_is_accepted_and_dropped(
    pd: PagerDutySandbox,
) -> None:
    response = httpx.post(
        pd.enqueue_url,
        json={"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "nothing"},
    )
    assert response.status_code == 202
    assert response.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "nothing",
    }
    assert pd.alerts() == []


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ({"event_action": "trigger"}, "'routing_key' is missing or blank"),
        (
            {"routing_key": "short", "event_action": "trigger"},
            "Length of 'routing_key' is incorrect",
        ),
        ({"routing_key": ROUTING_KEY, "event_action": "trigger"}, "'payload' is missing or blank"),
        (
            {
                "routing_key": ROUTING_KEY,
                "event_action": "trigger",
                "payload": {"summary": "x", "source": "y", "severity": "urgent"},
            },
            "'payload.severity' is invalid",
        ),
        (
            {"routing_key": ROUTING_KEY, "event_action": "resolve"},
            "'dedup_key' is missing or blank",
        ),
        ({"routing_key": ROUTING_KEY, "event_action": "page"}, "'event_action' is invalid"),
    ],
)
def test_invalid_events_get_400_with_the_reasons(
    pd: PagerDutySandbox, event: dict[str, object], error: str
) -> None:
    response = httpx.post(pd.enqueue_url, json=event)
    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["message"]) == ("invalid event", "Event object is invalid")
    assert any(e.startswith(error) for e in body["errors"])


def test_throttling_and_server_errors_are_retried_then_given_up(pd: PagerDutySandbox) -> None:
    pager = PagerDuty(pd.enqueue_url, ROUTING_KEY)
    pd.fail_next(429)
    pd.fail_next(503)
    pager.trigger("k1", "flaky", source="opsbot")
    assert len(pd.alerts()) == 1
    pd.fail_next(500, count=4)
    with pytest.raises(Retryable):
        pager.trigger("k2", "down", source="opsbot")
    with pytest.raises(DependencyDown, match="routing_key"):
        PagerDuty(pd.enqueue_url, "short").trigger("k3", "x", source="opsbot")
