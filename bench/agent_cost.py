"""Tokens and cost per investigation: a scripted Claude (the Messages API stand-in, real
anthropic SDK) follows a realistic tool path over the test world's real backends, and the
pattern engine answers the same incidents without a model.

    python -m bench.agent_cost [--runs 3] [--json OUT]   (from the project root)

Token counts are the stand-in's estimates (4 characters a token, the API's prompt-caching
rules); prices are the settings' table (ANTHROPIC_PRICES).
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes import client

from bot.deps import build_deps
from bot.investigation.agent.request import AlertContext, InvestigationRequest, Workflow
from bot.investigation.investigator import Investigator
from bot.settings import load_settings
from sandbox.claude import ClaudeSandbox, RecordedRequest, Reply, ToolCall
from sandbox.jaeger import TraceStore, create_app
from sandbox.kube import KubeSandbox
from sandbox.procs import start_opensearch, start_prometheus
from sandbox.serve import ServerThread
from tests.agent import world

CASES = [
    ("prod", "payments"),
    ("prod", "checkout"),
    ("staging", "checkout"),
    ("staging", "payments"),
    ("data", "orders"),
    ("billing", None),
    ("edge", "gateway"),
    ("edge", "checkout"),
]
POD = re.compile(r"payments-[a-z0-9]+-[a-z0-9]+")


def request(namespace: str, service: str | None, number: int) -> InvestigationRequest:
    labels = {"namespace": namespace, **({"service": service} if service else {})}
    now = datetime.now(UTC)
    return InvestigationRequest(
        workflow=Workflow.INCIDENT,
        question="",
        now=now,
        incident_id=number,
        title=f"trouble in {namespace}/{service}",
        namespace=namespace,
        service=service,
        alerts=(
            AlertContext("KubePodCrashLooping", "firing", now, labels, {"summary": "restarts"}),
        ),
    )


def oom_script() -> list[Any]:
    pods = {"namespace": "prod", "workload": "payments"}

    def logs(req: RecordedRequest) -> Reply:
        pod = POD.search(str((req.tool_result_for("k8s_pods") or {}).get("content")))
        name = pod.group(0) if pod else "payments"
        return Reply(
            tool_calls=(
                ToolCall(
                    "k8s_pod_logs", {"namespace": "prod", "pod": name, "previous": True}, id="t3"
                ),
                ToolCall("prometheus_range_query", {"query": "up", "lookback": "1h"}, id="t4"),
            )
        )

    submit = {
        "summary": "payments is OOM-killed in a loop",
        "root_cause": "heap above the limit",
        "confidence": 0.85,
        "evidence": ["t1", "t3"],
        "proposed_actions": [
            {
                "kind": "restart_deployment",
                "reason": "clear the loop",
                "target": {"namespace": "prod", "name": "payments"},
            }
        ],
    }
    return [
        Reply(
            text="Looking at pods and events.",
            tool_calls=(
                ToolCall("k8s_pods", pods, id="t1"),
                ToolCall("k8s_events", {"namespace": "prod", "warnings_only": True}, id="t2"),
            ),
        ),
        logs,
        Reply(tool_calls=(ToolCall("submit_finding", submit, id="t5"),)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    now = datetime.fromtimestamp(int(time.time()) // 60 * 60, UTC)
    out: dict[str, Any] = {"claude": [], "pattern": []}
    with (
        tempfile.TemporaryDirectory() as tmp,
        KubeSandbox(
            world.cluster_seed(), auto_advance=False, start=now - world.ROLLOUT_AGO
        ) as kube,
        start_prometheus(history=world.metric_history(now)) as prometheus,
        start_opensearch() as logs,
        ServerThread(create_app(TraceStore(world.traces(now)))) as jaeger,
    ):
        apps = client.AppsV1Api(kube.api_client())
        for namespace, image in (
            ("prod", "registry.example.com/shop/checkout:1.9.0"),
            ("staging", world.BAD_IMAGE),
        ):
            container = {"name": "app", "image": image}
            apps.patch_namespaced_deployment(
                "checkout", namespace, {"spec": {"template": {"spec": {"containers": [container]}}}}
            )
        kube.cluster.advance(120)
        logs.create_index("logs-app", world.LOG_MAPPINGS)
        logs.bulk_index("logs-app", world.app_logs(now))
        claude = ClaudeSandbox(api_keys=["sandbox-key"])
        with ServerThread(claude.app) as claude_server:
            tools = {
                "kubeconfig": str(kube.write_kubeconfig(Path(tmp) / "kubeconfig")),
                "prometheus_url": prometheus.url,
                "logs_url": logs.url,
                "logs_flavor": "opensearch",
                "jaeger_url": jaeger.url,
            }
            llm = {
                "api_key": "sandbox-key",
                "base_url": claude_server.url,
                "max_retries": 0,
                "answer_cache_seconds": 0,
                "tool_cache_seconds": 0,
            }
            settings = load_settings(
                database={"url": f"sqlite:///{tmp}/b.db"}, tools=tools, llm=llm
            )
            deps = build_deps(settings)
            investigator = Investigator.from_settings(settings, deps.db, deps.metrics, deps.cache)
            for run in range(args.runs):
                claude.script(f"oom-{run}", oom_script())
                started = time.perf_counter()
                answer = investigator.investigate(request("prod", "payments", run))
                usage = answer.usage
                out["claude"].append(
                    {
                        "run": run,
                        "engine": answer.engine.value,
                        "steps": answer.steps,
                        "input": usage.input_tokens,
                        "output": usage.output_tokens,
                        "cache_write": usage.cache_creation_tokens,
                        "cache_read": usage.cache_read_tokens,
                        "cost_usd": round(usage.cost_usd, 5),
                        "seconds": round(time.perf_counter() - started, 2),
                    }
                )
            plain = Investigator.from_settings(
                settings,
                deps.db,
                deps.metrics,
                deps.cache,
                toolbox=investigator.toolbox,
                claude=False,
            )
            for number, (namespace, service) in enumerate(CASES):
                started = time.perf_counter()
                answer = plain.investigate(request(namespace, service, 100 + number))
                finding = answer.finding
                out["pattern"].append(
                    {
                        "scope": f"{namespace}/{service or '-'}",
                        "rule": finding.rule,
                        "confidence": finding.confidence,
                        "actions": [f"{p.kind} {p.target}" for p in finding.proposals],
                        "seconds": round(time.perf_counter() - started, 2),
                    }
                )
            investigator.close()
            deps.close()
    print("Scripted Claude (OOM path: 3 model calls, 5 tool calls), per investigation:")
    for row in out["claude"]:
        print(
            f"  run {row['run']}: {row['steps']} steps, in {row['input']:,} / out {row['output']:,}"
            f" / cache write {row['cache_write']:,} / cache read {row['cache_read']:,} tokens,"
            f" ${row['cost_usd']:.4f}, {row['seconds']}s"
        )
    print("Pattern engine (no model, $0):")
    for row in out["pattern"]:
        print(
            f"  {row['scope']:<18} {row['rule'] or '-':<20} {row['confidence']:.2f} "
            f"{'; '.join(row['actions']) or '(advice only)'}  {row['seconds']}s"
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
