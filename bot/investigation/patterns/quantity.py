"""Kubernetes memory/storage quantities (`512Mi`, `1Gi`, `500M`, `1e9`) as bytes and back."""

from __future__ import annotations

import math
import re

_SUFFIX = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
}
_QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?(?:[eE][0-9]+)?)\s*([kMGTP]i?)?\s*$")


def parse_bytes(text: str) -> float:
    found = _QUANTITY.match(text)
    if not found:
        raise ValueError(f"{text!r} is not a quantity like 512Mi or 1Gi")
    return float(found.group(1)) * _SUFFIX[found.group(2) or ""]


def bytes_text(value: float) -> str:
    """Binary units, three significant digits: 536870912 -> 512Mi."""
    for unit, size in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if value >= size:
            return f"{value / size:.3g}{unit}"
    return f"{value:.0f}"


def whole_gibibytes(value: float) -> str:
    """A size the expand_volume action accepts: whole Gi, rounded up (at least 1Gi)."""
    return f"{max(1, math.ceil(value / 2**30))}Gi"
