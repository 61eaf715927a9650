"""Tokens and cost per Claude investigation on three scenario packs, and the size of the tool
schemas each workflow sends.

    python -m bench.agent_cost [--packs a,b,c] [--max-steps N] [--warm] [--json OUT]

The scenario packs are loaded into the sandbox world's real backends (Kubernetes stand-in,
Prometheus, OpenSearch, Jaeger stand-in). The model is the Messages API stand-in driven by
one fixed investigation policy (`sandbox.claude.policy`), the same for every pack and never
read from a pack's expected answer. It uses the tools the request offers, so the same
bench measures a bot with or without the newer tools.

With `--max-steps 3` the policy's third call (its submission) is the loop's last step, the
one where the submission is demanded. Each investigation starts with a cold prompt cache
(the stand-in's cache is cleared), so the numbers are what one incident costs on its own;
with `--warm` the cache is kept from pack to pack, as when incidents follow each other
within the cache's five minutes (the tools and system prompt are then read, not written).
Token counts are the stand-in's estimates (four characters a token, the API's
prompt-caching rules and minimum cacheable lengths); the tool-schema sizes come from the
SDK's `messages.count_tokens` against the stand-in (the same estimate); prices are the
settings' table.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anthropic

from bot.investigation.agent.request import AlertContext, InvestigationRequest, Workflow
from sandbox.claude import ClaudeSandbox
from sandbox.claude.policy import POLICY, conclude
from sandbox.serve import ServerThread
from sandbox.world import LoadedScenario, World, WorldOptions
from tests.agent.helpers import investigator, settings_for

PACKS = ("memory-leak-after-release", "dependency-timeout", "bad-image")
KEY = "sandbox-key"
QUESTIONS = {
    "ask": ("why is checkout slow since noon?", Workflow.ASK),
    "logs": ("show me the errors of orders in the last hour", Workflow.LOG_QUERY),
    "capacity": ("which services are over-provisioned?", Workflow.ASK),
}


def incident_request(loaded: LoadedScenario, number: int) -> InvestigationRequest:
    alerts = tuple(
        AlertContext(a.name, "firing", a.active_since, dict(a.labels), dict(a.annotations))
        for a in loaded.alerts
    )
    labels = alerts[0].labels if alerts else {}
    return InvestigationRequest(
        workflow=Workflow.INCIDENT,
        question="",
        now=datetime.now(UTC),
        incident_id=number,
        title=alerts[0].name if alerts else "incident",
        namespace=labels.get("namespace"),
        service=labels.get("service") or labels.get("deployment"),
        alerts=alerts,
    )


def question_request(text: str, workflow: Workflow) -> InvestigationRequest:
    return InvestigationRequest(
        workflow=workflow, question=text, now=datetime.now(UTC), question_id="bench"
    )


@contextmanager
def claude_server() -> Iterator[tuple[ClaudeSandbox, str]]:
    sandbox = ClaudeSandbox(api_keys=[KEY])
    with ServerThread(sandbox.app) as server:
        yield sandbox, server.url


def schema_tokens(url: str, tools: list[dict[str, Any]], model: str) -> int:
    """Tokens the tool definitions add to a request (with the API's tool-use preamble)."""
    client = anthropic.Anthropic(api_key=KEY, base_url=url, max_retries=0)
    opening: Any = [{"role": "user", "content": "x"}]
    clean: Any = [{k: v for k, v in t.items() if k != "cache_control"} for t in tools]
    with_tools = client.messages.count_tokens(model=model, messages=opening, tools=clean)
    without = client.messages.count_tokens(model=model, messages=opening)
    client.close()
    return with_tools.input_tokens - without.input_tokens


def run(packs: tuple[str, ...], max_steps: int, warm: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"packs": [], "schemas": []}
    with (
        tempfile.TemporaryDirectory() as tmp,
        World(WorldOptions(slack=None, history=4 * 3600)).start() as world,
        claude_server() as (claude, url),
    ):
        urls = world.urls
        for number, pack in enumerate(packs, start=1):
            loaded = world.load(pack)
            settings = settings_for(
                Path(tmp) / f"{pack}.sqlite",
                kubeconfig=Path(urls.kubeconfig),
                prometheus=urls.prometheus,
                logs=urls.opensearch,
                jaeger=urls.jaeger,
                claude=url,
                answer_cache_seconds=0,
                tool_cache_seconds=0,
                max_steps=max_steps,
            )
            if not warm:
                claude.cache.clear()
            claude.script(f"bench-{pack}", list(POLICY))
            started = time.perf_counter()
            with investigator(settings) as (inv, _):
                answer = inv.investigate(incident_request(loaded, number))
            sent = [r for r in claude.requests if r.script == f"bench-{pack}"]
            usage = answer.usage
            out["packs"].append(
                {
                    "pack": pack,
                    "engine": answer.engine.value,
                    "calls": usage.calls,
                    "tools_offered": len(sent[0].tool_names) - 1 if sent else 0,
                    "tool_calls": sum(len(r.tool_results()) for r in sent),
                    "input": usage.input_tokens,
                    "cache_write": usage.cache_creation_tokens,
                    "cache_read": usage.cache_read_tokens,
                    "output": usage.output_tokens,
                    "cost_usd": round(usage.cost_usd, 5),
                    "seconds": round(time.perf_counter() - started, 1),
                    "tool_results": {
                        str(b.get("tool_use_id")): str(b.get("content"))
                        for r in sent
                        for b in r.tool_results()
                    },
                    "calls_made": {
                        call_id: name
                        for r in sent
                        for call_id, name in r.tool_calls_before_last().items()
                    },
                }
            )
        # the schemas each workflow sends: one immediate submission per workflow
        requests = {"incident": incident_request(world.loaded, 99)} if world.loaded else {}
        requests |= {name: question_request(*asked) for name, asked in QUESTIONS.items()}
        seen: dict[str, dict[str, Any]] = {}
        for name, request in requests.items():
            settings = settings_for(
                Path(tmp) / f"schema-{name}.sqlite",
                kubeconfig=Path(urls.kubeconfig),
                prometheus=urls.prometheus,
                logs=urls.opensearch,
                jaeger=urls.jaeger,
                claude=url,
                answer_cache_seconds=0,
            )
            claude.script(f"schema-{name}", [conclude])
            with investigator(settings) as (inv, _):
                inv.investigate(request)
            first = next(r for r in claude.requests if r.script == f"schema-{name}")
            assert first.body is not None
            tools = list(first.body["tools"])
            seen |= {str(tool["name"]): tool for tool in tools}
            out["schemas"].append(
                {
                    "workflow": name,
                    "model": first.body["model"],
                    "tools": len(tools),
                    "schema_tokens": schema_tokens(url, tools, first.body["model"]),
                }
            )
        # every tool any workflow sends, as one request would carry them unscoped
        everything = list(seen.values())
        out["schemas"].append(
            {
                "workflow": "(all tools, unscoped)",
                "model": "claude-sonnet-4-5",
                "tools": len(everything),
                "schema_tokens": schema_tokens(url, everything, "claude-sonnet-4-5"),
            }
        )
    return out


def report(out: dict[str, Any]) -> None:
    columns = ("pack", "calls", "tools offered", "tool calls", "input", "cache write")
    print("| " + " | ".join((*columns, "cache read", "output", "cost")) + " |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in out["packs"]:
        print(
            f"| {row['pack']} | {row['calls']} | {row['tools_offered']} | {row['tool_calls']} | "
            f"{row['input']:,} | {row['cache_write']:,} | {row['cache_read']:,} | "
            f"{row['output']:,} | ${row['cost_usd']:.4f} |"
        )
    print()
    print("| workflow | model | tools sent | schema tokens |")
    print("|---|---|---|---|")
    for row in out["schemas"]:
        print(f"| {row['workflow']} | {row['model']} | {row['tools']} | {row['schema_tokens']:,} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packs", default=",".join(PACKS))
    parser.add_argument("--max-steps", type=int, default=8)
    parser.add_argument("--warm", action="store_true", help="keep the prompt cache across packs")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    out = run(tuple(p for p in args.packs.split(",") if p), args.max_steps, args.warm)
    report(out)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
