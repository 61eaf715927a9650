"""The command line and the messages a new user meets first: one line for an unreachable
database or cache, flags shown as flags, usage lines naming `opsbot …`, unwrapped banner
lines, and Slack replies that keep what they say (asterisks, severity, where a thread is)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli import devworld as devrun
from bot.cli.root import cli
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot

ROOT = Path(__file__).resolve().parents[2]
Json = dict[str, Any]


def opsbot(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", **env},
        check=False,
    )


@pytest.mark.parametrize("command", [["db", "current"], ["db", "upgrade"], ["run"]])
def test_an_unreachable_database_is_one_line_naming_the_setting_and_address_exit_2(
    command: list[str],
) -> None:
    url = "postgresql+psycopg://opsbot:secret@127.0.0.1:1/opsbot"
    done = opsbot(
        *command, OPSBOT_DATABASE_URL=url, OPSBOT_ALERTMANAGER_ALLOW_UNAUTHENTICATED="true"
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "OPSBOT_DATABASE_URL" in lines[0]
    assert "127.0.0.1:1" in lines[0]
    assert "secret" not in lines[0]
    assert "Traceback" not in done.stderr + done.stdout


def test_an_unreachable_cache_at_start_is_one_line_naming_the_setting_exit_2(
    tmp_path: Path,
) -> None:
    done = opsbot(
        "run",
        OPSBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
        OPSBOT_REDIS_URL="redis://127.0.0.1:1/0",
        OPSBOT_ALERTMANAGER_ALLOW_UNAUTHENTICATED="true",
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "OPSBOT_REDIS_URL" in lines[0]
    assert "redis://127.0.0.1:1/0" in lines[0]


def test_boolean_options_are_flags_in_help_and_in_use() -> None:
    runner = CliRunner()
    shown = runner.invoke(cli, ["config", "--help"], env={"COLUMNS": "120"})
    assert "--json" in shown.output
    assert "<bool>" not in shown.output
    used = runner.invoke(cli, ["config", "--json"])
    assert used.exit_code == 0, used.output
    assert "slack" in json.loads(used.output)


def test_sandbox_and_gameday_help_name_the_opsbot_command_and_say_what_they_do() -> None:
    runner = CliRunner()
    sandbox = runner.invoke(cli, ["sandbox", "--help"])
    assert "usage: opsbot sandbox" in sandbox.output
    assert "python -m sandbox" not in sandbox.output
    gameday = runner.invoke(cli, ["gameday", "--help"])
    assert "usage: opsbot gameday" in gameday.output
    assert "closed-loop sandbox world with nobody watching" in " ".join(gameday.output.split())


def test_dev_help_lists_the_scenario_packs() -> None:
    shown = CliRunner().invoke(cli, ["dev", "--help"], env={"COLUMNS": "200"})
    for name in ("oom-kill", "bad-image", "slow-dependency"):
        assert name in shown.output


def test_the_banner_is_not_wrapped_mid_phrase_when_not_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = io.StringIO()
    monkeypatch.setattr(devrun.console, "file", out)
    line = "  bot: http://127.0.0.1:3000 (HTTP mode), database sqlite:///" + "x" * 80 + ".db"
    devrun.console.print(line)
    assert out.getvalue() == line + "\n"


def test_the_package_license_is_an_spdx_string() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"


def ephemeral_texts(slack: SlackWorkspace, user: str) -> list[str]:
    return [str(e.get("text")) for e in slack.ephemerals(user)]


def test_opsbot_status_keeps_the_asterisks_of_namespace_patterns(
    slack: SlackWorkspace, bot: RunningBot
) -> None:
    slack.slash_command("U0ALICE", "general", "/opsbot", "status")
    text = slack.wait_for(
        lambda: [t for t in ephemeral_texts(slack, "U0ALICE") if "opsbot status" in t], timeout=10
    )[0]
    assert "`dev-*`" in text
    assert "`*-dev`" in text


def test_resolving_a_declared_incident_keeps_its_severity_and_writes_no_empty_alert_line(
    slack: SlackWorkspace, bot: RunningBot
) -> None:
    slack.slash_command("U0ALICE", "incidents", "/incident", "declare checkout is down")
    header = slack.wait_for(
        lambda: [m for m in slack.messages("incidents") if m.get("bot_id")], timeout=10
    )[0]
    slack.click_button("U0ALICE", "incidents", str(header["ts"]), "incident_resolve")
    note = slack.wait_for(
        lambda: [
            m
            for m in slack.thread("incidents", str(header["ts"]))
            if "*Resolved*" in json.dumps(m.get("blocks", []))
        ],
        timeout=10,
    )[0]
    shown = json.dumps(note["blocks"])
    assert "Alerts:" not in shown
    assert "0 alert" not in shown
    assert "resolved by <@U0ALICE>" in shown
    resolved = next(m for m in slack.messages("incidents") if m["ts"] == header["ts"])
    fields = json.dumps(resolved["blocks"])
    assert ":large_yellow_circle: warning" in fields
    assert ":white_check_mark: warning" not in fields
    assert ":white_check_mark: Resolved" in fields


def test_declaring_an_incident_from_another_channel_links_to_its_thread(
    slack: SlackWorkspace, bot: RunningBot
) -> None:
    slack.slash_command("U0ALICE", "general", "/incident", "declare payments are slow")
    reply = slack.wait_for(
        lambda: [t for t in ephemeral_texts(slack, "U0ALICE") if "Declared incident" in t],
        timeout=15,
    )[0]
    incidents = slack.channel_id("incidents")
    assert f"<#{incidents}>" in reply
    header = next(m for m in slack.messages("incidents") if m.get("bot_id"))
    assert str(header["ts"]).replace(".", "") in reply


@pytest.mark.parametrize("command", ["/incident", "/opsbot"])
def test_an_unknown_subcommand_is_called_unknown(
    slack: SlackWorkspace, bot: RunningBot, command: str
) -> None:
    slack.slash_command("U0ALICE", "general", command, "frobnicate now")
    reply = slack.wait_for(
        lambda: [t for t in ephemeral_texts(slack, "U0ALICE") if "frobnicate" in t], timeout=10
    )[0]
    assert "unknown subcommand `frobnicate`" in reply


def test_a_long_question_is_shown_whole_once_not_echoed_twice(
    slack: SlackWorkspace, bot: RunningBot
) -> None:
    question = " ".join(f"word{i}" for i in range(900))[:5000]
    result = slack.slash_command("U0ALICE", "general", "/ask-ai", question)
    assert result.payload is not None
    assert len(result.payload["text"]) < 300
    root = slack.wait_for(
        lambda: [m for m in slack.messages("general") if "asked:" in str(m.get("text"))]
    )[-1]
    assert question in root["text"]
    slack.wait_for(lambda: len(slack.thread("general", str(root["ts"]))) >= 2, timeout=10)
    everything = json.dumps(slack.thread("general", str(root["ts"]))) + json.dumps(
        slack.ephemerals("U0ALICE")
    )
    assert everything.count(question) == 1


def test_every_command_summary_in_help_reads_as_one_unbroken_sentence() -> None:
    shown = CliRunner().invoke(cli, ["--help"], env={"COLUMNS": "240"})
    commands = shown.output.split("Commands")[1]
    rows = [line.strip("│ ").rstrip() for line in commands.splitlines() if line.startswith("│")]
    summaries = {row.split()[0]: row.split(maxsplit=1)[1] for row in rows if row.strip()}
    assert {"dev", "eval", "gameday", "replay"} <= summaries.keys(), rows
    for name, summary in summaries.items():
        assert summary.endswith("."), f"{name}: {summary!r} is cut mid-sentence"
