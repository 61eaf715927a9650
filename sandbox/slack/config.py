"""Settings of the emulated workspace: tokens, where the bot listens, limits and timings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DeliveryMode = Literal["http", "socket"]


@dataclass(frozen=True)
class SlackConfig:
    """How the emulated Slack reaches the bot and how strict it is.

    Timings default to Slack's documented values; `event_retry_delays_s` compresses Slack's
    retry schedule (at once, after 1 minute, after 5 minutes) so local runs stay short.
    """

    bot_token: str = "xoxb-opsbot-dev"  # noqa: S105 - local dev credentials
    app_token: str = "xapp-1-opsbot-dev"  # noqa: S105 - local dev credentials
    signing_secret: str = "opsbot-dev-signing-secret"  # noqa: S105 - local dev credentials
    # The deprecated verification token Slack still puts in every payload's `token` field.
    verification_token: str = "opsbot-dev-verification-token"  # noqa: S105 - local dev credentials
    # HTTP mode: the bot's single request URL for commands, interactivity and events.
    bot_url: str | None = "http://127.0.0.1:3000/slack/events"
    delivery: DeliveryMode = "http"
    # chat.postMessage per channel: tokens per second and bucket size (rate 0 disables).
    post_message_rate: float = 1.0
    post_message_burst: int = 2
    # chat.update for the whole workspace (Web API Tier 3, 50+ per minute; Slack documents
    # no burst size, "sporadic bursts are welcome").
    update_rate: float = 50 / 60
    update_burst: int = 5
    # chat.postEphemeral, views.* and the files upload methods, each per method for the
    # workspace (Web API Tier 4, "100+ per minute", "generous burst behavior").
    tier4_rate: float = 100 / 60
    tier4_burst: int = 10
    ack_timeout_s: float = 3.0
    trigger_ttl_s: float = 3.0
    event_retry_delays_s: tuple[float, ...] = (0.0, 1.0, 5.0)
    # With chat:write.public the bot may post in public channels it has not joined.
    chat_write_public: bool = True
    # Slack rejects long-in-total blocks well below the per-block limits (observed near 13k).
    blocks_total_text_limit: int = 13_000
    response_url_max_uses: int = 5
    response_url_ttl_s: float = 30 * 60
    # Slash commands the app declares; empty means every `/word` reaches the bot.
    slash_commands: tuple[str, ...] = ()
    # Socket Mode: Slack's "disconnect in 10 seconds" warning lead, how long it keeps a
    # refreshed socket open, and how old a connection gets before Slack refreshes it (None:
    # only when a test asks; Slack does it every few hours).
    socket_warning_s: float = 10.0
    socket_refresh_close_s: float = 10.0
    socket_refresh_after_s: float | None = None
    # Send `message` events for the bot's own posts too (Slack does; Bolt ignores them).
    deliver_own_messages: bool = True
