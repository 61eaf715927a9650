"""`/opsbot pause|resume|status|policy explain|help`: operating the bot from Slack."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.app.runtime import Runtime
from bot.digests.capacity_command import capacity_command
from bot.digests.command import digest_command
from bot.incidents.inbox import inbox_status
from bot.remediation.status import status_text
from bot.slack.text import escape
from handlers.commands import unknown_subcommand, usage
from policies import (
    EvaluationContext,
    PolicyInputError,
    explain,
    parse_action_kind,
    parse_target,
)
from policies.explain_input import UNKNOWN_PARAMS_NOTE, explained_action, parse_params


def policy_explain(rt: Runtime, words: list[str]) -> str:
    if len(words) < 3 or words[0] != "explain":
        return (
            "Usage: `/opsbot policy explain <action> <target> [key=value ...]`, "
            "e.g. `/opsbot policy explain restart_deployment deployment/prod/checkout` or "
            "`/opsbot policy explain scale_deployment deployment/prod/payments replicas=4`"
        )
    try:
        explained = explained_action(
            parse_action_kind(words[1]),
            parse_target(words[2]),
            parse_params(words[3:]),
            reason="/opsbot policy explain",
        )
    except PolicyInputError as exc:
        return f":warning: {escape(str(exc))}"
    context = EvaluationContext(now=datetime.now(UTC))
    text = explain(explained.action, context, rt.remediation.policy)
    note = f"\n{UNKNOWN_PARAMS_NOTE}" if explained.params_unknown else ""
    return "```" + escape(text + note) + "```"


def opsbot_command(rt: Runtime, text: str, user: str) -> str:
    verb, _, rest = text.strip().partition(" ")
    svc = rt.remediation
    if verb == "status":
        return status_text(svc.parts, inbox_status(rt.deps.db))
    if verb == "pause":
        return svc.set_paused(user, paused=True, reason=rest.strip())
    if verb == "resume":
        return svc.set_paused(user, paused=False, reason=rest.strip())
    if verb == "policy":
        return policy_explain(rt, rest.split())
    if verb == "digest":
        return digest_command(rt, rest)
    return escape(unknown_subcommand("/opsbot", verb))


def register(app: App, rt: Runtime) -> None:
    @app.command("/opsbot")
    def on_opsbot(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        text = command.get("text", "").strip()
        if text in ("", "help"):
            ack(**usage("/opsbot"))
            return
        ack()

        def work() -> None:
            verb, _, rest = text.partition(" ")
            if verb == "capacity":
                respond(**capacity_command(rt.deps, rest))
                return
            respond(text=opsbot_command(rt, text, command["user_id"]), response_type="ephemeral")

        rt.deps.run_later("opsbot-command", work)
