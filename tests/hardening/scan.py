"""Collecting everything the bot sent out (to the model, to Slack) and looking for what must
not be there: secrets, personal data, live mentions, link tricks and invisible controls."""

from __future__ import annotations

import json
import re
import struct
import unicodedata
import zlib
from dataclasses import dataclass

from sandbox.claude import ClaudeSandbox
from sandbox.slack.workspace import SlackWorkspace

# Live Slack mrkdwn that text from the data must never become.
LIVE_MARKUP = re.compile(
    r"<(?:!(?:channel|here|everyone|subteam\^S0EVIL)|@U0MALLORY|https?://evil|mailto:)"
)
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# What a reader takes for < > /: NFKC covers the full-width and small forms; these it misses.
LOOK_ALIKE = str.maketrans(
    {
        **dict.fromkeys("\u2039\u3008\u27e8\u276e\u02c2\u1438", "<"),
        **dict.fromkeys("\u203a\u3009\u27e9\u276f\u02c3\u1433", ">"),
        **dict.fromkeys("\u2215\u2044\u29f8", "/"),
    }
)


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


def uploaded_files(ws: SlackWorkspace) -> list[Sent]:
    """The content of every file the bot uploaded (files v2: the bytes the emulator stored at
    the upload URL): text-like files as text, a PNG's tEXt/zTXt/iTXt metadata chunks, any
    other file's bytes as Latin-1 (so an ASCII secret inside still shows)."""
    with ws.state.lock:
        stored = [(f.name, f.mimetype, f.data) for f in ws.state.files.values() if f.data]
    sent = []
    for name, mimetype, data in stored:
        if data.startswith(PNG_SIGNATURE):
            sent.append(Sent(f"slack upload {name} (png text)", "\n".join(png_text(data))))
        elif _text_like(mimetype, data):
            sent.append(Sent(f"slack upload {name}", data.decode("utf-8", "replace")))
        else:
            sent.append(Sent(f"slack upload {name} (bytes)", data.decode("latin-1")))
    return sent


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_text(data: bytes) -> list[str]:
    """`keyword: text` of each textual metadata chunk of a PNG."""
    found = []
    at = len(PNG_SIGNATURE)
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        body = data[at + 8 : at + 8 + length]
        at += 12 + length
        keyword, _, rest = body.partition(b"\0")
        if kind == b"tEXt":
            found.append(f"{keyword.decode('latin-1')}: {rest.decode('latin-1')}")
        elif kind == b"zTXt":
            found.append(
                f"{keyword.decode('latin-1')}: {zlib.decompress(rest[1:]).decode('latin-1')}"
            )
        elif kind == b"iTXt":
            compressed, rest = rest[0], rest[2:]
            _language, _, rest = rest.partition(b"\0")
            _translated, _, text = rest.partition(b"\0")
            value = zlib.decompress(text) if compressed else text
            found.append(f"{keyword.decode('latin-1')}: {value.decode('utf-8', 'replace')}")
    return found


def _text_like(mimetype: str, data: bytes) -> bool:
    if mimetype.startswith("text/") or mimetype.endswith(("json", "yaml", "xml", "csv")):
        return True
    try:
        return b"\0" not in data and bool(data.decode("utf-8"))
    except UnicodeDecodeError:
        return False


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


def as_read(text: str) -> str:
    """Text as a reader takes it: each character NFKC-normalised (one by one, so `<` and a
    combining overlay do not compose into `≮`), look-alike brackets and slashes as ASCII,
    combining marks dropped: marker spellings become plain `</untrusted`."""
    normal = "".join(unicodedata.normalize("NFKC", c) for c in text).translate(LOOK_ALIKE)
    return "".join(c for c in normal if unicodedata.category(c) != "Mn")


def fence_breaks(body: str) -> list[str]:
    """Closing fence markers, in any spelling a reader would take for one, that do not end a
    fenced block: text that escaped its fence."""
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
    for text in (as_read(t) for t in texts):
        for match in re.finditer(r"<\s*/\s*untrusted", text, re.IGNORECASE):
            rest = text[match.start() :]
            if not re.match(r"</untrusted>(\n\n<untrusted source=|\n\n[A-Z]|$)", rest):
                breaks.append(text[max(0, match.start() - 60) : match.start() + 60])
    return breaks
