"""`/opsbot capacity [namespace]`: the capacity report as an ephemeral Block Kit reply."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bot.capacity import summary
from bot.capacity.models import CapacityReport
from bot.capacity.report import CapacityReports
from bot.digests.capacity_blocks import capacity_blocks
from bot.slack.blocks import as_dicts

NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
USAGE = "Usage: `/opsbot capacity [namespace]`, e.g. `/opsbot capacity prod`"


def reply_for(report: CapacityReport) -> dict[str, Any]:
    """The `respond` payload showing a report."""
    return {
        "response_type": "ephemeral",
        "text": summary.headline(report),
        "blocks": as_dicts(capacity_blocks(report)),
    }


def capacity_command(
    reports: CapacityReports, text: str, now: datetime | None = None
) -> dict[str, Any]:
    """The reply to `/opsbot capacity <text>` (slow: call it after the ack)."""
    words = text.split()
    if len(words) > 1 or (words and not NAMESPACE.match(words[0])):
        return {"response_type": "ephemeral", "text": USAGE}
    return reply_for(reports.build(now, words[0] if words else None))
