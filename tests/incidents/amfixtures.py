"""Builders of Alertmanager webhook payloads shaped like the recorded fixtures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.incidents.alertmanager import label_fingerprint

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "alertmanager"
GO_ZERO = "0001-01-01T00:00:00Z"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    body: dict[str, Any] = data.get("body", data)
    return body


def alert(
    name: str,
    starts: datetime,
    status: str = "firing",
    ends: datetime | None = None,
    summary: str = "",
    **labels: str,
) -> dict[str, Any]:
    all_labels = {"alertname": name, **labels}
    return {
        "status": status,
        "labels": all_labels,
        "annotations": {"summary": summary} if summary else {},
        "startsAt": starts.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "endsAt": ends.astimezone(UTC).isoformat().replace("+00:00", "Z") if ends else GO_ZERO,
        "generatorURL": f"http://prometheus:9090/graph?g0.expr=ALERTS%7Balertname%3D%22{name}%22%7D",
        "fingerprint": label_fingerprint(all_labels),
    }


def webhook(*alerts: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    firing = any(a["status"] == "firing" for a in alerts)
    common_labels = dict(set.intersection(*(set(a["labels"].items()) for a in alerts)))
    group_labels = {"alertname": alerts[0]["labels"]["alertname"]}
    return {
        "receiver": "opsbot",
        "status": status or ("firing" if firing else "resolved"),
        "alerts": list(alerts),
        "groupLabels": group_labels,
        "commonLabels": common_labels,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "version": "4",
        "groupKey": "{}:" + json.dumps(group_labels, sort_keys=True),
        "truncatedAlerts": 0,
    }
