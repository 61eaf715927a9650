"""The stage for hardening tests: the kube stand-in, osmem, the Jaeger and Claude stand-ins
and the Slack emulator, loaded with the injection corpus, and the real bot pointed at them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.claude import ClaudeSandbox
from sandbox.jaeger import TraceStore, create_app
from sandbox.kube import KubeSandbox
from sandbox.procs import OpenSearchProcess, start_opensearch
from sandbox.serve import ServerThread
from sandbox.slack.config import SlackConfig
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import SIGNING_SECRET, RunningBot, running_bot
from tests.hardening.corpus import Entry, plant_kube, plant_logs, plant_traces

API_KEY = "sk-ant-api03-HARDEN-anthropic-key-0000000000000000000000"
SITE_POLICY = "version: 1\ndefaults:\n  approvers: [S0ONCALL]\n"


@dataclass
class Stage:
    kube: KubeSandbox
    logs: OpenSearchProcess
    jaeger: ServerThread
    claude: ClaudeSandbox
    claude_url: str
    slack: SlackWorkspace
    kubeconfig: Path
    policy: Path


@contextmanager
def stage(entries: list[Entry], workdir: Path, **slack_config: Any) -> Iterator[Stage]:
    """`slack_config` overrides the emulator's settings (e.g. its bot token)."""
    now = datetime.now(UTC)
    with ExitStack() as stack:
        kube = stack.enter_context(KubeSandbox(time_scale=10.0))
        logs = stack.enter_context(start_opensearch(workdir=workdir / "osmem"))
        traces = TraceStore()
        jaeger = stack.enter_context(ServerThread(create_app(traces)))
        claude = ClaudeSandbox(api_keys=[API_KEY])
        claude_server = stack.enter_context(ServerThread(claude.app))
        config: dict[str, Any] = {
            "signing_secret": SIGNING_SECRET,
            "bot_url": None,
            "post_message_rate": 50.0,
            "post_message_burst": 50,
            "update_rate": 50.0,
            "update_burst": 50,
            **slack_config,
        }
        slack = SlackWorkspace(SlackConfig(**config))
        slack.serve()
        stack.callback(slack.close)
        kube.cluster.settle()
        plant_kube(kube, entries)
        kube.cluster.settle()
        plant_logs(logs, entries, now)
        plant_traces(traces, entries, now)
        policy = workdir / "site-policy.yaml"
        policy.write_text(SITE_POLICY)
        yield Stage(
            kube=kube,
            logs=logs,
            jaeger=jaeger,
            claude=claude,
            claude_url=claude_server.url,
            slack=slack,
            kubeconfig=kube.write_kubeconfig(workdir / "kubeconfig"),
            policy=policy,
        )


def bot_groups(stage: Stage, **extra: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Settings groups for `running_bot` (besides slack and database)."""
    groups: dict[str, dict[str, Any]] = {
        "tools": {
            "kubeconfig": str(stage.kubeconfig),
            "logs_url": stage.logs.url,
            "logs_flavor": "opensearch",
            "logs_index": "logs-*",
            "jaeger_url": stage.jaeger.url,
            "tool_output_tokens": 6000,
        },
        "llm": {
            "api_key": API_KEY,
            "base_url": stage.claude_url,
            "max_retries": 0,
            "timeout_seconds": 30.0,
            "answer_cache_seconds": 0,
        },
        "policy": {"files": str(stage.policy)},
        "remediation": {
            "validation_deadline_seconds": 20.0,
            "validation_interval_seconds": 0.5,
            "validation_hold_seconds": 1.0,
        },
    }
    for name, values in extra.items():
        groups[name] = {**groups.get(name, {}), **values}
    return groups


@contextmanager
def bot_on(stage: Stage, database_url: str, **extra: dict[str, Any]) -> Iterator[RunningBot]:
    with running_bot(stage.slack, database_url=database_url, **bot_groups(stage, **extra)) as bot:
        yield bot
