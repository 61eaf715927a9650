"""SlackWorkspace: the emulated Slack as tests, the page and `opsbot dev` drive it."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from sandbox.slack import seed
from sandbox.slack.acks import slackbot_notice
from sandbox.slack.apicall import ApiCall
from sandbox.slack.config import SlackConfig
from sandbox.slack.delivery import FORM, Deliverer, DeliveryResult
from sandbox.slack.devcontrols import DevControls
from sandbox.slack.events import EventSender
from sandbox.slack.interactions import UserActions
from sandbox.slack.limits import FailureInjector, RateLimiter
from sandbox.slack.messages import mentions
from sandbox.slack.payloads import app_mention_event, event_envelope, message_event
from sandbox.slack.signing import signed_headers
from sandbox.slack.socket_mode import SocketHub, SocketTimings
from sandbox.slack.state import WorkspaceState
from sandbox.slack.views import top_view
from sandbox.slack.webapi import CallLog

if TYPE_CHECKING:
    from sandbox.serve import ServerThread

Json = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True)
class Delivery:
    """One request sent to the app (form fields or JSON payload) and how it was answered."""

    kind: str
    request: Json
    result: DeliveryResult
    at: float = field(default_factory=time.time)


class SlackWorkspace:
    """One emulated workspace (team T0OPSBOT): Web API state, people's actions, delivery."""

    def __init__(self, config: SlackConfig | None = None) -> None:
        self.config = config or SlackConfig()
        self.state = WorkspaceState()
        self.call_log = CallLog()
        self.limiter = RateLimiter(self.config)
        self.failures = FailureInjector()
        self.hub = SocketHub(self._socket_timings)
        self.deliverer = Deliverer(lambda: self.config, self.hub)
        self.base_url: str | None = None
        self.bot_user_id = seed.BOT_USER_ID
        self._actions = UserActions(self)
        self._events = EventSender(self.deliverer, lambda: self.config, self.record_delivery)
        self._deliveries: list[Delivery] = []
        self._deliveries_lock = threading.Lock()
        self._server: ServerThread | None = None
        self.dev_controls: DevControls | None = None  # the world's controls, when hosted

    # --- lifecycle --------------------------------------------------------------------------

    def configure(self, **changes: Any) -> None:
        """Change settings at run time, e.g. configure(delivery="socket", bot_url=None)."""
        self.config = replace(self.config, **changes)
        self.limiter = RateLimiter(self.config)

    def _socket_timings(self) -> SocketTimings:
        return SocketTimings(
            warning_s=self.config.socket_warning_s,
            refresh_close_s=self.config.socket_refresh_close_s,
            refresh_after_s=self.config.socket_refresh_after_s,
        )

    @property
    def api_url(self) -> str:
        """The base_url to give slack_sdk's WebClient."""
        return f"{self.require_base_url()}/api/"

    def require_base_url(self) -> str:
        if self.base_url is None:
            raise RuntimeError("serve() the workspace (or set base_url) before using its URLs")
        return self.base_url

    def learn_base_url(self, url: str) -> None:
        if self.base_url is None:
            self.base_url = url.rstrip("/")

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start the emulator in a background thread; returns its URL (also `base_url`)."""
        from sandbox.serve import ServerThread
        from sandbox.slack.app import create_app

        self._server = ServerThread(create_app(self), host=host, port=port).start()
        self.base_url = self._server.url
        return self._server.url

    def close(self) -> None:
        self._events.close()
        self.deliverer.close()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> SlackWorkspace:
        if self._server is None:
            self.serve()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- people act ---------------------------------------------------------------------------

    def post_message(
        self, user_id: str, channel: str, text: str, thread_ts: str | None = None
    ) -> Json:
        """A person types a message (or a thread reply); returns it as stored, with its ts."""
        return self._actions.post_message(user_id, channel, text, thread_ts)

    def slash_command(
        self, user_id: str, channel: str, command: str, text: str = ""
    ) -> DeliveryResult:
        return self._actions.slash_command(user_id, channel, command, text)

    def response_url_for(self, user_id: str, channel: str, message_ts: str) -> str:
        """A fresh response_url, as Slack puts in an interaction from `message_ts` (for
        tests that build their own block_actions payloads)."""
        return self._actions._response_url(
            user_id, self.channel_id(channel), message_ts=message_ts, source_is_ephemeral=False
        )

    def click_button(
        self,
        user_id: str,
        channel: str,
        message_ts: str,
        action_id: str,
        block_id: str | None = None,
    ) -> DeliveryResult:
        """Click a button in a message or ephemeral message (confirm dialogs count as confirmed)."""
        return self._actions.act_on_message(user_id, channel, message_ts, action_id, block_id)

    def select_option(
        self,
        user_id: str,
        channel: str,
        message_ts: str,
        action_id: str,
        value: str | list[str],
        block_id: str | None = None,
    ) -> DeliveryResult:
        """Choose from a select, overflow, radio or checkbox element in a message."""
        return self._actions.act_on_message(
            user_id, channel, message_ts, action_id, block_id, value
        )

    def click_view_button(
        self, user_id: str, view_id: str, action_id: str, block_id: str | None = None
    ) -> DeliveryResult:
        return self._actions.act_in_view(user_id, view_id, action_id, block_id)

    def submit_view(
        self, user_id: str, view_id: str, values: Mapping[str, Mapping[str, Any]] | None = None
    ) -> DeliveryResult:
        """Submit a modal; values are {block_id: {action_id: "text" | "option value" | [..]}}."""
        return self._actions.submit_view(user_id, view_id, values or {})

    def close_view(self, user_id: str, view_id: str) -> DeliveryResult | None:
        return self._actions.close_view(user_id, view_id)

    def add_reaction(self, user_id: str, channel: str, ts: str, name: str) -> None:
        target = self._actions.channel(channel)
        with self.state.lock:
            message = self.state.message(target.id, ts)
            if message is None:
                raise LookupError(f"no message {ts}")
            reactions: list[Json] = message.setdefault("reactions", [])
            reaction = next((r for r in reactions if r["name"] == name), None)
            if reaction is None:
                reactions.append({"name": name, "users": [user_id], "count": 1})
            elif user_id not in reaction["users"]:
                reaction["users"].append(user_id)
                reaction["count"] += 1
            self.state.touch()

    def archive_channel(self, channel: str) -> None:
        self._actions.channel(channel).is_archived = True
        self.state.touch()

    # --- reading -------------------------------------------------------------------------------

    def channel_id(self, ref: str) -> str:
        return self._actions.channel(ref).id

    def messages(self, channel: str) -> list[Json]:
        """Channel history oldest first (thread replies excluded), as copies."""
        return copy.deepcopy(self.state.top_level(self.channel_id(channel)))

    def thread(self, channel: str, ts: str) -> list[Json]:
        """A thread's parent and replies, oldest first."""
        channel_id = self.channel_id(channel)
        root = self.state.thread_root(channel_id, ts) or ts
        return copy.deepcopy(self.state.thread(channel_id, root))

    def ephemerals(self, user_id: str, channel: str | None = None) -> list[Json]:
        channel_id = self.channel_id(channel) if channel else None
        with self.state.lock:
            return [
                copy.deepcopy(e.message) | {"channel": e.channel_id}
                for e in self.state.ephemerals
                if e.user_id == user_id and channel_id in (None, e.channel_id)
            ]

    def open_view(self, user_id: str) -> Json | None:
        """The modal on top of `user_id`'s screen, with `errors` from response_action."""
        record = top_view(self.state, user_id)
        if record is None:
            return None
        return copy.deepcopy(record.view) | {"errors": dict(record.errors)}

    def calls(self, method: str | None = None) -> list[ApiCall]:
        return self.call_log.list(method)

    def deliveries(self, kind: str | None = None) -> list[Delivery]:
        """Requests sent to the app: kind "slash_commands", "interactive" or "events_api"."""
        with self._deliveries_lock:
            return [d for d in self._deliveries if kind in (None, d.kind)]

    def wait_for(self, predicate: Callable[[], T | None], timeout: float = 20.0) -> T:
        """Wait until predicate() is truthy (re-checked on every change); returns its value.
        The default timeout is generous: it only costs time when the condition never holds,
        and a loaded CI machine can take seconds for what takes milliseconds here."""
        deadline = time.monotonic() + timeout
        with self.state.changed:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"condition not met within {timeout}s")
                self.state.changed.wait(min(remaining, 0.05))

    # --- what Slack sends ------------------------------------------------------------------------

    def signed_headers(
        self,
        body: bytes,
        *,
        content_type: str = FORM,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> dict[str, str]:
        """Slack's signature headers for `body` (forge stale or wrong-secret ones via args)."""
        return signed_headers(secret or self.config.signing_secret, body, content_type, timestamp)

    def inject_failures(
        self,
        method: str,
        status: int = 500,
        count: int = 1,
        error: str | None = None,
        retry_after: int = 1,
        *,
        landed: bool = False,
        delay_s: float = 0.0,
    ) -> None:
        """Make the next `count` calls of `method` fail with `status` and Slack's error body.

        `landed=True` performs the call first (the message is stored, then the client sees
        the error, as when a gateway times out after Slack acted); `delay_s` holds the answer
        back that long; status 200 with a delay is a slow but successful answer."""
        self.failures.inject(
            method, status, count, error, retry_after, landed=landed, delay_s=delay_s
        )

    def record_delivery(self, request: Json, result: DeliveryResult) -> None:
        with self._deliveries_lock:
            self._deliveries.append(Delivery(result.kind, request, result))
        self.state.touch()

    def publish_message_events(self, channel_id: str, message: Json) -> None:
        """Queue the events Slack sends the app for a new message: message and app_mention."""
        channel = self.state.channels[channel_id]
        member = self.bot_user_id in channel.members
        own = message.get("bot_id") == seed.BOT_ID
        events: list[Json] = []
        if member and (not own or self.config.deliver_own_messages):
            kind = "im" if channel.is_im else "group" if channel.is_private else "channel"
            events.append(message_event(message, channel_id, kind))
        if not own and not channel.is_im and self.bot_user_id in mentions(message.get("text", "")):
            if member:
                events.append(app_mention_event(message, channel_id))
            else:
                note = f"You mentioned <@{self.bot_user_id}>, but they're not in this channel."
                slackbot_notice(self, str(message.get("user")), channel_id, note)
        if self.config.delivery == "http" and not self.config.bot_url:
            return  # no request URL: the app subscribes to no events
        for event in events:
            envelope = event_envelope(
                event, token=self.config.verification_token, event_id=self.state.ids.next("Ev")
            )
            self._events.send(envelope)
