"""What a digest builder returns, and the small pure helpers its Block Kit builders share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    SectionBlock,
)

from bot.slack import kit
from bot.slack.text import Mrkdwn, escape, lit
from bot.store.models import aware

SECTION_CHARS = 2900  # Slack caps a section's text at 3000 characters
FIELD_CHARS = 1900  # and each of its (at most 10) fields at 2000


Permalink = Callable[[str, str], str | None]
"""A message's permalink from its channel id and ts (None: the link is left out)."""


def no_links(channel: str, ts: str) -> str | None:
    """The permalink of nothing (a digest built without Slack at hand)."""
    return None


FollowUp = Callable[[str, str], None]
"""More work once a digest is posted, given its channel id and ts (its thread)."""


@dataclass(frozen=True)
class DigestRequest:
    """One build of a digest: which one (the cost builder makes the daily and the monthly
    report), the moment it reports up to, whether a person asked for it now (a window
    ending now rather than the last full one), and how to link to Slack messages."""

    name: str
    now: datetime
    on_demand: bool = False
    permalink: Permalink = no_links


@dataclass(frozen=True)
class Chart:
    """A PNG uploaded into the digest's thread."""

    filename: str
    title: str
    png: bytes
    alt: str


@dataclass
class DigestOutput:
    """A built digest: the message, its charts and thread replies, or why it is skipped."""

    text: str  # the notification / fallback text
    blocks: list[Block]
    charts: list[Chart] = field(default_factory=list)
    thread: list[str] = field(default_factory=list)  # follow-up messages (mrkdwn)
    skipped: str | None = None  # set when there is nothing to post, and why
    follow_up: FollowUp | None = None  # run once posted, with the digest's channel id and ts


DigestBuilder = Callable[[DigestRequest], DigestOutput]
"""Builds one digest; the composition root makes one per digest, handed what it reads."""


def utc(value: datetime) -> datetime:
    return aware(value).astimezone(UTC)


def header(title: str) -> HeaderBlock:
    """The digest's title (plain text, within Slack's 150 characters)."""
    return kit.header(title)


def section(text: Mrkdwn) -> SectionBlock:
    """A section of mrkdwn the builder assembled from escaped parts."""
    return kit.section(text or lit(" "))


def facts(pairs: list[tuple[str, str]]) -> SectionBlock:
    """Up to ten `*label*\\nvalue` fields, two columns in Slack. Facts are plain text
    (numbers, money, durations, names): label and value are both escaped here."""
    return kit.fields_section(
        [Mrkdwn(f"*{escape(label)}*\n{escape(value)}") for label, value in pairs]
    )


def context(text: Mrkdwn) -> ContextBlock:
    """A context line of mrkdwn the builder assembled from escaped parts."""
    return kit.context(text)


def divider() -> DividerBlock:
    return DividerBlock()


def bullet_list(lines: list[Mrkdwn], empty: str, limit: int = 10) -> Mrkdwn:
    """At most `limit` bullets, then "…and N more"; `empty` (escaped) when there are none."""
    if not lines:
        return Mrkdwn(f"_{escape(empty)}_")
    shown = "\n".join(f"• {line}" for line in lines[:limit])
    more = len(lines) - limit
    return Mrkdwn(shown + (f"\n_…and {more} more_" if more > 0 else ""))


def duration_text(span: timedelta | None) -> str:
    if span is None:
        return "-"
    minutes = span.total_seconds() / 60
    if minutes < 1:
        return f"{span.total_seconds():.0f} s"
    if minutes < 120:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h"


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def money(value: float) -> str:
    """`$19.40`, `-$19.40`, `$1,234`: the sign before the currency symbol."""
    sign = "-" if value < 0 and round(abs(value), 2) > 0 else ""
    amount = abs(value)
    return f"{sign}${amount:,.2f}" if amount < 1000 else f"{sign}${amount:,.0f}"


def period_text(start: datetime, end: datetime, zone_name: str) -> str:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(zone_name)
    a, b = start.astimezone(zone), end.astimezone(zone)
    if b - a <= timedelta(days=1) and a.date() == (b - timedelta(seconds=1)).date():
        return f"{a:%a %d %b %Y, %H:%M}-{b:%H:%M} {zone_name}"
    return f"{a:%d %b %Y %H:%M} - {b:%d %b %Y %H:%M} {zone_name}"
