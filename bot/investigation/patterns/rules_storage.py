"""Rules about expiring and filling things: TLS certificates and volumes."""

from __future__ import annotations

import math
import re

from bot.investigation.patterns.base import Candidate, RuleContext, action
from bot.investigation.patterns.observe import Observations
from bot.investigation.patterns.rules_resources import UNSCOPED_LOGS_PENALTY
from policies import ActionKind
from policies.quantities import bytes_text, whole_gibibytes
from tools.metrics.series import SeriesSummary

DISK_FREE_LOW = 0.15
DISK_HOURS_LEFT = 24.0
CERT_DAYS = 14.0
CERT = re.compile(
    r"certificate (?:has )?expired|x509: certificate|certificate verify failed"
    r"|CERTIFICATE_VERIFY_FAILED|ssl(?:v3)? alert certificate expired",
    re.IGNORECASE,
)
DISK_FULL = re.compile(r"no space left on device|disk (?:is )?full|ENOSPC", re.IGNORECASE)


def cert_expiry(obs: Observations, ctx: RuleContext) -> Candidate | None:
    groups = [
        g for g in (obs.top_errors.groups if obs.top_errors else []) if CERT.search(g.message)
    ]
    data = obs.instants.get("cert_expiry_days")
    soon = [s for s in (data.samples if data else []) if s.value < CERT_DAYS]
    if not groups and not soon:
        return None
    if soon:
        first = min(soon, key=lambda s: s.value)
        target = first.labels.get("instance") or first.labels.get("job") or "an endpoint"
        state = "has expired" if first.value <= 0 else f"expires in {first.value:.1f} days"
        summary = f"The TLS certificate of {target} {state}."
        evidence = obs.cite("metric:cert_expiry_days", "top_errors")
    else:
        summary = f"TLS handshakes fail: {groups[0].count} errors like {groups[0].message[:120]!r}."
        evidence = obs.cite("top_errors")
    return Candidate(
        "certificate-expiry",
        summary,
        "A TLS certificate expired (or is about to) and was not renewed, so clients refuse "
        "the connection.",
        (0.85 if groups or any(s.value <= 0 for s in soon) else 0.7)
        - (0.0 if obs.service or soon else UNSCOPED_LOGS_PENALTY),
        evidence,
        [],
        [
            "Renew the certificate (check cert-manager's Certificate and its issuer), then "
            "reload the servers that use it."
        ],
    )


def disk_filling(obs: Observations, ctx: RuleContext) -> Candidate | None:
    data = obs.ranges.get("volume_free_ratio")
    filling = [(s, _hours_left(s)) for s in (data.series if data else [])]
    filling = [
        (s, h)
        for s, h in filling
        if s.last is not None
        and (s.last < DISK_FREE_LOW or (h is not None and h < DISK_HOURS_LEFT))
    ]
    logged = [
        g for g in (obs.top_errors.groups if obs.top_errors else []) if DISK_FULL.search(g.message)
    ]
    if not filling and not logged:
        return None
    if not filling:
        return Candidate(
            "disk-filling",
            f"Writes fail for lack of space: {logged[0].count} errors like "
            f"{logged[0].message[:100]!r}.",
            "A volume is full.",
            0.6,
            obs.cite("top_errors"),
            [],
            ["Find the full volume (kubelet_volume_stats_*) and expand it or clean it up."],
        )
    series, hours = min(filling, key=lambda item: item[0].last or 0.0)
    claim = series.labels.get("persistentvolumeclaim", "")
    left = f", full in about {hours:.0f}h" if hours is not None else ""
    capacity = _capacity(obs, claim)
    params = {"new_size": whole_gibibytes(capacity * 2)} if capacity else None
    confidence = 0.8
    return Candidate(
        "disk-filling",
        f"Volume {claim or series.name} is {1 - (series.last or 0):.0%} full{left}.",
        f"The volume {claim or series.name} is filling up"
        + (f" (capacity {bytes_text(capacity)})" if capacity else "")
        + "; writes will fail when it is full.",
        confidence,
        obs.cite("metric:volume_free_ratio", "metric:volume_capacity_bytes", "top_errors"),
        action(
            obs,
            ctx,
            ActionKind.EXPAND_VOLUME,
            claim,
            "the volume is nearly full",
            confidence,
            params,
        )
        if claim and params
        else [],
        ["Clean up what fills it (old logs, WAL, temp files) and set retention."],
    )


def _hours_left(series: SeriesSummary) -> float | None:
    """Hours until the free ratio reaches zero at the slope of the window's second half."""
    points = [(t, v) for t, v in series.values if math.isfinite(v)][len(series.values) // 2 :]
    if len(points) < 3 or points[-1][0] == points[0][0]:
        return None
    slope = (points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0])
    return points[-1][1] / -slope / 3600 if slope < 0 else None


def _capacity(obs: Observations, claim: str) -> float | None:
    data = obs.instants.get("volume_capacity_bytes")
    for sample in data.samples if data else []:
        if sample.labels.get("persistentvolumeclaim") == claim:
            return sample.value
    return None
