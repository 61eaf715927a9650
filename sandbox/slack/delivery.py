"""Getting requests to the app: signed HTTP posts to its request URL, or Socket Mode envelopes.

Slash commands and interactions get one try with a 3-second deadline; events (see events.py)
are retried with X-Slack-Retry-Num / X-Slack-Retry-Reason, each retry freshly signed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from sandbox.slack.config import SlackConfig
from sandbox.slack.signing import signed_headers
from sandbox.slack.socket_mode import NoSocketConnection, SocketHub

Json = dict[str, Any]
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class DeliveryResult:
    """How the app answered one request (the last attempt, for retried events).

    `status` is the HTTP status (200 for a Socket Mode ack, None without an answer); `payload`
    is the JSON the app acked with (HTTP JSON body, or the Socket Mode ack's payload);
    `error` is None, "timeout", "connection_failed", "http_error" or "dispatch_failed".
    """

    kind: str
    status: int | None
    body: str = ""
    content_type: str = ""
    payload: Json | None = None
    error: str | None = None
    attempts: int = 1
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300


def _parse_ack(kind: str, response: httpx.Response) -> DeliveryResult:
    content_type = response.headers.get("content-type", "")
    payload: Json | None = None
    text = response.text
    if text.strip():
        if content_type.startswith("application/json"):
            try:
                loaded = json.loads(text)
                payload = loaded if isinstance(loaded, dict) else None
            except ValueError:
                payload = None
        else:
            payload = {"text": text}
    return DeliveryResult(
        kind=kind,
        status=response.status_code,
        body=text,
        content_type=content_type,
        payload=payload,
        error=None if response.is_success else "http_error",
        headers=dict(response.headers),
    )


class Deliverer:
    def __init__(self, config: Callable[[], SlackConfig], hub: SocketHub) -> None:
        self._config = config
        self._hub = hub
        self._client = httpx.Client()

    def close(self) -> None:
        self._client.close()

    def command(self, form: dict[str, str]) -> DeliveryResult:
        if self._config().delivery == "socket":
            return self._socket("slash_commands", dict(form), accepts_response=True)
        return self._http("slash_commands", urlencode(form).encode(), FORM)

    def interaction(self, payload: Json) -> DeliveryResult:
        if self._config().delivery == "socket":
            accepts = payload.get("type") in ("view_submission", "block_suggestion")
            return self._socket("interactive", payload, accepts_response=accepts)
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self._http("interactive", body, FORM)

    def event_attempt(self, envelope: Json, attempt: int, reason: str | None) -> DeliveryResult:
        """One try at delivering an event; retries carry their number and the last failure."""
        if self._config().delivery == "socket":
            return self._socket(
                "events_api", envelope, accepts_response=False, retry=(attempt, reason or "")
            )
        extra = {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": reason or ""}
        return self._http(
            "events_api",
            json.dumps(envelope).encode(),
            "application/json",
            extra if attempt else {},
        )

    def _http(
        self, kind: str, body: bytes, content_type: str, extra: dict[str, str] | None = None
    ) -> DeliveryResult:
        config = self._config()
        if not config.bot_url:
            return DeliveryResult(kind=kind, status=None, error="dispatch_failed")
        headers = signed_headers(config.signing_secret, body, content_type) | (extra or {})
        try:
            response = self._client.post(
                config.bot_url, content=body, headers=headers, timeout=config.ack_timeout_s
            )
        except httpx.TimeoutException:
            return DeliveryResult(kind=kind, status=None, error="timeout")
        except httpx.HTTPError:
            return DeliveryResult(kind=kind, status=None, error="connection_failed")
        return _parse_ack(kind, response)

    def _socket(
        self,
        kind: str,
        payload: Json,
        *,
        accepts_response: bool,
        retry: tuple[int, str] | None = None,
    ) -> DeliveryResult:
        envelope: Json = {"envelope_id": str(uuid.uuid4()), "payload": payload, "type": kind}
        envelope["accepts_response_payload"] = accepts_response
        if retry is not None:
            envelope["retry_attempt"], envelope["retry_reason"] = retry
        try:
            ack = self._hub.send(envelope, self._config().ack_timeout_s)
        except NoSocketConnection:
            return DeliveryResult(kind=kind, status=None, error="dispatch_failed")
        if ack is None:
            return DeliveryResult(kind=kind, status=None, error="timeout")
        answer = ack.get("payload")
        return DeliveryResult(
            kind=kind,
            status=200,
            body=json.dumps(ack),
            content_type="application/json",
            payload=answer if isinstance(answer, dict) else None,
        )


def retry_reason(result: DeliveryResult, *, socket: bool) -> str:
    if socket:
        return "timeout"
    return {"timeout": "http_timeout", "connection_failed": "connection_failed"}.get(
        result.error or "", "http_error"
    )
