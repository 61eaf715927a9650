"""Fit an outbound message to Slack's documented limits, degrading instead of failing.

Slack refuses a whole message for one over-long field (`invalid_blocks`,
`msg_too_long`, `msg_blocks_too_long`): an incident's triage would then never appear.
`fit_message` is applied by the one outbound client (`bot.slack.posting`) to every
message body and view before it is sent:

- text objects are cut to their field's limit (mrkdwn at a line or word, without
  splitting a link or an entity; plain text at a word);
- more than 10 fields, 10 context elements or 25 actions keep the first ones;
- more than 50 blocks (100 in a view), or blocks whose texts add up to more than
  BLOCKS_TEXT_BUDGET characters, keep the first ones and end with "… and N more";
- interactive elements whose `value` (2,000) or `action_id` (255) would not fit are
  left out rather than cut (a cut value would mean something else when clicked);
- the top-level `text` is cut to 40,000 characters.

A new post whose blocks do not fit one message is split instead (`split_message`): the
first part is the message callers get back; the rest are continuations posted in its
thread, at most MAX_PARTS messages in all (a flood helps nobody: beyond that, "… and N
more"). An edit cannot be split, so `chat.update` keeps the first blocks that fit.

Pure: a body in, new bodies out.
"""

from __future__ import annotations

import copy
from typing import Any

from bot.slack.kit import fit
from bot.slack.text import Mrkdwn, plain

Json = dict[str, Any]
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
TEXT_MAX = 40_000
BLOCKS_TEXT_BUDGET = 11_000  # Slack's msg_blocks_too_long is seen around 13k characters
VALUE_MAX = 2000
ACTION_ID_MAX = 255

MAX_PARTS = 4
CONTINUED = "(continued)"
# What a continuation carries over from the message it continues (not its metadata or
# thread: the poster gives it its own key and the first part's thread).
_CARRIED = ("channel", "unfurl_links", "unfurl_media", "mrkdwn", "username", "icon_emoji")

_BLOCK_TEXT_LIMITS = {"section": 3000, "header": 150, "markdown": 12_000}
_ELEMENT_TEXT = {"button": 75}


def fit_message(body: Json, *, in_view: bool = False) -> Json:
    """`body` (chat.postMessage/update/postEphemeral arguments, or a view) within limits."""
    out = copy.deepcopy(body)
    text = out.get("text")
    if isinstance(text, str) and len(text) > TEXT_MAX:
        out["text"] = fit(Mrkdwn(text), TEXT_MAX)
    blocks = out.get("blocks")
    if isinstance(blocks, list):
        most = VIEW_BLOCKS_MAX if in_view else MESSAGE_BLOCKS_MAX
        out["blocks"] = fit_blocks(blocks, most)
    return out


def fit_blocks(blocks: list[Any], most: int = MESSAGE_BLOCKS_MAX) -> list[Any]:
    """Blocks each within their limits, at most `most`, within the text budget."""
    kept: list[Any] = []
    used = 0
    for n, block in enumerate(blocks):
        fitted = _block(block) if isinstance(block, dict) else block
        size = _text_length(fitted)
        if (len(kept) == most - 1 and n < len(blocks) - 1) or used + size > BLOCKS_TEXT_BUDGET:
            kept.append(_more(len(blocks) - n))
            break
        kept.append(fitted)
        used += size
    return kept


def split_message(body: Json, parts: int = MAX_PARTS) -> list[Json]:
    """A chat.postMessage body as up to `parts` bodies, each within Slack's limits.

    Blocks are split at block boundaries where the next block would pass 50 blocks or the
    text budget; the first body keeps every argument of `body`, the others carry only the
    channel and display options, with `text` "(continued)" (the poster threads them under
    the first). A body that fits is returned as the only part, fitted."""
    blocks = body.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return [fit_message(body)]
    chunks: list[list[Any]] = [[]]
    used = 0
    for block in blocks:
        fitted = _block(copy.deepcopy(block)) if isinstance(block, dict) else block
        size = _text_length(fitted)
        current = chunks[-1]
        full = len(current) == MESSAGE_BLOCKS_MAX or used + size > BLOCKS_TEXT_BUDGET
        if current and full and len(chunks) < parts:
            chunks.append([])
            used = 0
        chunks[-1].append(fitted)
        used += size
    split: list[Json] = []
    for n, chunk in enumerate(chunks):
        if n == 0:
            part = {**body, "blocks": chunk}
        else:
            part = {k: body[k] for k in _CARRIED if k in body}
            part.update(text=CONTINUED, blocks=chunk)
        split.append(fit_message(part))  # the last part ends "… and N more" if need be
    return split


def _more(count: int) -> Json:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": f"… and {count} more"}]}


def _block(block: Json) -> Json:
    kind = block.get("type")
    if kind in _BLOCK_TEXT_LIMITS and isinstance(block.get("text"), dict):
        _text(block["text"], _BLOCK_TEXT_LIMITS[str(kind)])
    if kind == "markdown" and isinstance(block.get("text"), str):
        block["text"] = fit(Mrkdwn(block["text"]), _BLOCK_TEXT_LIMITS["markdown"])
    if kind == "section":
        fields = block.get("fields")
        if isinstance(fields, list):
            block["fields"] = fields[:10]
            for field in block["fields"]:
                _text(field, 2000)
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and not _element(accessory):
            del block["accessory"]
    if kind == "context" and isinstance(block.get("elements"), list):
        block["elements"] = block["elements"][:10]
        for element in block["elements"]:
            if isinstance(element, dict) and element.get("type") != "image":
                _text(element, 3000)
    if kind == "actions" and isinstance(block.get("elements"), list):
        block["elements"] = [e for e in block["elements"][:25] if _element(e)]
    if kind == "input":
        _text(block.get("label"), 2000)
        _text(block.get("hint"), 2000)
    return block


def _element(element: Any) -> bool:
    """Fit an interactive element in place; False when it must be left out."""
    if not isinstance(element, dict):
        return True
    value, action_id = element.get("value"), element.get("action_id")
    if isinstance(value, str) and len(value) > VALUE_MAX:
        return False
    if isinstance(action_id, str) and len(action_id) > ACTION_ID_MAX:
        return False
    _text(element.get("text"), _ELEMENT_TEXT.get(str(element.get("type")), 75))
    _text(element.get("placeholder"), 150)
    confirm = element.get("confirm")
    if isinstance(confirm, dict):
        _text(confirm.get("title"), 100)
        _text(confirm.get("text"), 300)
        _text(confirm.get("confirm"), 30)
        _text(confirm.get("deny"), 30)
    return True


def _text(obj: Any, limit: int) -> None:
    """Cut a text object's `text` to `limit` in place (plain at a word, mrkdwn safely)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        return
    if len(obj["text"]) <= limit:
        return
    if obj.get("type") == "plain_text":
        obj["text"] = plain(obj["text"], limit)
    else:
        obj["text"] = fit(Mrkdwn(obj["text"]), limit)


def _text_length(value: Any) -> int:
    """Characters in every `text` string of a block tree (what Slack's total counts)."""
    if isinstance(value, dict):
        return sum(
            len(v) if k == "text" and isinstance(v, str) else _text_length(v)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return sum(_text_length(v) for v in value)
    return 0
