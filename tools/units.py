"""Quantities in tool output, in the units Kubernetes uses for what they are compared with.

A container's memory limit reads `768Mi` (binary: 768 x 2^20 bytes). Printing usage with SI
prefixes ("793M" for 793 million bytes) puts 756 MiB next to a 768Mi limit as if it were
over it, to a model and to a person. So byte quantities print in Ki/Mi/Gi/Ti, the way
`kubectl` and resource specs write them; seconds print with `s`; everything else keeps
the compact SI form of `tools.budget.format_number`.
"""

from __future__ import annotations

from typing import Literal

from tools.budget import format_number

Unit = Literal["bytes", "seconds", "none"]
_BINARY = (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10))


def unit_of(metric_name: str) -> Unit:
    """The unit a Prometheus metric name declares by convention (`_bytes`, `_seconds`,
    optionally followed by `_total`), or "none"."""
    base = metric_name.removesuffix("_total")
    if base.endswith("_bytes"):
        return "bytes"
    if base.endswith("_seconds"):
        return "seconds"
    return "none"


def format_bytes(value: float | None) -> str:
    """Bytes with binary prefixes, 3 significant digits: 792_723_456 -> "756Mi"."""
    if value is None:
        return "n/a"
    magnitude = abs(value)
    for suffix, size in _BINARY:
        if magnitude >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}B" if magnitude != int(magnitude) else f"{int(value)}B"


def format_seconds(value: float | None) -> str:
    """Seconds with an `s`: 0.25 -> "0.25s", 5400 -> "5.4ks" stays SI (no binary time)."""
    return "n/a" if value is None else f"{format_number(value)}s"


def format_quantity(value: float | None, unit: Unit) -> str:
    """A value in its unit's notation (see the module docstring)."""
    if unit == "bytes":
        return format_bytes(value)
    if unit == "seconds":
        return format_seconds(value)
    return format_number(value)
