"""The HTTP side: `POST /v2/enqueue` plus a small admin API for tests (`/sandbox/...`)."""

from __future__ import annotations

import json
import threading
from types import TracebackType
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.pagerduty.events import Alert, EventLog, validate_event
from sandbox.serve import ServerThread

MAX_BODY = 512 * 1024


class Failures:
    """Answer the next `count` enqueue calls with `status` (429 or 5xx), for retry tests."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: list[int] = []

    def next(self) -> int | None:
        with self.lock:
            return self.pending.pop(0) if self.pending else None


def _invalid(errors: list[str], message: str = "Event object is invalid") -> JSONResponse:
    return JSONResponse(
        {"status": "invalid event", "message": message, "errors": errors}, status_code=400
    )


def _alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "dedup_key": alert.dedup_key,
        "routing_key": alert.routing_key,
        "status": alert.status,
        "summary": alert.summary,
        "severity": alert.severity,
        "source": alert.source,
        "log": list(alert.log),
        "custom_details": alert.details,
    }


def build_app(log: EventLog, failures: Failures) -> Starlette:
    async def enqueue(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return _invalid(["Event payload exceeds 512 KB"], "Event object is too large")
        injected = failures.next()
        if injected is not None:
            status = "throttle event" if injected == 429 else "error"
            return JSONResponse({"status": status, "message": "Try again"}, status_code=injected)
        try:
            event = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _invalid(["Event object is not valid JSON"])
        errors = validate_event(event)
        if errors:
            return _invalid(errors)
        dedup_key = log.accept(event)
        return JSONResponse(
            {"status": "success", "message": "Event processed", "dedup_key": dedup_key},
            status_code=202,
        )

    async def alerts(_: Request) -> Response:
        with log.lock:
            return JSONResponse([_alert_json(a) for a in log.alerts])

    async def events(_: Request) -> Response:
        with log.lock:
            return JSONResponse(list(log.events))

    async def fail(request: Request) -> Response:
        data = await request.json()
        with failures.lock:
            failures.pending.extend([int(data.get("status", 500))] * int(data.get("count", 1)))
        return JSONResponse({"pending": len(failures.pending)})

    return Starlette(
        routes=[
            Route("/v2/enqueue", enqueue, methods=["POST"]),
            Route("/sandbox/alerts", alerts, methods=["GET"]),
            Route("/sandbox/events", events, methods=["GET"]),
            Route("/sandbox/fail", fail, methods=["POST"]),
        ]
    )


class PagerDutySandbox:
    def __init__(self, port: int = 0) -> None:
        self.log = EventLog()
        self.failures = Failures()
        self._server = ServerThread(build_app(self.log, self.failures), port=port)

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def enqueue_url(self) -> str:
        return f"{self._server.url}/v2/enqueue"

    def alerts(self) -> list[Alert]:
        with self.log.lock:
            return list(self.log.alerts)

    def events(self) -> list[dict[str, Any]]:
        with self.log.lock:
            return list(self.log.events)

    def fail_next(self, status: int, count: int = 1) -> None:
        with self.failures.lock:
            self.failures.pending.extend([status] * count)

    def start(self) -> PagerDutySandbox:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> PagerDutySandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
