"""Pure Block Kit builders. Every action id the bot uses lives in `ActionId`."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import Block, DividerBlock

from bot.slack.kit import context, header, section
from bot.slack.text import Mrkdwn, code, escape, join, lit


class ActionId(StrEnum):
    """Every interactive element's `action_id` (the manifest test checks listeners exist)."""

    INCIDENT_ACK = "incident_ack"
    INCIDENT_INVESTIGATE = "incident_investigate"
    INCIDENT_SILENCE = "incident_silence"
    INCIDENT_RESOLVE = "incident_resolve"
    ACTION_APPROVE = "action_approve"
    ACTION_DENY = "action_deny"
    ACTION_DENY_REASON = "action_deny_reason"
    FINDING_EVIDENCE = "finding_evidence"


COMMAND_HELP: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "/ask-ai": (
        "Ask opsbot about your systems",
        [
            ("/ask-ai <question>", "investigate with Prometheus, logs, traces and Kubernetes"),
            ("/ask-ai why is checkout slow?", "an example question"),
            ("/ask-ai help", "this help"),
        ],
    ),
    "/incident": (
        "Manage incidents",
        [
            ("/incident list", "open incidents"),
            ("/incident show <id>", "one incident with its timeline"),
            ("/incident declare <title>", "open an incident by hand"),
            ("/incident ack | resolve", "inside an incident thread"),
        ],
    ),
    "/opsbot": (
        "Operate opsbot",
        [
            ("/opsbot status", "mode, breakers, budgets and pending approvals"),
            ("/opsbot pause [reason] | resume", "stop or restart every action (approvers only)"),
            ("/opsbot policy explain <action> <target>", "why an action is safe or not"),
            ("/opsbot digest NAME now", "post a digest now (incidents, logs, performance, ...)"),
            ("/opsbot digest list", "each digest's channel and next run"),
            ("/opsbot capacity [namespace]", "forecasts, rightsizing savings and idle resources"),
            ("/opsbot help", "this help"),
        ],
    ),
}


__all__ = [
    "COMMAND_HELP",
    "ActionId",
    "as_dicts",
    "escape",
    "mention_help_blocks",
    "usage_blocks",
    "usage_line",
]


def usage_blocks(command: str) -> list[Block]:
    title, rows = COMMAND_HELP[command]
    lines = join((Mrkdwn(f"{code(usage)}  {escape(what)}") for usage, what in rows), lit("\n"))
    return [header(title), section(lines), DividerBlock(), context(lit("opsbot · usage help"))]


def usage_line(command: str) -> str:
    """The usage as one line of plain text (an error's message, escaped where shown)."""
    title, rows = COMMAND_HELP[command]
    return title + ": " + "; ".join(usage for usage, _ in rows)


def unknown_subcommand(command: str, verb: str) -> str:
    """The reply to `/command <verb>` when no such subcommand exists, as plain text (escaped
    where it is shown): says so, then the usage."""
    return f"unknown subcommand `{verb[:40]}` for {command}. {usage_line(command)}"


def usage_text(command: str) -> Mrkdwn:
    """The usage as one line of mrkdwn (a fallback `text`): `<id>` and `<title>`
    placeholders are escaped, not read as Slack links."""
    return escape(usage_line(command))


def as_dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def mention_help_blocks() -> list[Block]:
    commands = join(
        (Mrkdwn(f"{code(cmd)}: {escape(title)}") for cmd, (title, _) in COMMAND_HELP.items()),
        lit("\n"),
    )
    return [section(Mrkdwn("Hi! Here is what I can do:\n" + commands))]
