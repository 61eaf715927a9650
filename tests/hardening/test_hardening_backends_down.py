"""Investigations with data sources down, failing or slow still post a finding in time.

Each fault alone and all at once, through the running bot (alert -> thread -> triage ->
investigation -> finding), with the pattern engine and with a scripted Claude: the finding
is posted, names each source it could not see with the backend's reason (no traceback),
and arrives within the investigation deadline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.claude import ClaudeSandbox, Reply, ToolCall
from sandbox.jaeger import TraceStore, create_app
from sandbox.kube import KubeSandbox
from sandbox.serve import ServerThread
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import running_bot, workspace
from tests.hardening.recording_server import RecordingBackend, closed_port_url, serving
from tests.incidents.amfixtures import alert, webhook

TOKEN = "am-backends-token"
CLAUDE_KEY = "sandbox-key"
TOOL_TIMEOUT_S = 1.5
DEADLINE_S = 30.0
KUBE_STATUS = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "metadata": {}}


@dataclass
class Sources:
    """Tool settings for one scenario and the note each broken source must produce."""

    tools: dict[str, Any]
    expected: dict[str, str]  # source label -> a phrase its note must contain


@pytest.fixture(scope="module")
def healthy_kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with KubeSandbox(auto_advance=False) as kube:
        yield str(kube.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config"))


@pytest.fixture(scope="module")
def healthy_jaeger() -> Iterator[str]:
    with ServerThread(create_app(TraceStore([]))) as server:
        yield server.url


@pytest.fixture(scope="module")
def claude() -> Iterator[tuple[ClaudeSandbox, str]]:
    sandbox = ClaudeSandbox(api_keys=[CLAUDE_KEY])
    with ServerThread(sandbox.app) as server:
        yield sandbox, server.url


def _scenario(name: str, stack: ExitStack, kubeconfig: str, jaeger: str) -> Sources:
    """Start the broken backends of scenario `name` (kept alive by `stack`)."""
    unavailable = {"status": 503, "error": {"type": "unavailable", "reason": "shards failed"}}
    broken: dict[str, Any] = {}
    expected: dict[str, str] = {}
    if name in ("prometheus_down", "all"):
        broken["prometheus_url"] = url = closed_port_url()
        expected["Prometheus"] = f"Cannot reach Prometheus at {url}"
    if name in ("logs_503", "all"):
        backend = RecordingBackend(status=503, body=unavailable)
        broken["logs_url"] = stack.enter_context(serving(backend))
        expected["Log store"] = "503"
    if name in ("jaeger_slow", "all"):
        backend = RecordingBackend(body={"data": []}, delay_s=TOOL_TIMEOUT_S + 2.5)
        broken["jaeger_url"] = stack.enter_context(serving(backend))
        expected["Jaeger"] = f"did not answer within {TOOL_TIMEOUT_S:g}s"
    if name in ("kube_500", "kube_403", "all"):
        code = 403 if name == "kube_403" else 500
        reason = {403: "Forbidden", 500: "InternalError"}[code]
        body = {**KUBE_STATUS, "code": code, "reason": reason, "message": f"{reason} (test)"}
        backend = RecordingBackend(status=code, body=body)
        broken["kube_api_url"] = stack.enter_context(serving(backend))
        expected["Kubernetes API"] = "credentials" if code == 403 else str(code)
    healthy: dict[str, Any] = {}
    if "kube_api_url" not in broken:
        healthy["kubeconfig"] = kubeconfig
    elif name != "all":
        healthy["jaeger_url"] = jaeger
    tools = {
        "logs_flavor": "opensearch",
        "kube_namespace": "prod",
        "tool_timeout_seconds": TOOL_TIMEOUT_S,
        **healthy,
        **broken,
    }
    return Sources(tools, expected)


def _claude_script(tools: dict[str, Any]) -> list[Reply]:
    calls = []
    if "prometheus_url" in tools:
        calls.append(ToolCall("prometheus_query", {"query": "up"}, id="toolu_prom"))
    if "logs_url" in tools:
        calls.append(ToolCall("log_search", {"service": "checkout"}, id="toolu_logs"))
    if "jaeger_url" in tools:
        calls.append(ToolCall("jaeger_find_traces", {"service": "checkout"}, id="toolu_jaeger"))
    calls.append(ToolCall("k8s_pods", {"namespace": "prod"}, id="toolu_pods"))
    finding = {
        "summary": "Checkout errors rose; several sources could not be read.",
        "root_cause": "Unknown with the data available.",
        "confidence": 0.3,
        "evidence": [c.id for c in calls if c.id],
    }
    return [
        Reply(text="Reading every source.", tool_calls=tuple(calls)),
        Reply(tool_calls=(ToolCall("submit_finding", finding, id="toolu_submit"),)),
    ]


@pytest.fixture
def slack_ws() -> Iterator[SlackWorkspace]:
    ws = workspace(post_message_rate=0, update_rate=0)
    yield ws
    ws.close()


def _finding_of(ws: SlackWorkspace) -> dict[str, Any] | None:
    headers = [m for m in ws.messages("incidents") if m.get("bot_id")]
    if not headers:
        return None
    for message in ws.thread("incidents", headers[0]["ts"])[1:]:
        if "*Investigation of incident" in json.dumps(message.get("blocks", [])):
            return message
    return None


def _investigate_through_the_bot(
    ws: SlackWorkspace, tmp_path: Path, tools: dict[str, Any], llm: dict[str, Any]
) -> tuple[dict[str, Any], float]:
    with running_bot(
        ws,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        alertmanager={"bearer_token": TOKEN},
        tools=tools,
        llm={"deadline_seconds": DEADLINE_S, "max_retries": 0, **llm},
    ) as bot:
        started = time.monotonic()
        body = webhook(
            alert(
                "HighErrorRate",
                datetime.now(UTC) - timedelta(minutes=5),
                namespace="prod",
                service="checkout",
                severity="critical",
            )
        )
        answer = httpx.post(
            f"{bot.url}/alertmanager",
            json=body,
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )
        assert answer.status_code == 200
        finding = ws.wait_for(lambda: _finding_of(ws), timeout=DEADLINE_S + 10)
        return finding, time.monotonic() - started


def _check(finding: dict[str, Any], took: float, sources: Sources) -> None:
    shown = finding["text"] + "\n" + json.dumps(finding.get("blocks", []))
    for source, phrase in sources.expected.items():
        notes = [line for line in shown.split("\\n") if f"{source} not checked" in line]
        assert notes, f"no note for {source}: {shown[:1500]}"
        assert phrase in notes[0], notes[0]
    assert "Traceback" not in shown
    assert "Error(" not in shown
    assert took < DEADLINE_S


SCENARIOS = ["prometheus_down", "logs_503", "jaeger_slow", "kube_500", "kube_403", "all"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_pattern_engine_posts_a_finding_naming_each_source_it_could_not_see(
    scenario: str,
    slack_ws: SlackWorkspace,
    healthy_kubeconfig: str,
    healthy_jaeger: str,
    tmp_path: Path,
) -> None:
    with ExitStack() as stack:
        sources = _scenario(scenario, stack, healthy_kubeconfig, healthy_jaeger)
        finding, took = _investigate_through_the_bot(slack_ws, tmp_path, sources.tools, {})
    assert "pattern" in json.dumps(finding["blocks"]).lower()
    _check(finding, took, sources)


@pytest.mark.parametrize("scenario", ["prometheus_down", "jaeger_slow", "kube_403", "all"])
def test_a_scripted_claude_finding_names_each_source_it_could_not_see(
    scenario: str,
    slack_ws: SlackWorkspace,
    healthy_kubeconfig: str,
    healthy_jaeger: str,
    claude: tuple[ClaudeSandbox, str],
    tmp_path: Path,
) -> None:
    sandbox, url = claude
    with ExitStack() as stack:
        sources = _scenario(scenario, stack, healthy_kubeconfig, healthy_jaeger)
        sandbox.script(f"backends-{scenario}", _claude_script(sources.tools))
        llm = {"api_key": CLAUDE_KEY, "base_url": url}
        finding, took = _investigate_through_the_bot(slack_ws, tmp_path, sources.tools, llm)
    assert "Checkout errors rose" in finding["text"]
    _check(finding, took, sources)
