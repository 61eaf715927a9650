"""Channel names to ids, joining, creating incident channels, expanding user groups."""

from __future__ import annotations

import re
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.logs import get_logger

log = get_logger("opsbot.slack.channels")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
RETRY_FAILED_AFTER_S = 300.0


class ChannelUnavailable(LookupError):
    """A channel name that could not be resolved (already reported once in the log)."""


class ChannelDirectory:
    """Channel names resolved once (paginated `conversations.list`, then cached); a name
    that cannot be resolved is reported once and not looked up again for
    RETRY_FAILED_AFTER_S, so a wrong setting does not cost an API call every sync."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._ids: dict[str, str] = {}
        self._failed: dict[str, float] = {}
        self._lock = threading.Lock()

    def resolve(self, name_or_id: str) -> str:
        """The id of a channel the bot is a member of (joining public channels by name);
        ChannelUnavailable when the name cannot be resolved."""
        name = name_or_id.lstrip("#")
        if _CHANNEL_ID.match(name):
            return name
        with self._lock:
            if name in self._ids:
                return self._ids[name]
            failed_at = self._failed.get(name)
        if failed_at is not None and time.monotonic() - failed_at < RETRY_FAILED_AFTER_S:
            raise ChannelUnavailable(f"Slack channel #{name} could not be resolved")
        try:
            channel_id = self._find(name)
            self.client.conversations_join(channel=channel_id)
        except (LookupError, SlackApiError) as exc:
            reason = exc.response.get("error") if isinstance(exc, SlackApiError) else str(exc)
            with self._lock:
                first = name not in self._failed
                self._failed[name] = time.monotonic()
            if first:
                log.warning(
                    "slack channel cannot be used; set its id (e.g. SLACK_INCIDENTS_CHANNEL=C…)",
                    channel=name,
                    reason=reason,
                )
            raise ChannelUnavailable(f"Slack channel #{name} could not be resolved") from exc
        with self._lock:
            self._ids[name] = channel_id
            self._failed.pop(name, None)
        return channel_id

    def _find(self, name: str) -> str:
        cursor = None
        while True:
            page = self.client.conversations_list(
                exclude_archived=True, limit=200, cursor=cursor, types="public_channel"
            )
            channels: list[dict[str, str]] = page.get("channels", [])
            for channel in channels:
                if channel.get("name") == name:
                    return str(channel["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                raise LookupError(f"Slack channel #{name} not found")

    def create(self, name: str) -> str:
        """Create a public channel, or reuse it when it exists (a retry after a crash)."""
        try:
            created = self.client.conversations_create(name=name)
            return str(created["channel"]["id"])
        except SlackApiError as exc:
            if exc.response.get("error") != "name_taken":
                raise
        return self.resolve(name)

    def expand_users(self, ids: list[str]) -> list[str]:
        """User ids plus the members of user groups (`S...` ids)."""
        users: list[str] = []
        for entry in ids:
            if entry.startswith("S"):
                members = self.client.usergroups_users_list(usergroup=entry)
                group: list[str] = members.get("users", [])
                users.extend(group)
            else:
                users.append(entry)
        return sorted(set(users))
