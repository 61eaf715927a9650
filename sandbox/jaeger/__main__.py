"""`python -m sandbox.jaeger --port 0 --traces PATH [--generate N --pattern NAME ...]`."""

from __future__ import annotations

import argparse
import sys
import threading

from sandbox.jaeger.app import create_app, wall_clock_us
from sandbox.jaeger.generate import (
    ErrorResponses,
    NPlusOneQueries,
    SequentialCalls,
    SlowDependency,
    TracePattern,
    generate_traces,
)
from sandbox.jaeger.loading import load_traces, rebase_traces
from sandbox.jaeger.store import TraceStore
from sandbox.serve import ServerThread

PATTERNS: dict[str, TracePattern] = {
    "slow-dependency": SlowDependency(),
    "slow-postgres": SlowDependency(target="postgres", extra_ms=400),
    "n-plus-one": NPlusOneQueries(),
    "sequential-calls": SequentialCalls(),
    "errors": ErrorResponses(),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.jaeger", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=16686, help="0 picks a free port")
    parser.add_argument("--traces", action="append", default=[], help="file or folder (repeatable)")
    parser.add_argument("--rebase-now", action="store_true", help="move loaded traces to end now")
    parser.add_argument(
        "--generate", type=int, default=0, metavar="N", help="add N generated traces"
    )
    parser.add_argument("--pattern", action="append", default=[], choices=sorted(PATTERNS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    store = TraceStore()
    for path in args.traces:
        traces = load_traces(path)
        for trace in rebase_traces(traces, end_us=wall_clock_us()) if args.rebase_now else traces:
            store.add(trace)
    patterns = [PATTERNS[name] for name in args.pattern]
    for trace in generate_traces(count=args.generate, seed=args.seed, patterns=patterns):
        store.add(trace)

    server = ServerThread(create_app(store), host=args.host, port=args.port).start()
    print(f"jaeger sandbox: {server.url} ({len(store)} traces)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
