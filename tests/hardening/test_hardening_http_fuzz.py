"""The bot's HTTP endpoints under fuzzing: never a 5xx, a 4xx names the problem, and the bot
keeps serving. Schemathesis generates requests from the shipped OpenAPI description
(bot/app/openapi.yaml, served at /openapi.json); hypothesis adds malformed bodies the
description does not cover: wrong types, missing fields, huge and deeply nested JSON,
invalid UTF-8 and wrong content types, for the Alertmanager webhook and for signed Slack
requests.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from sqlmodel import select

from bot.incidents.inbox import MAX_ATTEMPTS
from bot.store.incidents import Alert, AlertInbox
from sandbox.slack.signing import signed_headers
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import SIGNING_SECRET, RunningBot, running_bot, workspace
from tests.conftest import drop_pg, fresh_pg_url, wait_until
from tests.incidents.amfixtures import alert, webhook

TOKEN = "am-fuzz-token"
MAX_BODY = 100_000
FUZZ = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@dataclass
class Target:
    bot: RunningBot
    http: httpx.Client
    statuses: dict[str, list[int]] = field(default_factory=dict)

    def note(self, kind: str, status: int) -> None:
        self.statuses.setdefault(kind, []).append(status)


@pytest.fixture(scope="module")
def slack_ws() -> Iterator[SlackWorkspace]:
    ws = workspace(post_message_rate=0, update_rate=0)
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def target(slack_ws: SlackWorkspace) -> Iterator[Target]:
    url = fresh_pg_url()
    try:
        with (
            running_bot(
                slack_ws,
                database_url=url,
                alertmanager={"bearer_token": TOKEN, "max_body_bytes": MAX_BODY},
            ) as bot,
            httpx.Client(base_url=bot.url, timeout=20) as http,
        ):
            found = Target(bot, http)
            yield found
            # After everything, the bot still serves and still takes a real webhook.
            assert http.get("/healthz").status_code == 200
            assert http.get("/readyz").status_code == 200
            assert _post_webhook(http, json.dumps(_valid()).encode()).status_code == 200
            print({k: (len(v), sorted(set(v))) for k, v in found.statuses.items()})
    finally:
        drop_pg(url)


def _valid() -> dict[str, Any]:
    start = datetime.now(UTC) - timedelta(minutes=3)
    return webhook(alert("FuzzAlert", start, namespace="prod", service="checkout"))


def _post_webhook(
    http: httpx.Client, body: bytes, content_type: str = "application/json"
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": content_type}
    return http.post("/alertmanager", content=body, headers=headers)


def _refusal_is_explained(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body.get("error"), str), response.text[:300]
        assert body["error"].strip()


# --- the shipped description ---------------------------------------------------------------------


def test_the_description_is_served_and_matches_the_shipped_file(target: Target) -> None:
    served = target.http.get("/openapi.json")
    schema = schemathesis.openapi.from_url(f"{target.bot.url}/openapi.json")
    operations = [op.ok().label for op in schema.get_all_operations()]  # type: ignore[union-attr]

    assert served.status_code == 200
    assert set(served.json()["paths"]) == {
        "/alertmanager",
        "/slack/events",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
    }
    assert "POST /alertmanager" in operations


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(target: Target) -> None:
    schema = schemathesis.openapi.from_url(f"{target.bot.url}/openapi.json")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for result in schema.get_all_operations():
        _fuzz_operation(target, result.ok(), auth)  # type: ignore[union-attr]


def _fuzz_operation(target: Target, operation: Any, auth: dict[str, str]) -> None:
    label = str(operation.label)

    @FUZZ
    @given(case=operation.as_strategy())
    def call(case: Any) -> None:
        headers = auth if label == "POST /alertmanager" else {}
        response = case.call(base_url=target.bot.url, headers=headers)
        target.note(f"schemathesis {label}", response.status_code)
        case.validate_response(response, checks=[not_a_server_error])
        documented = case.operation.definition.raw["responses"]
        assert str(response.status_code) in documented, (label, response.status_code)
        explained = response.status_code in (400, 401, 413, 415, 422)
        if explained and label in ("POST /alertmanager", "POST /slack/events"):
            assert response.json()["error"]

    call()


# --- malformed Alertmanager webhooks ---

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = [
    ("status",),
    ("alerts",),
    ("version",),
    ("groupLabels",),
    ("truncatedAlerts",),
    ("alerts", 0),
    ("alerts", 0, "labels"),
    ("alerts", 0, "labels", "alertname"),
    ("alerts", 0, "startsAt"),
    ("alerts", 0, "endsAt"),
    ("alerts", 0, "status"),
    ("alerts", 0, "annotations"),
]


def _mutated(path: tuple[Any, ...], value: Any, delete: bool) -> dict[str, Any]:
    body = copy.deepcopy(_valid())
    parent: Any = body
    for step in path[:-1]:
        parent = parent[step]
    if delete and isinstance(parent, dict):
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = value
    return body


@FUZZ
@given(path=st.sampled_from(FIELDS), value=JSON_VALUES, delete=st.booleans())
def _fuzz_webhook_fields(target: Target, path: tuple[Any, ...], value: Any, delete: bool) -> None:
    response = _post_webhook(target.http, json.dumps(_mutated(path, value, delete)).encode())
    target.note("webhook wrong types / missing fields", response.status_code)
    _refusal_is_explained(response)


def test_webhooks_with_wrong_types_or_missing_fields_get_a_4xx_naming_the_field(
    target: Target,
) -> None:
    _fuzz_webhook_fields(target)
    statuses = target.statuses["webhook wrong types / missing fields"]
    assert 422 in statuses


@FUZZ
@given(value=JSON_VALUES)
def _fuzz_webhook_shapes(target: Target, value: Any) -> None:
    response = _post_webhook(target.http, json.dumps(value).encode())
    target.note("webhook arbitrary JSON", response.status_code)
    _refusal_is_explained(response)
    assert response.status_code in (400, 422)


def test_arbitrary_json_is_refused_with_a_reason(target: Target) -> None:
    _fuzz_webhook_shapes(target)


def _deep(depth: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize(
    ("name", "body", "content_type"),
    [
        ("deep list", _deep(50_000, "list"), "application/json"),
        ("deep object", _deep(20_000, "object"), "application/json"),
        (
            "deep but small alert",
            b'{"status":"firing","alerts":' + _deep(5_000, "list") + b"}",
            "application/json",
        ),
        ("huge", b'{"status":"firing","alerts":[' + b"1," * MAX_BODY + b"1]}", "application/json"),
        (
            "invalid utf-8",
            b'{"status":"firing","receiver":"\xff\xfe","alerts":[]}',
            "application/json",
        ),
        (
            "lone surrogate",
            b'{"status":"firing","receiver":"\\ud800","alerts":[]}',
            "application/json",
        ),
        (
            "nul in label",
            json.dumps(_mutated(("alerts", 0, "labels", "alertname"), "a\x00b", False)).encode(),
            "application/json",
        ),
        ("empty", b"", "application/json"),
        ("xml", b"<alerts/>", "application/xml"),
        ("form", b"status=firing&alerts=1", "application/x-www-form-urlencoded"),
        (
            "huge number",
            b'{"status":"firing","truncatedAlerts":1' + b"0" * 5000 + b',"alerts":[]}',
            "application/json",
        ),
    ],
)
def test_pathological_webhook_bodies_get_a_4xx(
    target: Target, name: str, body: bytes, content_type: str
) -> None:
    response = _post_webhook(target.http, body, content_type)
    target.note(f"webhook {name}", response.status_code)
    _refusal_is_explained(response)
    assert 400 <= response.status_code < 500


def test_a_valid_webhook_in_the_wrong_content_type_is_refused_with_415(target: Target) -> None:
    response = _post_webhook(target.http, json.dumps(_valid()).encode(), "text/plain")
    _refusal_is_explained(response)
    assert response.status_code == 415


# --- malformed signed Slack requests ---


def _post_slack(target: Target, body: bytes, content_type: str) -> httpx.Response:
    headers = signed_headers(SIGNING_SECRET, body, content_type, int(time.time()))
    headers["Content-Type"] = content_type
    return target.http.post("/slack/events", content=body, headers=headers)


def _slack_answer_is_sane(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code in (400, 401, 413, 415):
        assert response.json()["message"]


SLACK_TYPES = st.sampled_from(
    ["event_callback", "url_verification", "block_actions", "view_submission", "shortcut", "x"]
)


@FUZZ
@given(kind=SLACK_TYPES, event=JSON_VALUES, extra=JSON_VALUES, nonce=st.uuids())
def _fuzz_slack_json(target: Target, kind: str, event: Any, extra: Any, nonce: Any) -> None:
    body = json.dumps({"type": kind, "event": event, "extra": extra, "event_id": str(nonce)})
    response = _post_slack(target, body.encode(), "application/json")
    target.note("slack JSON", response.status_code)
    _slack_answer_is_sane(response)


@FUZZ
@given(kind=SLACK_TYPES, payload=JSON_VALUES, command=st.text(max_size=20), nonce=st.uuids())
def _fuzz_slack_form(target: Target, kind: str, payload: Any, command: str, nonce: Any) -> None:
    if isinstance(payload, dict):
        payload = {"type": kind, **payload, "nonce": str(nonce)}
    form = httpx.QueryParams(
        {"payload": json.dumps(payload)}
        if command == ""
        else {"command": command, "text": str(nonce)}
    )
    response = _post_slack(target, str(form).encode(), "application/x-www-form-urlencoded")
    target.note("slack form", response.status_code)
    _slack_answer_is_sane(response)


def test_signed_slack_requests_with_odd_bodies_never_get_a_5xx(target: Target) -> None:
    _fuzz_slack_json(target)
    _fuzz_slack_form(target)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (_deep(50_000, "list"), "application/json"),
        (b'{"type":"event_callback","event":' + _deep(20_000, "object") + b"}", "application/json"),
        (b"payload=" + _deep(20_000, "list"), "application/x-www-form-urlencoded"),
        (b'{"type":"event_callback","event":{"type":"\xff"}}', "application/json"),
        (b"payload=%ff%fe", "application/x-www-form-urlencoded"),
        (b"<xml/>", "application/xml"),
        (b"", "application/json"),
        (b"x" * 1_100_000, "application/json"),
    ],
)
def test_pathological_signed_slack_bodies_get_a_4xx(
    target: Target, body: bytes, content_type: str
) -> None:
    response = _post_slack(target, body, content_type)
    target.note("slack pathological", response.status_code)
    _slack_answer_is_sane(response)
    assert 400 <= response.status_code < 500


def test_a_start_at_go_zero_time_is_refused_and_an_old_such_row_does_not_wedge_the_inbox(
    target: Target,
) -> None:
    zero = _mutated(("alerts", 0, "startsAt"), "0001-01-01T00:00:00Z", False)
    refused = _post_webhook(target.http, json.dumps(zero).encode())
    pipeline = target.bot.bot.runtime.pipeline
    with target.bot.bot.deps.db.session() as session:  # stored before the rule existed
        poison = AlertInbox(body=json.dumps(zero))
        session.add(poison)
        session.flush()
        poison_id = poison.id
    fresh = webhook(alert("AfterThePoison", datetime.now(UTC), namespace="prod"))
    accepted = _post_webhook(target.http, json.dumps(fresh).encode())
    pipeline.drain()

    def stored_names() -> set[str]:
        with target.bot.bot.deps.db.session() as session:
            return {a.name for a in session.exec(select(Alert)).all()}

    # The bot's own inbox worker may hold the fresh row while this drain runs: wait for it.
    wait_until(lambda: "AfterThePoison" in stored_names(), 15, "the fresh alert was not stored")

    assert refused.status_code == 422
    assert refused.json()["error"].startswith("alerts.0.startsAt")
    assert accepted.status_code == 200
    with target.bot.bot.deps.db.session() as session:
        set_aside = session.get(AlertInbox, poison_id)
    assert set_aside is not None
    assert set_aside.processed_at is None
    assert set_aside.dead_at is not None  # invalid for good: set aside at once
    assert 1 <= set_aside.attempts <= MAX_ATTEMPTS
