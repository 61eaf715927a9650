"""Mask secrets and personal data before any text reaches the model, keeping the mapping.

One `Redactor` serves one investigation: the same value always gets the same placeholder
(`[EMAIL_1]`, `[IP_2]`...), so the model can still reason about "the same address", and
`restore` puts every real value back (an exact round trip); `reveal` puts back only contact
data (emails, addresses, phone numbers) for people allowed to see it: credentials and card
numbers stay masked on every way out, so a model that echoes `[TOKEN_1]` — because text it
read told it to — cannot make the bot post the token. Text that already looks like a
placeholder is masked too, which keeps `restore(redact(text)) == text` exact.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"\[(?:EMAIL|IP|PHONE|CARD|JWT|TOKEN|KEY|SECRET|MASK)_\d+\]")
REVEALABLE = frozenset({"EMAIL", "IP", "PHONE"})

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = rf"(?<![\d.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\d.]*\d)"
_H = r"[0-9A-Fa-f]{1,4}"
_IPV6 = (
    rf"(?<![0-9A-Fa-f:])(?:(?:{_H}:){{7}}{_H}|(?:{_H}:){{1,6}}:(?:{_H}(?::{_H}){{0,5}})?)"
    r"(?![0-9A-Fa-f:])"
)

# (kind, pattern) in priority order: earlier kinds win when matches overlap.
BUILTIN: tuple[tuple[str, str], ...] = (
    ("MASK", PLACEHOLDER.pattern),
    ("JWT", r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),
    ("TOKEN", r"(?i)(?<=bearer )[A-Za-z0-9._~+/=-]{8,}"),
    ("TOKEN", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    ("TOKEN", r"\bgh[pousr]_[A-Za-z0-9]{30,}"),
    ("KEY", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("KEY", r"\bAIza[0-9A-Za-z_-]{35}"),
    ("KEY", r"\bsk-(?:ant-)?[A-Za-z0-9_-]{20,}"),
    ("KEY", r"(?i)(?<=aws_secret_access_key[=: ])[\"']?[A-Za-z0-9/+=]{40}"),
    ("EMAIL", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    (
        "CARD",
        r"(?<![\d-])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -])\d{6}\2\d{5})(?![\d])",
    ),
    ("IP", _IPV4),
    ("IP", _IPV6),
    # +1 415-555-0132, +44 20 7946 0958, (212) 555-0187, 415-555-0132
    ("PHONE", r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]\d{2,5}){2,4}(?![\d.-]*\d)"),
    ("PHONE", r"(?<![\w(])\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}(?![\d-])"),
    ("PHONE", r"(?<![\w.-])\d{3}-\d{3}-\d{4}(?![\w-])"),
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    kind: str
    priority: int


class Redactor:
    """Masks text for the model and restores it for people. Thread-safe."""

    def __init__(self, extra_patterns: Iterable[str] = ()) -> None:
        rules = [(kind, re.compile(pattern)) for kind, pattern in BUILTIN]
        rules += [("SECRET", re.compile(pattern)) for pattern in extra_patterns]
        self._rules = rules
        self._by_value: dict[tuple[str, str], str] = {}
        self._by_placeholder: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def mapping(self) -> dict[str, str]:
        """Placeholder -> original value."""
        with self._lock:
            return dict(self._by_placeholder)

    def redact(self, text: str) -> str:
        matches = _non_overlapping(self._matches(text))
        if not matches:
            return text
        parts: list[str] = []
        position = 0
        for match in matches:
            parts.append(text[position : match.start])
            parts.append(self._placeholder(match.kind, text[match.start : match.end]))
            position = match.end
        parts.append(text[position:])
        return "".join(parts)

    def restore(self, text: str) -> str:
        mapping = self.mapping
        return PLACEHOLDER.sub(lambda m: mapping.get(m.group(0), m.group(0)), text)

    def reveal(self, text: str) -> str:
        """Like `restore`, for people: only contact data comes back, never a credential."""
        mapping = self.mapping

        def shown(match: re.Match[str]) -> str:
            placeholder = match.group(0)
            kind = placeholder[1:].rsplit("_", 1)[0]
            return mapping.get(placeholder, placeholder) if kind in REVEALABLE else placeholder

        return PLACEHOLDER.sub(shown, text)

    def _matches(self, text: str) -> Iterator[_Match]:
        for priority, (kind, pattern) in enumerate(self._rules):
            for found in pattern.finditer(text):
                if found.end() == found.start():
                    continue
                if kind == "CARD" and not luhn_valid(re.sub(r"\D", "", found.group(0))):
                    continue
                yield _Match(found.start(), found.end(), kind, priority)

    def _placeholder(self, kind: str, value: str) -> str:
        with self._lock:
            known = self._by_value.get((kind, value))
            if known is not None:
                return known
            self._counts[kind] = self._counts.get(kind, 0) + 1
            placeholder = f"[{kind}_{self._counts[kind]}]"
            self._by_value[(kind, value)] = placeholder
            self._by_placeholder[placeholder] = value
            return placeholder


def _non_overlapping(matches: Iterable[_Match]) -> list[_Match]:
    """Highest priority first, then earliest and longest; later overlapping matches lose."""
    chosen: list[_Match] = []
    for match in sorted(matches, key=lambda m: (m.priority, m.start, m.start - m.end)):
        if all(match.end <= kept.start or match.start >= kept.end for kept in chosen):
            chosen.append(match)
    return sorted(chosen, key=lambda m: m.start)
