"""A configuration change, not the release, broke the workload: a ConfigMap its pods read
was rewritten after the pods that worked had started, and the failing pods' error lines
name a value (a host, a URL) that ConfigMap now holds.

Pods read their environment once, at start, so such a write can wait days for a restart; a
release that only changed the image is then the messenger, not the cause, and rolling it
back starts pods that read the same ConfigMap. The finding names the human step (restore
the ConfigMap's key) before the one action that helps after it (a restart), and says why
the coincident release was ruled out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.investigation.change_timeline import ConfigChange
from bot.investigation.patterns.base import (
    Candidate,
    RuleContext,
    action,
    current_revision,
    image_tags,
    previous_revision,
    top_error_of,
)
from bot.investigation.patterns.observe import Observations
from policies import ActionKind
from tools.k8s.deployments import RevisionInfo

RECENT = timedelta(hours=2)  # a write this close before now may have broken running pods
CONFIDENCE = 0.85
WITH_RELEASE = timedelta(minutes=10)  # a write this close to the release may be its pipeline's
WITH_RELEASE_CONFIDENCE = 0.6  # then the release (and its revert) may carry it: below a rollback
RESTART_CONFIDENCE = 0.5  # worth it only once a human has restored the configuration
_READS_CONFIG = ("env", "envFrom", "volumes", "configMap", "secret")


def loaded_since(obs: Observations, now: datetime) -> datetime | None:
    """Since when the pods that worked had read their configuration: the previous
    revision's start when the current one rolled out recently (its pods are the first to
    read a write made since), else the current revision's start; None without history."""
    current = current_revision(obs)
    if current is None or current.created is None:
        return None
    previous = previous_revision(obs)
    if now - current.created <= RECENT and previous is not None and previous.created:
        return previous.created
    return current.created


def changed_config_reading(revision: RevisionInfo | None) -> bool:
    """The revision changed where its pods read configuration (env, envFrom, volumes): a
    rollback would then read the old configuration, so the release stays a suspect."""
    fields = [c.field for c in revision.changes] if revision else []
    return any(part in field for field in fields for part in _READS_CONFIG)


def culprit_change(obs: Observations, now: datetime) -> ConfigChange | None:
    """The newest write of a ConfigMap the workload reads whose values hold what its errors
    name, made after the working pods read their configuration (or, without rollout
    history, shortly before now)."""
    since = loaded_since(obs, now)
    for change in obs.config_changes:
        if not change.named or change.at > now:
            continue
        if since is not None and change.at > since:
            return change
        if since is None and now - change.at <= RECENT:
            return change
    return None


def naming_error(obs: Observations, workload: str, named: tuple[str, ...]) -> str | None:
    """The workload's most frequent error line that names one of `named`."""
    for group in obs.top_errors.groups if obs.top_errors else []:
        text = group.message.lower()
        if workload in group.services and any(value.lower() in text for value in named):
            return group.message[:240]
    return None


def config_change(obs: Observations, ctx: RuleContext) -> Candidate | None:
    """The ConfigMap write that the failing pods' errors point at, with the release ruled out."""
    change = culprit_change(obs, ctx.now)
    current = current_revision(obs)
    if change is None or changed_config_reading(current):
        return None
    workload = change.workload
    keys = ", ".join(change.keys)
    named = ", ".join(change.named)
    error = naming_error(obs, workload, change.named) or top_error_of(obs, workload)
    cause = (
        f"{change.object} was last written at {change.at:%Y-%m-%d %H:%M}Z ({change.how}), after "
        f"the {workload} pods that worked had read their configuration; its key {keys} now "
        f"holds {named}, which {workload}'s errors name"
        + (f" ({error!r})" if error else "")
        + f". Pods that started since read the changed value ({', '.join(change.used_by)})."
    )
    recent_release = (
        current is not None
        and current.created is not None
        and previous_revision(obs) is not None
        and ctx.now - current.created <= RECENT
    )
    if recent_release and current is not None and current.created is not None:
        changed = "; ".join(c.describe() for c in current.changes) or "a new pod template"
        cause += (
            f" Ruled out: the release of {workload} (revision {current.revision}, "
            f"{image_tags(current.images)}, at {current.created:%H:%M}Z; {changed}) changed no "
            f"ConfigMap or Secret reference; it only restarted the pods, which then read "
            f"{change.object}. A rollback starts pods that read the same value."
        )
    confidence = CONFIDENCE
    if (
        current is not None
        and current.created is not None
        and abs(change.at - current.created) <= WITH_RELEASE
    ):
        confidence = WITH_RELEASE_CONFIDENCE
        cause += (
            f" {change.object} was written within minutes of the release, possibly by the same "
            "deploy (a re-applied ConfigMap whose values did not change looks the same), so "
            "this is less certain."
        )
    restore = (
        f"Human step first: restore {change.object} key {keys} to the right value (re-apply "
        f"the production configuration; the last write was {change.how} at "
        f"{change.at:%Y-%m-%d %H:%M}Z). No action kind edits a ConfigMap."
    )
    return Candidate(
        "config-change",
        f"{workload} fails because {change.object} was changed: its key {keys} now holds "
        f"{named}, which every failing request names; the "
        + ("release only restarted the pods." if recent_release else "pods read it at start."),
        cause,
        confidence,
        obs.cite("workload_config", "top_errors", "deployment"),
        action(
            obs,
            ctx,
            ActionKind.RESTART_DEPLOYMENT,
            workload,
            f"only after {change.object} key {keys} is restored: restarted pods read it at start",
            RESTART_CONFIDENCE,
        ),
        recommendations=[
            restore,
            f"Then restart {workload} so its pods read the restored value (the proposed restart).",
            f"Do not roll {workload} back: the rolled-back pods read the same {change.object}.",
        ],
        suspects=[workload],
    )
