"""Decoding request bodies and query options into what the verbs need."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from sandbox.kube.errors import bad_request
from sandbox.kube.resources import ResourceType
from sandbox.kube.schema import SchemaReport, conform

JsonDict = dict[str, Any]


@dataclass
class Outcome:
    """A verb's answer: body, HTTP code and any Warning headers."""

    body: Any
    code: int = 200
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ListOptions:
    label_selector: str | None = None
    field_selector: str | None = None
    limit: int | None = None
    continue_token: str | None = None


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"couldn't get version/kind; json parse error: {exc}") from exc


def decode_object(
    resource: ResourceType,
    data: Any,
    warnings: list[str],
    *,
    model: str | None = None,
    kind: str | None = None,
    api_version: str | None = None,
    strict: bool = False,
) -> JsonDict:
    """Decode a body like the API server: right kind, unknown fields dropped, types enforced."""
    expected_kind = kind or resource.kind
    expected_version = api_version or resource.api_version
    if not isinstance(data, dict):
        raise bad_request(f"the body of the request was not a JSON object ({type(data).__name__})")
    given_kind, given_version = data.get("kind"), data.get("apiVersion")
    if given_kind and given_kind != expected_kind:
        raise bad_request(
            f'{given_kind} in version "{given_version or expected_version}" '
            f"cannot be handled as a {expected_kind}: "
            f"the kind in the body ({given_kind}) does not match {expected_kind}"
        )
    if given_version and given_version != expected_version:
        raise bad_request(
            f"the API version in the data ({given_version}) does not match "
            f"the expected API version ({expected_version})"
        )
    report = SchemaReport()
    body: JsonDict = conform(data, model or resource.model, "", report)
    if report.errors:
        version = expected_version.rsplit("/", 1)[-1]
        raise bad_request(
            f'{expected_kind} in version "{version}" cannot be handled as a {expected_kind}: '
            + "; ".join(report.errors)
        )
    if report.unknown and strict:
        raise bad_request(
            "strict decoding error: "
            + ", ".join(f'unknown field "{name}"' for name in report.unknown)
        )
    warnings.extend(f'unknown field "{name}"' for name in report.unknown)
    body["kind"], body["apiVersion"] = expected_kind, expected_version
    return body


def dry_run_flag(values: list[str]) -> bool:
    for value in values:
        if value != "All":
            raise bad_request(f"Invalid dry run value: {value}; valid values are: All")
    return bool(values)


def encode_continue(resource_version: int, last_key: str) -> str:
    token = json.dumps(
        {"v": "meta.k8s.io/v1", "rv": resource_version, "start": last_key + "\u0000"}
    )
    return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, str]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return int(data["rv"]), str(data["start"])
    except (ValueError, KeyError, TypeError) as exc:
        raise bad_request(f"continue key is not valid: {exc}") from exc
