"""Through the whole path (alerts from the live world's Prometheus, the real Alertmanager,
incidents per workload, the bot's own investigation): when three services are released
together and one of them throws, the innocent callers' incidents never propose acting on
their own release; each says in its thread why the action is held back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.incidents.flow import HELD
from bot.store.actions import ActionRecord
from bot.store.incidents import Incident, IncidentEvent
from sandbox.scenarios.catalog import load_scenario
from tests.botharness import RunningBot
from tests.scenarios.closed_loop import closed_loop


def _held(bot: RunningBot) -> list[IncidentEvent]:
    with bot.bot.deps.db.session() as session:
        return list(session.exec(select(IncidentEvent).where(IncidentEvent.kind == HELD)).all())


def _incidents(bot: RunningBot) -> list[Incident]:
    with bot.bot.deps.db.session() as session:
        return list(session.exec(select(Incident)).all())


def _actions(bot: RunningBot) -> list[ActionRecord]:
    with bot.bot.deps.db.session() as session:
        return list(session.exec(select(ActionRecord).order_by(col(ActionRecord.created_at))))


def _acted_on(bot: RunningBot, service: str) -> list[ActionRecord] | None:
    found = [a for a in _actions(bot) if a.target.rsplit("/", 1)[-1] == service]
    return found or None


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_an_innocent_release_beside_a_failing_one_is_never_rolled_back(tmp_path: Path) -> None:
    scenario = load_scenario("several-deploys")
    innocent = {r.deployment for r in scenario.rollouts if r.innocent}
    with closed_loop(tmp_path) as loop:
        bot, slack = loop.bot, loop.slack
        loop.world.run_scenario(scenario)
        faulty = next(r.deployment for r in scenario.rollouts if not r.innocent)
        # the faulty service's incident is a warning, posted once it has lasted 2 m;
        # by the time its rollback is proposed, the callers' findings are in
        [fix] = slack.wait_for(lambda: _acted_on(bot, faulty), timeout=600)
        assert fix.kind == "rollback_deployment"
        slack.wait_for(lambda: len(_incidents(bot)) >= 3, timeout=60)
        acted_on = {a.target.rsplit("/", 1)[-1] for a in _actions(bot)}
        assert not acted_on & innocent, [a.target for a in _actions(bot)]
        for event in _held(bot):  # any caller's release the finding blamed is held back
            assert event.detail["target"].rsplit("/", 1)[-1] in innocent
            assert event.detail["origin"] == faulty
