"""The workspace's data: people, channels, messages and threads, behind one re-entrant lock.

The bot calls the Web API from many threads while tests and the page act as people, so every
read and write goes through `lock`; `changed` wakes anyone waiting for the next change.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sandbox.slack import seed
from sandbox.slack.ids import IdMint, TsClock
from sandbox.slack.records import Ephemeral, FileRecord, ResponseUrl, Trigger, ViewRecord

Json = dict[str, Any]


@dataclass
class Channel:
    id: str
    name: str
    created: int
    creator: str
    is_private: bool = False
    is_im: bool = False
    im_user: str | None = None
    is_general: bool = False
    is_archived: bool = False
    members: set[str] = field(default_factory=set)
    topic: str = ""
    purpose: str = ""

    def to_json(self, viewer: str, *, num_members: bool = False) -> Json:
        """The conversation object as conversations.info/list return it to `viewer`."""
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_archived": False,
                "is_im": True,
                "is_org_shared": False,
                "context_team_id": seed.TEAM_ID,
                "updated": self.created * 1000,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        data: Json = {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "created": self.created,
            "is_archived": self.is_archived,
            "is_general": self.is_general,
            "unlinked": 0,
            "name_normalized": self.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": seed.TEAM_ID,
            "updated": self.created * 1000,
            "parent_conversation": None,
            "creator": self.creator,
            "is_ext_shared": False,
            "shared_team_ids": [seed.TEAM_ID],
            "pending_connected_team_ids": [],
            "is_member": viewer in self.members,
            "topic": {"value": self.topic, "creator": "", "last_set": 0},
            "purpose": {"value": self.purpose, "creator": self.creator, "last_set": self.created},
            "previous_names": [],
        }
        if num_members:
            data["num_members"] = len(self.members)
        return data


class WorkspaceState:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.version = 0
        self.clock = TsClock()
        self.ids = IdMint()
        self.users: dict[str, Json] = seed.users()
        self.usergroups: dict[str, Json] = seed.usergroups()
        self.channels: dict[str, Channel] = {}
        self.history: dict[str, dict[str, Json]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, ViewRecord] = {}
        self.view_stacks: dict[str, list[str]] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.files: dict[str, FileRecord] = {}
        for channel_id, name, purpose, bot_member in seed.CHANNELS:
            members = set(seed.HUMANS) | ({seed.BOT_USER_ID} if bot_member else set())
            self.add_channel(
                Channel(
                    id=channel_id,
                    name=name,
                    created=seed.SEED_TIME,
                    creator="U0ALICE",
                    is_general=name == "general",
                    members=members,
                    purpose=purpose,
                )
            )

    def touch(self) -> None:
        """Record that something visible changed and wake waiters."""
        with self.changed:
            self.version += 1
            self.changed.notify_all()

    # --- channels -----------------------------------------------------------------------

    def add_channel(self, channel: Channel) -> Channel:
        with self.lock:
            self.channels[channel.id] = channel
            self.history.setdefault(channel.id, {})
            self.touch()
            return channel

    def resolve_channel(self, ref: str) -> Channel | None:
        """A channel by id, by name, or by "#name" (chat.postMessage accepts all three)."""
        with self.lock:
            if ref in self.channels:
                return self.channels[ref]
            name = ref.removeprefix("#")
            return next((c for c in self.channels.values() if c.name == name), None)

    def channel_named(self, name: str) -> Channel | None:
        with self.lock:
            return next((c for c in self.channels.values() if c.name == name), None)

    def im_with(self, user_id: str) -> Channel:
        """The bot's direct-message conversation with `user_id`, created on first use."""
        with self.lock:
            for channel in self.channels.values():
                if channel.is_im and channel.im_user == user_id:
                    return channel
            channel = Channel(
                id=self.ids.next("D"),
                name=user_id,
                created=int(time.time()),
                creator=seed.BOT_USER_ID,
                is_private=True,
                is_im=True,
                im_user=user_id,
                members={user_id, seed.BOT_USER_ID},
            )
            return self.add_channel(channel)

    # --- messages -----------------------------------------------------------------------

    def add_message(self, channel_id: str, message: Json) -> Json:
        """Store `message` with a fresh ts; a reply also updates its parent's thread fields."""
        with self.lock:
            ts = self.clock.next()
            message["ts"] = ts
            thread_ts = message.get("thread_ts")
            self.history[channel_id][ts] = message
            if thread_ts and thread_ts != ts:
                parent = self.history[channel_id][thread_ts]
                message["parent_user_id"] = parent.get("user")
                self._refresh_thread(channel_id, thread_ts)
            self.touch()
            return message

    def message(self, channel_id: str, ts: str) -> Json | None:
        with self.lock:
            return self.history.get(channel_id, {}).get(ts)

    def thread_root(self, channel_id: str, ts: str) -> str | None:
        """The ts of the thread `ts` belongs to (itself for a top-level message)."""
        with self.lock:
            found = self.message(channel_id, ts)
            if found is None:
                return None
            return str(found.get("thread_ts") or ts)

    def top_level(self, channel_id: str) -> list[Json]:
        """Channel history oldest first: parents and broadcasts, never plain replies."""
        with self.lock:
            return [
                m
                for ts, m in self.history.get(channel_id, {}).items()
                if m.get("thread_ts") in (None, ts) or m.get("subtype") == "thread_broadcast"
            ]

    def thread(self, channel_id: str, thread_ts: str) -> list[Json]:
        """The parent followed by its replies, oldest first."""
        with self.lock:
            return [
                m
                for ts, m in self.history.get(channel_id, {}).items()
                if ts == thread_ts or m.get("thread_ts") == thread_ts
            ]

    def remove_message(self, channel_id: str, ts: str) -> None:
        """Delete a message; a parent with replies stays as Slack's tombstone."""
        with self.lock:
            messages = self.history[channel_id]
            message = messages[ts]
            thread_ts = message.get("thread_ts")
            if thread_ts == ts and message.get("reply_count"):
                message.clear()
                message.update(
                    {
                        "type": "message",
                        "subtype": "tombstone",
                        "text": "This message was deleted.",
                        "user": seed.SLACKBOT_ID,
                        "hidden": True,
                        "ts": ts,
                        "thread_ts": ts,
                    }
                )
                self._refresh_thread(channel_id, ts)
            else:
                del messages[ts]
                if thread_ts and thread_ts != ts and thread_ts in messages:
                    self._refresh_thread(channel_id, thread_ts)
            self.touch()

    def _refresh_thread(self, channel_id: str, thread_ts: str) -> None:
        parent = self.history[channel_id][thread_ts]
        replies = [m for m in self.thread(channel_id, thread_ts) if m["ts"] != thread_ts]
        reply_users = list(dict.fromkeys(str(m.get("user")) for m in replies))
        parent["thread_ts"] = thread_ts
        parent["reply_count"] = len(replies)
        parent["reply_users_count"] = len(reply_users)
        parent["reply_users"] = reply_users[:5]
        parent["latest_reply"] = replies[-1]["ts"] if replies else thread_ts
        parent.setdefault("is_locked", False)
        parent.setdefault("subscribed", False)

    # --- ephemeral messages ----------------------------------------------------------------

    def add_ephemeral(self, channel_id: str, user_id: str, message: Json) -> Json:
        with self.lock:
            message["ts"] = self.clock.next()
            self.ephemerals.append(Ephemeral(channel_id, user_id, message))
            self.touch()
            return message

    def ephemeral(self, ts: str) -> Ephemeral | None:
        with self.lock:
            return next((e for e in self.ephemerals if e.message["ts"] == ts), None)

    def remove_ephemeral(self, ts: str) -> None:
        with self.lock:
            self.ephemerals = [e for e in self.ephemerals if e.message["ts"] != ts]
            self.touch()
