"""Which script answers a request, and how far each script has got.

Selection, first match wins: the `x-sandbox-script` request header, the script bound to the
request's API key, the active script (set with `activate` or `POST /sandbox/script`), the only
loaded script. Each script keeps its own cursor; a turn is consumed when its answer starts
(a 429 consumes its turn, so the SDK's retry meets the next one), except when its expectation
fails, so the failure repeats until the test looks at it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

from sandbox.claude.errors import invalid_request
from sandbox.claude.recording import RecordedRequest
from sandbox.claude.script import Expect, Script, Turn

SCRIPT_HEADER = "x-sandbox-script"


@dataclass(frozen=True)
class TakenTurn:
    script: str
    index: int
    turn: Turn
    unmet: str | None


class ScriptBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, Script] = {}
        self._cursors: dict[str, int] = {}
        self._keys: dict[str, str] = {}
        self._active: str | None = None

    def add(self, script: Script, *, activate: bool = False) -> None:
        """Add or replace a script (its cursor restarts); binds its `api_key` if it has one."""
        with self._lock:
            self._scripts[script.name] = script
            self._cursors[script.name] = 0
            if script.api_key:
                self._keys[script.api_key] = script.name
            if activate:
                self._active = script.name

    def activate(self, name: str) -> None:
        with self._lock:
            if name not in self._scripts:
                raise KeyError(name)
            self._active = name

    def bind_key(self, api_key: str, name: str) -> None:
        with self._lock:
            self._keys[api_key] = name

    def names(self) -> list[str]:
        with self._lock:
            return list(self._scripts)

    def remaining(self, name: str) -> int:
        with self._lock:
            return len(self._scripts[name].turns) - self._cursors[name]

    def rewind(self) -> None:
        with self._lock:
            for name in self._cursors:
                self._cursors[name] = 0

    def select(self, request: RecordedRequest, api_key: str | None) -> str:
        with self._lock:
            candidates = (
                request.headers.get(SCRIPT_HEADER),
                self._keys.get(api_key or ""),
                self._active,
                next(iter(self._scripts)) if len(self._scripts) == 1 else None,
            )
            for name in candidates:
                if name:
                    if name not in self._scripts:
                        raise invalid_request(f"sandbox: no script named {name!r}")
                    return name
        raise invalid_request("sandbox: no script selected for this request")

    def take(self, name: str, request: RecordedRequest) -> TakenTurn:
        with self._lock:
            script = self._scripts[name]
            index = self._cursors[name]
            if index >= len(script.turns):
                raise invalid_request(
                    f"sandbox: script {name!r} has no turn left (all {len(script.turns)} used)"
                )
            turn = script.turns[index]
            unmet = unmet_expectation(turn.expect, request) if turn.expect else None
            if unmet is None:
                self._cursors[name] = index + 1
            return TakenTurn(script=name, index=index, turn=turn, unmet=unmet)


def unmet_expectation(expect: Expect, request: RecordedRequest) -> str | None:
    """Why the request does not meet `expect`, or None when it does."""
    return next(_unmet_reasons(expect, request), None)


def _unmet_reasons(expect: Expect, request: RecordedRequest) -> Iterator[str]:
    if expect.tool_result_for and request.tool_result_for(expect.tool_result_for) is None:
        yield f"expected the last message to hold a tool_result for {expect.tool_result_for!r}"
    wanted_text = expect.last_user_text_contains
    if wanted_text and wanted_text not in request.last_user_text():
        yield f"expected the last user message to contain {wanted_text!r}"
    if expect.system_contains and expect.system_contains not in request.system_text:
        yield f"expected the system prompt to contain {expect.system_contains!r}"
    missing = [name for name in expect.tools_include if name not in request.tool_names]
    if missing:
        yield f"expected tools {missing} to be offered"
    if expect.tool_choice_type:
        choice = request.body.get("tool_choice") if isinstance(request.body, dict) else None
        actual = choice.get("type") if isinstance(choice, dict) else None
        if actual != expect.tool_choice_type:
            yield f"expected tool_choice {expect.tool_choice_type!r}, got {actual!r}"
    if expect.check is not None:
        reason = expect.check(request)
        if reason is not None:
            yield reason
