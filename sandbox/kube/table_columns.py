"""Column definitions and the age cell shared by the server-side table printers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.kube.clock import human_duration, parse_time

JsonDict = dict[str, Any]
NAME_DOC = "The name of the object, unique within its namespace."
AGE_DOC = "How long ago the object was created (from metadata.creationTimestamp)."


def column(
    name: str, kind: str = "string", priority: int = 0, description: str = "", fmt: str = ""
) -> JsonDict:
    return {
        "name": name,
        "type": kind,
        "format": fmt,
        "description": description,
        "priority": priority,
    }


NAME = column("Name", fmt="name", description=NAME_DOC)
AGE = column("Age", description=AGE_DOC)


def age(obj: JsonDict, now: datetime) -> str:
    stamp = obj["metadata"].get("creationTimestamp")
    return human_duration((now - parse_time(stamp)).total_seconds()) if stamp else "<unknown>"
