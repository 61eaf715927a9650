"""`/opsbot digest <name> now`: run one digest on demand and say where it went."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from slack_sdk.errors import SlackApiError

from bot.digests.registry import DIGESTS, DigestRow, Digests
from bot.errors import BadInput, DependencyDown
from bot.slack.blocks import escape
from bot.slack.text import mention_channel
from tools.base import ToolFailure

CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")

USAGE = (
    "Usage: `/opsbot digest NAME now` (NAME among: "
    + ", ".join(f"`{name}`" for name in DIGESTS)
    + ") or `/opsbot digest list`"
)


def channel_mention(channel: str) -> str:
    """A channel as Slack shows it: `<#C…>` for an id (rendered as its name), `#name` else."""
    if CHANNEL_ID.match(channel):
        return mention_channel(channel)
    return "#" + escape(channel.lstrip("#"))


def list_text(rows: list[DigestRow]) -> str:
    """`/opsbot digest list`: each digest's channel and next run."""
    lines = ["*Digests*"]
    for row in rows:
        when = (
            f"next <!date^{int(row.next_run.timestamp())}^{{date_short_pretty}} {{time}}|"
            f"{row.next_run:%Y-%m-%d %H:%M %Z}>"
            if row.next_run
            else "not scheduled"
        )
        lines.append(f"• `{row.name}` in {channel_mention(row.channel)} · {when}")
    return "\n".join(lines)


def digest_command(digests: Digests, text: str) -> str:
    """The reply to `/opsbot digest <text>` (runs the digest; call it after the ack)."""
    words = text.split()
    if [w.lower() for w in words] == ["list"]:
        return list_text(digests.rows(datetime.now(UTC)))
    if len(words) != 2 or words[1].lower() != "now":
        return USAGE
    name = words[0].lower()
    try:
        run = digests.run(name, trigger="manual")
    except BadInput as exc:
        return f":warning: {exc}"
    except (DependencyDown, ToolFailure, SlackApiError, LookupError) as exc:
        return f":warning: The {name} digest failed: {str(exc)[:300]}"
    if run.status == "skipped":
        return f"Nothing to post for the {name} digest: {run.summary}."
    return f"Posted the {name} digest in {channel_mention(run.channel or '')}."
