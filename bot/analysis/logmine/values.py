"""Words the miner has seen in variable positions, so they read as values elsewhere.

Two different words of one value class (month or weekday names, duration or size units:
``Mar``/``Apr``, ``ms``/``sec``) are values of one variable too, whatever was seen before.

A word that filled a ``<*>`` of one template (``user=root``, ``for admin``) is an entity
(a user, a host, a job) rather than the word naming an event. When two lines differ in a
word that both have already been seen as values, the difference is a variable, not two
events: ``Failed password for uucp`` joins ``Failed password for root`` once ``uucp`` and
``root`` both filled ``user=<*>``. The memory is bounded (oldest forgotten first).
"""

from __future__ import annotations

from functools import lru_cache

_EDGE_PUNCTUATION = "\"'`()[]{}<>,;:.!?"


@lru_cache(maxsize=65_536)
def core(token: str) -> str:
    """The value part of a token: after a ``key=``, without surrounding punctuation."""
    return token.partition("=")[2 if "=" in token else 0].strip(_EDGE_PUNCTUATION)


def same_key(a: str, b: str) -> bool:
    """Both ``key=value`` with the same non-empty key: the values are a variable."""
    ka, sep_a, _ = a.partition("=")
    kb, sep_b, _ = b.partition("=")
    return bool(sep_a and sep_b and ka and ka == kb)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_VALUE_CLASSES: tuple[frozenset[str], ...] = (
    _words(
        "jan feb mar apr may jun jul aug sep sept oct nov dec january february march april"
        " june july august september october november december"
    ),
    _words(
        "mon tue tues wed thu thur thurs fri sat sun monday tuesday wednesday thursday friday"
        " saturday sunday"
    ),
    _words(
        "ns us µs ms s sec secs second seconds m min mins minute minutes h hr hrs hour hours"
        " d day days"
    ),
    _words("b kb mb gb tb pb kib mib gib tib pib"),
    _words("am pm"),
)


@lru_cache(maxsize=65_536)
def value_class(token: str) -> int | None:
    """Which value class (month, weekday, duration unit, size unit, am/pm) a word is in."""
    word = core(token).lower()
    for number, members in enumerate(_VALUE_CLASSES):
        if word in members:
            return number
    return None


def same_value_class(a: str, b: str) -> bool:
    """Both words belong to one value class: ``Mar``/``Apr``, ``ms``/``sec``."""
    kind = value_class(a)
    return kind is not None and kind == value_class(b)


class ValueMemory:
    """A bounded, insertion-ordered set of value words."""

    def __init__(self, limit: int = 8_192) -> None:
        self.limit = limit
        self._words: dict[str, None] = {}

    def __contains__(self, word: object) -> bool:
        return word in self._words

    def __len__(self) -> int:
        return len(self._words)

    def learn(self, token: str) -> None:
        """Remember the value part of ``token`` (a word with no digit; others are masked)."""
        word = core(token)
        if not word or word in self._words or self.limit <= 0:
            return
        if len(self._words) >= self.limit:
            del self._words[next(iter(self._words))]
        self._words[word] = None

    def both_values(self, a: str, b: str) -> bool:
        """True when the value parts of both tokens were seen as values before."""
        words = self._words
        return core(a) in words and core(b) in words

    def to_state(self) -> list[str]:
        return list(self._words)

    def load_state(self, words: list[str]) -> None:
        """Refill from ``to_state`` output, as it was (the newest ``limit`` words)."""
        self._words = dict.fromkeys(words[-self.limit :] if self.limit > 0 else [])
