"""The file `python -m sandbox up` writes so `status` and `down` work from other processes."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


def default_state_path() -> Path:
    return Path(tempfile.gettempdir()) / f"opsbot-sandbox-{os.getuid()}.json"


@dataclass
class SandboxState:
    pid: int  # the process holding the world (in-process servers live there)
    started: str
    urls: dict[str, str | None]
    children: dict[str, int]  # name -> pid of each server process it started
    workdir: str
    scenario: str | None = None
    log: str | None = None
    alerts: list[str] = field(default_factory=list)

    def write(self, path: Path) -> None:
        """Atomically, so a reader never sees half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2))
        temporary.replace(path)

    @classmethod
    def read(cls, path: Path) -> SandboxState | None:
        try:
            data: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        known = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        try:
            return cls(**known)
        except TypeError:
            return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _not_zombie(pid)


def _not_zombie(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True
    return fields[0] != "Z"


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
