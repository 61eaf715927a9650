"""`/opsbot pause|resume|status|policy explain|digest|capacity`: operating the bot from
Slack. The command spans the flows (remediation's kill switch and status, the alert inbox,
the digests, the capacity report), so it is routed here, next to the composition root that
built them; each subcommand calls one function of its flow.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.remediation.service import Remediation
from bot.remediation.status import status_text
from bot.slack.blocks import unknown_subcommand
from bot.slack.text import escape
from policies import (
    EvaluationContext,
    PolicyInputError,
    explain,
    parse_action_kind,
    parse_target,
)
from policies.explain_input import UNKNOWN_PARAMS_NOTE, explained_action, parse_params

POLICY_USAGE = (
    "Usage: `/opsbot policy explain <action> <target> [key=value ...]`, "
    "e.g. `/opsbot policy explain restart_deployment deployment/prod/checkout` or "
    "`/opsbot policy explain scale_deployment deployment/prod/payments replicas=4`"
)


class Operator:
    """Runs `/opsbot` subcommands (slow ones too: call it after the ack). Built by the
    composition root with remediation, the alert inbox's status lines, and the digest and
    capacity commands (each `text -> reply`)."""

    def __init__(
        self,
        remediation: Remediation,
        intake_status: Callable[[], list[str]],
        digest: Callable[[str], str],
        capacity: Callable[[str], dict[str, Any]],
    ) -> None:
        self.remediation = remediation
        self.intake_status = intake_status
        self.digest = digest
        self.capacity = capacity

    def reply(self, text: str, user: str) -> dict[str, Any]:
        """The ephemeral reply to `/opsbot <text>` from `user`, as `respond` arguments."""
        verb, _, rest = text.strip().partition(" ")
        if verb == "capacity":
            return self.capacity(rest)
        return {"text": self.command(verb, rest, user), "response_type": "ephemeral"}

    def command(self, verb: str, rest: str, user: str) -> str:
        """The mrkdwn reply to a text subcommand."""
        svc = self.remediation
        if verb == "status":
            return status_text(svc.parts, self.intake_status())
        if verb == "pause":
            return svc.set_paused(user, paused=True, reason=rest.strip())
        if verb == "resume":
            return svc.set_paused(user, paused=False, reason=rest.strip())
        if verb == "policy":
            return self.policy_explain(rest.split())
        if verb == "digest":
            return self.digest(rest)
        return escape(unknown_subcommand("/opsbot", verb))

    def policy_explain(self, words: list[str]) -> str:
        """`/opsbot policy explain <action> <target> [key=value ...]`: how the policy would
        classify the action now, rule by rule."""
        if len(words) < 3 or words[0] != "explain":
            return POLICY_USAGE
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
        text = explain(explained.action, context, self.remediation.policy)
        note = f"\n{UNKNOWN_PARAMS_NOTE}" if explained.params_unknown else ""
        return "```" + escape(text + note) + "```"
