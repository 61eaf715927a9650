"""Which pacing lane each outbound Slack write takes, and at what priority.

The bot's one WebClient (bot.slack.posting.IdempotentWebClient) sends every write through
the outbox (bot.slack.outbox) once it is bound to one (`pace_through`), so no caller — an
incident step, a digest, an ephemeral reply, a modal, a file upload — can write outside
Slack's rate limits. Reads are not paced. Slack limits writes "per API method per workspace
per app" (https://docs.slack.dev/apis/web-api/rate-limits), except chat.postMessage, whose
"special" tier is about one message per second per channel with short bursts:

- chat.postMessage (and chat.scheduleMessage, chat.meMessage): the channel's lane, paced
  like every other post to that channel (`SLACK_POST_RATE_PER_CHANNEL`).
- chat.update and chat.delete (Tier 3): the edits' lane for the workspace.
- chat.postEphemeral, views.* and the files upload methods (Tier 4, "100+ per minute",
  generous bursts): one lane per method family for the workspace, `TIER4` (a little under
  the documented floor, so a per-process bucket and Slack's own never disagree by a slot).
- Conversation and reaction writes (Tier 2/3): one `TIER2` lane for the workspace.

Within a lane the most urgent write goes first: a caller's priority is the one set by
`writing_at` around the call (the digests use `DIGEST_PRIORITY`), else `ANSWER_PRIORITY`.
Incident headers (priority 0) are queued by the incident notifier itself, so a digest
burst in the incidents channel waits behind every header, triage and edit queued there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

ANSWER_PRIORITY = 1  # a reply someone waits for: after new headers, before triage and edits
DIGEST_PRIORITY = 5  # scheduled bulk output: after every incident step (header 0 .. resolution 4)

EDIT_LANE = "chat.update"  # the lane (and shared pacing key) of every edit; no channel id has a dot
TIER4 = (90 / 60, 8)  # (rate per second, burst). Slack: 100+ per minute, bursts allowed
TIER2 = (18 / 60, 3)  # Slack: 20+ per minute

POST_METHODS = frozenset({"chat.postMessage", "chat.scheduleMessage", "chat.meMessage"})
EDIT_METHODS = frozenset({"chat.update", "chat.delete"})
WORKSPACE_LANES: Mapping[str, str] = {
    "chat.postEphemeral": "chat.postEphemeral",
    "views.open": "views",
    "views.update": "views",
    "views.push": "views",
    "views.publish": "views",
    "files.upload": "files",
    "files.getUploadURLExternal": "files",
    "files.completeUploadExternal": "files",
    "conversations.create": "conversations.write",
    "conversations.invite": "conversations.write",
    "conversations.join": "conversations.write",
    "conversations.setTopic": "conversations.write",
    "conversations.setPurpose": "conversations.write",
    "reactions.add": "conversations.write",
    "pins.add": "conversations.write",
}
LANE_RATES: Mapping[str, tuple[float, int]] = {
    "chat.postEphemeral": TIER4,
    "views": TIER4,
    "files": TIER4,
    "conversations.write": TIER2,
}

_priority: ContextVar[int | None] = ContextVar("slack_write_priority", default=None)


class OutboxStopped(RuntimeError):
    """A paced call could not run: the outbox stopped first."""


@dataclass(frozen=True)
class Lane:
    """Where one write waits: the outbox lane `name` (a channel id or a method family) and
    whether it is an edit (paced with the workspace's edits when they are paced apart)."""

    name: str
    edit: bool = False


def lane_of(method: str, body: Mapping[str, Any] | None) -> Lane | None:
    """Pure: the lane of a Web API call, or None when it is not a paced write (a read)."""
    if method in WORKSPACE_LANES:
        return Lane(WORKSPACE_LANES[method])
    channel = str((body or {}).get("channel") or "")
    if method in POST_METHODS:
        return Lane(channel or "unknown-channel")
    if method in EDIT_METHODS:
        return Lane(channel or EDIT_LANE, edit=True)
    return None


def current_priority() -> int:
    """The priority of a write made here: the innermost `writing_at`, else an answer's."""
    priority = _priority.get()
    return ANSWER_PRIORITY if priority is None else priority


@contextmanager
def writing_at(priority: int) -> Iterator[None]:
    """Every Slack write made inside (in this thread or task) waits at `priority` in its
    lane: `with writing_at(DIGEST_PRIORITY): post_digest(...)`."""
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)
