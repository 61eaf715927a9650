"""`/opsbot digest <name> now`: run one digest on demand and say where it went."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.digests.output import DigestContext
from bot.digests.registry import DIGESTS, run_digest
from bot.errors import BadInput, DependencyDown
from tools.base import ToolFailure

USAGE = "Usage: `/opsbot digest <name> now` with a name among: " + ", ".join(
    f"`{name}`" for name in DIGESTS
)


def digest_command(ctx: DigestContext, text: str) -> str:
    """The reply to `/opsbot digest <text>` (runs the digest; call it after the ack)."""
    words = text.split()
    if len(words) != 2 or words[1].lower() != "now":
        return USAGE
    name = words[0].lower()
    try:
        run = run_digest(ctx, name, trigger="manual")
    except BadInput as exc:
        return f":warning: {exc}"
    except (DependencyDown, ToolFailure, SlackApiError, LookupError) as exc:
        return f":warning: The {name} digest failed: {str(exc)[:300]}"
    if run.status == "skipped":
        return f"Nothing to post for the {name} digest: {run.summary}."
    return f"Posted the {name} digest in <#{run.channel}>."
