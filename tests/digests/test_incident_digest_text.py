"""The incident digest as pure text: plurals, incident lines, pending approvals, and charts
only when they have data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.digests.incident_digest import (
    IncidentRow,
    IncidentStats,
    PendingRow,
    blocks_for,
    incident_line,
    pending_line,
)

NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


def test_one_alert_and_one_incident_are_singular() -> None:
    stats = IncidentStats(start=NOW - timedelta(days=1), end=NOW, alerts=1, alert_incidents=1)
    shown = json.dumps([b.to_dict() for b in blocks_for(stats, "UTC").blocks], ensure_ascii=False)
    assert "1 alert → 1 incident" in shown
    assert "1 alerts" not in shown
    assert "0 approvals pending" in blocks_for(stats, "UTC").text


def test_an_incident_line_has_title_service_severity_status_duration_actions_and_thread() -> None:
    row = IncidentRow(
        id=3,
        title="checkout is failing <12%>",
        service="checkout",
        severity="critical",
        status="resolved",
        opened_at=NOW - timedelta(minutes=42),
        resolved_at=NOW,
        actions=(("rollback_deployment", "deployment/prod/checkout", "succeeded"),),
        paged=True,
        channel="C0INCIDENTS",
        thread_ts="1.2",
    )
    line = incident_line(row, NOW, lambda c, t: f"https://x.slack.com/archives/{c}/p{t}")
    assert line.startswith("*#3 checkout is failing &lt;12%&gt;* · checkout · critical")
    assert "resolved after 42 min" in line
    assert "`rollback_deployment` done, and the metrics recovered" in line
    assert "on-call paged" in line
    assert line.endswith("<https://x.slack.com/archives/C0INCIDENTS/p1.2|thread>")


def test_a_pending_approval_names_action_target_expiry_and_links_its_card() -> None:
    row = PendingRow(
        id="act-1",
        kind="expand_volume",
        target="pvc/prod/postgres-data",
        since=NOW - timedelta(minutes=5),
        expires_at=NOW + timedelta(minutes=10),
        channel="C0INCIDENTS",
        card_ts="9.9",
    )
    line = pending_line(row, lambda c, t: "https://x/card")
    assert line == (
        "`expand_volume` on `pvc/prod/postgres-data` · waiting since 00:55 UTC · "
        "expires 01:10 UTC · <https://x/card|card>"
    )
