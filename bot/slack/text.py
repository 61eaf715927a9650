"""Slack text, safe by construction.

Slack parses mrkdwn control sequences anywhere in a `mrkdwn` text object or a message's
top-level `text`: `<!channel>`, `<!here>`, `<@U…>`, `<!subteam^S…>` and `<url|label>`.
A string from an alert, a user, a log, a trace or a model must never be read that way, so:

- `Mrkdwn` is a distinct type. Builders of mrkdwn fields take `Mrkdwn`, never `str`, so a
  raw string cannot reach them without passing through this module (mypy says so).
- `escape` is the one way untrusted text becomes `Mrkdwn` (`&`, `<`, `>` as Slack asks).
- `link` is the one way to make a link: only http(s) URLs with a host become links; the URL
  is percent-encoded where Slack's syntax would break (`|`, `>`, whitespace) and the label
  is escaped. Anything else degrades to the escaped label.
- Mentions the bot means to make are built by `mention_user`, `mention_group` and
  `mention_channel`, which accept only well-formed Slack ids.
- `plain` and `clip_words` shorten text for `plain_text` objects (header, button labels),
  which Slack never parses but bounds in length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import LiteralString, NewType
from urllib.parse import quote, urlsplit

Mrkdwn = NewType("Mrkdwn", str)
"""Text Slack may parse as mrkdwn: every untrusted part of it went through `escape`."""

ELLIPSIS = "…"
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
_GROUP_ID = re.compile(r"S[A-Z0-9]{2,20}")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,20}")
# Characters left as they are in a link's URL; the rest of what Slack's `<url|label>`
# syntax or a URL cannot hold literally is percent-encoded.
_URL_SAFE = "/:?#[]@!$&'()*+,;=%-._~"
# Look-alikes that keep a bold or code span closed around untrusted text.
_ASTERISK_LOOKALIKE = "\u2217"
_BACKTICK_LOOKALIKE = "\u02cb"


def escape(text: str) -> Mrkdwn:
    """`text` shown literally in a mrkdwn field: `&`, `<` and `>` become entities."""
    return Mrkdwn(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def lit(text: LiteralString) -> Mrkdwn:
    """Mrkdwn the bot writes itself, in its source code (formatting, emoji, fixed words)."""
    return Mrkdwn(text)


def join(parts: Iterable[Mrkdwn], sep: Mrkdwn = Mrkdwn("")) -> Mrkdwn:
    """Mrkdwn parts joined by a mrkdwn separator."""
    return Mrkdwn(sep.join(parts))


def bold(text: str) -> Mrkdwn:
    """Untrusted text, escaped, in bold."""
    return Mrkdwn(f"*{escape(text.replace('*', _ASTERISK_LOOKALIKE))}*")


def code(text: str) -> Mrkdwn:
    """Untrusted text, escaped, as inline code (backticks inside cannot close it)."""
    return Mrkdwn(f"`{escape(text.replace('`', _BACKTICK_LOOKALIKE))}`")


def safe_url(url: str) -> str | None:
    """`url` fit to sit inside `<…|…>` when it is an http(s) URL with a host, else None."""
    stripped = url.strip()
    try:
        parts = urlsplit(stripped)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return quote(stripped, safe=_URL_SAFE).replace("&", "&amp;")


def link(url: str, label: str) -> Mrkdwn:
    """A link to `url` showing `label`, or just the escaped label when `url` is not an
    http(s) URL. Both come escaped: neither can open a mention or a second link."""
    target = safe_url(url)
    shown = escape(label.replace("|", "¦")) if label else escape(url)
    if target is None:
        return shown
    return Mrkdwn(f"<{target}|{shown}>")


def mention_user(user_id: str) -> Mrkdwn:
    """`<@U…>` for a user the bot means to mention; ValueError for anything but an id."""
    if not _USER_ID.fullmatch(user_id):
        raise ValueError(f"not a Slack user id: {user_id[:40]!r}")
    return Mrkdwn(f"<@{user_id}>")


def mention_group(group_id: str) -> Mrkdwn:
    """`<!subteam^S…>` for a user group the bot means to page (an on-call group)."""
    if not _GROUP_ID.fullmatch(group_id):
        raise ValueError(f"not a Slack user group id: {group_id[:40]!r}")
    return Mrkdwn(f"<!subteam^{group_id}>")


def mention_channel(channel_id: str) -> Mrkdwn:
    """`<#C…>` for a channel the bot means to point at."""
    if not _CHANNEL_ID.fullmatch(channel_id):
        raise ValueError(f"not a Slack channel id: {channel_id[:40]!r}")
    return Mrkdwn(f"<#{channel_id}>")


def mention_or_name(user_id: str) -> Mrkdwn:
    """A mention when `user_id` is a Slack id, else the escaped text (e.g. "scheduler")."""
    try:
        return mention_user(user_id)
    except ValueError:
        return escape(user_id)


def clip_words(text: str, limit: int) -> str:
    """`text` within `limit` characters, cut at a word boundary with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def plain(text: str, limit: int) -> str:
    """Text for a `plain_text` object: one line, within `limit` characters."""
    return clip_words(" ".join(text.split()), limit)


def escape_within(text: str, limit: int) -> Mrkdwn:
    """`text` escaped and cut at a word so that the escaped form fits `limit` characters
    (cutting after escaping could split an entity)."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    budget = limit
    while budget > 0:
        escaped = escape(clip_words(text, budget))
        if len(escaped) <= limit:
            return escaped
        budget -= max(len(escaped) - limit, 1)
    return Mrkdwn("")
