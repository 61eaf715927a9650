"""Declared HTTP hooks run as actions; shadow mode records what would have run and does
nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kubernetes import client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.kube import KubeSandbox
from sandbox.serve import ServerThread
from sandbox.slack.workspace import SlackWorkspace
from tests.remediation.conftest import deployment, proposal, remediation_bot
from tests.remediation.test_remediation_approval_flow import card_says
from tests.remediation.test_remediation_guards import wait_state

STAGING = deployment("checkout", "staging")


def test_a_declared_hook_posts_its_body_to_its_url(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    policy_file: Path,
    tmp_path: Path,
) -> None:
    received: list[dict[str, Any]] = []

    async def flush(request: Request) -> JSONResponse:
        received.append({"body": await request.json(), "token": request.headers.get("x-token")})
        return JSONResponse({"flushed": True})

    with ServerThread(Starlette(routes=[Route("/flush", flush, methods=["POST"])])) as cdn:
        hooks = {
            "flush-cdn": {
                "url": f"{cdn.url}/flush",
                "body": {"paths": ["/checkout/*"]},
                "headers": {"x-token": "t0k"},
            }
        }
        with remediation_bot(
            slack,
            f"sqlite:///{tmp_path / 'bot.db'}",
            kubeconfig=kubeconfig,
            policy_file=policy_file,
            hooks=hooks,
        ) as bot:
            svc = bot.bot.runtime.remediation
            [ran, unknown] = svc.propose(
                None,
                [
                    proposal("http_hook", STAGING, {"hook": "flush-cdn"}),
                    proposal("http_hook", STAGING, {"hook": "nope"}, proposal_id="p2"),
                ],
                "stale assets",
            )
            assert (ran.state, ran.rule) == ("approved", "hooks-nonprod")
            assert wait_state(slack, bot, ran.action_id, "succeeded", "failed") == "succeeded"
            assert unknown.state == "refused"
            assert "not declared" in unknown.note
    assert received == [{"body": {"paths": ["/checkout/*"]}, "token": "t0k"}]


def test_shadow_mode_records_what_would_have_run_and_changes_nothing(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    tmp_path: Path,
) -> None:
    shadow = tmp_path / "shadow.yaml"
    shadow.write_text(
        "version: 1\nmode: shadow\n"
        'mode_overrides: [{namespaces: ["*"], mode: shadow}]\n'
        "defaults: {approvers: [S0ONCALL]}\n"
    )
    with remediation_bot(
        slack, f"sqlite:///{tmp_path / 'bot.db'}", kubeconfig=kubeconfig, policy_file=shadow
    ) as bot:
        [outcome] = bot.bot.runtime.remediation.propose(
            None, [proposal("scale_deployment", STAGING, {"replicas": 3})], "more capacity"
        )
        assert (outcome.state, outcome.verdict) == ("shadowed", "SAFE")
        shown = slack.wait_for(lambda: card_says(slack, outcome.action_id, "Shadowed"))
        assert "action_approve" not in json.dumps(shown["blocks"])
    apps: Any = client.AppsV1Api(kube.api_client())
    assert apps.read_namespaced_deployment("checkout", "staging").spec.replicas == 1
