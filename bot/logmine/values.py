"""Words the miner has seen in variable positions, so they read as values elsewhere.

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
        if not word or word in self._words:
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
        for word in words:
            self.learn(word)
