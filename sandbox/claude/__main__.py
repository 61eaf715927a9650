"""`python -m sandbox.claude --port 0 --script FILE [--script FILE ...] [--api-key KEY ...]`."""

from __future__ import annotations

import argparse
import sys
import threading

from sandbox.claude.app import ClaudeSandbox
from sandbox.serve import ServerThread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.claude", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--script", action="append", default=[], help="YAML/JSON script file")
    parser.add_argument("--api-key", action="append", default=[], help="accepted key (repeatable)")
    parser.add_argument(
        "--min-cacheable-tokens",
        type=int,
        default=None,
        help="smallest cacheable prefix for every model (default: each model's own minimum)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    sandbox = ClaudeSandbox(
        api_keys=args.api_key or ["sandbox-key"],
        min_cacheable_tokens=args.min_cacheable_tokens,
        seed=args.seed,
    )
    names = [name for path in args.script for name in sandbox.load(path)]
    server = ServerThread(sandbox.app, host=args.host, port=args.port).start()
    print(
        f"claude sandbox: {server.url} scripts={names} keys={sorted(sandbox.api_keys)}", flush=True
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
