"""The sandbox's own control API under /sandbox/ (not part of the Kubernetes API)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import yaml
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.kube.clock import format_time
from sandbox.kube.faults import Fault
from sandbox.kube.rbac import RbacPolicy
from sandbox.kube.seed import SeedError, apply_seed

if TYPE_CHECKING:
    from sandbox.kube.cluster import Cluster

JsonDict = dict[str, Any]
Reset = Callable[[JsonDict | None], "Cluster"]


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return yaml.safe_load(raw)


async def _mapping(request: Request) -> JsonDict:
    data = await _body(request)
    return data if isinstance(data, dict) else {}


def _error(code: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=code)


class AdminApi:
    """Faults, the clock, RBAC and seeding, over HTTP. `reset(seed or None)` swaps the cluster."""

    def __init__(self, cluster: Cluster, driver_info: dict[str, Any], reset: Reset | None) -> None:
        self.cluster = cluster
        self.driver_info = driver_info
        self.reset = reset

    def routes(self) -> list[Route]:
        return [
            Route("/sandbox/state", self.state, methods=["GET"]),
            Route("/sandbox/faults", self.list_faults, methods=["GET"]),
            Route("/sandbox/faults", self.add_fault, methods=["POST"]),
            Route("/sandbox/faults", self.clear_faults, methods=["DELETE"]),
            Route("/sandbox/faults/{fault_id}", self.remove_fault, methods=["DELETE"]),
            Route("/sandbox/clock", self.clock, methods=["GET"]),
            Route("/sandbox/clock/advance", self.advance, methods=["POST"]),
            Route("/sandbox/settle", self.settle, methods=["POST"]),
            Route("/sandbox/rbac", self.put_rbac, methods=["PUT"]),
            Route("/sandbox/rbac", self.reset_rbac, methods=["DELETE"]),
            Route("/sandbox/seed", self.load_seed, methods=["POST"]),
            Route("/sandbox/reset", self.reset_cluster, methods=["POST"]),
        ]

    def _clock_state(self) -> JsonDict:
        with self.cluster.lock:
            now, version = format_time(self.cluster.now()), self.cluster.store.resource_version
        return {"now": now, "resourceVersion": str(version), **self.driver_info}

    def _faults(self) -> list[JsonDict]:
        with self.cluster.lock:
            return [fault.to_dict() for fault in self.cluster.faults.all()]

    async def state(self, _: Request) -> Response:
        return JSONResponse(
            {**self._clock_state(), "faults": self._faults(), "rbac": self.cluster.rbac.to_dict()}
        )

    async def list_faults(self, _: Request) -> Response:
        return JSONResponse({"faults": self._faults()})

    async def add_fault(self, request: Request) -> Response:
        try:
            fault = Fault.from_dict(await _mapping(request))
        except (TypeError, ValueError) as exc:
            return _error(400, str(exc))
        added = await run_in_threadpool(self.cluster.add_fault, fault)
        return JSONResponse(added.to_dict(), status_code=201)

    async def remove_fault(self, request: Request) -> Response:
        fault_id = request.path_params["fault_id"]
        if not await run_in_threadpool(self.cluster.remove_fault, fault_id):
            return _error(404, f"no fault {fault_id}")
        return JSONResponse({"removed": fault_id})

    async def clear_faults(self, _: Request) -> Response:
        await run_in_threadpool(self.cluster.clear_faults)
        return JSONResponse({"faults": []})

    async def clock(self, _: Request) -> Response:
        return JSONResponse(self._clock_state())

    async def advance(self, request: Request) -> Response:
        try:
            seconds = float((await _mapping(request)).get("seconds", 0))
        except (TypeError, ValueError):
            return _error(400, "seconds must be a number")
        if not 0 <= seconds <= 86400:
            return _error(400, "seconds must be between 0 and 86400")
        await run_in_threadpool(self.cluster.advance, seconds)
        return JSONResponse(self._clock_state())

    async def settle(self, request: Request) -> Response:
        limit = float((await _mapping(request)).get("max_seconds", 900))
        done = await run_in_threadpool(self.cluster.settle, limit)
        return JSONResponse({**self._clock_state(), "settled": done})

    async def put_rbac(self, request: Request) -> Response:
        try:
            policy = RbacPolicy.from_dict(await _mapping(request))
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            return _error(400, str(exc))
        self.cluster.set_rbac(policy)
        return JSONResponse(policy.to_dict())

    async def reset_rbac(self, _: Request) -> Response:
        self.cluster.set_rbac(RbacPolicy())
        return JSONResponse(RbacPolicy().to_dict())

    async def load_seed(self, request: Request) -> Response:
        """Add what a seed describes to the running cluster."""
        try:
            await run_in_threadpool(apply_seed, self.cluster, await _mapping(request))
        except SeedError as exc:
            return _error(400, str(exc))
        return JSONResponse(self._clock_state(), status_code=201)

    async def reset_cluster(self, request: Request) -> Response:
        """Replace the cluster with a freshly seeded one (an empty body means the default seed)."""
        if self.reset is None:
            return _error(404, "this server cannot reset its cluster")
        data = await _mapping(request)
        try:
            fresh = await run_in_threadpool(self.reset, data or None)
        except SeedError as exc:
            return _error(400, str(exc))
        with fresh.lock:
            return JSONResponse({"now": format_time(fresh.now())}, status_code=201)
