"""Incident rules: how alerts are grouped into incidents, delayed, muted and routed.

Pure: a YAML file in, decisions out. The shipped defaults are `policies/routing.yaml`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from policies.windows import DateRange, WeeklyWindow, any_window_open

DEFAULT_RULES = Path(__file__).with_name("routing.yaml")
KEY_MAX = 400  # the incident key column's width (it is indexed and unique while open)
_DIGEST_CHARS = 32
WORKLOAD = "workload"
# Labels that name the workload an alert is about, most specific first. Not `container`:
# kube-state-metrics alerts carry the container's name ("app"), shared by many workloads.
WORKLOAD_LABELS = (
    "service",
    "app",
    "app.kubernetes.io/name",
    "deployment",
    "statefulset",
    "daemonset",
    "job_name",
)
# <deployment>-<replicaset hash>-<pod suffix>, or <statefulset>-<ordinal>.
_POD_OF_DEPLOYMENT = re.compile(r"^(?P<w>.+?)-[a-z0-9]{8,10}-[a-z0-9]{5}$")
_POD_OF_STATEFULSET = re.compile(r"^(?P<w>.+)-\d+$")
_DURATION = re.compile(r"^(\d+)(s|m|h|d)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

Matcher = dict[str, str | list[str]]


def parse_duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    found = _DURATION.match(str(value).strip())
    if found is None:
        raise ValueError(f"bad duration {value!r}: use e.g. 30s, 5m, 1h, 2d")
    return timedelta(seconds=int(found[1]) * _UNITS[found[2]])


def matches(matcher: Matcher, labels: dict[str, str]) -> bool:
    """Every key must match: a glob, or a list of globs (any), against the label value."""
    for key, want in matcher.items():
        value = labels.get(key, "")
        globs = want if isinstance(want, list) else [want]
        if not any(fnmatchcase(value, g) for g in globs):
            return False
    return True


def workload_of(labels: dict[str, str]) -> str | None:
    """The workload an alert is about: a naming label, else derived from the pod name."""
    for label in WORKLOAD_LABELS:
        if labels.get(label):
            return labels[label]
    pod = labels.get("pod")
    if pod:
        found = _POD_OF_DEPLOYMENT.match(pod) or _POD_OF_STATEFULSET.match(pod)
        return found["w"] if found else pod
    return None


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    description: str = ""


class GroupingRule(_Rule):
    """Alerts whose `key` labels (`workload` is derived) all have the same values are one
    incident while it is open, and reopen it within `reopen_window` after it resolved."""

    key: tuple[str, ...] = Field(min_length=1)
    match: Matcher = Field(default_factory=dict)


class NotifyDelay(_Rule):
    """Open the incident at once but post it only if it is still firing after `after`."""

    match: Matcher
    after: timedelta

    _d = field_validator("after", mode="before")(parse_duration)


class MuteWindow(_Rule):
    """Matching incidents are recorded but not posted while a window is active."""

    match: Matcher = Field(default_factory=dict)
    timezone: str = "UTC"
    weekly: tuple[WeeklyWindow, ...] = ()
    dates: tuple[DateRange, ...] = ()

    def active(self, now: datetime) -> bool:
        return any_window_open(now, self.timezone, self.weekly, self.dates)


class Route(_Rule):
    match: Matcher = Field(default_factory=dict)
    channel: str = ""  # empty: the configured incidents channel (SLACK_INCIDENTS_CHANNEL)
    dedicated_channel: bool = False
    invite: tuple[str, ...] = ()


class IncidentRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reopen_window: timedelta = timedelta(hours=1)
    grouping: tuple[GroupingRule, ...] = ()
    notify: tuple[NotifyDelay, ...] = ()
    mute: tuple[MuteWindow, ...] = ()
    routes: tuple[Route, ...] = ()

    _d = field_validator("reopen_window", mode="before")(parse_duration)


@dataclass(frozen=True)
class Correlation:
    key: str
    rule: str
    reason: str


def correlate(labels: dict[str, str], group_key: str, rules: IncidentRules) -> Correlation:
    """The incident key of an alert: the first grouping rule whose key labels are all
    present, else Alertmanager's own group key."""
    derived = {**labels, WORKLOAD: workload_of(labels) or ""}
    for rule in rules.grouping:
        if not matches(rule.match, labels):
            continue
        values = [derived.get(k, "") for k in rule.key]
        if all(values):
            pairs = ", ".join(f"{k}={v}" for k, v in zip(rule.key, values, strict=True))
            key = bounded_key(f"{rule.name}:{'/'.join(values)}")
            return Correlation(key, rule.name, f"same {pairs}")
    fallback = group_key or "alertname=" + labels.get("alertname", "")
    return Correlation(
        bounded_key(f"group:{fallback}"), "alertmanager-group", "same Alertmanager group"
    )


def bounded_key(key: str, limit: int = KEY_MAX) -> str:
    """`key` itself when it fits `limit` characters, else a readable prefix and a digest of
    the whole: label values are unbounded, the key is an indexed identifier, and two long
    keys that share a prefix must stay two incidents."""
    if len(key) <= limit:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:_DIGEST_CHARS]
    return f"{key[: limit - _DIGEST_CHARS - 1]}#{digest}"


def notify_delay(labels: dict[str, str], rules: IncidentRules) -> tuple[timedelta, str | None]:
    for rule in rules.notify:
        if matches(rule.match, labels):
            return rule.after, rule.name
    return timedelta(0), None


def muted_by(labels: dict[str, str], now: datetime, rules: IncidentRules) -> str | None:
    for rule in rules.mute:
        if matches(rule.match, labels) and rule.active(now):
            return rule.name
    return None


def route_for(labels: dict[str, str], rules: IncidentRules, default_channel: str) -> Route:
    for rule in rules.routes:
        if matches(rule.match, labels):
            return rule if rule.channel else rule.model_copy(update={"channel": default_channel})
    return Route(name="default", channel=default_channel)


def load_incident_rules(path: Path | None = None) -> IncidentRules:
    data = yaml.safe_load((path or DEFAULT_RULES).read_text()) or {}
    return IncidentRules.model_validate(data)
