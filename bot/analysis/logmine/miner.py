"""Streaming log template miner.

Drain-like: a line is masked (``bot.analysis.logmine.masking``), split on whitespace and routed by
its token count and first ``depth - 2`` tokens to a leaf of candidate clusters. The most
similar cluster above ``similarity_threshold`` absorbs the line; its template keeps the
tokens all its lines agree on and generalises the rest (``rhost=<*>``, ``<*>``).

Where it departs from Drain (each measured with bench/logparse.py, leave-one-dataset-out):

* masked variables count as agreement (``<*>`` against ``<*>``), and so do two values of
  one key (``tag="a"``/``tag="b"``) and two words of one value class (``Mar``/``Apr``,
  ``ms``/``sec``), so the threshold can be high (0.8) and still tolerate one differing
  token in lines of four tokens or more;
* two lines whose words differ in place (``GET``/``DELETE``, ``started``/``stopped``) are
  two events (``matching.conflict``), unless both words were already seen filling a
  variable (``values.ValueMemory``: ``root`` in ``user=<*>`` makes ``for root`` and
  ``for admin`` one template);
* when ``merge_variants`` clusters differ from each other in the word at one position only
  (``User alice ...``, ``User bob ...``, ``User carol ...``), that position is a variable:
  they are folded into the oldest, and the others' ids become aliases of it; with
  ``fold_max_repeats`` a position whose words each came back many times is a closed set of
  constants and is not folded;
* a varying token keeps its common prefix/suffix up to a delimiter (``com.apple.<*>:``);
* a line whose leaf has no match is compared with every cluster of its length whose
  routing tokens are related to its own.

Clusters are bounded (least recently seen evicted first); the state is JSON-able.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Literal

from bot.analysis.logmine.index import ClusterIndex, LeafKey
from bot.analysis.logmine.masking import WILDCARD, Masker, MaskRule
from bot.analysis.logmine.matching import (
    agreement,
    best_match,
    generalise,
    is_word,
    may_route_together,
    needed_agreement,
    single_conflict,
)
from bot.analysis.logmine.model import Cluster, MatchResult, MinerConfig
from bot.analysis.logmine.values import ValueMemory

STATE_VERSION = 1
_CACHE_LIMIT = 65_536


class TemplateMiner:
    """Online template miner; ``add`` learns, ``match`` only looks."""

    def __init__(self, config: MinerConfig | None = None) -> None:
        self.config = config or MinerConfig()
        self._masker = Masker(self.config.extra_rules)
        self._index = ClusterIndex(self.config.depth, self.config.max_children)
        self._values = ValueMemory()
        self._clusters: OrderedDict[int, Cluster] = OrderedDict()  # least recent first
        self._aliases: dict[int, int] = {}  # folded cluster id -> live cluster id
        self._next_id = 1
        self._seq = 0
        # A repeat of a masked line skips the search while its leaf is unchanged.
        self._recent: dict[tuple[str, ...], tuple[int, LeafKey, int | None, Cluster]] = {}

    @property
    def clusters(self) -> list[Cluster]:
        """All live clusters, oldest id first."""
        return sorted(self._clusters.values(), key=lambda c: c.cluster_id)

    def get(self, cluster_id: int) -> Cluster | None:
        """A live cluster by id, following the ids of clusters folded into another."""
        return self._clusters.get(self._aliases.get(cluster_id, cluster_id))

    def add(self, line: str, timestamp: float | None = None) -> MatchResult:
        """Learn from one line; ``timestamp`` defaults to the line's position in the stream."""
        self._seq += 1
        now = float(self._seq) if timestamp is None else timestamp
        tokens = self._masker.mask_tokens(line)
        key = tuple(tokens)
        index = self._index
        hit = self._recent.get(key)
        if hit is not None and hit[0] == index.saturations and index.version(hit[1]) == hit[2]:
            # Absorbed before, and nothing in its leaf changed since: the template fits.
            return self._absorb(hit[3], None, line, now)
        cluster, leaf_key = self._search(tokens)
        if cluster is None:
            cluster = self._fold_variants(tokens)
        if cluster is None:
            cluster = self._create(tokens, line, now)
            result = MatchResult(cluster.cluster_id, cluster.template, "created")
        else:
            if leaf_key not in index.homes(cluster):
                leaf_key = index.leaf_key(tokens, grow=True)
                index.file(cluster, leaf_key)
            result = self._absorb(cluster, tokens, line, now)
        if len(self._recent) >= _CACHE_LIMIT:
            self._recent.clear()
        self._recent[key] = (index.saturations, leaf_key, index.version(leaf_key), cluster)
        return result

    def match(self, line: str) -> Cluster | None:
        """The cluster ``line`` belongs to, without learning from it."""
        return self._search(self._masker.mask_tokens(line))[0]

    def _search(self, tokens: list[str]) -> tuple[Cluster | None, LeafKey]:
        index = self._index
        leaf_key = index.leaf_key(tokens, grow=False)
        threshold = self.config.similarity_threshold
        best = best_match(index.leaf(leaf_key), tokens, threshold, self._values)
        if best is None:
            route = index.route_depth
            pool = [
                cluster
                for cluster in index.same_length(len(tokens))
                if all(map(may_route_together, cluster.tokens[:route], tokens[:route]))
            ]
            best = best_match(pool, tokens, threshold, self._values)
        return best, leaf_key

    def _absorb(
        self, cluster: Cluster, tokens: list[str] | None, line: str, now: float
    ) -> MatchResult:
        change: Literal["updated", "none"] = "none"
        old = cluster.tokens
        if tokens is not None and old != tokens:
            merged = [
                t if t == s else self._generalise(t, s) for t, s in zip(old, tokens, strict=True)
            ]
            if merged != old:
                cluster.tokens = merged
                change = "updated"
                self._index.touch(cluster)
        cluster.count += 1
        cluster.last_seen = now
        if len(cluster.examples) < self.config.max_examples:
            cluster.examples.append(line)
        self._clusters.move_to_end(cluster.cluster_id)
        return MatchResult(cluster.cluster_id, cluster.template, change)

    def _create(self, tokens: list[str], line: str, now: float) -> Cluster:
        cap = self.config.max_clusters
        if cap is not None and len(self._clusters) >= cap:
            self._drop(next(iter(self._clusters.values())))
        cluster = Cluster(self._next_id, tokens, 1, now, now, [line])
        self._next_id += 1
        self._clusters[cluster.cluster_id] = cluster
        self._index.add(cluster, self._index.leaf_key(tokens, grow=True))
        return cluster

    def _drop(self, cluster: Cluster) -> None:
        del self._clusters[cluster.cluster_id]
        self._index.remove(cluster)
        for old in [old for old, new in self._aliases.items() if new == cluster.cluster_id]:
            del self._aliases[old]

    def _fold_variants(self, tokens: list[str]) -> Cluster | None:
        """Fold clusters that, with ``tokens``, differ only in the word at one position.

        A position whose word takes ``merge_variants`` distinct values among otherwise equal
        templates is a variable (``User alice/bob/carol``); fewer values are kept as
        separate events (``GET``/``DELETE``).
        """
        wanted = self.config.merge_variants
        if wanted < 2 or len(tokens) < 2:
            return None
        needed = needed_agreement(len(tokens), self.config.similarity_threshold)
        groups: dict[int, list[Cluster]] = {}
        for cluster in self._index.same_length(len(tokens)):
            position = single_conflict(cluster.tokens, tokens, self._values)
            if position is None:
                continue
            literal = sum(WILDCARD not in t for t in cluster.tokens) - 1
            if literal >= 2 and agreement(cluster.tokens, tokens) + 1 >= needed - 1e-9:
                groups.setdefault(position, []).append(cluster)
        repeats = self.config.fold_max_repeats
        for position in sorted(groups):
            group = groups[position]
            distinct = len(group) + 1
            lines = sum(cluster.count for cluster in group) + 1
            if distinct >= wanted and (repeats is None or lines <= repeats * distinct):
                target, *others = group  # oldest first
                for other in others:
                    self._fold(other, target)
                merged = self._generalise(target.tokens[position], tokens[position])
                if merged != target.tokens[position]:
                    target.tokens[position] = merged
                    self._index.touch(target)
                return target
        return None

    def _generalise(self, template_token: str, token: str) -> str:
        """``generalise``, remembering the words that turned out to fill a variable."""
        merged = generalise(template_token, token)
        if WILDCARD in merged:
            if is_word(token):
                self._values.learn(token)
            if is_word(template_token):
                self._values.learn(template_token)
        return merged

    def _fold(self, other: Cluster, target: Cluster) -> None:
        homes = list(self._index.homes(other))
        self._drop(other)
        for old, new in self._aliases.items():
            if new == other.cluster_id:
                self._aliases[old] = target.cluster_id
        self._aliases[other.cluster_id] = target.cluster_id
        target.tokens = [
            self._generalise(a, b) for a, b in zip(target.tokens, other.tokens, strict=True)
        ]
        target.count += other.count
        target.first_seen = min(target.first_seen, other.first_seen)
        target.last_seen = max(target.last_seen, other.last_seen)
        room = max(self.config.max_examples - len(target.examples), 0)
        target.examples.extend(other.examples[:room])
        self._index.touch(target)
        for leaf_key in homes:
            self._index.file(target, leaf_key)

    def to_state(self) -> dict[str, Any]:
        """Everything needed to continue exactly where this miner is (JSON-serialisable)."""
        cfg = self.config
        return {
            "version": STATE_VERSION,
            "config": {
                "similarity_threshold": cfg.similarity_threshold,
                "depth": cfg.depth,
                "max_children": cfg.max_children,
                "max_clusters": cfg.max_clusters,
                "max_examples": cfg.max_examples,
                "merge_variants": cfg.merge_variants,
                "fold_max_repeats": cfg.fold_max_repeats,
                "extra_rules": [[r.name, r.pattern, r.replacement] for r in cfg.extra_rules],
            },
            "next_id": self._next_id,
            "seq": self._seq,
            "clusters": [  # least recently seen first
                {
                    "id": c.cluster_id,
                    "tokens": c.tokens,
                    "count": c.count,
                    "first_seen": c.first_seen,
                    "last_seen": c.last_seen,
                    "examples": c.examples,
                }
                for c in self._clusters.values()
            ],
            "aliases": [[old, new] for old, new in self._aliases.items()],
            "values": self._values.to_state(),
            "index": self._index.to_state(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TemplateMiner:
        """Rebuild a miner from ``to_state`` output; it then behaves exactly like the original."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported miner state version: {state.get('version')!r}")
        raw = dict(state["config"])
        rules = tuple(MaskRule(*rule) for rule in raw.pop("extra_rules"))
        miner = cls(MinerConfig(**raw, extra_rules=rules))
        miner._next_id = int(state["next_id"])
        miner._seq = int(state["seq"])
        for item in state["clusters"]:
            cluster = Cluster(
                int(item["id"]),
                [str(t) for t in item["tokens"]],
                int(item["count"]),
                float(item["first_seen"]),
                float(item["last_seen"]),
                [str(x) for x in item["examples"]],
            )
            miner._clusters[cluster.cluster_id] = cluster
        miner._aliases = {int(old): int(new) for old, new in state["aliases"]}
        miner._values.load_state([str(w) for w in state.get("values", [])])
        miner._index.load_state(state["index"], dict(miner._clusters))
        return miner
