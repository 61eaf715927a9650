"""Block Kit constructors that take `Mrkdwn`, never `str`, for every mrkdwn field.

Builders of messages use these instead of `MarkdownTextObject(text=...)`, so a raw string
from an alert cannot be put in a mrkdwn field without `bot.slack.text` escaping it first.
Plain-text fields (headers, button labels) are clipped to Slack's limits here.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.slack.text import Mrkdwn, clip_words, plain

TEXT_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
HEADER_MAX = 150
CONTEXT_ELEMENTS_MAX = 10
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
MESSAGE_TEXT_MAX = 40_000


def mrkdwn(text: Mrkdwn, limit: int = TEXT_MAX) -> MarkdownTextObject:
    """A mrkdwn text object; text over `limit` is cut at a line, else at a word."""
    return MarkdownTextObject(text=fit(text, limit))


def section(text: Mrkdwn) -> SectionBlock:
    """A section of mrkdwn text within Slack's 3,000 characters."""
    return SectionBlock(text=mrkdwn(text))


def fields_section(fields: list[Mrkdwn]) -> SectionBlock:
    """A section of at most ten mrkdwn fields of at most 2,000 characters each."""
    return SectionBlock(fields=[mrkdwn(f, FIELD_MAX) for f in fields[:FIELDS_MAX]])


def context(*parts: Mrkdwn) -> ContextBlock:
    """A context block of mrkdwn elements (at most ten)."""
    return ContextBlock(elements=[mrkdwn(p) for p in parts[:CONTEXT_ELEMENTS_MAX]])


def header(text: str) -> HeaderBlock:
    """A header: plain text on one line, within 150 characters."""
    return HeaderBlock(text=plain(text, HEADER_MAX))


def fit(text: Mrkdwn, limit: int) -> Mrkdwn:
    """Mrkdwn within `limit` characters, cut at a line boundary when there is one (so no
    link or entity is split), else at a word (escaped text has no `<` to split)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    newline = cut.rfind("\n")
    if newline > limit // 2:
        return Mrkdwn(cut[:newline] + "\n…")
    return Mrkdwn(clip_words(_whole_entities(cut), limit))


def _whole_entities(text: str) -> str:
    """`text` without a trailing, cut link (`<…`) or entity (`&…`)."""
    for opener in ("<", "&"):
        at = text.rfind(opener)
        if at != -1 and (">" if opener == "<" else ";") not in text[at:]:
            text = text[:at]
    return text
