from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.botharness import running_bot, workspace


def test_in_socket_mode_commands_and_mentions_arrive_over_the_websocket(tmp_path: Path) -> None:
    ws = workspace(delivery="socket")
    try:
        with running_bot(
            ws,
            database_url=f"sqlite:///{tmp_path / 'bot.db'}",
            slack={"app_token": ws.config.app_token, "signing_secret": None},
        ) as bot:
            result = ws.slash_command("U0ALICE", "incidents", "/ask-ai", "help")
            assert result.ok
            assert result.payload is not None
            assert "/ask-ai &lt;question&gt;" in json.dumps(result.payload)
            message = ws.post_message("U0BOB", "incidents", f"<@{ws.bot_user_id}> hello")
            ws.wait_for(
                lambda: [m for m in ws.thread("incidents", message["ts"]) if m.get("bot_id")],
                timeout=10,
            )
            # HTTP mode's Slack endpoint is not served at all in Socket Mode.
            assert httpx.post(f"{bot.url}/slack/events", content=b"{}").status_code == 404
            assert ws.calls("apps.connections.open")
    finally:
        ws.close()
