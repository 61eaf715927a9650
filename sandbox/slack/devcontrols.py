"""Controls of the world behind the local workspace, shown on its page when a host (such as
`opsbot dev`) provides them: start an incident scenario, reset the world to healthy.
Real Slack has nothing like it; the page draws them apart from the Slack look-alike."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Json = dict[str, object]


@dataclass
class DevControls:
    """`start(name)` and `reset()` may be slow (they load data into every backend): they
    run one at a time in a background thread, and `status` says what is happening."""

    scenarios: Sequence[str]
    start: Callable[[str], None]
    reset: Callable[[], None]
    notify: Callable[[], None] = lambda: None  # the page redraws when this is called
    status: str = "healthy"
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> Json:
        return {"scenarios": list(self.scenarios), "status": self.status}

    def start_scenario(self, name: str) -> Json:
        if name not in self.scenarios:
            raise ValueError(f"no scenario {name!r}")
        return self._run(f"starting {name}", f"playing {name}", lambda: self.start(name))

    def reset_world(self) -> Json:
        return self._run("resetting to healthy", "healthy", self.reset)

    def _set(self, status: str) -> None:
        self.status = status
        self.notify()

    def _run(self, doing: str, done: str, work: Callable[[], None]) -> Json:
        if not self._lock.acquire(blocking=False):
            raise ValueError(f"busy: {self.status}")
        self._set(doing)

        def background() -> None:
            try:
                work()
                self._set(done)
            except Exception as exc:  # noqa: BLE001 -- outer boundary: the page shows why
                self._set(f"failed: {exc}"[:300])
            finally:
                self._lock.release()

        threading.Thread(target=background, name="dev-controls", daemon=True).start()
        return {"status": self.status}
