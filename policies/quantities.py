"""Kubernetes CPU and memory quantities as numbers (cores, bytes) and back, for the
`set_resources` action. Only the forms a recommendation produces and kubectl prints are
accepted: `250m`, `1`, `1.5` for CPU; `192Mi`, `1Gi`, `512Ki`, `1000000` for memory."""

from __future__ import annotations

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
