"""Alert and user text reaches Slack escaped: no mention, no link it did not mean to make.

Drives the running bot with hostile alerts and commands and reads every message, edit
and ephemeral reply the Slack emulator received."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot, running_bot
from tests.incidents.amfixtures import alert, webhook

TOKEN = "am-webhook-token-escape"
EVIL_URL = "https://ok.example/rb|Runbook> <!channel> <https://evil.example/x"
EVIL_TITLE = "<!channel> & <@UEVIL> <http://evil.example|click here>"
CONTROL = re.compile(r"<([^>]*)>")
OWN_LINK_LABELS = {"Prometheus graph", "Runbook", "Alertmanager", "open the thread"}
OWN_CHANNEL = re.compile(r"^#C[A-Z0-9]+$")  # a channel the bot names (where a thread is)


def live_sequences(text: str) -> list[str]:
    """The control sequences Slack would act on that the bot did not mean to make."""
    found = []
    for inner in CONTROL.findall(text):
        if inner.startswith("!date^") or OWN_CHANNEL.match(inner):
            continue
        if inner.startswith(("http://", "https://")):
            url, _, label = inner.partition("|")
            if label in OWN_LINK_LABELS and not re.search(r"[\s<>|]", url):
                continue
        found.append(inner)
    return found


def strings(value: Any) -> Iterator[str]:
    """Every mrkdwn-parsed string of a message: top-level text and mrkdwn objects."""
    if isinstance(value, dict):
        if value.get("type") == "plain_text":
            return
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                yield item
            else:
                yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


@pytest.fixture
def bot(slack: SlackWorkspace, tmp_path: Path) -> Iterator[RunningBot]:
    with running_bot(
        slack,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        alertmanager={"bearer_token": TOKEN},
    ) as running:
        yield running


def post(bot: RunningBot, body: dict[str, Any]) -> None:
    answer = httpx.post(
        f"{bot.url}/alertmanager",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert answer.status_code == 200


def hostile_alert(name: str, **labels: str) -> dict[str, Any]:
    body = alert(name, datetime.now(UTC) - timedelta(minutes=1), summary=EVIL_TITLE)
    body["labels"].update(labels)
    body["annotations"]["runbook_url"] = EVIL_URL
    body["generatorURL"] = EVIL_URL
    return body


def test_alert_strings_land_in_the_header_triage_and_edits_as_text(
    slack: SlackWorkspace, bot: RunningBot
) -> None:
    evil = hostile_alert("EvilAlert <!channel>", severity="<!here>", service="<@UEVIL>")
    payload = webhook(evil)
    payload["externalURL"] = EVIL_URL
    post(bot, payload)
    header = slack.wait_for(
        lambda: [m for m in slack.messages("incidents") if m.get("bot_id")], timeout=10
    )[0]
    slack.wait_for(lambda: len(slack.thread("incidents", header["ts"])) >= 2, timeout=10)
    resolved = dict(evil, status="resolved", endsAt=datetime.now(UTC).isoformat())
    post(bot, webhook(resolved))
    slack.wait_for(lambda: len(slack.thread("incidents", header["ts"])) >= 3, timeout=10)
    sent = slack.wait_for(  # header, triage, resolution, and the header's edit (paced apart)
        lambda: (
            found
            if len(
                found := [
                    c.args for c in slack.calls() if c.method in ("chat.postMessage", "chat.update")
                ]
            )
            >= 4
            else None
        ),
        timeout=20,
    )
    problems = [(s, live_sequences(s)) for body in sent for s in strings(body)]
    assert [p for p in problems if p[1]] == []
    everything = json.dumps(sent)
    assert "EvilAlert &lt;!channel&gt;" in everything
    assert "&lt;!here&gt;" in everything


def test_incident_declare_echoes_the_title_escaped_and_usage_shows_placeholders(
    slack: SlackWorkspace, bot: RunningBot
) -> None:
    slack.slash_command("U0ALICE", "incidents", "/incident", f"declare {EVIL_TITLE}")
    slack.slash_command("U0ALICE", "incidents", "/incident", "frobnicate")
    replies = slack.wait_for(
        lambda: found if len(found := slack.ephemerals("U0ALICE")) >= 2 else None, timeout=10
    )
    texts = [s for reply in replies for s in strings(reply)]
    assert any("Declared incident" in t for t in texts)
    assert any("&lt;id&gt;" in t for t in texts)
    assert [t for t in texts if live_sequences(t)] == []
    header = slack.wait_for(
        lambda: [m for m in slack.messages("incidents") if m.get("bot_id")], timeout=10
    )[0]
    assert live_sequences(header["text"]) == []
