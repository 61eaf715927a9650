"""No configured secret leaks: the bot runs as a real `opsbot run` process with distinctive
values for every credential it has, a scenario goes end to end (alert with a bearer token →
incident → Claude investigation → proposal → approval click → execution → digest), bad
requests get their error bodies, and then everything the bot wrote or said is scanned: its
logs (DEBUG), every database row (the audit log included), every Slack call, every request
to the model, every HTTP answer, /metrics and `opsbot config`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, create_engine, text

from sandbox.claude import RecordedRequest, Reply, ToolCall
from sandbox.claude.script import Turn
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import approve_in_slack
from tests.botprocess import BotProcess
from tests.conftest import drop_pg, fresh_pg_url
from tests.hardening.corpus import hostile_webhook, load_corpus
from tests.hardening.scan import (
    Sent,
    describe,
    find,
    model_bodies,
    slack_outbound,
    uploaded_files,
)
from tests.hardening.stage import Stage, stage

BOT_TOKEN = "xoxb-4242424242-HARDEN-bot-token-7f3a9c2e1d"
SIGNING_SECRET = "harden-signing-secret-5b1e8d7c3a"
API_KEY = "sk-ant-api03-HARDEN-scan-key-b7c1e0d9a8f7e6d5"
DB_PASSWORD = "Pw-HARDEN-db-9d3f7a"
AM_BEARER = "am-bearer-HARDEN-41c2e9f0"
GITHUB_TOKEN = "ghp_HARDENgithubTOKEN0123456789abcdefABCD"
SECRETS = [BOT_TOKEN, SIGNING_SECRET, API_KEY, DB_PASSWORD, AM_BEARER, GITHUB_TOKEN]
PLACEHOLDER = re.compile(r"\[[A-Z]+_\d+\]")
TIMEOUT = 90.0


def investigating(request: RecordedRequest) -> Reply:
    """A well-behaved model: looks at checkout, proposes a restart, and repeats the masked
    values it saw (as a model quoting its evidence would)."""
    steps = sum(1 for m in request.messages if m.get("role") == "assistant")
    if steps == 0:
        return Reply(
            tool_calls=(
                ToolCall("k8s_deployment", {"namespace": "prod", "name": "checkout"}),
                ToolCall("log_search", {"service": "checkout", "level": "error", "limit": 50}),
            )
        )
    seen = " ".join(sorted(set(PLACEHOLDER.findall(request.last_user_text()))))
    finding = {
        "summary": f"checkout errors after its last rollout; the logs mention {seen}"[:1500],
        "root_cause": "checkout's new pods fail their requests.",
        "confidence": 0.9,
        "evidence": [],
        "proposed_actions": [
            {
                "kind": "restart_deployment",
                "target": {"namespace": "prod", "name": "checkout"},
                "reason": "restart checkout",
            }
        ],
    }
    return Reply(tool_calls=(ToolCall("submit_finding", finding),))


@dataclass
class Collected:
    sent: list[Sent]
    states: list[str]
    statuses: dict[str, int]
    seconds: dict[str, float]


def _env(staged: Stage, database_url: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "OPSBOT_DATABASE_URL": database_url,
        "ANTHROPIC_API_KEY": API_KEY,
        "ANTHROPIC_BASE_URL": staged.claude_url,
        "ANTHROPIC_MAX_RETRIES": "0",
        "ANTHROPIC_ANSWER_CACHE_SECONDS": "0",
        "OPSBOT_ALERTMANAGER_BEARER_TOKEN": AM_BEARER,
        "OPSBOT_DIGEST_GITHUB_TOKEN": GITHUB_TOKEN,
        "OPSBOT_KUBECONFIG": str(staged.kubeconfig),
        "OPSBOT_LOGS_URL": staged.logs.url,
        "OPSBOT_LOGS_FLAVOR": "opensearch",
        "OPSBOT_JAEGER_URL": staged.jaeger.url,
        "OPSBOT_POLICY_FILES": str(staged.policy),
        "OPSBOT_REMEDIATION_VALIDATION_DEADLINE_SECONDS": "10",
        "OPSBOT_REMEDIATION_VALIDATION_INTERVAL_SECONDS": "0.5",
        "OPSBOT_REMEDIATION_VALIDATION_HOLD_SECONDS": "1",
        "OPSBOT_LOG_LEVEL": "DEBUG",
    }


def _card(slack: SlackWorkspace, needle: str) -> dict[str, Any] | None:
    for root in slack.messages("incidents"):
        for reply in slack.thread("incidents", root["ts"]):
            if needle in json.dumps(reply.get("blocks", [])):
                return reply
    return None


def _bad_requests(url: str) -> tuple[list[Sent], dict[str, int]]:
    """Wrong or missing credentials, broken and invalid bodies, unknown routes."""
    bearer = {"Authorization": f"Bearer {AM_BEARER}"}
    tries: list[tuple[str, str, str, dict[str, str], bytes]] = [
        ("alertmanager without credentials", "POST", "/alertmanager", {}, b"{}"),
        (
            "alertmanager with a wrong token",
            "POST",
            "/alertmanager",
            {"Authorization": "Bearer wrong"},
            b"{}",
        ),
        ("alertmanager with a broken body", "POST", "/alertmanager", bearer, b"{not json"),
        ("alertmanager with an invalid body", "POST", "/alertmanager", bearer, b'{"alerts": 7}'),
        ("slack events unsigned", "POST", "/slack/events", {}, b'{"type": "url_verification"}'),
        (
            "slack events badly signed",
            "POST",
            "/slack/events",
            {"X-Slack-Signature": "v0=00", "X-Slack-Request-Timestamp": str(int(time.time()))},
            b"token=x&command=/ask-ai",
        ),
        ("an unknown route", "GET", "/v1/secrets", {}, b""),
        ("metrics", "GET", "/metrics", {}, b""),
        ("readiness", "GET", "/readyz", {}, b""),
        ("health", "GET", "/healthz", {}, b""),
    ]
    sent: list[Sent] = []
    statuses: dict[str, int] = {}
    for what, method, path, headers, body in tries:
        answer = httpx.request(method, url + path, headers=headers, content=body, timeout=10)
        statuses[what] = answer.status_code
        sent.append(Sent(f"HTTP {what} ({answer.status_code})", answer.text))
    return sent, statuses


def _database(url: str) -> list[Sent]:
    """Every row of every table, the audit log first among them."""
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    sent = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(text(f'SELECT * FROM "{table.name}"')):
                sent.append(Sent(f"db {table.name}", json.dumps(list(row), default=str)))
    engine.dispose()
    return sent


def _config_output(env: dict[str, str], workdir: Path) -> list[Sent]:
    sent = []
    for args in (["config"], ["config", "--json"]):
        done = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env={**env, "COLUMNS": "400"},
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        sent.append(Sent(f"opsbot {' '.join(args)}", done.stdout + done.stderr))
    return sent


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = fresh_pg_url()
    yield url
    drop_pg(url)


def test_no_configured_secret_appears_anywhere_after_a_full_scenario(
    pg_url: str, tmp_path: Path
) -> None:
    database_url = pg_url.replace("postgres@", f"postgres:{DB_PASSWORD}@")
    seconds: dict[str, float] = {}
    began = time.monotonic()
    with stage(load_corpus(), tmp_path, bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET) as st:
        st.claude.api_keys.add(API_KEY)
        st.claude.script("scenario", [Turn(respond=investigating)] * 6)
        seconds["stage"] = time.monotonic() - began
        env = _env(st, database_url)
        bot = BotProcess(st.slack, tmp_path, **env).start(timeout=60)
        try:
            st.slack.configure(bot_url=f"{bot.url}/slack/events")
            seconds["start"] = time.monotonic() - began
            posted = httpx.post(
                f"{bot.url}/alertmanager",
                json=hostile_webhook(load_corpus(), datetime.now(UTC)),
                headers={"Authorization": f"Bearer {AM_BEARER}"},
                timeout=10,
            )
            assert posted.status_code == 200, posted.text
            pending = st.slack.wait_for(lambda: _card(st.slack, "action_approve"), TIMEOUT)
            seconds["alert to approval card"] = time.monotonic() - began
            approve_in_slack(st.slack, "U0BOB", "incidents", pending["ts"])
            done = st.slack.wait_for(
                lambda: _card(st.slack, "Succeeded") or _card(st.slack, "Failed"), TIMEOUT
            )
            seconds["approval to outcome"] = time.monotonic() - began
            st.slack.slash_command("U0ALICE", "ops-digest", "/opsbot", "digest incidents now")
            st.slack.wait_for(
                lambda: any("ncident" in json.dumps(m) for m in st.slack.messages("ops-digest")),
                30,
            )
            # the log digest charts the hostile log templates: its PNG is scanned too
            st.slack.slash_command("U0ALICE", "ops-digest", "/opsbot", "digest logs now")
            st.slack.wait_for(
                lambda: any("Log digest" in json.dumps(m) for m in st.slack.messages("ops-digest")),
                60,
            )
            http, statuses = _bad_requests(bot.url)
        finally:
            bot.stop()
        sent = [
            Sent("bot log", bot.log_path.read_text()),
            *http,
            *_database(database_url),
            *slack_outbound(st.slack),
            *model_bodies(st.claude),
            *_config_output(env, tmp_path),
        ]
        uploads = uploaded_files(st.slack)
        sent += uploads
    seconds["total"] = time.monotonic() - began
    print("statuses", statuses, "timings", seconds, "scanned", len(sent), "texts")
    assert "Succeeded" in json.dumps(done["blocks"])
    assert statuses["alertmanager without credentials"] == 401
    assert statuses["alertmanager with a broken body"] == 400
    hits = find(sent, SECRETS)
    assert hits == [], describe(hits)
    # uploaded files: no secret and no personal data from the corpus either
    sensitive = [value for entry in load_corpus() for value in entry.sensitive]
    assert find(uploads, sensitive) == [], describe(find(uploads, sensitive))
    assert any(u.where.endswith("top-templates.png (png text)") for u in uploads), uploads
    assert all("Software: Matplotlib" in u.text for u in uploads if "png" in u.where)
    # the scan looked at something: each source holds what it should
    where = {item.where.split(" (")[0] for item in sent}
    assert {"bot log", "db audit_event", "slack chat.postMessage", "opsbot config"} <= where
    assert "opsbot serving" in sent[0].text
    assert "webhook refused" in sent[0].text
    assert find(sent, ["postgres:******@127.0.0.1"]) != []
