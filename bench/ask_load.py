"""/ask-ai under load: 50 people ask at the same moment; the bot (real `opsbot run`
processes on PostgreSQL + Redis, behind the L4 balancer) must ack each signed slash command
within Slack's 3 seconds and answer in the thread when the investigation is done.

    python bench/ask_load.py [--questions 50] [--channels 25] [--engine both|claude|pattern]
        [--first-token 1.0 3.0] [--tokens-per-second 50] [--replicas 1]
        [--worker-threads N] [--json OUT]

The Claude stand-in answers with the API's latency (first token after 1-3 s, then 50 output
tokens a second), 2 or 3 model calls per question, with tool calls (pods, events) against a
Kubernetes stand-in; `pattern` runs the same questions with no API key (the pattern engine).
Ack latency is what the emulated Slack measures from sending the command to the bot's HTTP
answer; answer latency runs to the `chat.update` that replaces the placeholder.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from slack_sdk import WebClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loadkit import (
    REDIS_URL,
    Sampler,
    drop_database,
    fresh_database,
    load_average,
    proc_stats,
    quantiles,
    report,
    scrape,
    start_replicas,
)
from sandbox.claude import ClaudeSandbox, Latency, RecordedRequest, Reply, ToolCall
from sandbox.kube import KubeSandbox
from sandbox.serve import ServerThread
from tests.botharness import workspace

API_KEY = "sandbox-key"
QUEUE = 'opsbot_queue_depth{queue="work"}'
ASKED = re.compile(r"asked: .*\[(q\d+)\]")
USERS = ("U0ALICE", "U0BOB", "U0CAROL")
TOPICS = ("checkout", "payments", "orders", "gateway", "search")


def model_turn(request: RecordedRequest) -> Reply:
    """One model call of an /ask-ai conversation, chosen from the conversation so far: the
    first looks at pods and events, a third of the conversations look again, then submit."""
    done = sum(1 for m in request.messages if m.get("role") == "assistant")
    first = str(request.messages[0].get("content") if request.messages else "")
    calls = 3 if sum(map(ord, first)) % 3 == 0 else 2
    if done == 0:
        return Reply(
            text="Checking the pods and recent warnings in prod.",
            tool_calls=(
                ToolCall("k8s_pods", {"namespace": "prod"}),
                ToolCall("k8s_events", {"namespace": "prod", "warnings_only": True}),
            ),
        )
    if done == 1 and calls == 3:
        return Reply(
            text="Comparing with staging.",
            tool_calls=(ToolCall("k8s_pods", {"namespace": "staging"}),),
        )
    cited = [str(r.get("tool_use_id")) for r in request.tool_results()]
    finding = {
        "summary": "Every prod pod is running and ready; no warning events in the last hour.",
        "root_cause": "Nothing is wrong in prod right now.",
        "confidence": 0.8,
        "evidence": cited,
        "proposed_actions": [],
    }
    return Reply(tool_calls=(ToolCall("submit_finding", finding),))


def answered_at(ws: Any) -> dict[str, float]:
    """Question id → when its placeholder was replaced by the answer (Slack's clock)."""
    roots: dict[str, str] = {}
    placeholders: dict[str, str] = {}
    for call in ws.calls("chat.postMessage"):
        if call.status != 200:
            continue
        text, ts = str(call.args.get("text", "")), str(call.response.get("ts"))
        if (match := ASKED.search(text)) and not call.args.get("thread_ts"):
            roots[ts] = match.group(1)
        elif call.args.get("thread_ts") in roots and text.startswith("Investigating"):
            placeholders[ts] = roots[str(call.args["thread_ts"])]
    done: dict[str, float] = {}
    for call in ws.calls("chat.update"):
        question = placeholders.get(str(call.args.get("ts")))
        if question is not None and call.status == 200:
            done[question] = max(done.get(question, 0.0), call.at)
    return done


def run(args: argparse.Namespace, engine: str, kubeconfig: Path, workdir: Path) -> dict[str, Any]:
    ws = workspace()
    client = WebClient(token=ws.config.bot_token, base_url=ws.api_url)
    channels = [f"ask-{n:02d}" for n in range(args.channels)]
    for name in channels:
        client.conversations_create(name=name)
    claude = ClaudeSandbox(
        api_keys=[API_KEY],
        latency=Latency(tuple(args.first_token), args.tokens_per_second, seed=1),
    )
    claude.script("ask", [model_turn] * (args.questions * 6))
    db_url = fresh_database()
    env = {
        "OPSBOT_DATABASE_URL": db_url,
        "OPSBOT_REDIS_URL": REDIS_URL,
        "OPSBOT_REDIS_KEY_PREFIX": f"opsbot-ask-{workdir.name}:",
        "OPSBOT_LOG_LEVEL": "WARNING",
        "OPSBOT_KUBECONFIG": str(kubeconfig),
    }
    if args.worker_threads:
        env["OPSBOT_WORKER_THREADS"] = str(args.worker_threads)
    with ServerThread(claude.app) as claude_server:
        if engine == "claude":
            env |= {"ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_BASE_URL": claude_server.url}
        try:
            replicas = start_replicas(ws, workdir, args.replicas, env)
            try:
                result = ask_all(args, ws, replicas, channels)
            finally:
                replicas.stop()
        finally:
            ws.close()
            drop_database(db_url)
        failed_calls = [r for r in claude.requests if r.status != 200]
        result["model_calls"] = len(claude.requests)
        result["model_calls_failed"] = len(failed_calls)
    return {"engine": engine, **result}


def ask_all(
    args: argparse.Namespace, ws: Any, replicas: Any, channels: list[str]
) -> dict[str, Any]:
    def probe() -> dict[str, float]:
        depths = [scrape(bot.url).get(QUEUE, 0.0) for bot in replicas.bots]
        rss = [proc_stats(pid)["rss_mib"] for pid in replicas.pids]
        return {"queue": sum(depths), "rss_mib": max(rss)}

    sampler = Sampler(probe, interval=0.2).start()
    load_at_start = load_average()
    sent: dict[str, float] = {}
    acks: list[float] = []
    ack_errors: list[str] = []
    lock = threading.Lock()
    gate = threading.Barrier(args.questions)

    def ask(n: int) -> None:
        question = f"is {TOPICS[n % len(TOPICS)]} healthy in prod right now? [q{n:03d}]"
        gate.wait()
        started = time.time()
        result = ws.slash_command(
            USERS[n % len(USERS)], channels[n % len(channels)], "/ask-ai", question
        )
        with lock:
            sent[f"q{n:03d}"] = started
            acks.append(time.time() - started)
            if not result.ok:
                ack_errors.append(result.error or str(result.status))

    t0 = time.time()
    with ThreadPoolExecutor(args.questions) as pool:
        list(pool.map(ask, range(args.questions)))
    deadline = time.time() + args.timeout
    done = answered_at(ws)
    while len(done) < len(sent) - len(ack_errors) and time.time() < deadline:
        time.sleep(0.5)
        done = answered_at(ws)
    samples = sampler.stop()
    answers = [done[q] - sent[q] for q in done if q in sent]
    failed = sum(
        1 for c in ws.calls("chat.update") if str(c.args.get("text", "")).startswith(":x:")
    )
    return {
        "questions": args.questions,
        "channels": args.channels,
        "replicas": args.replicas,
        "worker_threads": args.worker_threads or "default (8)",
        "ack_latency_ms": quantiles(acks, scale=1000),
        "ack_over_3s": sum(1 for a in acks if a >= 3.0),
        "answer_latency_s": quantiles(answers, (0.5, 0.95), digits=2),
        "all_answered_after_s": round(max(done.values(), default=t0) - t0, 1),
        "answered": len(done),
        "errors": {
            "ack": len(ack_errors),
            "unanswered": len(sent) - len(done),
            "failed_answers": failed,
        },
        "worker_queue_depth_max": max((s["queue"] for s in samples), default=float("nan")),
        "peak_rss_mib_per_replica": [proc_stats(pid)["peak_rss_mib"] for pid in replicas.pids],
        "slack_429s": sum(1 for c in ws.calls() if c.status == 429),
        "load_average_start_end": [load_at_start, load_average()],
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--channels", type=int, default=25)
    parser.add_argument("--engine", choices=("both", "claude", "pattern"), default="both")
    parser.add_argument("--first-token", type=float, nargs=2, default=(1.0, 3.0))
    parser.add_argument("--tokens-per-second", type=float, default=50.0)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--worker-threads", type=int, default=None, help="OPSBOT_WORKER_THREADS")
    parser.add_argument("--timeout", type=float, default=300.0, help="most seconds to wait")
    parser.add_argument("--json", dest="json_out", default=None)
    args = parser.parse_args(argv)
    engines = ("claude", "pattern") if args.engine == "both" else (args.engine,)
    workdir = Path(tempfile.mkdtemp(prefix="opsbot-ask-"))
    results = []
    with KubeSandbox(auto_advance=False) as kube:
        kubeconfig = kube.write_kubeconfig(workdir / "kubeconfig")
        for engine in engines:
            results.append(run(args, engine, Path(kubeconfig), workdir))
    for result in results:
        print(f"--- {result['engine']}")
        report(result, None)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
