"""API errors as metav1.Status objects, with the reasons and wording the real API server uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.kube.resources import ResourceType

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Cause:
    """One field problem of an Invalid error (metav1.StatusCause)."""

    field: str
    reason: str  # FieldValueInvalid, FieldValueRequired, FieldValueDuplicate, ...
    message: str

    @property
    def text(self) -> str:
        return f"{self.field}: {self.message}"


class ApiError(Exception):
    """An error the API answers with a Status body."""

    def __init__(self, code: int, reason: str, message: str, details: JsonDict | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> JsonDict:
        return failure_status(self.code, self.reason, self.message, self.details)


def failure_status(code: int, reason: str, message: str, details: JsonDict | None) -> JsonDict:
    body: JsonDict = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details:
        body["details"] = details
    body["code"] = code
    return body


def deleted_status(resource: ResourceType, name: str, uid: str) -> JsonDict:
    """What DELETE answers for resources that are removed at once."""
    details: JsonDict = {"name": name}
    if resource.group:
        details["group"] = resource.group
    details["kind"] = resource.plural
    details["uid"] = uid
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }


def created_status() -> JsonDict:
    """What a pod eviction answers."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


def _details(resource: ResourceType, name: str, kind: str | None = None) -> JsonDict:
    details: JsonDict = {"name": name}
    if resource.group:
        details["group"] = resource.group
    details["kind"] = kind or resource.plural
    return details


def not_found(resource: ResourceType, name: str) -> ApiError:
    return ApiError(
        404, "NotFound", f'{resource.qualified} "{name}" not found', _details(resource, name)
    )


def already_exists(resource: ResourceType, name: str) -> ApiError:
    message = f'{resource.qualified} "{name}" already exists'
    return ApiError(409, "AlreadyExists", message, _details(resource, name))


def conflict(resource: ResourceType, name: str, detail: str) -> ApiError:
    message = f'Operation cannot be fulfilled on {resource.qualified} "{name}": {detail}'
    return ApiError(409, "Conflict", message, _details(resource, name))


def stale_conflict(resource: ResourceType, name: str) -> ApiError:
    return conflict(
        resource,
        name,
        "the object has been modified; please apply your changes to the latest version "
        "and try again",
    )


def invalid(
    resource: ResourceType, name: str, causes: list[Cause], kind: str | None = None
) -> ApiError:
    qualified_kind = kind or resource.qualified_kind
    if len(causes) == 1:
        summary = causes[0].text
    else:
        summary = "[" + ", ".join(cause.text for cause in causes) + "]"
    details = _details(resource, name, kind=(kind or resource.kind).split(".")[0])
    details["causes"] = [
        {"reason": cause.reason, "message": cause.message, "field": cause.field} for cause in causes
    ]
    return ApiError(422, "Invalid", f'{qualified_kind} "{name}" is invalid: {summary}', details)


def forbidden_message(
    user: str,
    verb: str,
    resource: str,
    group: str,
    namespace: str | None,
    name: str | None,
    qualified: str,
) -> str:
    subject = f'{qualified} "{name}"' if name else qualified
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    return (
        f'{subject} is forbidden: User "{user}" cannot {verb} resource "{resource}" '
        f'in API group "{group}" {scope}'
    )


def forbidden(message: str, name: str | None, group: str, kind: str) -> ApiError:
    details: JsonDict = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    details["kind"] = kind
    return ApiError(403, "Forbidden", message, details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def method_not_allowed() -> ApiError:
    return ApiError(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
    )


def unsupported_media_type(content_type: str, accepted: list[str]) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted),
    )


def path_not_found() -> ApiError:
    return ApiError(
        404,
        "NotFound",
        "the server could not find the requested resource",
        {"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]},
    )


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def namespace_not_found(namespace: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'namespaces "{namespace}" not found',
        {"name": namespace, "kind": "namespaces"},
    )
