"""Buttons on incident headers: Acknowledge, Investigate, Silence 1h, Resolve."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.app.runtime import Runtime
from bot.errors import BadInput, DependencyDown
from bot.incidents import operations as incident_ops
from bot.slack.blocks import ActionId


def register(app: App, rt: Runtime) -> None:
    def on_click(verb: str, fn: Callable[[int, str], str]) -> Callable[..., None]:
        def handler(
            ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
        ) -> None:
            ack()
            user = body["user"]["id"]

            def work() -> None:
                try:
                    note = fn(incident_ops.parse_id(str(action.get("value", ""))), user)
                except (BadInput, DependencyDown) as exc:
                    note = f":warning: {exc}"
                respond(text=note, response_type="ephemeral", replace_original=False)

            rt.deps.run_later(f"incident-{verb}", work)

        return handler

    def ack_incident(incident_id: int, user: str) -> str:
        incident_ops.acknowledge(rt.deps.db, incident_id, user)
        rt.notifier.request(incident_id)
        return f"You acknowledged incident #{incident_id}."

    def resolve_incident(incident_id: int, user: str) -> str:
        incident_ops.resolve_by_hand(rt.deps.db, incident_id, user)
        rt.notifier.request(incident_id)
        return f"You resolved incident #{incident_id}."

    def silence_incident(incident_id: int, user: str) -> str:
        silence_id = incident_ops.silence(
            rt.deps.db, rt.deps.settings.alertmanager.url, incident_id, user
        )
        return f"Silenced incident #{incident_id} for 1 hour (silence {silence_id})."

    def investigate(incident_id: int, user: str) -> str:
        incident_ops.get(rt.deps.db, incident_id)
        # One re-run per incident a minute, however many people click.
        if not rt.deps.cache.add(f"investigate:{incident_id}", user.encode(), ttl=60):
            return f"An investigation of #{incident_id} is already running; see its thread."
        rt.deps.run_later(
            "incident-investigation",
            lambda: rt.flow.investigate_and_propose(incident_id, once=False),
        )
        return f"Investigating #{incident_id}; the finding will be posted in its thread."

    app.action(ActionId.INCIDENT_ACK.value)(on_click("ack", ack_incident))
    app.action(ActionId.INCIDENT_RESOLVE.value)(on_click("resolve", resolve_incident))
    app.action(ActionId.INCIDENT_SILENCE.value)(on_click("silence", silence_incident))
    app.action(ActionId.INCIDENT_INVESTIGATE.value)(on_click("investigate", investigate))
