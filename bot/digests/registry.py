"""The digests by name, and running one: build it with the builder the composition root
handed over, post it in its channel, upload its charts into the thread, record the run."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import leases
from bot.digests.models import DigestRun
from bot.digests.output import DigestBuilder, DigestOutput, DigestRequest, Permalink, no_links
from bot.errors import BadInput
from bot.logs import get_logger
from bot.settings import CapacitySettings, DigestSettings
from bot.slack.channels import ChannelDirectory
from bot.slack.writer import DIGEST_PRIORITY, writing_at
from bot.store.db import Database

log = get_logger("opsbot.digests")
Trigger = Literal["schedule", "manual", "cli"]
HOUR = 3600


@dataclass(frozen=True)
class DigestSpec:
    """A digest's name and title, the settings fields of its schedule and channel, and how
    late a missed run may still start."""

    name: str
    title: str
    schedule_field: str
    channel_field: str
    grace_seconds: int  # a run missed by longer than this after downtime is skipped
    group: str = "digest"  # the settings group holding schedule_field and channel_field


DIGESTS: dict[str, DigestSpec] = {
    spec.name: spec
    for spec in (
        DigestSpec(
            "incidents",
            "Daily incident digest",
            "incidents_schedule",
            "incidents_channel",
            6 * HOUR,
        ),
        DigestSpec(
            "logs",
            "Hourly log digest",
            "logs_schedule",
            "logs_channel",
            HOUR // 2,
        ),
        DigestSpec(
            "performance",
            "Weekly performance report",
            "performance_schedule",
            "performance_channel",
            24 * HOUR,
        ),
        DigestSpec(
            "cost-daily",
            "Daily AI cost report",
            "cost_daily_schedule",
            "cost_channel",
            6 * HOUR,
        ),
        DigestSpec(
            "cost-monthly",
            "Monthly AI cost report",
            "cost_monthly_schedule",
            "cost_channel",
            72 * HOUR,
        ),
        DigestSpec("roi", "Monthly ROI report", "roi_schedule", "roi_channel", 72 * HOUR),
        DigestSpec(
            "capacity",
            "Weekly capacity and cost digest",
            "digest_schedule",
            "channel",
            24 * HOUR,
            group="capacity",
        ),
    )
}


def digest_spec(name: str) -> DigestSpec:
    """The digest named `name` (any case); BadInput naming the choices when there is none."""
    spec = DIGESTS.get(name.strip().lower())
    if spec is None:
        raise BadInput(f"no digest {name!r}; choose one of: {', '.join(DIGESTS)}")
    return spec


def _group(
    spec: DigestSpec, digest: DigestSettings, capacity: CapacitySettings
) -> DigestSettings | CapacitySettings:
    """The settings group holding `spec`'s schedule and channel fields."""
    return capacity if spec.group == "capacity" else digest


def channel_for(spec: DigestSpec, digest: DigestSettings, capacity: CapacitySettings) -> str:
    """The digest's own channel, else the digest channel."""
    own: str | None = getattr(_group(spec, digest, capacity), spec.channel_field)
    return own or digest.channel


def schedule_of(spec: DigestSpec, digest: DigestSettings, capacity: CapacitySettings) -> str:
    """The digest's crontab line ('' = off)."""
    schedule: str = getattr(_group(spec, digest, capacity), spec.schedule_field)
    return schedule


@dataclass(frozen=True)
class DigestRow:
    """One digest as `digest list` shows it: where it posts and when it runs next."""

    name: str
    title: str
    channel: str
    schedule: str  # '' = off
    next_run: datetime | None


def next_run(schedule: str, zone: str, now: datetime) -> datetime | None:
    """The next fire time of a crontab line after `now` (None when off or unparsable)."""
    from bot.settings.crontab import parse_schedule

    if not schedule.strip():
        return None
    try:
        trigger = parse_schedule(schedule, zone)
    except ValueError:
        return None
    fire: datetime | None = trigger.get_next_fire_time(None, now)
    return fire


def digest_rows(
    digest: DigestSettings, capacity: CapacitySettings, now: datetime
) -> list[DigestRow]:
    """Every digest with its channel (as configured: a name, not an id) and next run."""
    rows = []
    for spec in DIGESTS.values():
        schedule = schedule_of(spec, digest, capacity) if digest.enabled else ""
        rows.append(
            DigestRow(
                name=spec.name,
                title=spec.title,
                channel=channel_for(spec, digest, capacity),
                schedule=schedule,
                next_run=next_run(schedule, digest.timezone, now),
            )
        )
    return rows


def slack_permalink(client: WebClient) -> Callable[[str, str], str | None]:
    """A message's permalink from Slack (None when Slack cannot say: the link is left out)."""

    def permalink(channel: str, ts: str) -> str | None:
        try:
            return str(client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
        except (SlackApiError, KeyError):
            return None

    return permalink


def post_digest(
    client: WebClient, channel: str, output: DigestOutput
) -> tuple[str, str, list[str]]:
    """Post the digest, then its charts (files upload v2) and follow-ups in its thread,
    every write at `DIGEST_PRIORITY`: in a shared channel incident steps go first."""
    channel_id = ChannelDirectory(client).resolve(channel)
    with writing_at(DIGEST_PRIORITY):
        posted = client.chat_postMessage(
            channel=channel_id,
            text=output.text,
            blocks=[block.to_dict() for block in output.blocks],
            unfurl_links=False,
        )
        ts = str(posted["ts"])
        files: list[str] = []
        if output.charts:
            uploaded = client.files_upload_v2(
                channel=channel_id,
                thread_ts=ts,
                initial_comment="Charts for this digest",
                file_uploads=[
                    {"file": c.png, "filename": c.filename, "title": c.title, "alt_txt": c.alt}
                    for c in output.charts
                ],
            )
            shared: list[dict[str, Any]] = uploaded.get("files", [])
            files = [str(f["id"]) for f in shared]
        for text in output.thread:
            client.chat_postMessage(channel=channel_id, thread_ts=ts, text=text, unfurl_links=False)
    return channel_id, ts, files


class Digests:
    """Builds and posts the digests: each built by its builder (the composition root makes
    them, each handed what it reads), posted in its channel through `client`, every run
    recorded in `db`. `settings` and `capacity` give the channels and schedules."""

    def __init__(
        self,
        db: Database,
        client: WebClient,
        settings: DigestSettings,
        capacity: CapacitySettings,
        builders: Mapping[str, DigestBuilder],
    ) -> None:
        missing = sorted(set(DIGESTS) - set(builders))
        if missing:
            raise ValueError(f"no builder for the digests {', '.join(missing)}")
        self.db = db
        self.client = client
        self.settings = settings
        self.capacity = capacity
        self.builders = dict(builders)

    def channel(self, spec: DigestSpec) -> str:
        """Where `spec` posts (a channel name or id, as configured)."""
        return channel_for(spec, self.settings, self.capacity)

    def schedule(self, spec: DigestSpec) -> str:
        """`spec`'s crontab line ('' = off; all are off when digests are disabled)."""
        return schedule_of(spec, self.settings, self.capacity) if self.settings.enabled else ""

    def rows(self, now: datetime) -> list[DigestRow]:
        """Every digest with its channel and next run (`/opsbot digest list`)."""
        return digest_rows(self.settings, self.capacity, now)

    def build(
        self, name: str, now: datetime, trigger: Trigger = "schedule", *, links: bool = True
    ) -> DigestOutput:
        """Build one digest without posting it (`links=False`: no Slack calls for
        permalinks). A run not on its schedule reports a window ending `now`."""
        spec = digest_spec(name)
        permalink: Permalink = slack_permalink(self.client) if links else no_links
        request = DigestRequest(spec.name, now, trigger != "schedule", permalink)
        return self.builders[spec.name](request)

    def run(
        self, name: str, now: datetime | None = None, *, trigger: Trigger = "manual"
    ) -> DigestRun:
        """Build and post one digest now (`now` = the moment it reports up to); the run is
        recorded whatever happens. Raises BadInput for an unknown name and re-raises what
        made a run fail (after recording it)."""
        spec = digest_spec(name)
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        run = DigestRun(
            digest=spec.name,
            trigger=trigger,
            scheduled_for=moment if trigger == "schedule" else None,
            replica=leases.PROCESS_ID,
            channel=self.channel(spec),
        )
        with self.db.session() as session:
            session.add(run)
        try:
            output = self.build(spec.name, moment, trigger)
            if output.skipped is not None:
                run.status, run.summary = "skipped", output.skipped
            else:
                run.channel, run.ts, run.files = post_digest(self.client, run.channel or "", output)
                run.status, run.summary = "posted", output.text
                if output.follow_up is not None:
                    follow_up(spec.name, output.follow_up, run.channel, run.ts)
        finally:
            if run.status == "running":  # leaving with an exception: record it, let it go on
                failure = sys.exc_info()[1]
                run.status, run.error = "failed", f"{type(failure).__name__}: {failure}"[:2000]
            run.finished_at = datetime.now(UTC)
            with self.db.session() as session:
                session.add(run)
            log.info("digest run", digest=spec.name, status=run.status, trigger=trigger)
        return run


def follow_up(name: str, work: Callable[[str, str], None], channel: str, ts: str) -> None:
    """Run a posted digest's follow-up in its thread. Posted is posted: a follow-up that
    fails is logged and the run still counts as posted."""
    try:
        work(channel, ts)
    except Exception:  # the outer boundary of a follow-up: the digest is already posted
        log.exception("digest follow-up failed", digest=name)
