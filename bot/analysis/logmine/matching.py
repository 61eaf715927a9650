"""Pure comparisons of masked tokens with templates."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from bot.analysis.logmine.masking import WILDCARD, normalise_wildcards
from bot.analysis.logmine.model import Cluster
from bot.analysis.logmine.values import ValueMemory, same_key, same_value_class

# Characters at which a token may be cut when only part of it varies:
# ``rhost=<*>``, ``(uid=<*>)``, ``com.apple.<*>:``.
MERGE_DELIMITERS = frozenset("=:,;()[]{}\"'/@|.#-+")
HAS_DIGIT = re.compile(r"\d")


@lru_cache(maxsize=8192)
def _token_pattern(template_token: str) -> re.Pattern[str]:
    parts = (re.escape(part) for part in template_token.split(WILDCARD))
    return re.compile(".+?".join(parts), re.DOTALL)


def token_matches(template_token: str, token: str) -> bool:
    """True when ``token`` is an instance of ``template_token``."""
    if template_token in (token, WILDCARD):
        return True
    if WILDCARD not in template_token:
        return False
    return _partial_match(template_token, token)


@lru_cache(maxsize=65_536)
def _partial_match(template_token: str, token: str) -> bool:
    return _token_pattern(template_token).fullmatch(token) is not None


def _inside_wildcard(text: str, cut: int) -> bool:
    start = text.find(WILDCARD, max(cut - 2, 0))
    return start != -1 and start < cut < start + len(WILDCARD)


def generalise(template_token: str, token: str) -> str:
    """The most specific token matching both: a common prefix/suffix cut at a delimiter."""
    if token_matches(template_token, token):
        return template_token
    a, b = template_token, token
    limit = min(len(a), len(b))
    prefix = 0
    while prefix < limit and a[prefix] == b[prefix]:
        prefix += 1
    while prefix > 0 and (a[prefix - 1] not in MERGE_DELIMITERS or _inside_wildcard(a, prefix)):
        prefix -= 1
    limit -= prefix
    suffix = 0
    while suffix < limit and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    while suffix > 0 and (
        a[len(a) - suffix] not in MERGE_DELIMITERS or _inside_wildcard(a, len(a) - suffix)
    ):
        suffix -= 1
    if prefix == 0 and suffix == 0:
        return WILDCARD
    return normalise_wildcards(a[:prefix] + WILDCARD + a[len(a) - suffix :])


@lru_cache(maxsize=65_536)
def related(template_token: str, token: str) -> bool:
    """Equal, an instance, or sharing a delimited stem (``com.apple.A:``, ``com.apple.B:``)."""
    return token_matches(template_token, token) or generalise(template_token, token) != WILDCARD


def may_route_together(template_token: str, token: str) -> bool:
    """Can ``token`` sit at a routing position of ``template_token``'s cluster?"""
    return (
        WILDCARD in token or HAS_DIGIT.search(token) is not None or related(template_token, token)
    )


@lru_cache(maxsize=65_536)
def is_word(token: str) -> bool:
    """No digit and no ``<*>``: a word that may name an event (``GET``, ``stopped``)."""
    return WILDCARD not in token and HAS_DIGIT.search(token) is None


def conflict(template_token: str, token: str, values: ValueMemory) -> bool:
    """Do two different words name different events rather than two values of a variable?

    Words (``is_word``) differing in place may be two events (``GET``/``DELETE``,
    ``started``/``stopped``), unless they are values of the same ``key=``, of one value
    class (``Mar``/``Apr``, ``ms``/``sec``) or both were seen filling a variable before.
    ``TemplateMiner`` folds a position into a variable once it has taken enough words.
    """
    return (
        template_token != token
        and is_word(template_token)
        and is_word(token)
        and not same_key(template_token, token)
        and not values.both_values(template_token, token)
        and not same_value_class(template_token, token)
    )


def single_conflict(
    template: Sequence[str], tokens: Sequence[str], values: ValueMemory
) -> int | None:
    """The one position where ``template`` and ``tokens`` hold conflicting words, if one."""
    found: int | None = None
    for position, (t, s) in enumerate(zip(template, tokens, strict=True)):
        if t != s and conflict(t, s, values):
            if found is not None:
                return None
            found = position
    return found


def best_match(
    candidates: Sequence[Cluster], tokens: Sequence[str], threshold: float, values: ValueMemory
) -> Cluster | None:
    """The most similar cluster if similar enough; ties go to more wildcards, then first filed.

    Similarity counts positions where the template equals the token (masked ``<*>`` against
    ``<*>`` included, so do two words of one value class, ``Mar``/``Apr``, and two values
    of one key, ``tag="a"``/``tag="b"``) or a partial
    template token (``user=<*>``) matches it. Lines of four tokens or more may always
    differ in one token ("job 7 ran on node-3"). A cluster whose template holds a literal
    word where the line holds a conflicting word (``conflict``) is not a candidate.
    """
    best: Cluster | None = None
    best_same = -1
    best_params = -1
    words = [is_word(s) for s in tokens]
    for cluster in candidates:
        same = 0
        params = 0
        for t, s, word in zip(cluster.tokens, tokens, words, strict=True):
            if t == s:
                same += 1
            elif t == WILDCARD:
                params += 1
            elif WILDCARD in t:
                same += token_matches(t, s)
            elif word and conflict(t, s, values):
                break
            elif ("=" in t and same_key(t, s)) or (word and same_value_class(t, s)):
                same += 1
        else:
            if same > best_same or (same == best_same and params > best_params):
                best, best_same, best_params = cluster, same, params
    if best is not None and best_same >= needed_agreement(len(tokens), threshold) - 1e-9:
        return best
    return None


def needed_agreement(length: int, threshold: float) -> float:
    """Positions that must agree for a line of ``length`` tokens to join a template."""
    return min(threshold * length, length - 1) if length >= 4 else threshold * length


def agreement(template: Sequence[str], tokens: Sequence[str]) -> int:
    """Positions where ``tokens`` is an instance of ``template`` (as counted by ``best_match``)."""
    return sum(
        t == s or (WILDCARD in t and t != WILDCARD and token_matches(t, s))
        for t, s in zip(template, tokens, strict=True)
    )
