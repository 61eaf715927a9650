"""The README shows a screenshot of each kind of message, and each one it links exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KINDS = (
    "finding",
    "finding-evidence-modal",
    "ask-ai",
    "approval-card-pending",
    "approval-refused-non-approver",
    "approval-confirm-modal",
    "approval-card-decided",
    "incident-header-after",
    "digest-incidents",
    "digest-logs",
    "digest-performance",
    "digest-cost-daily",
    "digest-roi",
    "digest-capacity",
)


def test_every_message_kind_has_a_committed_screenshot_linked_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    linked = set(re.findall(r"\((docs/messages/[^)]+\.png)\)", readme))
    for kind in KINDS:
        assert f"docs/messages/{kind}.png" in linked
    for path in linked:
        data = (ROOT / path).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), path
        assert len(data) > 5_000, path
