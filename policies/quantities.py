"""Kubernetes quantities as numbers (cores, bytes) and back, in one place.

`parse_cpu`/`parse_memory` accept only the forms a recommendation produces and kubectl
prints, for the `set_resources` action (`250m`, `1`, `1.5`; `192Mi`, `1Gi`, `512Ki`,
`1000000`); `parse_bytes` reads any memory or storage quantity found in the cluster
(`500M`, `1e9` too) for the engine's rules and the action signals."""

from __future__ import annotations

import math
import re

CPU_PATTERN = r"^(?:[1-9][0-9]{0,6}m|[0-9]{1,4}(?:\.[0-9]{1,3})?)$"
MEMORY_PATTERN = r"^[1-9][0-9]{0,12}(?:Ki|Mi|Gi|Ti|k|M|G|T)?$"
_MEMORY_UNITS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}
_MEMORY = re.compile(r"^([0-9]+)([A-Za-z]*)$")
MIB = 2**20
GIB = 2**30


def parse_cpu(text: str) -> float:
    """`250m` → 0.25, `2` → 2.0 (cores)."""
    if not re.match(CPU_PATTERN, text):
        raise ValueError(f"{text!r} is not a CPU quantity like 250m or 1.5")
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


def parse_memory(text: str) -> int:
    """`192Mi` → 201326592 (bytes)."""
    found = _MEMORY.match(text)
    if not re.match(MEMORY_PATTERN, text) or found is None:
        raise ValueError(f"{text!r} is not a memory quantity like 192Mi or 1Gi")
    return int(found.group(1)) * _MEMORY_UNITS[found.group(2)]


def cpu_text(cores: float) -> str:
    """Whole cores as `2`, anything else in millicores: 0.05 → `50m`."""
    millis = round(cores * 1000)
    if millis <= 0:
        raise ValueError(f"a CPU quantity must be positive, not {cores}")
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def memory_text(size: float) -> str:
    """Whole GiB as `1Gi`, else whole MiB (rounded up): 201326592 → `192Mi`."""
    mebibytes = -(-int(size) // MIB)
    if mebibytes <= 0:
        raise ValueError(f"a memory quantity must be positive, not {size}")
    return f"{mebibytes // 1024}Gi" if mebibytes % 1024 == 0 else f"{mebibytes}Mi"


_BYTES_SUFFIX = {
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
    """Any memory or storage quantity Kubernetes writes (`512Mi`, `1Gi`, `500M`, `1e9`) as
    bytes."""
    found = _QUANTITY.match(text)
    if not found:
        raise ValueError(f"{text!r} is not a quantity like 512Mi or 1Gi")
    return float(found.group(1)) * _BYTES_SUFFIX[found.group(2) or ""]


def bytes_text(value: float) -> str:
    """Binary units, three significant digits: 536870912 -> 512Mi."""
    for unit, size in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if value >= size:
            return f"{value / size:.3g}{unit}"
    return f"{value:.0f}"


def whole_gibibytes(value: float) -> str:
    """A size the expand_volume action accepts: whole Gi, rounded up (at least 1Gi)."""
    return f"{max(1, math.ceil(value / 2**30))}Gi"
