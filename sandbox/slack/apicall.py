"""One Web API call as method handlers see it: typed access to arguments, and Slack's errors."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.slack.state import Channel
    from sandbox.slack.workspace import SlackWorkspace

Json = dict[str, Any]


class ApiError(Exception):
    """A Slack error answer: {"ok": false, "error": ...} plus any extra fields."""

    def __init__(self, error: str, *, extra: Json | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra or {}


@dataclass(frozen=True)
class ApiCall:
    """A logged call: what the client sent and what it got back."""

    method: str
    content_type: str
    args: Json
    response: Json
    status: int
    at: float = field(default_factory=time.time)


@dataclass
class Call:
    ws: SlackWorkspace
    method: str
    args: Json
    base_url: str

    def string(self, name: str) -> str | None:
        value = self.args.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def require(self, name: str, error: str = "invalid_arguments") -> str:
        value = self.string(name)
        if not value:
            raise ApiError(error)
        return value

    def json(self, name: str, error: str) -> Any:
        """An argument that may arrive as JSON text (form bodies) or as a JSON value."""
        value = self.args.get(name)
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                return json.loads(value)
            except ValueError as exc:
                raise ApiError(error) from exc
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.args.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("1", "true", "yes")

    def integer(self, name: str, default: int) -> int:
        value = self.args.get(name)
        if value in (None, ""):
            return default
        try:
            return int(str(value))
        except ValueError as exc:
            raise ApiError("invalid_arguments") from exc

    def channel(self, name: str = "channel") -> Channel:
        """The conversation named by an argument, or channel_not_found."""
        ref = self.require(name, "channel_not_found")
        found = self.ws.state.resolve_channel(ref)
        if found is None and ref.startswith(("U", "W")) and ref in self.ws.state.users:
            found = self.ws.state.im_with(ref)
        if found is None:
            raise ApiError("channel_not_found")
        return found

    def visible_channel(self, name: str = "channel") -> Channel:
        """A conversation the bot can see: private ones only as a member."""
        channel = self.channel(name)
        if channel.is_private and self.ws.bot_user_id not in channel.members:
            raise ApiError("channel_not_found")
        return channel
