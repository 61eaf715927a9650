"""A real server as a child process on 127.0.0.1: start, wait until ready, stop cleanly."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

import httpx

LOOPBACK = "127.0.0.1"
PORT_ATTEMPTS = 3


class ProcessStartError(RuntimeError):
    """The server exited or did not become ready; the message carries its log tail."""


def free_port() -> int:
    """A port that was free a moment ago (another process may still take it: retry)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def require_binary(name: str, install_hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ProcessStartError(f"{name} is not installed: {install_hint}")
    return path


def make_workdir(prefix: str, workdir: Path | None) -> tuple[Path, bool]:
    """The given directory, or a fresh temporary one that stop() removes."""
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        return workdir, False
    return Path(tempfile.mkdtemp(prefix=f"opsbot-{prefix}-")), True


class ManagedProcess:
    """One server process; `url` is its base URL. Use as a context manager or call stop()."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        url: str,
        ready_path: str,
        workdir: Path,
        owns_workdir: bool,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.url = url
        self.ready_path = ready_path
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self._owns_workdir = owns_workdir
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout: float = 30.0) -> Self:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - argv built by this package
                self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            self._wait_ready(timeout)
        except ProcessStartError:
            self.stop(remove_workdir=False)  # a retry on another port may reuse it
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while True:
                assert self._process is not None
                if self._process.poll() is not None:
                    raise ProcessStartError(
                        f"{self.name} exited with {self._process.returncode}: {self.log_tail()}"
                    )
                try:
                    if client.get(self.url + self.ready_path).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise ProcessStartError(
                        f"{self.name} not ready after {timeout}s: {self.log_tail()}"
                    )
                time.sleep(0.05)

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, *, remove_workdir: bool = True) -> None:
        """Terminate (then kill after 5 s) and remove a temporary work directory."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if remove_workdir and self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


P = TypeVar("P", bound=ManagedProcess)


def start_on_port(build: Callable[[int], P], port: int, timeout: float) -> P:
    """Start `build(port)`; with port 0 pick free ports, retrying if one was taken meanwhile."""
    attempts = PORT_ATTEMPTS if port == 0 else 1
    for attempt in range(attempts):
        process = build(port or free_port())
        try:
            return process.start(timeout)
        except ProcessStartError as exc:
            if attempt + 1 == attempts or "address already in use" not in str(exc):
                process.stop()
                raise
    raise AssertionError("unreachable")
