"""Collecting everything the bot sent out (to the model, to Slack) and looking for what must
not be there: secrets, personal data, live mentions, link tricks and invisible controls."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sandbox.claude import ClaudeSandbox
from sandbox.slack.workspace import SlackWorkspace

# Live Slack mrkdwn that text from the data must never become.
LIVE_MARKUP = re.compile(
    r"<(?:!(?:channel|here|everyone|subteam\^S0EVIL)|@U0MALLORY|https?://evil|mailto:)"
)
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


@dataclass(frozen=True)
class Sent:
    where: str
    text: str


@dataclass(frozen=True)
class Hit:
    needle: str
    where: str
    context: str


def model_bodies(claude: ClaudeSandbox) -> list[Sent]:
    """Every request body the Messages API stand-in received (headers are not content)."""
    return [
        Sent(f"claude request {r.index}", r.raw_body.decode("utf-8", "replace"))
        for r in claude.requests
    ]


def slack_outbound(ws: SlackWorkspace) -> list[Sent]:
    """Everything the bot sent to Slack: the arguments of every Web API call (messages,
    updates, ephemerals, files, views) and the bodies it acked deliveries with."""
    sent = [
        Sent(f"slack {call.method}", _readable(json.dumps(_without_token(call.args))))
        for call in ws.calls()
    ]
    sent += [
        Sent(f"slack ack of {d.kind}", _readable(d.result.body))
        for d in ws.deliveries()
        if d.result.body
    ]
    return sent


def _without_token(args: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in args.items() if k != "token"}


def _readable(text: str) -> str:
    """JSON escapes (\\u202e, \\u003c) decoded, so a scan sees the characters Slack shows."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def describe(hits: list[Hit]) -> str:
    return "\n".join(f"{h.needle!r} in {h.where}: ...{h.context!r}..." for h in hits)


def find(sent: list[Sent], needles: list[str]) -> list[Hit]:
    hits = []
    for item in sent:
        for needle in needles:
            at = item.text.find(needle)
            if needle and at >= 0:
                hits.append(Hit(needle, item.where, item.text[max(0, at - 80) : at + 80]))
    return hits


def find_pattern(sent: list[Sent], pattern: re.Pattern[str]) -> list[Hit]:
    hits = []
    for item in sent:
        for match in pattern.finditer(item.text):
            start = match.start()
            context = item.text[max(0, start - 80) : start + 80]
            hits.append(Hit(match.group(0), item.where, context))
    return hits


def fence_breaks(body: str) -> list[str]:
    """Closing fence markers that do not end a fenced block: text that escaped its fence."""
    decoded = json.loads(body) if body.startswith("{") else {}
    texts: list[str] = []
    for message in decoded.get("messages", []):
        content = message.get("content")
        for block in content if isinstance(content, list) else []:
            if block.get("type") == "text" and message.get("role") == "user":
                texts.append(str(block.get("text", "")))
            elif block.get("type") == "tool_result":
                texts.append(str(block.get("content", "")))
    breaks = []
    for text in texts:
        for match in re.finditer(r"<\s*/\s*untrusted", text, re.IGNORECASE):
            rest = text[match.start() :]
            if not re.match(r"</untrusted>(\n\n<untrusted source=|\n\n[A-Z]|$)", rest):
                breaks.append(text[max(0, match.start() - 60) : match.start() + 60])
    return breaks
