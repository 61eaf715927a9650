"""Rules about expiring and filling things: TLS certificates and volumes."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from bot.investigation.patterns.base import Candidate, RuleContext, action
from bot.investigation.patterns.log_signatures import dependency_named
from bot.investigation.patterns.observe import Observations, deployment_of_pod_owner
from bot.investigation.patterns.rules_resources import UNSCOPED_LOGS_PENALTY
from policies import ActionKind
from policies.quantities import bytes_text, whole_gibibytes
from tools.logs.aggregation_tools import MessageGroup
from tools.metrics.series import SeriesSummary

DISK_FREE_LOW = 0.15
DISK_HOURS_LEFT = 24.0
CERT_DAYS = 14.0
CERT = re.compile(
    r"certificate (?:has )?expired|x509: certificate|certificate verify failed"
    r"|CERTIFICATE_VERIFY_FAILED|ssl(?:v3)? alert certificate expired|CERT_HAS_EXPIRED"
    r"|SSLHandshakeException|CertPathValidatorException|certificate_expired"
    r"|The remote certificate is invalid",
    re.IGNORECASE,
)
SVC_HOST = re.compile(r"^([a-z0-9][a-z0-9-]*)\.[a-z0-9-]+\.svc(?:\.|$)")
DIGITS = re.compile(r"\d+")
DISK_FULL = re.compile(r"no space left on device|disk (?:is )?full|ENOSPC", re.IGNORECASE)


def cert_expiry(obs: Observations, ctx: RuleContext) -> Candidate | None:
    """A certificate that expired or expires soon (blackbox probe, x509-certificate-exporter
    or cert-manager), or TLS handshakes failing in the logs; the service that serves it gets
    restarted once a human has renewed it."""
    groups = [
        g for g in (obs.top_errors.groups if obs.top_errors else []) if CERT.search(g.message)
    ]
    data = obs.instants.get("cert_expiry_days")
    soon = [s for s in (data.samples if data else []) if s.value < CERT_DAYS]
    if not groups and not soon:
        return None
    owner = _certificate_owner(obs, soon, groups)
    if soon:
        first = min(soon, key=lambda s: s.value)
        labels = first.labels
        target = labels.get("secret_name") or labels.get("name") or labels.get("instance") or "?"
        state = "has expired" if first.value <= 0 else f"expires in {first.value:.1f} days"
        summary = f"The TLS certificate {target}" + (f" of {owner}" if owner else "") + f" {state}"
        summary += f"; {sum(g.count for g in groups)} TLS errors in the logs." if groups else "."
        evidence = obs.cite("metric:cert_expiry_days", "top_errors")
    else:
        summary = f"TLS handshakes fail: {groups[0].count} errors like {groups[0].message[:120]!r}."
        evidence = obs.cite("top_errors")
    expired = bool(groups) or any(s.value <= 0 for s in soon)
    confidence = (0.9 if groups and soon else 0.85 if expired else 0.7) - (
        0.0 if obs.service or soon else UNSCOPED_LOGS_PENALTY
    )
    actions = (
        action(
            obs,
            ctx,
            ActionKind.RESTART_DEPLOYMENT,
            owner,
            f"after the certificate is renewed, restart {owner} so it serves the new one",
            confidence,
        )
        if owner and any(s.value <= 0 for s in soon)  # the metric confirms it: not a guess
        else []
    )
    return Candidate(
        "certificate-expiry",
        summary,
        f"The TLS certificate{' of ' + owner if owner else ''} expired (or is about to) and was "
        "not renewed, so clients refuse the connection (x509: certificate has expired). "
        "Nothing was deployed that a rollback would undo.",
        confidence,
        evidence,
        actions,
        [
            "Renew the certificate first, a human step (check cert-manager's Certificate, its "
            "issuer and the Secret it writes); only then restart the servers that use it."
        ],
    )


def _certificate_owner(
    obs: Observations, soon: list[Any], groups: list[MessageGroup]
) -> str | None:
    """The service serving the certificate: its subject host, the Secret's name, or the
    callee the TLS errors name."""
    known = _known(obs)
    for sample in soon:
        for value in sample.labels.values():
            host = SVC_HOST.match(str(value))
            if host and host.group(1) in known:
                return host.group(1)
        secret = str(sample.labels.get("secret_name") or sample.labels.get("name") or "")
        stem = re.sub(r"[-.](tls|cert|certificate)$", "", secret)
        if stem in known:
            return stem
    for group in groups:
        named = dependency_named(group.message, known)
        if named:
            return named
    return None


def _known(obs: Observations) -> set[str]:
    pods = obs.pods.pods if obs.pods else []
    owners = {deployment_of_pod_owner(p.owner) for p in pods}
    return {str(o) for o in owners if o} | obs.graph.services | set(obs.alerted) | obs.known


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
        return _ephemeral_disk_full(obs, ctx, logged)
    series, hours = min(filling, key=lambda item: item[0].last or 0.0)
    claim = series.labels.get("persistentvolumeclaim", "")
    forecast = obs.forecasts.get(claim)
    if forecast:  # the estimate the incident's title gives, from the same forecast
        left = f"; the forecast that opened this incident: {forecast}"
    else:
        left = f", full in about {hours:.0f}h" if hours is not None else ""
    capacity = _capacity(obs, claim)
    params = {"new_size": whole_gibibytes(capacity * 2)} if capacity else None
    confidence = 0.8
    return Candidate(
        "disk-filling",
        f"Volume {claim or series.name} is {1 - (series.last or 0):.0%} full{left}.",
        f"The volume {claim or series.name} is filling up"
        + (f" (capacity {bytes_text(capacity)})" if capacity else "")
        + "; writes will fail when it is full."
        + _owner_says(obs, claim),
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


def _owner_says(obs: Observations, claim: str) -> str:
    """What the workload the claim belongs to (by name: `postgres-data` is postgres')
    logs as errors: often why its volume fills (an archiver failing, a cleanup job). Its
    steady errors count too: a volume that fills for hours is filled by a failure that is
    as old, which the rising-errors filter leaves out."""
    if not claim:
        return ""
    parts = claim.split("-")
    logged = [(set(g.services), g.message) for g in obs.top_errors.groups] if obs.top_errors else []
    logged += [({e.service}, e.message) for e in obs.steady_errors]
    lines: list[str] = []
    seen: set[str] = set()
    owner = ""
    for services, message in logged:
        owners = sorted(s for s in services if s == claim or s in parts)
        shape = DIGITS.sub("#", message)[:80]  # the same line at another time
        if owners and shape not in seen:
            seen.add(shape)
            owner = owner or owners[0]
            lines.append(message[:120])
    if not lines:
        return ""
    quoted = "; ".join(repr(line) for line in lines[:3])
    return f" {owner}, whose volume it is, logs errors: {quoted}."


def _ephemeral_disk_full(
    obs: Observations, ctx: RuleContext, logged: list[MessageGroup]
) -> Candidate:
    """Disk-full errors while no PersistentVolumeClaim is short of space: the full
    filesystem is the writer's own (an emptyDir or the container's layer), which a new pod
    starts empty. The service writing the errors is named; restarting it is a stop-gap
    after a human frees the space or fixes what fills it."""
    writers: Counter[str] = Counter()
    for group in logged:
        writers.update(group.services)
    count = sum(g.count for g in logged)
    example = logged[0].message[:120]
    service = writers.most_common(1)[0][0] if writers else None
    volumes = obs.ranges.get("volume_free_ratio")
    watched = volumes is not None and bool(volumes.series)
    why = (
        "no PersistentVolumeClaim is short of space (kubelet volume stats)"
        if watched
        else "no volume metrics were found"
    )
    if service is None:
        return Candidate(
            "disk-filling",
            f"Writes fail for lack of space: {count} errors like {example!r}.",
            f"A filesystem is full; {why}.",
            0.5,
            obs.cite("top_errors"),
            [],
            ["Find the full volume (kubelet_volume_stats_*) and expand it or clean it up."],
        )
    confidence = 0.7 if watched else 0.6
    return Candidate(
        "disk-filling",
        f"{service} cannot write: its disk is full ({count} errors like {example!r}).",
        f"{service}'s own filesystem is full (No space left on device) and its writes fail; "
        f"{why}, so the full disk is the pod's scratch space (an emptyDir or the container's "
        "writable layer), which nothing cleans up.",
        confidence,
        obs.cite("top_errors", "metric:volume_free_ratio"),
        action(
            obs,
            ctx,
            ActionKind.RESTART_DEPLOYMENT,
            service,
            f"stop-gap: new {service} pods start with an empty scratch volume; it fills again "
            "unless what fills it is fixed",
            confidence,
        ),
        [
            f"A human must find what fills {service}'s scratch space (temporary files, a "
            "cleanup job that stopped) and fix it or set a sizeLimit; the restart only buys "
            "time."
        ],
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
