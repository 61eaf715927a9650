"""`python -m sandbox.pagerduty --port 0`: serve the local Events API v2 until Ctrl-C."""

from __future__ import annotations

import argparse
import time

from sandbox.pagerduty.app import PagerDutySandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with PagerDutySandbox(port=args.port) as server:
        print(f"PagerDuty Events API v2 at {server.enqueue_url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
