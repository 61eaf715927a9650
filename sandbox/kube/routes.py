"""HTTP routing for /api and /apis: path parsing, verbs, RBAC, content negotiation."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from sandbox.kube import discovery
from sandbox.kube.dispatch import Target, VerbDispatcher, query_bool, query_int, resolve, verb_of
from sandbox.kube.errors import (
    ApiError,
    failure_status,
    method_not_allowed,
    path_not_found,
)
from sandbox.kube.label_selectors import parse_field_selector, parse_label_selector
from sandbox.kube.request_options import Outcome
from sandbox.kube.tables import PRINTERS, to_table, wants_table
from sandbox.kube.watch import WatchHub, WatchRequest, WatchStream

if TYPE_CHECKING:
    from sandbox.kube.cluster import Cluster

JsonDict = dict[str, Any]
logger = logging.getLogger(__name__)
DEFAULT_WATCH_SECONDS = 1800.0


def json_response(body: Any, code: int = 200, warnings: list[str] | None = None) -> Response:
    response = Response(
        json.dumps(body, separators=(",", ":")), status_code=code, media_type="application/json"
    )
    for warning in warnings or []:
        escaped = warning.replace('"', '\\"')
        response.headers.append("Warning", f'299 - "{escaped}"')
    return response


def error_response(error: ApiError) -> Response:
    return json_response(error.status(), error.code)


class ApiRoutes:
    def __init__(self, cluster: Cluster, hub: WatchHub) -> None:
        self.cluster = cluster
        self.hub = hub
        self.dispatcher = VerbDispatcher(cluster)

    async def handle(self, request: Request) -> Response:
        try:
            return await self._handle(request)
        except ApiError as error:
            return error_response(error)
        except Exception as exc:  # the request boundary: anything unexpected is a 500 Status
            logger.exception("kube sandbox request failed")
            return json_response(
                failure_status(500, "InternalError", f"Internal error occurred: {exc}", None), 500
            )

    async def _handle(self, request: Request) -> Response:
        parts = [p for p in request.url.path.split("/") if p]
        group = "" if parts[0] == "api" else (parts[1] if len(parts) > 1 else None)
        rest = parts[1:] if parts[0] == "api" else parts[2:]
        if request.method == "GET" and (group is None or not rest):
            return self._discovery(request, group, rest)
        if not rest or group is None:
            raise path_not_found()
        if len(rest) == 1:
            if request.method != "GET":
                raise method_not_allowed()
            listing = discovery.resource_list(group, rest[0])
            if listing is None:
                raise path_not_found()
            return json_response(listing)
        target = resolve(group, rest[0], rest[1:])
        query = request.query_params
        verb = verb_of(request.method, target, query)
        resource_name = target.resource.plural + (
            f"/{target.subresource}" if target.subresource else ""
        )
        token = request.headers.get("authorization", "")
        bearer = token[7:].strip() if token.lower().startswith("bearer ") else None
        self.cluster.rbac.check(
            bearer,
            verb,
            target.resource.group,
            resource_name,
            target.namespace,
            target.name,
            target.resource.qualified,
        )
        if verb == "watch":
            return self._watch(request, target)
        body = await request.body()
        content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
        accept = request.headers.get("accept", "")
        outcome = await run_in_threadpool(
            self.dispatcher.dispatch, request.method, target, query, body, content_type
        )
        if isinstance(outcome, str):
            return PlainTextResponse(outcome)
        if (
            request.method == "GET"
            and wants_table(accept)
            and not target.subresource
            and target.resource.plural in PRINTERS
        ):
            outcome = Outcome(
                self._table(target, outcome.body, query.get("includeObject", "Metadata")),
                outcome.code,
            )
        return json_response(outcome.body, outcome.code, outcome.warnings)

    def _discovery(self, request: Request, group: str | None, rest: list[str]) -> Response:
        if group == "":
            return json_response(
                discovery.api_versions(f"{request.url.hostname}:{request.url.port}")
            )
        if group is None:
            return json_response(discovery.api_group_list())
        found = discovery.api_group(group)
        if found is None:
            raise path_not_found()
        return json_response(found)

    def _table(self, target: Target, body: JsonDict, include: str) -> JsonDict:
        objects = body.get("items") if "items" in body else [body]
        kind_version = {"kind": target.resource.kind, "apiVersion": target.resource.api_version}
        rows = [{**kind_version, **o} for o in objects or []]
        meta = body.get("metadata") or {}
        return to_table(
            target.resource,
            rows,
            self.cluster.now(),
            resource_version=str(meta.get("resourceVersion", "")),
            include_object=include,
            continue_token=meta.get("continue"),
        )

    def _watch(self, request: Request, target: Target) -> Response:
        query = request.query_params
        fields = parse_field_selector(query.get("fieldSelector"), target.resource.field_labels)
        timeout = query_int(query, "timeoutSeconds")
        watch_request = WatchRequest(
            resource=target.resource,
            namespace=target.namespace,
            labels=parse_label_selector(query.get("labelSelector")),
            fields=fields,
            resource_version=query.get("resourceVersion"),
            timeout_seconds=float(timeout) if timeout else DEFAULT_WATCH_SECONDS,
            bookmarks=query_bool(query, "allowWatchBookmarks"),
            send_initial_events=query_bool(query, "sendInitialEvents"),
            as_table=wants_table(request.headers.get("accept", ""))
            and target.resource.plural in PRINTERS,
        )
        stream = WatchStream(self.cluster, self.hub, watch_request)
        return StreamingResponse(stream.stream(), media_type="application/json")
