"""Value types of the template miner."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.analysis.logmine.masking import MaskRule


@dataclass(frozen=True)
class MinerConfig:
    """Tuning of ``TemplateMiner``; the defaults are the ones measured in bench/logparse.py."""

    similarity_threshold: float = 0.8
    """Share of a line's tokens that must agree with a template (masked ``<*>`` agree)."""
    depth: int = 4
    """Parse-tree depth as in Drain: root, token count, then ``depth - 2`` leading tokens."""
    max_children: int = 100
    """Distinct tokens per tree node before further ones share the ``<*>`` branch."""
    max_clusters: int | None = 5_000
    """Memory bound: the least recently seen cluster is evicted beyond it (None: no bound)."""
    max_examples: int = 3
    """Example lines kept per cluster (the first ones seen)."""
    merge_variants: int = 3
    """Clusters differing only in the word at one position are folded into one template with
    ``<*>`` there once that many distinct words were seen (0: never)."""
    fold_max_repeats: float | None = None
    """A position whose words averaged more lines each than this when a new word arrived is
    a closed set of constants (``GET``/``PUT``/``DELETE``), not folded (None: no limit)."""
    extra_rules: tuple[MaskRule, ...] = ()
    """Masking rules applied to the whole line before the built-in ones."""


@dataclass
class Cluster:
    """One template and what was seen of it."""

    cluster_id: int
    tokens: list[str]
    count: int
    first_seen: float
    last_seen: float
    examples: list[str] = field(default_factory=list)

    @property
    def template(self) -> str:
        return " ".join(self.tokens)


@dataclass(frozen=True)
class MatchResult:
    """What ``TemplateMiner.add`` did with a line."""

    cluster_id: int
    template: str
    change: Literal["created", "updated", "none"]
