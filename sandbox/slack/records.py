"""Short-lived things a workspace keeps besides messages: triggers, response URLs, views, files."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]


@dataclass
class Trigger:
    """A trigger_id handed out with an interaction; views.open may exchange it once, briefly."""

    user_id: str
    created: float  # time.monotonic()
    exchanged: bool = False


@dataclass
class ResponseUrl:
    """Where an app may answer an interaction: a handful of posts within 30 minutes."""

    user_id: str
    channel_id: str
    created: float  # time.monotonic()
    message_ts: str | None = None  # the message the interaction came from, if any
    source_is_ephemeral: bool = False
    thread_ts: str | None = None
    uses: int = 0


@dataclass
class ViewRecord:
    """A modal opened for one user; `errors` holds a view_submission's response_action errors."""

    user_id: str
    view: Json
    open: bool = True
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class FileRecord:
    id: str
    name: str
    length: int
    user_id: str
    created: int
    alt_txt: str | None = None
    title: str | None = None
    data: bytes | None = None
    upload_token: str = ""
    mimetype: str = "application/octet-stream"
    shares: list[tuple[str, str]] = field(default_factory=list)  # (channel_id, ts)


@dataclass
class Ephemeral:
    """A message only `user_id` sees; it never appears in history."""

    channel_id: str
    user_id: str
    message: Json
