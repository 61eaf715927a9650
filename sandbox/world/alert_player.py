"""Send a scenario's alerts to Alertmanager the way Prometheus does: again and again while
they fire, each time valid for a few intervals, and resolved when the scenario goes."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta

import httpx

from sandbox.procs import post_alerts
from sandbox.scenarios.alerts import FiringAlert

RESEND_SECONDS = 15.0


class AlertPlayer:
    def __init__(self, alertmanager_url: str, resend_seconds: float = RESEND_SECONDS) -> None:
        self.alertmanager_url = alertmanager_url
        self.resend_seconds = resend_seconds
        self.alerts: list[FiringAlert] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def valid_for(self) -> timedelta:
        return timedelta(seconds=4 * self.resend_seconds)

    def play(self, alerts: Sequence[FiringAlert], *, resend: bool = True) -> None:
        """Post `alerts` now (replacing what was playing) and keep re-posting them."""
        with self._lock:
            self.alerts = list(alerts)
        self._send()
        if resend and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="sandbox-alerts", daemon=True)
            self._thread.start()

    def resolve(self) -> None:
        """Post the playing alerts as resolved and stop re-posting."""
        self.stop()
        with self._lock:
            alerts, self.alerts = self.alerts, []
        if alerts:
            post_alerts(self.alertmanager_url, [a.postable(resolved=True) for a in alerts])

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _send(self) -> None:
        with self._lock:
            bodies = [a.postable(valid_for=self.valid_for) for a in self.alerts]
        if bodies:
            post_alerts(self.alertmanager_url, bodies)

    def _run(self) -> None:
        while not self._stop.wait(self.resend_seconds):
            try:
                self._send()
            except httpx.HTTPError:
                continue  # Alertmanager restarting or gone; the next round retries
