"""Block Kit validation with Slack's limits, reporting each problem with its JSON pointer.

Messages come out as Slack words them in `response_metadata.messages`, e.g.
"[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]".
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from sandbox.slack.ids import random_block_id

Json = dict[str, Any]
MESSAGE_MAX_BLOCKS = 50
MODAL_MAX_BLOCKS = 100

SELECTS = {
    f"{multi}{kind}_select"
    for multi in ("", "multi_")
    for kind in ("static", "users", "conversations", "channels", "external")
}
CHOICES = {"checkboxes", "radio_buttons", "overflow"}
PICKERS = {"datepicker", "timepicker", "datetimepicker"}
TEXT_INPUTS = {
    "plain_text_input",
    "number_input",
    "email_text_input",
    "url_text_input",
    "rich_text_input",
    "file_input",
}
ACTION_ELEMENTS = {"button", "workflow_button", *SELECTS, *CHOICES, *PICKERS, "rich_text_input"}
ACCESSORIES = {"button", "image", *SELECTS, *CHOICES, *PICKERS}
INPUT_ELEMENTS = {*SELECTS, *TEXT_INPUTS, "checkboxes", "radio_buttons", *PICKERS}


class Problems:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, problem: str, pointer: str) -> None:
        self.messages.append(f"[ERROR] {problem} [json-pointer:{pointer}]")

    def string(self, obj: Json, key: str, ptr: str, limit: int, *, required: bool = False) -> None:
        if key not in obj:
            if required:
                self.add(f"missing required field: {key}", ptr)
            return
        value = obj[key]
        if not isinstance(value, str):
            self.add("must provide a string", f"{ptr}/{key}")
        elif len(value) > limit:
            self.add(f"must be less than {limit + 1} characters", f"{ptr}/{key}")
        elif required and not value:
            self.add("must be more than 0 characters", f"{ptr}/{key}")

    def array(self, obj: Json, key: str, ptr: str, most: int, *, least: int = 1) -> list[Any]:
        if key not in obj:
            self.add(f"missing required field: {key}", ptr)
            return []
        value = obj[key]
        if not isinstance(value, list):
            self.add("must provide an array", f"{ptr}/{key}")
            return []
        if len(value) > most:
            self.add(f"no more than {most} items allowed", f"{ptr}/{key}")
        elif len(value) < least:
            self.add(f"must have at least {least} items", f"{ptr}/{key}")
        return value

    def text(
        self,
        obj: Json,
        key: str,
        ptr: str,
        limit: int,
        *,
        plain: bool = False,
        required: bool = True,
    ) -> None:
        """A composition text object at obj[key]: plain_text or mrkdwn, non-empty, bounded."""
        if key not in obj:
            if required:
                self.add(f"missing required field: {key}", ptr)
            return
        self.text_value(obj[key], f"{ptr}/{key}", limit, plain=plain)

    def text_value(self, value: Any, ptr: str, limit: int, *, plain: bool = False) -> None:
        if not isinstance(value, dict):
            self.add("must provide an object", ptr)
            return
        allowed = ("plain_text",) if plain else ("plain_text", "mrkdwn")
        if value.get("type") not in allowed:
            self.add("must be a valid enum value", f"{ptr}/type")
        self.string(value, "text", ptr, limit, required=True)


def _confirm(p: Problems, confirm: Any, ptr: str) -> None:
    if not isinstance(confirm, dict):
        p.add("must provide an object", ptr)
        return
    p.text(confirm, "title", ptr, 100, plain=True)
    p.text(confirm, "text", ptr, 300)
    p.text(confirm, "confirm", ptr, 30, plain=True)
    p.text(confirm, "deny", ptr, 30, plain=True)
    if confirm.get("style", "primary") not in ("primary", "danger"):
        p.add("must be a valid enum value", f"{ptr}/style")


def _options(p: Problems, obj: Json, ptr: str, most: int, *, mrkdwn: bool = False) -> None:
    for i, option in enumerate(p.array(obj, "options", ptr, most)):
        here = f"{ptr}/options/{i}"
        if not isinstance(option, dict):
            p.add("must provide an object", here)
            continue
        p.text(option, "text", here, 75, plain=not mrkdwn)
        p.string(option, "value", here, 150, required=True)
        p.text(option, "description", here, 75, required=False)


def _image_element(p: Problems, image: Json, ptr: str) -> None:
    if "image_url" not in image and "slack_file" not in image:
        p.add("missing required field: image_url", ptr)
    p.string(image, "image_url", ptr, 3000)
    p.string(image, "alt_text", ptr, 2000, required=True)


def _element(p: Problems, element: Any, ptr: str, allowed: set[str]) -> None:
    if not isinstance(element, dict):
        p.add("must provide an object", ptr)
        return
    kind = element.get("type")
    if kind not in allowed:
        p.add("must be a valid enum value", f"{ptr}/type")
        return
    if kind == "image":
        _image_element(p, element, ptr)
        return
    p.string(element, "action_id", ptr, 255)
    if "confirm" in element:
        _confirm(p, element["confirm"], f"{ptr}/confirm")
    if kind == "button":
        p.text(element, "text", ptr, 75, plain=True)
        p.string(element, "value", ptr, 2000)
        p.string(element, "url", ptr, 3000)
        if element.get("style", "primary") not in ("primary", "danger"):
            p.add("must be a valid enum value", f"{ptr}/style")
    elif kind in SELECTS or kind in PICKERS or kind in TEXT_INPUTS:
        p.text(element, "placeholder", ptr, 150, plain=True, required=False)
        if kind in ("static_select", "multi_static_select") and "option_groups" not in element:
            _options(p, element, ptr, 100)
    elif kind in CHOICES:
        most = 5 if kind == "overflow" else 10
        _options(p, element, ptr, most, mrkdwn=kind != "overflow")


def _unique_action_ids(p: Problems, elements: list[Any], ptr: str) -> None:
    seen: set[str] = set()
    for i, element in enumerate(elements):
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if isinstance(action_id, str):
            if action_id in seen:
                p.add(f"duplicate action_id: {action_id}", f"{ptr}/elements/{i}/action_id")
            seen.add(action_id)


def _section(p: Problems, block: Json, ptr: str) -> None:
    if "text" not in block and "fields" not in block:
        p.add("must provide either text or fields", ptr)
    p.text(block, "text", ptr, 3000, required=False)
    if "fields" in block:
        for i, field in enumerate(p.array(block, "fields", ptr, 10)):
            p.text_value(field, f"{ptr}/fields/{i}", 2000)
    if "accessory" in block:
        _element(p, block["accessory"], f"{ptr}/accessory", ACCESSORIES)


def _actions(p: Problems, block: Json, ptr: str) -> None:
    elements = p.array(block, "elements", ptr, 25)
    for i, element in enumerate(elements):
        _element(p, element, f"{ptr}/elements/{i}", ACTION_ELEMENTS)
    _unique_action_ids(p, elements, ptr)


def _context(p: Problems, block: Json, ptr: str) -> None:
    for i, element in enumerate(p.array(block, "elements", ptr, 10)):
        here = f"{ptr}/elements/{i}"
        if isinstance(element, dict) and element.get("type") == "image":
            _image_element(p, element, here)
        else:
            p.text_value(element, here, 3000)


def _header(p: Problems, block: Json, ptr: str) -> None:
    p.text(block, "text", ptr, 150, plain=True)


def _image(p: Problems, block: Json, ptr: str) -> None:
    _image_element(p, block, ptr)
    p.text(block, "title", ptr, 2000, plain=True, required=False)


def _input(p: Problems, block: Json, ptr: str) -> None:
    p.text(block, "label", ptr, 2000, plain=True)
    p.text(block, "hint", ptr, 2000, plain=True, required=False)
    if "element" not in block:
        p.add("missing required field: element", ptr)
    else:
        _element(p, block["element"], f"{ptr}/element", INPUT_ELEMENTS)


def _markdown(p: Problems, block: Json, ptr: str) -> None:
    p.string(block, "text", ptr, 12_000, required=True)


def _elements_only(p: Problems, block: Json, ptr: str) -> None:
    p.array(block, "elements", ptr, 100)


def _nothing(p: Problems, block: Json, ptr: str) -> None:
    return None


BLOCK_RULES: dict[str, Callable[[Problems, Json, str], None]] = {
    "section": _section,
    "actions": _actions,
    "context": _context,
    "header": _header,
    "image": _image,
    "input": _input,
    "divider": _nothing,
    "markdown": _markdown,
    "rich_text": _elements_only,
    "file": _nothing,
    "video": _nothing,
}


def validate_blocks(blocks: Any, pointer: str = "/blocks", *, max_blocks: int = 50) -> list[str]:
    """Every limit `blocks` breaks, as Slack's "[ERROR] ... [json-pointer:...]" messages."""
    p = Problems()
    if not isinstance(blocks, list):
        p.add("must provide an array", pointer)
        return p.messages
    if len(blocks) > max_blocks:
        p.add(f"no more than {max_blocks} items allowed", pointer)
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        ptr = f"{pointer}/{i}"
        if not isinstance(block, dict):
            p.add("must provide an object", ptr)
            continue
        rule = BLOCK_RULES.get(str(block.get("type")))
        if rule is None:
            p.add("must be a valid enum value", f"{ptr}/type")
            continue
        p.string(block, "block_id", ptr, 255)
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in block_ids:
                p.add(f"duplicate block_id: {block_id}", f"{ptr}/block_id")
            block_ids.add(block_id)
        rule(p, block, ptr)
    if not p.messages:
        p.messages += sdk_opinion(blocks, pointer)
    return p.messages


def sdk_opinion(blocks: list[Any], pointer: str = "/blocks") -> list[str]:
    """A second, independent opinion: slack_sdk's own models parse and validate each block
    (its limits come from Slack's documentation, written by other people than ours)."""
    p = Problems()
    for i, block in enumerate(blocks):
        try:
            parsed = Block.parse(block)
            if parsed is not None:
                parsed.validate_json()
                for element in _sdk_elements(parsed):
                    element.validate_json()
        except (SlackObjectFormationError, KeyError, TypeError, ValueError) as exc:
            p.add(f"{str(exc)[:200]} (slack_sdk)", f"{pointer}/{i}")
    return p.messages


def _sdk_elements(block: Block) -> list[Any]:
    """The parsed elements of a block whose own validation does not descend into them."""
    found: list[Any] = []
    for name in ("elements", "fields"):
        value = getattr(block, name, None)
        if isinstance(value, list):
            found += [v for v in value if hasattr(v, "validate_json")]
    for name in ("accessory", "text", "element"):
        value = getattr(block, name, None)
        if hasattr(value, "validate_json"):
            found.append(value)
    return found


def total_text_length(value: Any) -> int:
    """Characters in every `text` string of a block tree (what msg_blocks_too_long counts)."""
    if isinstance(value, dict):
        own = len(value["text"]) if isinstance(value.get("text"), str) else 0
        return own + sum(total_text_length(v) for v in value.values())
    if isinstance(value, list):
        return sum(total_text_length(v) for v in value)
    return 0


def normalize_blocks(blocks: list[Any]) -> list[Any]:
    """A stored copy with the ids Slack fills in: block_id on blocks, action_id on elements."""
    stored = copy.deepcopy(blocks)
    for block in stored:
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", random_block_id())
        children = list(block.get("elements") or []) if block.get("type") == "actions" else []
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                children.append(block[key])
        for element in children:
            if isinstance(element, dict) and element.get("type") not in ("image", None):
                element.setdefault("action_id", random_block_id())
    return stored
