"""Operational HTTP endpoints: liveness, readiness, Prometheus metrics and the OpenAPI
description of every endpoint (bot/app/openapi.yaml, shipped with the package)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from importlib.resources import files
from typing import Any

import anyio
import yaml
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response


def probe(ping: Callable[[], bool]) -> str:
    """ "ok", or "down" with the error's class only (its message names host and port)."""
    try:
        ok = ping()
    except (SQLAlchemyError, RedisError, OSError) as exc:
        return f"down: {type(exc).__name__}"
    return "ok" if ok else "down"


def openapi_document() -> dict[str, Any]:
    """The OpenAPI description shipped with the package."""
    document: dict[str, Any] = yaml.safe_load(files("bot.app").joinpath("openapi.yaml").read_text())
    return document


def register(
    app: Starlette,
    registry: CollectorRegistry,
    pings: Mapping[str, Callable[[], bool]],
    readiness: Mapping[str, Callable[[], str]] | None = None,
    warnings: Sequence[str] = (),
) -> None:
    """Liveness; readiness (each of `pings`, e.g. database and cache, checked off the event
    loop, then any `readiness` checks, with `warnings` about the configuration); the
    `registry`'s metrics; OpenAPI."""
    extra = dict(readiness or {})
    description = openapi_document()

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        checks = {}
        for name, ping in pings.items():
            checks[name] = await anyio.to_thread.run_sync(probe, ping)
        for name, probe_fn in extra.items():
            checks[name] = probe_fn()
        ready = all(v == "ok" for v in checks.values())
        failed = [name for name, v in checks.items() if v != "ok"]
        answer: dict[str, Any] = {"status": "ready" if ready else "not ready", "checks": checks}
        if failed:
            answer["failed"] = failed
        if warnings:
            answer["warnings"] = list(warnings)
        return JSONResponse(answer, status_code=200 if ready else 503)

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    async def openapi(_: Request) -> Response:
        return JSONResponse(description)

    app.add_route("/healthz", healthz, methods=["GET"])
    app.add_route("/openapi.json", openapi, methods=["GET"])
    app.add_route("/readyz", readyz, methods=["GET"])
    app.add_route("/metrics", metrics, methods=["GET"])
