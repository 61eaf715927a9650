"""Operational HTTP endpoints: liveness, readiness, Prometheus metrics and the OpenAPI
description of every endpoint (bot/app/openapi.yaml, shipped with the package)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.resources import files
from typing import Any

import anyio
import yaml
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.app.runtime import Runtime
from bot.deps import Deps


def _check(probe: str, deps: Deps) -> str:
    try:
        ok = deps.db.ping() if probe == "database" else deps.cache.ping()
    except (SQLAlchemyError, RedisError, OSError) as exc:
        # The error's class only: its message names the host and port of the database.
        return f"down: {type(exc).__name__}"
    return "ok" if ok else "down"


def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(files("bot.app").joinpath("openapi.yaml").read_text())
    return document


def register(
    app: Starlette, rt: Runtime, readiness: Mapping[str, Callable[[], str]] | None = None
) -> None:
    """Liveness, readiness (database, cache and any `readiness` checks), metrics, OpenAPI."""
    deps = rt.deps
    extra = dict(readiness or {})
    description = openapi_document()

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        checks = {}
        for probe in ("database", "cache"):
            checks[probe] = await anyio.to_thread.run_sync(_check, probe, deps)
        for name, probe_fn in extra.items():
            checks[name] = probe_fn()
        ready = all(v == "ok" for v in checks.values())
        failed = [name for name, v in checks.items() if v != "ok"]
        answer: dict[str, Any] = {"status": "ready" if ready else "not ready", "checks": checks}
        if failed:
            answer["failed"] = failed
        if not deps.settings.alertmanager.authenticated:
            answer["warnings"] = ["the Alertmanager webhook accepts requests without credentials"]
        return JSONResponse(answer, status_code=200 if ready else 503)

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(deps.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def openapi(_: Request) -> Response:
        return JSONResponse(description)

    app.add_route("/healthz", healthz, methods=["GET"])
    app.add_route("/openapi.json", openapi, methods=["GET"])
    app.add_route("/readyz", readyz, methods=["GET"])
    app.add_route("/metrics", metrics, methods=["GET"])
