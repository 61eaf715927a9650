"""How far a request travels through the code before Slack sees its answer.

    .venv/bin/python bench/request_paths.py [--json OUT]

Runs the real bot in-process (tests/botharness.py) against the local Slack workspace and
the Kubernetes stand-in (pattern engine, no Claude), with a profiler on every thread
(`threading.setprofile`), and follows two requests:

- an Alertmanager webhook POST to its incident's thread header (`chat.postMessage`);
- an `/ask-ai` command to its answer (the `chat.update` that replaces the placeholder).

For each it prints, counting only the project's files (`bot/`, `handlers/`, `tools/`):

- `stack_files`: distinct files on the writing thread's call stack at the moment of the
  Slack write, and `stack_frames`: project frames on that stack;
- `path_files`: distinct files whose functions ran, between the request and the write, on
  the threads that carried it (the HTTP thread, the thread the listener or the webhook
  handed it to, and every thread a hand-off marker saw: the pipeline, the notifier, the
  worker pool, the writer). The hand-offs go through the database, a queue or a pool, so
  this is the request's path across threads, not one stack.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slack_bolt import App  # noqa: E402
from slack_sdk import WebClient  # noqa: E402

import handlers.alertmanager  # noqa: E402
from bot.deps import Deps  # noqa: E402
from bot.incidents.notifier import IncidentNotifier  # noqa: E402
from bot.incidents.pipeline import AlertPipeline  # noqa: E402
from bot.slack.edge import SlackEdge  # noqa: E402
from sandbox.kube import KubeSandbox  # noqa: E402
from sandbox.slack.workspace import SlackWorkspace  # noqa: E402
from tests.agent import world  # noqa: E402
from tests.botharness import running_bot, workspace  # noqa: E402
from tests.incidents.amfixtures import alert, webhook  # noqa: E402

PROJECT = tuple(str(ROOT / package) + "/" for package in ("bot", "handlers", "tools"))
TOKEN = "bench-token"


def project_file(filename: str) -> str | None:
    """`bot/incidents/notifier.py` for a project file, else None."""
    if filename.startswith(PROJECT):
        return str(Path(filename).relative_to(ROOT))
    return None


class Tracer:
    """Per-thread sets of project files entered while `recording`, and the threads a
    request crossed (marked by the wrappers below)."""

    def __init__(self) -> None:
        self.recording = False
        self.files: dict[int, set[str]] = defaultdict(set)
        self.chain: set[int] = set()
        self.written: dict[str, Any] | None = None
        self.want: Callable[[str, dict[str, Any]], bool] = lambda method, kwargs: False
        self._known: dict[str, str | None] = {}

    def profile(self, frame: FrameType, event: str, arg: object) -> None:
        if event != "call" or not self.recording:
            return
        name = frame.f_code.co_filename
        found = self._known.get(name, "?")
        if found == "?":
            found = self._known[name] = project_file(name)
        if found is not None:
            self.files[threading.get_ident()].add(found)

    def start(self, want: Callable[[str, dict[str, Any]], bool]) -> None:
        self.files.clear()
        self.chain = {threading.get_ident()}
        self.written = None
        self.want = want
        self.recording = True

    def mark(self) -> None:
        if self.recording:
            self.chain.add(threading.get_ident())

    def wrote(self, method: str, kwargs: dict[str, Any]) -> None:
        """At a Slack write: keep the writer's stack if it is the write we wait for."""
        if not self.recording or self.written is not None or not self.want(method, kwargs):
            return
        self.mark()
        stack: list[str] = []
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            found = project_file(frame.f_code.co_filename)
            if found is not None:
                stack.append(found)
            frame = frame.f_back
        self.recording = False
        self.written = {
            "stack_frames": len(stack),
            "stack_files": len(set(stack)),
            "stack": list(dict.fromkeys(reversed(stack))),
        }

    def result(self) -> dict[str, Any]:
        assert self.written is not None, "the write never happened"
        crossed = set().union(*(self.files.get(t, set()) for t in self.chain))
        return {
            **self.written,
            "path_files": len(crossed),
            "threads": len(self.chain),
            "path": sorted(crossed),
        }


def marked(tracer: Tracer, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        tracer.mark()
        return fn(*args, **kwargs)

    return wrapper


@contextmanager
def instrumented(tracer: Tracer) -> Iterator[None]:
    """Hand-off markers and the write probe, patched on the classes for the run."""
    original_handle = SlackEdge.handle
    original_read: Callable[..., Awaitable[bytes | None]] = getattr(  # noqa: B009
        handlers.alertmanager, "read_capped"
    )

    async def handle(self: SlackEdge, request: Any) -> Any:
        tracer.mark()  # the event loop's thread
        return await original_handle(self, request)

    async def read_capped(request: Any, limit: int) -> bytes | None:
        tracer.mark()  # the event loop's thread
        return await original_read(request, limit)

    original_run_later = Deps.run_later

    def run_later(self: Deps, name: str, fn: Callable[..., Any], *args: Any) -> Any:
        tracer.mark()  # the thread handing the work over

        def job(*job_args: Any) -> Any:
            tracer.mark()  # the worker that picks it up
            return fn(*job_args)

        return original_run_later(self, name, job, *args)

    patches: list[tuple[Any, str, Any]] = [
        (AlertPipeline, "accept", marked(tracer, AlertPipeline.accept)),
        (IncidentNotifier, "request", marked(tracer, IncidentNotifier.request)),
        (IncidentNotifier, "paced", marked(tracer, IncidentNotifier.paced)),
        (Deps, "run_later", run_later),
        (App, "dispatch", marked(tracer, App.dispatch)),
        (SlackEdge, "handle", handle),
        (handlers.alertmanager, "read_capped", read_capped),
    ]
    original_api_call = WebClient.api_call

    def api_call(self: WebClient, api_method: str, **kwargs: Any) -> Any:
        params = {**(kwargs.get("json") or {}), **(kwargs.get("params") or {})}
        tracer.wrote(api_method, params)
        return original_api_call(self, api_method, **kwargs)

    patches.append((WebClient, "api_call", api_call))
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, value in patches:
        setattr(owner, name, value)
    try:
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)


def header_write(method: str, params: dict[str, Any]) -> bool:
    return method == "chat.postMessage" and not params.get("thread_ts")


def answer_write(channel: str) -> Callable[[str, dict[str, Any]], bool]:
    """The answer: the placeholder replaced (`chat.update`) in the question's channel."""

    def wanted(method: str, params: dict[str, Any]) -> bool:
        return method == "chat.update" and params.get("channel") == channel

    return wanted


def measure_webhook(tracer: Tracer, slack: SlackWorkspace, url: str) -> dict[str, Any]:
    body = webhook(
        alert(
            "KubePodCrashLooping",
            datetime.now(UTC) - timedelta(minutes=2),
            severity="critical",
            namespace="prod",
            service="payments",
            pod="payments-7d9f-abcde",
        )
    )
    tracer.start(header_write)
    answer = httpx.post(
        f"{url}/alertmanager",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    slack.wait_for(lambda: tracer.written, timeout=30)
    return tracer.result()


def measure_ask(tracer: Tracer, slack: SlackWorkspace) -> dict[str, Any]:
    tracer.start(answer_write(slack.channel_id("general")))
    slack.slash_command("U0ALICE", "general", "/ask-ai", "why is payments crashing in prod?")
    slack.wait_for(lambda: tracer.written, timeout=60)
    return tracer.result()


def settle(seconds: float = 3.0) -> None:
    """Let start-up work (catch-ups, recovery) finish before measuring."""
    time.sleep(seconds)


def measure() -> dict[str, Any]:
    tracer = Tracer()
    threading.setprofile(tracer.profile)
    sys.setprofile(tracer.profile)
    slack = workspace()
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            KubeSandbox(world.cluster_seed(), auto_advance=False) as kube,
            instrumented(tracer),
        ):
            kube.cluster.advance(60)
            kubeconfig = kube.write_kubeconfig(Path(tmp) / "kubeconfig")
            with running_bot(
                slack,
                database_url=f"sqlite:///{tmp}/bench.db",
                alertmanager={"bearer_token": TOKEN},
                tools={"kubeconfig": str(kubeconfig)},
            ) as bot:
                settle()
                incident = measure_webhook(tracer, slack, bot.url)
                settle(10)  # the incident's triage and investigation run their course
                ask = measure_ask(tracer, slack)
                settle()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
        slack.close()
    return {"webhook_to_header": incident, "ask_ai_to_answer": ask}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--paths", action="store_true", help="list the files crossed")
    args = parser.parse_args()
    found = measure()
    for name, numbers in found.items():
        print(name)
        for key in ("stack_frames", "stack_files", "path_files", "threads"):
            print(f"  {key:<14}{numbers[key]}")
        if args.paths:
            print("  stack at the write (outermost first):")
            for file in numbers["stack"]:
                print(f"    {file}")
            print("  files crossed:")
            for file in numbers["path"]:
                print(f"    {file}")
    if args.json:
        args.json.write_text(json.dumps(found, indent=2) + "\n")


if __name__ == "__main__":
    main()
