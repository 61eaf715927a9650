"""End to end in the local Slack workspace: /ask-ai, follow-up replies, and the incident
pipeline handing its incident to the investigator."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.claude import Reply, ToolCall
from sandbox.slack.workspace import SlackWorkspace
from tests.agent.conftest import Backends, ClaudeServer
from tests.botharness import running_bot
from tests.incidents.amfixtures import alert, webhook

Json = dict[str, Any]


def tools(backends: Backends) -> dict[str, str]:
    return {
        "kubeconfig": str(backends.kubeconfig),
        "logs_url": backends.logs,
        "logs_flavor": "opensearch",
        "prometheus_url": backends.prometheus,
    }


def answers(slack: SlackWorkspace, channel: str, root: str) -> list[Json]:
    """Bot replies in the thread that are finished answers (not placeholders)."""
    return [
        m
        for m in slack.thread(channel, root)[1:]
        if m.get("bot_id") and "Investigating" not in json.dumps(m.get("blocks", []))
    ]


def asked_root(slack: SlackWorkspace) -> Json:
    return slack.wait_for(
        lambda: [m for m in slack.messages("general") if "asked:" in str(m.get("text"))], timeout=10
    )[-1]


def test_ask_ai_acks_posts_a_placeholder_and_replaces_it_with_claudes_answer_then_follows_up(
    slack: SlackWorkspace, backends: Backends, claude: ClaudeServer, tmp_path: Path
) -> None:
    pods = {"namespace": "prod", "workload": "payments"}
    claude.sandbox.script(
        "slack-ask",
        [
            Reply(tool_calls=(ToolCall("k8s_pods", pods, id="toolu_pods"),)),
            Reply(
                tool_calls=(
                    ToolCall(
                        "submit_finding",
                        {
                            "summary": "payments is OOM-killed in a loop.",
                            "root_cause": "Its heap outgrows the memory limit.",
                            "confidence": 0.8,
                            "evidence": ["toolu_pods"],
                            "proposed_actions": [
                                {
                                    "kind": "restart_deployment",
                                    "target": {"namespace": "prod", "name": "payments"},
                                    "reason": "clear the loop",
                                }
                            ],
                        },
                    ),
                )
            ),
            Reply(
                tool_calls=(
                    ToolCall(
                        "submit_finding",
                        {
                            "summary": "checkout is healthy.",
                            "root_cause": "None.",
                            "confidence": 0.7,
                            "evidence": [],
                        },
                    ),
                )
            ),
        ],
    )
    llm = {"api_key": "sandbox-key", "base_url": claude.url, "max_retries": 0}
    with running_bot(
        slack, database_url=f"sqlite:///{tmp_path / 'bot.db'}", llm=llm, tools=tools(backends)
    ):
        result = slack.slash_command("U0ALICE", "general", "/ask-ai", "why is payments crashing?")
        assert result.ok
        assert result.payload is not None
        assert "Looking into it" in result.payload["text"]
        root = str(asked_root(slack)["ts"])
        answer = slack.wait_for(lambda: answers(slack, "general", root), timeout=20)[0]
        shown = json.dumps(answer["blocks"])
        assert "payments is OOM-killed in a loop." in shown
        assert "Claude (claude-sonnet-4-5)" in shown
        assert "2 model calls" in shown
        assert "restart_deployment" in shown
        assert "Show evidence" in shown  # the raw API calls are behind the button
        assert "GET /api/v1/namespaces/prod/pods" not in shown
        assert slack.calls("chat.update"), "the placeholder was replaced, not a second message"

        slack.post_message("U0ALICE", "general", "and is checkout fine?", thread_ts=root)
        slack.wait_for(lambda: len(answers(slack, "general", root)) >= 2, timeout=20)
    follow_up = [r for r in claude.sandbox.requests if r.script == "slack-ask"][-1]
    opening = follow_up.messages[0]["content"][0]["text"]
    assert "earlier message from opsbot" in opening
    assert "payments is OOM-killed" in opening
    assert "and is checkout fine?" in opening


def test_without_claude_a_log_question_is_answered_by_the_pattern_engine_with_its_query(
    slack: SlackWorkspace, backends: Backends, tmp_path: Path
) -> None:
    with running_bot(slack, database_url=f"sqlite:///{tmp_path / 'bot.db'}", tools=tools(backends)):
        slack.slash_command(
            "U0ALICE", "general", "/ask-ai", "show me all connection errors in the last hour"
        )
        root = str(asked_root(slack)["ts"])
        answer = slack.wait_for(lambda: answers(slack, "general", root), timeout=20)[0]
    shown = json.dumps(answer["blocks"])
    assert "90 log lines match" in shown
    assert "Pattern engine (rule log-query)" in shown
    assert "no Anthropic API key" in shown
    assert "connection" in shown
    assert "Show evidence" in shown  # the query DSL is behind the button, not inline
    assert "log.level" not in shown


def test_the_incident_pipeline_posts_the_investigation_in_the_incident_thread(
    slack: SlackWorkspace, backends: Backends, tmp_path: Path
) -> None:
    with running_bot(
        slack, database_url=f"sqlite:///{tmp_path / 'bot.db'}", tools=tools(backends)
    ) as running:
        body = webhook(
            alert(
                "KubePodCrashLooping",
                datetime.now(UTC),
                namespace="prod",
                service="payments",
                severity="critical",
                summary="payments restarts",
            )
        )
        running.bot.runtime.pipeline.accept(json.dumps(body).encode())
        header = slack.wait_for(
            lambda: [m for m in slack.messages("incidents") if m.get("bot_id")], timeout=10
        )[0]
        finding = slack.wait_for(
            lambda: (
                answers(slack, "incidents", str(header["ts"]))
                and [
                    m
                    for m in answers(slack, "incidents", str(header["ts"]))
                    if "Investigation of incident" in json.dumps(m.get("blocks", []))
                ]
            ),
            timeout=20,
        )[0]
    shown = json.dumps(finding["blocks"])
    assert "OOM-killed" in shown
    assert "restart_deployment" in shown
    assert "deployment/prod/payments" in shown


def test_a_follow_up_is_answered_without_history_and_says_so_when_slack_will_not_give_it(
    slack: SlackWorkspace, backends: Backends, tmp_path: Path
) -> None:
    with running_bot(slack, database_url=f"sqlite:///{tmp_path / 'bot.db'}", tools=tools(backends)):
        slack.slash_command("U0ALICE", "general", "/ask-ai", "is checkout ok?")
        root = str(asked_root(slack)["ts"])
        slack.wait_for(lambda: answers(slack, "general", root), timeout=20)
        slack.inject_failures("conversations.replies", status=500, count=10)
        slack.post_message("U0ALICE", "general", "and payments?", thread_ts=root)
        replies = slack.wait_for(lambda: len(answers(slack, "general", root)) >= 3, timeout=30)
    assert replies
    later = answers(slack, "general", root)[1:]
    notes = [m for m in later if "could not read this thread" in str(m.get("text"))]
    assert len(notes) == 1
    assert "fatal_error" in notes[0]["text"]
    answered = [m for m in later if m not in notes]
    assert answered, "the follow-up itself was answered"
    assert float(notes[0]["ts"]) < float(answered[-1]["ts"])
