"""Kubernetes resource quantities ("500m", "256Mi", "1.5Gi", "2") as numbers."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

QUANTITY_PATTERN = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
_QUANTITY = re.compile(QUANTITY_PATTERN)

_SUFFIXES: dict[str, Decimal] = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}


class QuantityError(ValueError):
    pass


def parse_quantity(text: str | int | float) -> Decimal:
    """The quantity's value in base units (cores for cpu, bytes for memory)."""
    raw = str(text).strip()
    match = _QUANTITY.match(raw)
    if not match:
        raise QuantityError(f"quantities must match the regular expression '{QUANTITY_PATTERN}'")
    number, suffix = match.groups()
    try:
        value = Decimal(number)
    except InvalidOperation as exc:
        raise QuantityError(f"unable to parse quantity's numeric part: {raw}") from exc
    if suffix in _SUFFIXES:
        return value * _SUFFIXES[suffix]
    if suffix[:1] in ("e", "E"):
        try:
            return value * (Decimal(10) ** int(suffix[1:]))
        except ValueError as exc:
            raise QuantityError(f"unable to parse quantity's suffix: {raw}") from exc
    raise QuantityError(f"unable to parse quantity's suffix: {raw}")


def is_quantity(text: object) -> bool:
    try:
        parse_quantity(str(text))
    except QuantityError:
        return False
    return True
