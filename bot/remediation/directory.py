"""Who belongs to which Slack user group (for approver checks), cached briefly."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.logs import get_logger
from policies.actions import USER_ID, USERGROUP_ID

log = get_logger("opsbot.remediation.directory")


class Directory:
    def __init__(self, client: WebClient, ttl: float = 60.0) -> None:
        self.client = client
        self.ttl = ttl
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def members(self, usergroup: str) -> frozenset[str]:
        now = time.monotonic()
        with self._lock:
            cached = self._members.get(usergroup)
            if cached is not None and cached[0] > now:
                return cached[1]
        try:
            users = self.client.usergroups_users_list(usergroup=usergroup).get("users") or []
        except SlackApiError as exc:
            log.warning("usergroup lookup failed", usergroup=usergroup, error=str(exc))
            return frozenset()
        found = frozenset(str(u) for u in users)
        with self._lock:
            self._members[usergroup] = (now + self.ttl, found)
        return found

    def is_member(self, user: str, approvers: Iterable[str]) -> bool:
        """Is `user` one of the approvers, directly or through a user group?"""
        for approver in approvers:
            if USER_ID.match(approver) and approver == user:
                return True
            if USERGROUP_ID.match(approver) and user in self.members(approver):
                return True
        return False
