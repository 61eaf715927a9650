"""`python -m sandbox.kube --port 0 [--seed FILE] [--kubeconfig OUT]`: serve until interrupted."""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from sandbox.kube.app import KubeSandbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.kube", description=__doc__)
    parser.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)"
    )
    parser.add_argument(
        "--seed", default="default", help="seed YAML/JSON file, 'default' or 'none'"
    )
    parser.add_argument("--kubeconfig", help="write a kubeconfig for this server to this path")
    parser.add_argument("--token", help="bearer token to put in the kubeconfig")
    parser.add_argument(
        "--time-scale", type=float, default=10.0, help="sandbox seconds per real second"
    )
    parser.add_argument(
        "--manual-clock",
        action="store_true",
        help="time moves only via POST /sandbox/clock/advance",
    )
    parser.add_argument("--random-seed", type=int, default=0)
    args = parser.parse_args(argv)
    seed = None if args.seed == "none" else args.seed
    sandbox = KubeSandbox(
        seed,
        auto_advance=not args.manual_clock,
        time_scale=args.time_scale,
        random_seed=args.random_seed,
        port=args.port,
    )
    sandbox.start()
    if args.kubeconfig:
        sandbox.write_kubeconfig(args.kubeconfig, token=args.token)
    print(sandbox.url, flush=True)
    stop = threading.Event()

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    stop.wait()
    sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
