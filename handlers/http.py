"""Operational HTTP endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import anyio
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.deps import Deps
from bot.runtime import Runtime


def _check(probe: str, deps: Deps) -> str:
    try:
        ok = deps.db.ping() if probe == "database" else deps.cache.ping()
    except (SQLAlchemyError, RedisError, OSError) as exc:
        return f"down: {type(exc).__name__}: {exc}"[:200]
    return "ok" if ok else "down"


def register(app: Starlette, rt: Runtime) -> None:
    deps = rt.deps

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        checks = {}
        for probe in ("database", "cache"):
            checks[probe] = await anyio.to_thread.run_sync(_check, probe, deps)
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(deps.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_route("/healthz", healthz, methods=["GET"])
    app.add_route("/readyz", readyz, methods=["GET"])
    app.add_route("/metrics", metrics, methods=["GET"])
