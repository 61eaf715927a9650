"""Variable masking applied to a log line before it is clustered.

Every variable becomes the wildcard ``<*>``. Delimiters around a variable are kept
(``10.0.0.1:8080`` becomes ``<*>:<*>``, ``UTF-8`` becomes ``UTF-<*>``), following the
template conventions of the Loghub-2.0 corrected templates (Khan et al., 2022):

* a word glued to a variable by ``_`` or letters (``appattempt_1445_0020``, ``blk_-12``)
  is one variable;
* variables separated only by ``.`` or by nothing collapse into one (``1.5`` -> ``<*>``);
* ``true``/``false``/``null`` are values, not words.

User rules run on the whole line; the built-in ones run per whitespace token, compiled into
one alternation (earlier rules win at the same position) behind two caches, since most
tokens of a stream repeat and most of the rest differ from a seen one only in digits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

WILDCARD = "<*>"


@dataclass(frozen=True)
class MaskRule:
    """A named regular expression whose matches are replaced by ``replacement``."""

    name: str
    pattern: str
    replacement: str = WILDCARD


_HEX4 = r"[0-9a-fA-F]{1,4}"
_IPV6 = (
    r"(?<![\w:.])(?=[0-9a-fA-F:]*\d)(?:"
    rf"(?:{_HEX4}:){{7}}{_HEX4}"
    rf"|(?:{_HEX4}:){{1,6}}:(?:{_HEX4}(?::{_HEX4}){{0,5}})?"
    rf"|::{_HEX4}(?::{_HEX4}){{0,6}}"
    r")(?:%\w+)?(?![\w:.])"
)
_TLDS = (
    "com|net|org|edu|gov|mil|int|io|info|biz|local|localdomain|localhost|internal|lan|corp|home"
    "|arpa|cloud|dev|app|svc|cluster|uk|de|fr|nl|ru|cn|jp|kr|in|br|au|ca|us|eu|ch|se|it|es|pl"
)
_HOSTNAME = rf"(?<![\w.@-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+(?:{_TLDS})(?![\w.-])"
_K8S = "[bcdfghjklmnpqrstvwxz0-9]"
_SIZE_UNITS = r"(?:[KMGTP]i?B|B)"
_DURATION_UNITS = r"(?:ns|us|µs|ms|s|sec|secs|m|min|mins|h|hr|hrs|d)"

# Built-in rules must treat digits only as a class (\d, 0-9) and by count: the masker
# reuses the result of a token for every token differing only in its digits (1-9, and 0
# too when the token has no ``x``/``X``: ``0x`` is the one place a digit is literal).
BUILTIN_RULES: tuple[MaskRule, ...] = (
    MaskRule("url", r"(?<=://)[^\s\"'<>()\[\]{},;|]*[^\s\"'<>()\[\]{},;|.:!?]"),
    MaskRule("email", r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?![\w-])"),
    MaskRule(
        "uuid",
        r"(?<![0-9a-fA-F-])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
        r"-[0-9a-fA-F]{12}(?![0-9a-fA-F-])",
    ),
    MaskRule("block_id", r"(?<![\w-])blk_-?\d+(?![\w])"),
    MaskRule(
        "iso_timestamp",
        r"(?<![\w.:-])\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
        r"(?:Z|[+-]\d{2}:?\d{2})?(?![\w:.-])",
    ),
    MaskRule("hostname", _HOSTNAME),
    # Kubernetes pod of a Deployment: <name>-<replicaset hash>-<suffix>, both drawn from
    # Kubernetes' vowel-free alphabet (so ``request-handler-fails`` is left alone).
    MaskRule(
        "k8s_pod", rf"(?<![\w.-])[a-z0-9]+(?:-[a-z0-9]+)*-{_K8S}{{6,10}}-{_K8S}{{5}}(?![\w.-])"
    ),
    # Numbered host names with two hyphens or more: msra-sa-41, ip-10-0-0-1, worker-node-3.
    MaskRule("node_name", r"(?<![\w.-])[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+-\d+(?![\w-])"),
    MaskRule(
        "mac_address",
        r"(?<![\w:-])[0-9a-fA-F]{2}(?P<mac_sep>[:-])[0-9a-fA-F]{2}"
        r"(?:(?P=mac_sep)[0-9a-fA-F]{2}){4}(?![\w:-])",
    ),
    MaskRule("ipv6", _IPV6),
    MaskRule("ipv4", r"(?:(?<![\w.:/])/)?(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])"),
    MaskRule(
        "hex",
        r"(?<![\w.])(?:0[xX][0-9a-fA-F]+|(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])"
        r"[0-9a-fA-F]{8,})(?![\w])",
    ),
    MaskRule("size", rf"(?<![\w.])\d+(?:\.\d+)?{_SIZE_UNITS}(?![\w])"),
    MaskRule("duration", rf"(?<![\w.])[-+]?\d+(?:\.\d+)?{_DURATION_UNITS}(?![\w])"),
    MaskRule("path", r"(?<![\w./~<>*-])(?:~|\.{1,2})?(?:/[\w.@%+~-]+)+/?"),
    MaskRule("kv_value", r"(?<=\w=)(?=[^\s,;&()\[\]{}<>\"']*\d)[^\s,;&()\[\]{}<>\"']+"),
    MaskRule("number", r"(?:(?<![A-Za-z0-9_])|(?<=_)(?=\d{3}))[-+]?\d+(?:\.\d+)*(?![0-9])"),
    MaskRule("boolean", r"(?<![\w-])(?:true|false|null|TRUE|FALSE|NULL|True|False|None)(?![\w-])"),
)

# A variable glued to a word (letters, digits, ``_``) makes the whole word a variable.
_WORD_WITH_WILDCARD = r"(?:\w|<\*>)*<\*>(?:\w|<\*>)*"
_GLUED_OR_DOT_JOINED = re.compile(rf"{_WORD_WITH_WILDCARD}(?:\.{_WORD_WITH_WILDCARD})*")
# Built-in rules can only fire on tokens holding one of these.
_TRIGGER = re.compile(r"[\d/@.]|true|false|null|none", re.IGNORECASE)
# A unit written apart from its number: ``16.0 KB,`` is one variable.
_DETACHED_UNIT = re.compile(rf"{_SIZE_UNITS}(?P<tail>[^\w]*)")
# Fast path for the commonest variable, a bare number in brackets or before punctuation;
# gives what the full rules give.
_PLAIN_NUMBER = re.compile(r"([(\[{\"'=:]*)[-+]?\d+(?:\.\d+)?([)\]}\"',;:.]*)")
_DETACHED_HINT = re.compile(rf"\d\s+{_SIZE_UNITS}(?!\w)")
_CACHE_LIMIT = 65_536
# A double-quoted phrase stays inside one token (``tag="View Lock",``), so a quoted value
# with spaces does not change a line's token count; an unmatched quote is an ordinary char.
_QUOTED_TOKENS = re.compile(r'(?:"[^"\n]{0,200}"|[^\s])+')
_DIGITS_TO_ONE = str.maketrans("23456789", "11111111")
_ALL_DIGITS_TO_ONE = str.maketrans("023456789", "111111111")
_HAS_DIGIT = re.compile(r"\d")


def normalise_wildcards(text: str) -> str:
    """Apply the glued-word and dot-joined conventions to an already masked text."""
    return _GLUED_OR_DOT_JOINED.sub(WILDCARD, text)


class Masker:
    """Replaces variables in a line with ``<*>``: user rules first, then the built-ins.

    User rules run on the whole line (they may span tokens); built-in rules run per
    whitespace token with a bounded cache, since most tokens of a stream repeat.
    """

    def __init__(self, extra_rules: Sequence[MaskRule] = (), *, builtins: bool = True) -> None:
        self.extra_rules = tuple(extra_rules)
        self._extra = [(re.compile(rule.pattern), rule.replacement) for rule in self.extra_rules]
        self._builtin = (
            re.compile("|".join(f"(?:{rule.pattern})" for rule in BUILTIN_RULES))
            if builtins
            else None
        )
        self._cache: dict[str, str] = {}
        self._skeletons: dict[str, str] = {}

    def mask(self, line: str) -> str:
        return " ".join(self.mask_tokens(line))

    def mask_tokens(self, line: str) -> list[str]:
        text = line
        for pattern, replacement in self._extra:
            text = pattern.sub(replacement, text)
        raw = _QUOTED_TOKENS.findall(text) if '"' in text else text.split()
        if self._builtin is None:
            return [normalise_wildcards(t) if WILDCARD in t else t for t in raw]
        cached = self._cache.get
        miss = self._mask_and_cache
        masked = [cached(token) or miss(token) for token in raw]
        if _DETACHED_HINT.search(text) is None:
            return masked
        merged: list[str] = []
        for token, out in zip(raw, masked, strict=True):
            unit = _DETACHED_UNIT.fullmatch(token)
            if unit is not None and merged and merged[-1].endswith(WILDCARD):
                merged[-1] += unit.group("tail")
            else:
                merged.append(out)
        return merged

    def _mask_and_cache(self, token: str) -> str:
        # The rules look at digits only by class and count, so tokens that differ only in
        # their digits mask alike whenever masking removes every digit.
        hex_prefix_possible = "x" in token or "X" in token
        skeleton = token.translate(_DIGITS_TO_ONE if hex_prefix_possible else _ALL_DIGITS_TO_ONE)
        out = self._skeletons.get(skeleton)
        if out is None:
            out = self._mask_token(skeleton)
            if _HAS_DIGIT.search(out) is None:
                _bounded_put(self._skeletons, skeleton, out)
            else:
                out = self._mask_token(token)
        _bounded_put(self._cache, token, out)
        return out

    def _mask_token(self, token: str) -> str:
        assert self._builtin is not None
        if token.isdigit():
            return WILDCARD
        plain = _PLAIN_NUMBER.fullmatch(token)
        if plain is not None:
            return plain.group(1) + WILDCARD + plain.group(2)
        if WILDCARD not in token and _TRIGGER.search(token) is None:
            return token
        out = self._builtin.sub(WILDCARD, token)
        return normalise_wildcards(out) if WILDCARD in out else out


def _bounded_put(cache: dict[str, str], key: str, value: str) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
