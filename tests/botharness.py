"""Run the real bot (HTTP mode) against the local Slack workspace, in-process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bot.app.server import Bot, build_bot, connect_socket_mode
from bot.logs import configure_logging
from bot.settings import load_settings
from bot.store.actions import ActionRecord
from sandbox.serve import ServerThread
from sandbox.slack.config import SlackConfig
from sandbox.slack.workspace import SlackWorkspace

SIGNING_SECRET = "test-signing-secret-0123456789"


@dataclass
class RunningBot:
    bot: Bot
    server: ServerThread

    @property
    def url(self) -> str:
        return self.server.url


def workspace(**config: Any) -> SlackWorkspace:
    ws = SlackWorkspace(SlackConfig(signing_secret=SIGNING_SECRET, bot_url=None, **config))
    ws.serve()
    return ws


@contextmanager
def running_bot(
    ws: SlackWorkspace, *, database_url: str, **groups: dict[str, Any]
) -> Iterator[RunningBot]:
    overrides: dict[str, dict[str, Any]] = {
        "slack": {
            "bot_token": ws.config.bot_token,
            "signing_secret": SIGNING_SECRET,
            "api_url": ws.api_url,
            **groups.pop("slack", {}),
        },
        "database": {"url": database_url},
        **groups,
    }
    settings = load_settings(**overrides)
    configure_logging(settings.log)
    bot = build_bot(settings)
    bot.runtime.start()
    server = ServerThread(bot.asgi).start()
    socket_mode = connect_socket_mode(bot)
    if socket_mode is None:
        ws.configure(bot_url=f"{server.url}/slack/events")
    try:
        yield RunningBot(bot=bot, server=server)
    finally:
        if socket_mode is not None:
            socket_mode.close()
        server.stop()
        bot.runtime.stop()


APPROVE_MODAL = "action_approve_modal"


def approve_in_slack(
    ws: SlackWorkspace, user: str, channel: str, card_ts: str, timeout: float = 10.0
) -> dict[str, Any]:
    """What an approver does: click Approve on the card, then submit the confirmation modal
    opsbot opens for them. Returns the modal as it was shown."""
    ws.click_button(user, channel, card_ts, "action_approve")

    def confirmation() -> dict[str, Any] | None:
        view = ws.open_view(user)
        return view if view and view.get("callback_id") == APPROVE_MODAL else None

    view = ws.wait_for(confirmation, timeout=timeout)
    ws.submit_view(user, str(view["id"]))
    return view


def pending_restart(action_id: str, incident_id: int, service: str) -> ActionRecord:
    """A restart of `prod/<service>` waiting for approval, as the store holds one (its
    stored action is empty: tests that approve it exercise the unreadable-action path)."""
    return ActionRecord(
        id=action_id,
        proposal_id=f"p-{action_id}",
        incident_id=incident_id,
        kind="restart_deployment",
        namespace="prod",
        target=f"deployment/prod/{service}",
        action={},
        state="pending",
        verdict="RISKY",
        rule="prod-restarts-need-approval",
        disposition="request_approval",
        proposer="agent",
        summary=f"Restart deployment prod/{service}",
    )
