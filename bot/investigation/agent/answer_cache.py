"""Reusing model answers: the same model, prompt version and normalised inputs within a short
TTL get the stored answer instead of a new (paid) investigation. Hits and misses of this and
of the tool-result cache are exported as metrics, with a hit ratio gauge."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import weakref

from prometheus_client import CollectorRegistry, Counter, Gauge
from pydantic import ValidationError

from bot.cache import Cache
from bot.investigation.agent.finding import Investigation
from bot.investigation.agent.prompts import PROMPT_VERSION
from bot.investigation.agent.request import InvestigationRequest

_SPACES = re.compile(r"\s+")
_METRICS_LOCK = threading.Lock()
_METRICS: weakref.WeakKeyDictionary[CollectorRegistry, CacheMetrics] = weakref.WeakKeyDictionary()


def normalise(text: str) -> str:
    return _SPACES.sub(" ", text.strip().lower()).rstrip("?!. ")


def answer_key(request: InvestigationRequest, model: str, tools: list[str]) -> str:
    """Model + prompt version + the inputs that shape the answer (not the time of asking)."""
    parts = {
        "model": model,
        "prompt": PROMPT_VERSION,
        "workflow": request.workflow.value,
        "question": normalise(request.question),
        "incident": request.incident_id,
        "scope": [request.namespace, request.service],
        "alerts": sorted(
            [a.name, a.status, sorted((str(k), str(v)) for k, v in a.labels.items())]
            for a in request.alerts
        ),
        "history": [[t.role, normalise(t.text)] for t in request.history],
        "tools": sorted(tools),
    }
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode())
    return f"agent:answer:{digest.hexdigest()}"


class CacheMetrics:
    """`opsbot_agent_cache_lookups{cache, outcome}` and `opsbot_agent_cache_hit_ratio{cache}`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.lookups = Counter(
            "opsbot_agent_cache_lookups",
            "Agent cache lookups by cache (answer, tool) and outcome (hit, miss).",
            ["cache", "outcome"],
            registry=registry,
        )
        self.ratio = Gauge(
            "opsbot_agent_cache_hit_ratio",
            "Hits / lookups since start, by cache.",
            ["cache"],
            registry=registry,
        )
        self._counts: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def observe(self, cache: str, hit: bool) -> None:
        self.lookups.labels(cache, "hit" if hit else "miss").inc()
        with self._lock:
            hits, total = self._counts.setdefault(cache, [0, 0])
            self._counts[cache] = [hits + int(hit), total + 1]
            hits, total = self._counts[cache]
        self.ratio.labels(cache).set(hits / total)


def cache_metrics(registry: CollectorRegistry) -> CacheMetrics:
    """One CacheMetrics per registry (a registry refuses the same metric twice)."""
    with _METRICS_LOCK:
        found = _METRICS.get(registry)
        if found is None:
            found = _METRICS[registry] = CacheMetrics(registry)
        return found


class AnswerCache:
    def __init__(self, cache: Cache, ttl: float, metrics: CacheMetrics) -> None:
        self.cache = cache
        self.ttl = ttl
        self.metrics = metrics

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def get(self, key: str) -> Investigation | None:
        if not self.enabled:
            return None
        raw = self.cache.get(key)
        found: Investigation | None = None
        if raw is not None:
            try:
                found = Investigation.model_validate_json(raw)
            except ValidationError:
                self.cache.delete(key)
        self.metrics.observe("answer", found is not None)
        return found

    def put(self, key: str, investigation: Investigation) -> None:
        if self.enabled:
            self.cache.set(key, investigation.model_dump_json().encode(), self.ttl)
