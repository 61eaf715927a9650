"""The ASGI app and `KubeSandbox`: a seeded cluster served on a loopback port."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from kubernetes import client
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.kube import discovery, openapi
from sandbox.kube.admin import AdminApi
from sandbox.kube.cluster import Cluster
from sandbox.kube.errors import path_not_found
from sandbox.kube.kubeconfig import api_client, write_kubeconfig
from sandbox.kube.objects import Timings
from sandbox.kube.routes import ApiRoutes, error_response, json_response
from sandbox.kube.seed import DEFAULT_SEED, apply_seed, read_seed, seed_start
from sandbox.kube.watch import WatchHub
from sandbox.serve import ServerThread

API_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


class SwappableApp:
    """An ASGI app whose target can be replaced while the server keeps running."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class ClockDriver:
    """Advances sandbox time by real elapsed time x `time_scale`, every `tick` seconds."""

    MAX_STEP = 30.0  # sandbox seconds per tick, so a stalled process does not lurch ahead

    def __init__(self, cluster: Cluster, time_scale: float, tick: float = 0.1) -> None:
        self.cluster = cluster
        self.time_scale = time_scale
        self.tick = tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kube-sandbox-clock", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(self.tick):
            now = time.monotonic()
            self.cluster.advance(min((now - last) * self.time_scale, self.MAX_STEP))
            last = now

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)


MetricsSource = Callable[[], str]
"""Renders the series that describe the cluster now (OpenMetrics text), on each scrape."""
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def build_app(
    cluster: Cluster,
    driver_info: dict[str, Any] | None = None,
    reset: Callable[[dict[str, Any] | None], Cluster] | None = None,
    metrics: Callable[[], MetricsSource | None] | None = None,
) -> Starlette:
    hub = WatchHub()
    cluster.on_close(hub.close)
    api = ApiRoutes(cluster, hub)

    async def version(_: Request) -> Response:
        return json_response(discovery.version_info(cluster.server_version))

    async def health(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def openapi_v3_root(_: Request) -> Response:
        return json_response(openapi.root_document())

    async def openapi_v3(request: Request) -> Response:
        document = openapi.document_for(request.path_params["rest"])
        return json_response(document) if document else error_response(path_not_found())

    async def openapi_v2(_: Request) -> Response:
        return error_response(path_not_found())

    async def scrape(_: Request) -> Response:
        source = metrics() if metrics is not None else None
        if source is None:
            return error_response(path_not_found())
        text = await run_in_threadpool(source)
        return Response(text, media_type=OPENMETRICS)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> Any:
        yield
        hub.close()

    routes = [
        Route("/version", version, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
        Route("/livez", health, methods=["GET"]),
        Route("/readyz", health, methods=["GET"]),
        Route("/openapi/v3", openapi_v3_root, methods=["GET"]),
        Route("/openapi/v3/{rest:path}", openapi_v3, methods=["GET"]),
        Route("/openapi/v2", openapi_v2, methods=["GET"]),
        Route("/metrics", scrape, methods=["GET"]),
        *AdminApi(cluster, driver_info if driver_info is not None else {}, reset).routes(),
        Route("/api", api.handle, methods=API_METHODS),
        Route("/api/{rest:path}", api.handle, methods=API_METHODS),
        Route("/apis", api.handle, methods=API_METHODS),
        Route("/apis/{rest:path}", api.handle, methods=API_METHODS),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


class KubeSandbox:
    """A seeded cluster behind a real HTTP API server on 127.0.0.1.

    seed: "default" (the bundled small cluster), a path to a YAML/JSON seed, a seed mapping,
    or None for an empty cluster (system namespaces only).
    auto_advance: a background driver moves sandbox time at `time_scale` x real time; turn it
    off in tests that step time with `cluster.advance()`.
    tls: (certificate file, key file) to serve HTTPS like an in-cluster API server.
    """

    def __init__(
        self,
        seed: str | Path | dict[str, Any] | None = "default",
        *,
        auto_advance: bool = True,
        time_scale: float = 10.0,
        random_seed: int = 0,
        start: datetime | None = None,
        timings: Timings | None = None,
        server_version: str = "v1.33.2",
        port: int = 0,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.auto_advance = auto_advance
        self.time_scale = time_scale
        self._options: dict[str, Any] = {
            "start": start,
            "timings": timings,
            "server_version": server_version,
        }
        self._driver: ClockDriver | None = None
        self.metrics: MetricsSource | None = None
        """What `/metrics` serves (kube-state-metrics style series of the live cluster, set
        by the sandbox world); None: `/metrics` answers 404."""
        self.cluster = self._seeded(seed, random_seed)
        self.app = SwappableApp(self._build())
        self._server = ServerThread(self.app, port=port, tls=tls)
        self._started = False

    def _seeded(self, seed: str | Path | dict[str, Any] | None, random_seed: int) -> Cluster:
        data: dict[str, Any] = {}
        if isinstance(seed, dict):
            data = seed
        elif seed == "default":
            data = read_seed(DEFAULT_SEED)
        elif seed is not None:
            data = read_seed(seed)
        options = dict(self._options, start=seed_start(data, self._options["start"]))
        cluster = Cluster(random_seed=int(data.get("random_seed", random_seed)), **options)
        apply_seed(cluster, data)
        return cluster

    def _build(self) -> Starlette:
        info = {
            "autoAdvance": self.auto_advance,
            "timeScale": self.time_scale if self.auto_advance else 0.0,
        }
        if self.auto_advance:
            self._driver = ClockDriver(self.cluster, self.time_scale)
        return build_app(
            self.cluster,
            info,
            lambda seed: self.reset(seed or "default"),
            metrics=lambda: self.metrics,
        )

    def reset(
        self, seed: str | Path | dict[str, Any] | None = "default", random_seed: int = 0
    ) -> Cluster:
        """Replace the whole cluster with a freshly seeded one, keeping the server and its URL."""
        fresh = self._seeded(seed, random_seed)
        if self._driver is not None:
            self._driver.stop()
        self.cluster.close()
        self.cluster = fresh
        self.app.app = self._build()
        if self._started and self._driver is not None:
            self._driver.start()
        return fresh

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> KubeSandbox:
        self._server.start()
        self._started = True
        if self._driver is not None:
            self._driver.start()
        return self

    def stop(self) -> None:
        if self._driver is not None:
            self._driver.stop()
        self.cluster.close()
        self._server.stop()

    def __enter__(self) -> KubeSandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def write_kubeconfig(
        self, path: str | Path, token: str | None = None, namespace: str = "default"
    ) -> Path:
        return write_kubeconfig(self.url, path, token, namespace)

    def api_client(self, token: str | None = None) -> client.ApiClient:
        return api_client(self.url, token)
