"""Keep the sandbox cluster's clock on the wall clock, so object ages stay true."""

from __future__ import annotations

import threading
import time

from sandbox.kube import KubeSandbox

TICK_SECONDS = 0.25


class WallClock:
    """Advances `kube.cluster` (whichever cluster it holds now) to the current time every
    tick; unlike the kube package's ClockDriver it never runs ahead of real time."""

    def __init__(self, kube: KubeSandbox, tick: float = TICK_SECONDS) -> None:
        self.kube = kube
        self.tick = tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sandbox-wall-clock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Return once no tick is running (safe to reseed the cluster afterwards)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            cluster = self.kube.cluster
            behind = time.time() - cluster.now().timestamp()
            if behind > 0:
                cluster.advance(behind)
