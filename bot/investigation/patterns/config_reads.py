"""The values a failing workload's error lines name (the hosts and URLs it could not reach),
to ask whether they come from the configuration its pods read. Pure."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

MAX_VALUES = 8
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://([^\s/:'\"<>),]+)", re.IGNORECASE)
_HOST = re.compile(r"(?<![\w.:/-])((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.){2,}[a-z][a-z0-9-]*)\b")
_IP = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")


def named_values(messages: Iterable[str]) -> list[str]:
    """The host names (three labels or more, or any URL's host) and IP addresses that the
    error lines name, most often named first. Lower-case host tokens only: `Class.method`
    frames and file names are not hosts."""
    found: Counter[str] = Counter()
    for message in messages:
        hosts = {m.group(1).lower() for m in _URL.finditer(message)}
        hosts |= {m.group(1) for m in _HOST.finditer(message)}
        hosts |= set(_IP.findall(message))
        found.update(h.rstrip(".") for h in hosts if len(h) >= 3)
    return [value for value, _ in found.most_common(MAX_VALUES)]
