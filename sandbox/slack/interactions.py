"""People acting in the workspace: typing messages, running slash commands, clicking buttons,
choosing options and submitting or closing modals. Each reaches the app the way Slack sends it."""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sandbox.slack import payloads, seed
from sandbox.slack.acks import apply_command_ack, apply_submission_ack, slackbot_notice
from sandbox.slack.delivery import DeliveryResult
from sandbox.slack.messages import human_message
from sandbox.slack.records import ResponseUrl, Trigger, ViewRecord
from sandbox.slack.state import Channel
from sandbox.slack.views import close_views

if TYPE_CHECKING:
    from sandbox.slack.workspace import SlackWorkspace

Json = dict[str, Any]


def find_element(blocks: list[Any], action_id: str, block_id: str | None) -> tuple[Json, str]:
    """The interactive element with `action_id` (in `block_id` if given) and its block's id."""
    for block in blocks:
        if not isinstance(block, dict) or (block_id and block.get("block_id") != block_id):
            continue
        candidates = list(block.get("elements") or []) if block.get("type") == "actions" else []
        candidates += [block[k] for k in ("accessory", "element") if isinstance(block.get(k), dict)]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element, str(block.get("block_id"))
    raise LookupError(f"no element with action_id {action_id!r}")


class UserActions:
    def __init__(self, ws: SlackWorkspace) -> None:
        self.ws = ws

    # --- helpers ------------------------------------------------------------------------

    def user(self, user_id: str) -> Json:
        user = self.ws.state.users.get(user_id)
        if user is None:
            raise LookupError(f"no user {user_id}")
        return user

    def channel(self, ref: str) -> Channel:
        channel = self.ws.state.resolve_channel(ref)
        if channel is None:
            raise LookupError(f"no channel {ref}")
        return channel

    def _trigger(self, user_id: str) -> str:
        trigger_id = self.ws.state.ids.trigger_id()
        with self.ws.state.lock:
            self.ws.state.triggers[trigger_id] = Trigger(user_id, time.monotonic())
        return trigger_id

    def _response_url(self, user_id: str, channel_id: str, **source: Any) -> str:
        n = self.ws.state.ids.next("")
        key = f"{seed.TEAM_ID}/{int(n)}/{secrets.token_urlsafe(18)}"
        with self.ws.state.lock:
            self.ws.state.response_urls[key] = ResponseUrl(
                user_id, channel_id, time.monotonic(), **source
            )
        return f"{self.ws.require_base_url()}/response/{key}"

    # --- messages and commands ---------------------------------------------------------------

    def post_message(self, user_id: str, channel: str, text: str, thread_ts: str | None) -> Json:
        self.user(user_id)
        target = self.channel(channel)
        if target.is_archived:
            raise PermissionError("is_archived")
        if user_id not in target.members:
            raise PermissionError(f"{user_id} is not in #{target.name}")
        with self.ws.state.lock:
            root = self.ws.state.thread_root(target.id, thread_ts) if thread_ts else None
            if thread_ts and root is None:
                raise LookupError(f"no message {thread_ts} in #{target.name}")
            stored = self.ws.state.add_message(target.id, human_message(user_id, text, root))
            result = copy.deepcopy(stored)
        self.ws.publish_message_events(target.id, stored)
        return result

    def slash_command(self, user_id: str, channel: str, command: str, text: str) -> DeliveryResult:
        user, target = self.user(user_id), self.channel(channel)
        allowed = self.ws.config.slash_commands
        if allowed and command not in allowed:
            slackbot_notice(self.ws, user_id, target.id, f"{command} is not a valid command.")
            return DeliveryResult(kind="slash_commands", status=None, error="unknown_command")
        form = payloads.slash_command_form(
            token=self.ws.config.verification_token,
            user=user,
            channel_id=target.id,
            channel_name="directmessage" if target.is_im else target.name,
            command=command,
            text=text,
            response_url=self._response_url(user_id, target.id),
            trigger_id=self._trigger(user_id),
        )
        result = self.ws.deliverer.command(form)
        self.ws.record_delivery(dict(form), result)
        apply_command_ack(self.ws, user_id, target.id, command, result)
        return result

    # --- clicks and choices on messages ------------------------------------------------------

    def act_on_message(
        self,
        user_id: str,
        channel: str,
        message_ts: str,
        action_id: str,
        block_id: str | None,
        selected: str | list[str] | None = None,
    ) -> DeliveryResult:
        user, target = self.user(user_id), self.channel(channel)
        message = self.ws.state.message(target.id, message_ts)
        ephemeral = None if message is not None else self.ws.state.ephemeral(message_ts)
        if ephemeral is not None and ephemeral.user_id == user_id:
            source = ephemeral.message
        elif message is not None:
            source = message
        else:
            raise LookupError(f"no message {message_ts} visible to {user_id}")
        element, found_block = find_element(source.get("blocks") or [], action_id, block_id)
        container: Json = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": target.id,
            "is_ephemeral": message is None,
        }
        thread_ts = source.get("thread_ts")
        if thread_ts:
            container["thread_ts"] = thread_ts
        payload = payloads.block_actions(
            token=self.ws.config.verification_token,
            user=user,
            trigger_id=self._trigger(user_id),
            action=payloads.action_of(element, found_block, selected),
            container=container,
            channel={"id": target.id, "name": "directmessage" if target.is_im else target.name},
            message=copy.deepcopy(message) if message is not None else None,
            response_url=self._response_url(
                user_id,
                target.id,
                message_ts=message_ts,
                source_is_ephemeral=message is None,
                thread_ts=thread_ts,
            ),
        )
        result = self.ws.deliverer.interaction(payload)
        self.ws.record_delivery(payload, result)
        return result

    # --- modals ----------------------------------------------------------------------------

    def _open_record(self, user_id: str, view_id: str) -> ViewRecord:
        record = self.ws.state.views.get(view_id)
        if record is None or not record.open or record.user_id != user_id:
            raise LookupError(f"view {view_id} is not open for {user_id}")
        return record

    def act_in_view(
        self,
        user_id: str,
        view_id: str,
        action_id: str,
        block_id: str | None,
        selected: str | list[str] | None = None,
    ) -> DeliveryResult:
        user, record = self.user(user_id), self._open_record(user_id, view_id)
        element, found_block = find_element(record.view["blocks"], action_id, block_id)
        payload = payloads.block_actions(
            token=self.ws.config.verification_token,
            user=user,
            trigger_id=self._trigger(user_id),
            action=payloads.action_of(element, found_block, selected),
            container={"type": "view", "view_id": view_id},
            view=copy.deepcopy(record.view),
        )
        result = self.ws.deliverer.interaction(payload)
        self.ws.record_delivery(payload, result)
        return result

    def submit_view(
        self, user_id: str, view_id: str, values: Mapping[str, Mapping[str, Any]]
    ) -> DeliveryResult:
        user, record = self.user(user_id), self._open_record(user_id, view_id)
        with self.ws.state.lock:
            record.view["state"] = {"values": payloads.state_values(record.view["blocks"], values)}
            record.errors = {}
            view = copy.deepcopy(record.view)
        payload = payloads.view_submission(
            token=self.ws.config.verification_token,
            user=user,
            trigger_id=self._trigger(user_id),
            view=view,
        )
        result = self.ws.deliverer.interaction(payload)
        self.ws.record_delivery(payload, result)
        apply_submission_ack(self.ws, record, result)
        return result

    def close_view(self, user_id: str, view_id: str) -> DeliveryResult | None:
        """Cancel a modal; the app hears view_closed only if the view asked (notify_on_close)."""
        user, record = self.user(user_id), self._open_record(user_id, view_id)
        clear = bool(record.view.get("clear_on_close"))
        close_views(self.ws.state, user_id, everything=clear)
        if not record.view.get("notify_on_close"):
            return None
        payload = payloads.view_closed(
            token=self.ws.config.verification_token,
            user=user,
            view=copy.deepcopy(record.view),
            is_cleared=clear,
        )
        result = self.ws.deliverer.interaction(payload)
        self.ws.record_delivery(payload, result)
        return result
