"""Smart sampling of log lines by level, security relevance and template.

Kept in full: ERROR/CRITICAL/FATAL lines, security-relevant lines (failed logins, denied
permissions, sudo, tokens...), and the first ``keep_first`` lines of every template so rare
templates never vanish. Everything else is kept at its level's share, decided by a hash of
(salt, template, occurrence number) so a replay of the same stream keeps the same lines.
What is dropped is counted per template and level.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal


class Level(StrEnum):
    TRACE = "TRACE"
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"
    FATAL = "FATAL"
    UNKNOWN = "UNKNOWN"


ALWAYS_KEPT_LEVELS = frozenset({Level.ERROR, Level.CRITICAL, Level.FATAL})

_LEVEL_ALIASES: dict[str, Level] = {
    "TRACE": Level.TRACE,
    "DEBUG": Level.DEBUG,
    "DBG": Level.DEBUG,
    "INFO": Level.INFO,
    "NOTICE": Level.INFO,
    "WARN": Level.WARNING,
    "WARNING": Level.WARNING,
    "ERR": Level.ERROR,
    "ERROR": Level.ERROR,
    "SEVERE": Level.ERROR,
    "CRIT": Level.CRITICAL,
    "CRITICAL": Level.CRITICAL,
    "ALERT": Level.CRITICAL,
    "EMERG": Level.FATAL,
    "PANIC": Level.FATAL,
    "FATAL": Level.FATAL,
}
_LEVEL_IN_LINE = re.compile(r"\b(" + "|".join(_LEVEL_ALIASES) + r")\b", re.IGNORECASE)

SECURITY_PATTERNS: tuple[str, ...] = (
    r"auth(?:entication)?[ _-]?fail",
    r"fail(?:ed|ure)? (?:password|login|log-in|authentication|publickey)",
    r"invalid (?:user|password|credentials?|token)",
    r"permission denied",
    r"access denied",
    r"\bunauthori[sz]ed\b",
    r"\bforbidden\b",
    r"\bsudo\b",
    r"\bsu\[\d+\]|\bsu: ",
    r"\btoken\b",
    r"\bcredentials?\b",
    r"break-?in",
    r"brute.?force",
    r"not in sudoers",
    r"login (?:failed|failure|incorrect)",
    r"\b(?:csrf|xss|sql injection)\b",
)


def detect_level(line: str) -> Level:
    """The first level word in ``line`` (``WARN`` -> WARNING), else UNKNOWN."""
    match = _LEVEL_IN_LINE.search(line)
    return _LEVEL_ALIASES[match.group(1).upper()] if match else Level.UNKNOWN


def parse_level(value: str | None) -> Level:
    """A level name as written by a logger, normalised."""
    if not value:
        return Level.UNKNOWN
    return _LEVEL_ALIASES.get(value.strip().upper(), Level.UNKNOWN)


@dataclass(frozen=True)
class SamplingPolicy:
    """Which lines to keep. Shares are per level, for lines past a template's first ones."""

    shares: Mapping[Level, float] = field(
        default_factory=lambda: {
            Level.TRACE: 0.01,
            Level.DEBUG: 0.01,
            Level.INFO: 0.1,
            Level.WARNING: 1.0,
            Level.UNKNOWN: 0.1,
        }
    )
    keep_first: int = 5
    security_patterns: tuple[str, ...] = SECURITY_PATTERNS
    salt: str = "opsbot"

    def share(self, level: Level) -> float:
        return 1.0 if level in ALWAYS_KEPT_LEVELS else self.shares.get(level, 1.0)


Reason = Literal["error", "security", "first_of_template", "sampled_in", "sampled_out"]


@dataclass(frozen=True)
class SampleDecision:
    keep: bool
    reason: Reason


def hash_fraction(salt: str, template_key: str, occurrence: int) -> float:
    """A reproducible number in [0, 1) for the n-th line of a template."""
    digest = hashlib.blake2b(
        f"{salt}\x1f{template_key}\x1f{occurrence}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big") / 2**64


def decide(
    line: str,
    level: Level,
    template_key: str,
    occurrence: int,
    policy: SamplingPolicy,
    security: re.Pattern[str] | None = None,
) -> SampleDecision:
    """Keep or drop the ``occurrence``-th (0-based) line of a template. Pure."""
    if level in ALWAYS_KEPT_LEVELS:
        return SampleDecision(True, "error")
    pattern = security or compile_security(policy.security_patterns)
    if pattern.search(line):
        return SampleDecision(True, "security")
    if occurrence < policy.keep_first:
        return SampleDecision(True, "first_of_template")
    if hash_fraction(policy.salt, template_key, occurrence) < policy.share(level):
        return SampleDecision(True, "sampled_in")
    return SampleDecision(False, "sampled_out")


def compile_security(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


@dataclass
class Sampler:
    """Applies ``decide`` to a stream, tracking occurrences and what was dropped."""

    policy: SamplingPolicy = field(default_factory=SamplingPolicy)
    seen: Counter[str] = field(default_factory=Counter)
    kept: Counter[tuple[str, Level]] = field(default_factory=Counter)
    dropped: Counter[tuple[str, Level]] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._security = compile_security(self.policy.security_patterns)

    def offer(self, line: str, template_key: str, level: Level | None = None) -> SampleDecision:
        """Decide for one line; ``level`` is detected from the line when not given."""
        lvl = detect_level(line) if level is None else level
        decision = decide(
            line, lvl, template_key, self.seen[template_key], self.policy, self._security
        )
        self.seen[template_key] += 1
        (self.kept if decision.keep else self.dropped)[(template_key, lvl)] += 1
        return decision

    def dropped_by_template(self) -> dict[str, dict[Level, int]]:
        """Dropped line counts, per template then level."""
        out: dict[str, dict[Level, int]] = {}
        for (template_key, level), count in sorted(self.dropped.items()):
            out.setdefault(template_key, {})[level] = count
        return out
