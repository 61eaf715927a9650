"""Rules that read failure classes from the logs of every service and follow them to the
service that owns the failure: a caller's timeout, refused connection or bad certificate
belongs to the callee it names; a DNS failure to the cluster's DNS; a missing key, module or
column to the service that reads it, and to its release when one went out just before.

What a human must do first (renew a certificate, fix a Secret, run a migration) is said
before the action that depends on it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.investigation.change_timeline import ChangeEvent, change_events
from bot.investigation.patterns.base import Candidate, RuleContext, action
from bot.investigation.patterns.log_signatures import (
    CLIENT_SIDE,
    HUMAN_STEPS,
    Failure,
    classify,
    dependency_named,
)
from bot.investigation.patterns.observe import Observations, deployment_of_pod_owner
from policies import ActionKind, ProposedAction

RELEASE_WINDOW = timedelta(hours=2)
ROLLBACK_CLASSES = frozenset(
    {
        Failure.CONFIG,
        Failure.MISSING_DEPENDENCY,
        Failure.SCHEMA,
        Failure.NULL_DEREFERENCE,
        Failure.TIMEOUT,
        Failure.REFUSED,
    }
)
RESTART_AFTER_HUMAN = frozenset({Failure.TLS, Failure.AUTH, Failure.CONFIG})
HANDLED_ELSEWHERE = frozenset({Failure.OOM, Failure.TOO_MANY_CONNECTIONS, Failure.DISK_FULL})


@dataclass(frozen=True)
class Signature:
    """The dominant failure class in the error logs, whose service it implicates."""

    failure: Failure
    service: str
    count: int
    example: str
    writers: tuple[str, ...]


def dominant_signature(obs: Observations) -> Signature | None:
    """The failure class with the most error lines, and the service that owns it."""
    groups = obs.top_errors.groups if obs.top_errors else []
    known = _known_services(obs)
    counts: Counter[Failure] = Counter()
    owners: dict[Failure, Counter[str]] = {}
    examples: dict[Failure, str] = {}
    writers: dict[Failure, set[str]] = {}
    for group in groups:
        failure = classify(group.message)
        if failure is None:
            continue
        counts[failure] += group.count
        examples.setdefault(failure, group.message)
        for writer, count in group.services.items():
            callee = dependency_named(group.message, known, writer)
            writers.setdefault(failure, set()).add(writer)
            owner = callee if failure in CLIENT_SIDE and callee and callee != writer else writer
            owners.setdefault(failure, Counter())[owner] += count
    if not counts:
        return None
    failure, count = counts.most_common(1)[0]
    service = owners[failure].most_common(1)[0][0]
    if failure in CLIENT_SIDE and service not in writers[failure]:
        # callers report the symptom; the callee's own failure class is the deeper cause
        own = [
            f
            for f, _ in counts.most_common()
            if f not in CLIENT_SIDE and service in writers.get(f, set())
        ]
        if own:
            failure = own[0]
            count = counts[failure]
    return Signature(failure, service, count, examples[failure], tuple(sorted(writers[failure])))


def _known_services(obs: Observations) -> set[str]:
    pods = obs.pods.pods if obs.pods else []
    owners = {deployment_of_pod_owner(p.owner) for p in pods}
    return {str(o) for o in owners if o} | obs.graph.services | set(obs.alerted) | obs.known


def release_of(obs: Observations, service: str, now: datetime) -> ChangeEvent | None:
    """The recent rollout of `service`, when there is one."""
    return next(
        (e for e in obs.timeline if e.service == service and now - e.at <= RELEASE_WINDOW),
        None,
    )


def _image_tag(event: ChangeEvent) -> str:
    tags = [image.rsplit(":", 1)[-1] for image in event.images if ":" in image]
    return f" ({', '.join(tags)})" if tags else ""


def log_signature(obs: Observations, ctx: RuleContext) -> Candidate | None:
    """A failure class the logs name, followed to the service that owns it."""
    found = dominant_signature(obs)
    if found is None or found.failure in HANDLED_ELSEWHERE:
        return None
    if found.failure is Failure.DNS:
        return _dns(obs, ctx, found)
    service, failure = found.service, found.failure
    release = release_of(obs, service, ctx.now)
    human = HUMAN_STEPS.get(failure)
    quoted = found.example[:160]
    via = (
        f" ({', '.join(w for w in found.writers if w != service)} report it about {service})"
        if any(w != service for w in found.writers)
        else ""
    )
    summary = f"{service}: {found.count} error log lines of class {failure.value}{via}: {quoted!r}."
    actions: list[ProposedAction] = []
    steps: list[str] = []
    confidence = 0.6
    if release is not None and failure in ROLLBACK_CLASSES:
        confidence = 0.85
        cause = (
            f"The {failure.value} failures started with the rollout of {service} revision "
            f"{release.revision}{_image_tag(release)} at {release.at:%H:%M}Z "
            f"({release.what}); the release introduced them."
        )
        actions = action(
            obs,
            ctx,
            ActionKind.ROLLBACK_DEPLOYMENT,
            service,
            f"{failure.value} errors since revision {release.revision} went out",
            confidence,
        )
    elif failure in RESTART_AFTER_HUMAN or failure is Failure.DEADLOCK:
        confidence = 0.75
        stopgap = " (a stop-gap)" if failure is Failure.DEADLOCK else ""
        cause = (
            f"{service} fails with {failure.value} errors and no release of it explains "
            f"them: {quoted!r}."
        )
        actions = action(
            obs,
            ctx,
            ActionKind.RESTART_DEPLOYMENT,
            service,
            f"restart {service}{stopgap}" + (" once the human step is done" if human else ""),
            confidence,
        )
    else:
        cause = f"{service} is where the {failure.value} errors point: {quoted!r}."
    if human:
        steps.append(f"A human must first {human}.")
    if failure is Failure.TLS:
        steps.extend(_certificate_hint(obs))
    return Candidate(
        f"log-signature:{failure.name.lower()}",
        summary,
        cause,
        confidence,
        obs.cite("top_errors", "traces", "deployment"),
        actions,
        steps,
    )


def _certificate_hint(obs: Observations) -> list[str]:
    data = obs.instants.get("cert_expiry_days")
    if data is None:
        return []
    expired = [s for s in data.samples if s.value <= 0]
    return [
        f"Certificate {s.labels.get('secret_name') or s.labels.get('name') or '?'} "
        f"expired {abs(s.value):.1f} day(s) ago."
        for s in expired[:3]
    ]


def _dns(obs: Observations, ctx: RuleContext, found: Signature) -> Candidate:
    """Name resolution failing in several services points at the cluster's DNS."""
    dns = obs.cluster_dns
    events = change_events([dns]) if dns else []
    recent = [e for e in events if ctx.now - e.at <= RELEASE_WINDOW]
    writers = ", ".join(found.writers)
    example = found.example[:140]
    summary = f"Name resolution fails in {writers}: {found.count} lines like {example!r}."
    if dns is None:
        return Candidate(
            "log-signature:dns",
            summary,
            "Cluster DNS does not answer; its Deployment could not be read.",
            0.5,
            obs.cite("top_errors"),
            [],
            ["Check the cluster DNS pods (kube-system) and their configuration."],
        )
    unready = dns.desired - dns.ready
    if recent:
        event = recent[-1]
        confidence = 0.85
        cause = (
            f"Cluster DNS ({dns.namespace}/{dns.name}) was changed at {event.at:%H:%M}Z "
            f"(revision {event.revision}: {event.what}) and {unready} of {dns.desired} DNS "
            "pods are not ready since; every service's lookups fail with it."
        )
        actions = _dns_rollback(dns.name, dns.namespace, ctx, confidence, event.revision)
    else:
        confidence = 0.6
        cause = f"Cluster DNS ({dns.namespace}/{dns.name}) is not answering lookups."
        actions = []
    return Candidate(
        "log-signature:dns",
        summary,
        cause,
        confidence,
        obs.cite("top_errors", "cluster_dns"),
        actions,
        ["Check the Corefile and the DNS pods' logs before re-applying the change."],
    )


def _dns_rollback(
    name: str, namespace: str, ctx: RuleContext, confidence: float, revision: int
) -> list[ProposedAction]:
    dns_scope = Observations(namespace=namespace, service=name)
    return action(
        dns_scope,
        ctx,
        ActionKind.ROLLBACK_DEPLOYMENT,
        name,
        f"cluster DNS fails since revision {revision}",
        confidence,
    )
