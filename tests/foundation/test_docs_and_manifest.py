from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.cli.readme import with_settings_table
from handlers.commands import COMMANDS
from handlers.events import EVENTS

ROOT = Path(__file__).resolve().parents[2]

# The Slack Web API methods the bot calls, with the bot scope each one needs.
METHOD_SCOPES = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "conversations.create": "channels:manage",
    "conversations.invite": "channels:manage",
    "conversations.join": "channels:join",
    "conversations.replies": "channels:history",
    "conversations.history": "channels:history",
    "conversations.info": "channels:read",
    "users.info": "users:read",
    "usergroups.users.list": "usergroups:read",
    "reactions.add": "reactions:write",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}
EVENT_SCOPES = {"app_mention": "app_mentions:read", "message.channels": "channels:history"}
EVENT_LISTENERS = {"app_mention": "app_mention", "message.channels": "message"}


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text())
    return data


def test_manifest_commands_and_registered_commands_agree() -> None:
    declared = {c["command"] for c in manifest()["features"]["slash_commands"]}
    assert declared == set(COMMANDS)


def test_manifest_events_and_registered_event_listeners_agree() -> None:
    declared = manifest()["settings"]["event_subscriptions"]["bot_events"]
    assert {EVENT_LISTENERS[e] for e in declared} == set(EVENTS)


def test_manifest_asks_for_exactly_the_scopes_the_bot_uses() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    needed = set(METHOD_SCOPES.values()) | set(EVENT_SCOPES.values()) | {"commands"}
    assert scopes == needed


def test_manifest_has_the_fields_slack_requires() -> None:
    data = manifest()
    assert data["_metadata"]["major_version"] == 2
    assert 175 <= len(data["display_information"]["long_description"]) <= 4000
    assert len(data["display_information"]["description"]) <= 140
    assert data["features"]["bot_user"]["display_name"] == "opsbot"
    assert data["settings"]["interactivity"]["is_enabled"] is True
    for command in data["features"]["slash_commands"]:
        assert len(command["description"]) <= 100
        assert command["url"].endswith("/slack/events")


def test_readme_settings_table_is_generated_from_the_settings_model() -> None:
    readme = (ROOT / "README.md").read_text()
    assert with_settings_table(readme) == readme, "run: python -m bot.cli.readme"


def test_readme_starts_with_a_two_command_quickstart_that_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "## Quickstart" in readme
    assert "bash scripts/dev.sh" in readme
    assert "bash scripts/test.sh" in readme
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
