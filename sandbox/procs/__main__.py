"""`python -m sandbox.procs prometheus|alertmanager|opensearch [...]`: run one real server on
127.0.0.1 until Ctrl-C, printing its URL."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sandbox.procs.alertmanager import start_alertmanager
from sandbox.procs.opensearch import start_opensearch
from sandbox.procs.process import ManagedProcess
from sandbox.procs.prometheus import start_prometheus


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox.procs", description=__doc__)
    sub = parser.add_subparsers(dest="server", required=True)
    prom = sub.add_parser("prometheus", help="Prometheus with optional backfilled history")
    prom.add_argument("--port", type=int, default=0)
    prom.add_argument("--history", type=Path, help="OpenMetrics file to backfill first")
    prom.add_argument("--rules", type=Path, action="append", default=[], help="rule file")
    prom.add_argument("--alertmanager", help="Alertmanager URL to send alerts to")
    prom.add_argument("--workdir", type=Path, help="keep data here instead of a temp dir")
    am = sub.add_parser("alertmanager", help="Alertmanager sending to one webhook")
    am.add_argument("--port", type=int, default=0)
    am.add_argument("--webhook", help="webhook receiver URL")
    os_ = sub.add_parser("opensearch", help="osmem-server (OpenSearch REST API, in memory)")
    os_.add_argument("--port", type=int, default=0)
    os_.add_argument("--seed", type=Path, action="append", default=[], help="seed dir/.ndjson")
    return parser.parse_args(argv)


def start(args: argparse.Namespace) -> ManagedProcess:
    if args.server == "prometheus":
        return start_prometheus(
            history_file=args.history,
            rule_files=args.rules,
            alertmanager_url=args.alertmanager,
            port=args.port,
            workdir=args.workdir,
        )
    if args.server == "alertmanager":
        return start_alertmanager(webhook_url=args.webhook, port=args.port)
    return start_opensearch(seed=args.seed, port=args.port)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # Ctrl-C stops it even when started in the background of a non-interactive shell,
    # which hands its children SIGINT ignored (and Python then installs no handler).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with start(args) as server:
        print(
            f"{server.name} ready at {server.url} (pid {server.pid}); Ctrl-C stops it", flush=True
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
