"""A tiny stand-in for GitHub's REST API issues endpoints, as documented: list a
repository's issues (`GET /repos/{owner}/{repo}/issues`, filtered by state and labels)
and create one (`POST`, 201 with the issue; 401 "Bad credentials"; 404 "Not Found" for an
unknown repository; 422 "Validation Failed" without a title)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

DOCS = "https://docs.github.com/rest/issues/issues"


@dataclass
class GitHubState:
    token: str
    repos: set[str]
    issues: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, "documentation_url": DOCS, **extra}, status)


def create_github_app(state: GitHubState) -> Starlette:
    def authorised(request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() in ("bearer", "token") and token == state.token

    async def issues(request: Request) -> JSONResponse:
        repo = f"{request.path_params['owner']}/{request.path_params['repo']}"
        body = await request.body()
        state.requests.append(
            {"method": request.method, "headers": dict(request.headers), "body": body}
        )
        if not authorised(request):
            return _error(401, "Bad credentials")
        if repo not in state.repos:
            return _error(404, "Not Found")
        stored = state.issues.setdefault(repo, [])
        if request.method == "GET":
            wanted = request.query_params.get("state", "open")
            labels = {x for x in request.query_params.get("labels", "").split(",") if x}
            found = [
                issue
                for issue in stored
                if (wanted == "all" or issue["state"] == wanted)
                and labels <= {label["name"] for label in issue["labels"]}
            ]
            return JSONResponse(found)
        data = await request.json()
        title = data.get("title") if isinstance(data, dict) else None
        if not isinstance(title, str | int) or title == "":
            return _error(
                422,
                "Validation Failed",
                errors=[{"resource": "Issue", "code": "missing_field", "field": "title"}],
            )
        number = len(stored) + 1
        issue = {
            "id": 1000 + number,
            "number": number,
            "title": str(title),
            "body": data.get("body"),
            "state": "open",
            "labels": [
                {"id": 500 + i, "name": name, "color": "ededed", "default": False}
                for i, name in enumerate(data.get("labels") or [])
            ],
            "url": f"{request.base_url}repos/{repo}/issues/{number}",
            "html_url": f"https://github.com/{repo}/issues/{number}",
            "user": {"login": "opsbot[bot]", "type": "Bot"},
            "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
        stored.append(issue)
        return JSONResponse(issue, 201)

    return Starlette(
        routes=[Route("/repos/{owner}/{repo}/issues", issues, methods=["GET", "POST"])]
    )
