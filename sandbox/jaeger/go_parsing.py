"""Go-compatible parsing of the values Jaeger's query service reads from a URL.

Jaeger is written in Go, so its 400 answers quote Go's own error texts (`time.ParseDuration`,
`strconv.ParseInt`, `strconv.ParseUint`). These functions accept and reject exactly what Go does
and raise `GoParseError` carrying the same message.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

NANOS_PER_UNIT: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5 micro sign
    "μs": 1_000,  # U+03BC Greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_NUMBER = re.compile(r"(\d*)(?:\.(\d*))?")
_UNIT = re.compile(r"[^0-9.]*")
_DECIMAL_INT = re.compile(r"[+-]?\d+")
_HEX = re.compile(r"[0-9a-fA-F]+")
_INT64_MAX = 2**63 - 1
_INT32_MAX = 2**31 - 1


class GoParseError(ValueError):
    """A value Go would refuse; `str(error)` is Go's message."""


def go_quote(text: str) -> str:
    """Roughly strconv.Quote: double quotes with escapes."""
    return json.dumps(text, ensure_ascii=False)


def parse_go_duration(text: str) -> int:
    """time.ParseDuration: "1.5s", "100ms", "500us", "-2h45m" -> nanoseconds."""
    rest = text
    negative = False
    if rest[:1] in ("+", "-"):
        negative = rest[0] == "-"
        rest = rest[1:]
    if rest == "0":
        return 0
    if rest == "":
        raise GoParseError(f"time: invalid duration {go_quote(text)}")
    total = Decimal(0)
    while rest:
        number = _NUMBER.match(rest)
        assert number is not None
        whole, fraction = number.group(1), number.group(2)
        if not whole and not fraction:
            raise GoParseError(f"time: invalid duration {go_quote(text)}")
        rest = rest[number.end() :]
        unit_match = _UNIT.match(rest)
        unit = unit_match.group(0) if unit_match else ""
        if not unit:
            raise GoParseError(f"time: missing unit in duration {go_quote(text)}")
        if unit not in NANOS_PER_UNIT:
            raise GoParseError(f"time: unknown unit {go_quote(unit)} in duration {go_quote(text)}")
        rest = rest[len(unit) :]
        value = Decimal(whole or "0") + (Decimal(f"0.{fraction}") if fraction else Decimal(0))
        total += value * NANOS_PER_UNIT[unit]
    if total > _INT64_MAX:
        raise GoParseError(f"time: invalid duration {go_quote(text)}")
    nanos = int(total)
    return -nanos if negative else nanos


def parse_go_int(text: str, bits: int = 64) -> int:
    """strconv.ParseInt(text, 10, bits)."""
    if not _DECIMAL_INT.fullmatch(text):
        raise GoParseError(f"strconv.ParseInt: parsing {go_quote(text)}: invalid syntax")
    value = int(text)
    limit = _INT32_MAX if bits == 32 else _INT64_MAX
    if value > limit or value < -limit - 1:
        raise GoParseError(f"strconv.ParseInt: parsing {go_quote(text)}: value out of range")
    return value


def parse_go_hex_uint64(text: str) -> int:
    """strconv.ParseUint(text, 16, 64)."""
    if not _HEX.fullmatch(text):
        raise GoParseError(f"strconv.ParseUint: parsing {go_quote(text)}: invalid syntax")
    value = int(text, 16)
    if value >= 2**64:
        raise GoParseError(f"strconv.ParseUint: parsing {go_quote(text)}: value out of range")
    return value


TraceKey = tuple[int, int]
"""A trace id as Jaeger holds it: (high 64 bits, low 64 bits)."""


def parse_trace_id(text: str) -> TraceKey:
    """model.TraceIDFromString: up to 32 hex digits, leading zeros insignificant."""
    if len(text) > 32:
        raise GoParseError(f"TraceID cannot be longer than 32 hex characters: {text}")
    if len(text) > 16:
        split = len(text) - 16
        return parse_go_hex_uint64(text[:split]), parse_go_hex_uint64(text[split:])
    return 0, parse_go_hex_uint64(text)


def format_trace_id(key: TraceKey) -> str:
    """TraceID.String(): 16 hex digits, or 32 when the high half is set."""
    high, low = key
    return f"{low:016x}" if high == 0 else f"{high:016x}{low:016x}"
