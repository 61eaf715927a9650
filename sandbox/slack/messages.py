"""Messages as Slack stores them: what people type (with rich_text blocks), what the app posts."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sandbox.slack import seed

Json = dict[str, Any]
TOKEN = re.compile(r"<([^<>]+)>")
NO_TEXT_FALLBACK = "This content can't be displayed."


def mentions(text: str) -> list[str]:
    """User ids mentioned as <@U…> (optionally <@U…|name>)."""
    return re.findall(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>", text)


def _rich_elements(text: str) -> list[Json]:
    elements: list[Json] = []
    position = 0
    for match in TOKEN.finditer(text):
        if match.start() > position:
            elements.append({"type": "text", "text": text[position : match.start()]})
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            elements.append({"type": "user", "user_id": target[1:]})
        elif target.startswith("#"):
            elements.append({"type": "channel", "channel_id": target[1:]})
        elif target.startswith("!subteam^"):
            elements.append({"type": "usergroup", "usergroup_id": target.removeprefix("!subteam^")})
        elif target.startswith("!"):
            elements.append({"type": "broadcast", "range": target[1:]})
        else:
            link: Json = {"type": "link", "url": target}
            if label:
                link["text"] = label
            elements.append(link)
        position = match.end()
    if position < len(text):
        elements.append({"type": "text", "text": text[position:]})
    return elements


def rich_text_block(text: str) -> Json:
    """The rich_text block Slack's clients attach to a typed message."""
    return {
        "type": "rich_text",
        "block_id": uuid.uuid4().hex[:5],
        "elements": [{"type": "rich_text_section", "elements": _rich_elements(text)}],
    }


def human_message(user_id: str, text: str, thread_ts: str | None) -> Json:
    message: Json = {
        "type": "message",
        "user": user_id,
        "text": text,
        "client_msg_id": str(uuid.uuid4()),
        "team": seed.TEAM_ID,
        "blocks": [rich_text_block(text)] if text else [],
    }
    if thread_ts:
        message["thread_ts"] = thread_ts
    return message


def bot_message(text: str | None, blocks: list[Any] | None, attachments: list[Any] | None) -> Json:
    """A message the app posts; blocks without text get Slack's fallback text."""
    message: Json = {
        "type": "message",
        "user": seed.BOT_USER_ID,
        "bot_id": seed.BOT_ID,
        "app_id": seed.APP_ID,
        "text": text if text is not None else (NO_TEXT_FALLBACK if blocks else ""),
        "team": seed.TEAM_ID,
        "bot_profile": seed.bot_profile(),
    }
    if blocks is not None:
        message["blocks"] = blocks
    if attachments is not None:
        message["attachments"] = [
            {"id": i + 1, **a} if isinstance(a, dict) else a for i, a in enumerate(attachments)
        ]
    return message


def ephemeral_message(
    text: str, blocks: list[Any] | None, *, from_user: str = seed.BOT_USER_ID
) -> Json:
    message: Json = {"type": "message", "subtype": "ephemeral", "user": from_user, "text": text}
    if from_user == seed.BOT_USER_ID:
        message["bot_id"] = seed.BOT_ID
    if blocks:
        message["blocks"] = blocks
    return message
