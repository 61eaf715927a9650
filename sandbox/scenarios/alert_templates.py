"""The part of Prometheus' alert template language scenario annotations use.

Supported inside `{{ }}`: `$labels.NAME`, `$value`, `$value | humanize`,
`$value | humanize1024`, `$value | humanizePercentage`, `$value | humanizeDuration` and
`printf "%.Nf" $value`. Anything else is an error, so a scenario never ships a template
Prometheus would render differently.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

_ACTION = re.compile(r"{{-?\s*(.*?)\s*-?}}")
_PRINTF = re.compile(r'^printf\s+"(%\.\d+f)"\s+\$value$')
_SMALL = ("m", "u", "n", "p", "f", "a", "z", "y")
_LARGE = ("k", "M", "G", "T", "P", "E", "Z", "Y")


class TemplateError(ValueError):
    """An annotation uses template syntax outside the supported subset."""


def go_float(value: float) -> str:
    """How text/template prints a float64 (strconv 'g', shortest)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def _g4(value: float) -> str:
    return f"{value:.4g}"


def humanize(value: float) -> str:
    if value == 0 or math.isnan(value) or math.isinf(value):
        return _g4(value)
    prefix = ""
    if abs(value) >= 1:
        for unit in _LARGE:
            if abs(value) < 1000:
                break
            prefix, value = unit, value / 1000
        return _g4(value) + prefix
    for unit in _SMALL:
        if abs(value) >= 1:
            break
        prefix, value = unit, value * 1000
    return _g4(value) + prefix


def humanize_1024(value: float) -> str:
    if abs(value) <= 1:
        return _g4(value)
    prefix = ""
    for unit in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(value) < 1024:
            break
        prefix, value = unit, value / 1024
    return _g4(value) + prefix


def humanize_duration(seconds: float) -> str:
    """`1d 2h 3m 4s` down to minutes, then 4 significant digits of s, ms, us, ..."""
    if math.isnan(seconds) or math.isinf(seconds) or seconds == 0:
        return "0s" if seconds == 0 else _g4(seconds)
    if abs(seconds) < 1:
        prefix, value = "", seconds
        for unit in _SMALL:
            if abs(value) >= 1:
                break
            prefix, value = unit, value * 1000
        return f"{_g4(value)}{prefix}s"
    sign, whole = ("-" if seconds < 0 else ""), int(abs(seconds))
    parts = (
        (whole // 86400, "d"),
        (whole // 3600 % 24, "h"),
        (whole // 60 % 60, "m"),
        (whole % 60, "s"),
    )
    first = next((index for index, (amount, _) in enumerate(parts[:3]) if amount), None)
    if first is None:
        return f"{sign}{_g4(abs(seconds))}s"
    return sign + " ".join(f"{amount}{unit}" for amount, unit in parts[first:])


PIPES = {
    "humanize": humanize,
    "humanize1024": humanize_1024,
    "humanizePercentage": lambda v: _g4(v * 100) + "%",
    "humanizeDuration": humanize_duration,
}


def expand(template: str, labels: Mapping[str, str], value: float) -> str:
    def action(found: re.Match[str]) -> str:
        body = found.group(1)
        if body.startswith("$labels."):
            return labels.get(body.removeprefix("$labels."), "")
        if body == "$value":
            return go_float(value)
        printf = _PRINTF.match(body)
        if printf:
            return printf.group(1) % value
        parts = [part.strip() for part in body.split("|")]
        if len(parts) == 2 and parts[0] == "$value" and parts[1] in PIPES:
            return PIPES[parts[1]](value)
        raise TemplateError(f"unsupported template action {{{{ {body} }}}}")

    return _ACTION.sub(action, template)
