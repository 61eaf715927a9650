"""Where clusters are filed: Drain's fixed-depth routing tree, flattened.

A leaf key is (token count, first token, second token, ...) up to ``depth - 2`` tokens; a
token holding a digit or a ``<*>`` routes as ``<*>``, and so does any new token once a
node already has ``max_children`` distinct ones. A cluster may be filed under several
leaves (when lines of other leaves joined it). Each leaf carries a version, renewed
whenever a cluster is filed in it, leaves it or changes its template, so callers can tell
whether an earlier search of that leaf still holds.
"""

from __future__ import annotations

from typing import Any

from bot.analysis.logmine.masking import WILDCARD
from bot.analysis.logmine.matching import HAS_DIGIT
from bot.analysis.logmine.model import Cluster

LeafKey = tuple[Any, ...]


class ClusterIndex:
    def __init__(self, depth: int, max_children: int) -> None:
        self.route_depth = max(depth - 2, 0)
        self.max_children = max_children
        self._leaves: dict[LeafKey, list[Cluster]] = {}
        self._homes: dict[int, list[LeafKey]] = {}
        self._by_length: dict[int, list[Cluster]] = {}
        self._fanout: dict[LeafKey, set[str]] = {}
        self._versions: dict[LeafKey, int] = {}
        self._stamp = 0
        self.saturations = 0  # nodes that reached max_children: routing of new tokens changed

    def leaf_key(self, tokens: list[str], *, grow: bool) -> LeafKey:
        """Walk (or grow) the routing tree for ``tokens``."""
        key: LeafKey = (len(tokens),)
        for token in tokens[: self.route_depth]:
            step = WILDCARD if WILDCARD in token or HAS_DIGIT.search(token) else token
            children = self._fanout.get(key)
            if children is None:
                children = set()
                if grow:
                    self._fanout[key] = children
            if step not in children:
                if len(children) >= self.max_children:
                    step = WILDCARD
                if grow and step not in children:
                    children.add(step)
                    self.saturations += len(children) == self.max_children
            key = (*key, step)
        return key

    def leaf(self, key: LeafKey) -> list[Cluster]:
        return self._leaves.get(key, [])

    def same_length(self, length: int) -> list[Cluster]:
        """Clusters with ``length`` tokens, oldest first."""
        return self._by_length.get(length, [])

    def homes(self, cluster: Cluster) -> list[LeafKey]:
        return self._homes[cluster.cluster_id]

    def version(self, key: LeafKey) -> int | None:
        return self._versions.get(key)

    def add(self, cluster: Cluster, key: LeafKey) -> None:
        """A new cluster, filed under ``key``."""
        self._homes[cluster.cluster_id] = []
        self._by_length.setdefault(len(cluster.tokens), []).append(cluster)
        self.file(cluster, key)

    def file(self, cluster: Cluster, key: LeafKey) -> None:
        if key in self._homes[cluster.cluster_id]:
            return
        self._leaves.setdefault(key, []).append(cluster)
        self._homes[cluster.cluster_id].append(key)
        self.touch(cluster)

    def touch(self, cluster: Cluster) -> None:
        """Renew the version of every leaf holding ``cluster`` (versions are never reused)."""
        for key in self._homes[cluster.cluster_id]:
            self._stamp += 1
            self._versions[key] = self._stamp

    def remove(self, cluster: Cluster) -> None:
        self.touch(cluster)
        for key in self._homes.pop(cluster.cluster_id):
            leaf = self._leaves[key]
            leaf.remove(cluster)
            if not leaf:
                del self._leaves[key]
                del self._versions[key]
        self._by_length[len(cluster.tokens)].remove(cluster)

    def to_state(self) -> dict[str, Any]:
        return {
            "saturations": self.saturations,
            "leaves": [[list(k), [c.cluster_id for c in leaf]] for k, leaf in self._leaves.items()],
            "fanout": [[list(k), sorted(children)] for k, children in self._fanout.items()],
        }

    def load_state(self, state: dict[str, Any], clusters: dict[int, Cluster]) -> None:
        """Refill an empty index; ``clusters`` are all live clusters by id."""
        for cluster in sorted(clusters.values(), key=lambda c: c.cluster_id):
            self._homes[cluster.cluster_id] = []
            self._by_length.setdefault(len(cluster.tokens), []).append(cluster)
        for key, ids in state["leaves"]:
            for cluster_id in ids:
                self.file(clusters[cluster_id], tuple(key))
        self._fanout = {tuple(key): set(children) for key, children in state["fanout"]}
        self.saturations = int(state["saturations"])
