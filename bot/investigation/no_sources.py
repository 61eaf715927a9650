"""The answer opsbot gives when it has no data source to read: said plainly, with how to
connect one, and never dressed up as a finding with a root cause and a confidence."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.slack.kit import context, section
from bot.slack.text import Mrkdwn, escape, lit

SOURCES = (
    ("OPSBOT_PROMETHEUS_URL", "metrics"),
    ("OPSBOT_LOGS_URL", "logs (Elasticsearch or OpenSearch)"),
    ("OPSBOT_JAEGER_URL", "traces"),
    ("OPSBOT_KUBECONFIG", "Kubernetes (or OPSBOT_KUBE_API_URL)"),
)
MAX_SUBJECT_CHARS = 200


def _subject(subject: str) -> Mrkdwn:
    clipped = subject if len(subject) <= MAX_SUBJECT_CHARS else subject[:MAX_SUBJECT_CHARS] + "…"
    return escape(" ".join(clipped.split()))


def no_sources_text(subject: str = "") -> str:
    """The plain-text form (notifications and the thread history the next question sees)."""
    about = f" about {_subject(subject)}" if subject else ""
    names = ", ".join(name for name, _ in SOURCES)
    return (
        f"I can't look anything up{about}: no data source is connected to opsbot. "
        f"Connect one by setting {names}, then restart opsbot."
    )


def no_sources_blocks(subject: str = "") -> list[Block]:
    """What to do, as a message: no confidence, no root cause, just the missing sources."""
    about = f" to answer _{_subject(subject)}_" if subject else ""
    rows = "\n".join(f"• `{name}`: {what}" for name, what in SOURCES)
    return [
        section(
            Mrkdwn(
                f":electric_plug: *I can't look anything up{about}*: no data source is "
                "connected to opsbot, so there is nothing for me to read."
            )
        ),
        section(
            Mrkdwn(
                f"Connect at least one, then restart opsbot:\n{rows}\n"
                "`opsbot config` shows what is set now."
            )
        ),
        context(
            lit(
                "Trying opsbot locally? `opsbot dev` starts a sandbox shop with all "
                "four sources and healthy traffic."
            )
        ),
    ]
