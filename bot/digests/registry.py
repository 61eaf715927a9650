"""The digests by name, and running one: build, post in its channel, upload its charts into
the thread, record the run. Builder modules are imported on first use (matplotlib is slow
to import and most processes never draw)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import leases
from bot.deps import guarded
from bot.digests.models import DigestRun
from bot.digests.output import DigestContext, DigestOutput
from bot.errors import BadInput
from bot.logs import get_logger
from bot.settings import Settings
from bot.slack.channels import ChannelDirectory

log = get_logger("opsbot.digests")
Trigger = Literal["schedule", "manual", "cli"]
HOUR = 3600


@dataclass(frozen=True)
class DigestSpec:
    name: str
    title: str
    module: str  # has `build(deps, name, now) -> DigestOutput`
    schedule_field: str
    channel_field: str
    grace_seconds: int  # a run missed by longer than this after downtime is skipped
    group: str = "digest"  # the settings group holding schedule_field and channel_field
    links: bool = False  # build takes `permalink=` (links to incident threads and cards)
    on_demand: bool = False  # build takes `on_demand=` (a window ending now, not the last full one)


DIGESTS: dict[str, DigestSpec] = {
    spec.name: spec
    for spec in (
        DigestSpec(
            "incidents",
            "Daily incident digest",
            "bot.digests.incident_digest",
            "incidents_schedule",
            "incidents_channel",
            6 * HOUR,
            links=True,
        ),
        DigestSpec(
            "logs",
            "Hourly log digest",
            "bot.digests.log_digest",
            "logs_schedule",
            "logs_channel",
            HOUR // 2,
            on_demand=True,
        ),
        DigestSpec(
            "performance",
            "Weekly performance report",
            "bot.digests.performance",
            "performance_schedule",
            "performance_channel",
            24 * HOUR,
        ),
        DigestSpec(
            "cost-daily",
            "Daily AI cost report",
            "bot.digests.cost",
            "cost_daily_schedule",
            "cost_channel",
            6 * HOUR,
        ),
        DigestSpec(
            "cost-monthly",
            "Monthly AI cost report",
            "bot.digests.cost",
            "cost_monthly_schedule",
            "cost_channel",
            72 * HOUR,
        ),
        DigestSpec(
            "roi", "Monthly ROI report", "bot.digests.roi", "roi_schedule", "roi_channel", 72 * HOUR
        ),
        DigestSpec(
            "capacity",
            "Weekly capacity and cost digest",
            "bot.digests.capacity_digest",
            "digest_schedule",
            "channel",
            24 * HOUR,
            group="capacity",
        ),
    )
}


def digest_spec(name: str) -> DigestSpec:
    spec = DIGESTS.get(name.strip().lower())
    if spec is None:
        raise BadInput(f"no digest {name!r}; choose one of: {', '.join(DIGESTS)}")
    return spec


def channel_for(settings: Settings, spec: DigestSpec) -> str:
    """The digest's own channel, else the digest channel."""
    own: str | None = getattr(getattr(settings, spec.group), spec.channel_field)
    return own or settings.digest.channel


def schedule_of(settings: Settings, spec: DigestSpec) -> str:
    """The digest's crontab line ('' = off)."""
    schedule: str = getattr(getattr(settings, spec.group), spec.schedule_field)
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


def digest_rows(settings: Settings, now: datetime) -> list[DigestRow]:
    """Every digest with its channel (as configured: a name, not an id) and next run."""
    zone = settings.digest.timezone
    rows = []
    for spec in DIGESTS.values():
        schedule = schedule_of(settings, spec) if settings.digest.enabled else ""
        rows.append(
            DigestRow(
                name=spec.name,
                title=spec.title,
                channel=channel_for(settings, spec),
                schedule=schedule,
                next_run=next_run(schedule, zone, now),
            )
        )
    return rows


def build_digest(
    ctx: DigestContext,
    name: str,
    now: datetime,
    trigger: Trigger = "schedule",
    *,
    links: bool = True,
) -> DigestOutput:
    """Build one digest without posting it (`links=False`: no Slack calls for permalinks)."""
    spec = digest_spec(name)
    module: Any = importlib.import_module(spec.module)
    extra: dict[str, Any] = {}
    if spec.links and links:
        extra["permalink"] = slack_permalink(ctx.client)
    if spec.on_demand:
        extra["on_demand"] = trigger != "schedule"
    output: DigestOutput = module.build(ctx.deps, spec.name, now, **extra)
    return output


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
    """Post the digest, then its charts (files upload v2) and follow-ups in its thread."""
    channel_id = ChannelDirectory(client).resolve(channel)
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


def run_digest(
    ctx: DigestContext,
    name: str,
    now: datetime | None = None,
    *,
    trigger: Trigger = "manual",
) -> DigestRun:
    """Build and post one digest now (`now` = the moment it reports up to); the run is
    recorded whatever happens. Raises BadInput for an unknown name and re-raises what
    made a run fail (after recording it)."""
    spec = digest_spec(name)
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    deps = ctx.deps
    run = DigestRun(
        digest=spec.name,
        trigger=trigger,
        scheduled_for=moment if trigger == "schedule" else None,
        replica=leases.PROCESS_ID,
        channel=channel_for(deps.settings, spec),
    )
    with deps.db.session() as session:
        session.add(run)
    try:
        output = build_digest(ctx, spec.name, moment, trigger)
        if output.skipped is not None:
            run.status, run.summary = "skipped", output.skipped
        else:
            run.channel, run.ts, run.files = post_digest(ctx.client, run.channel or "", output)
            run.status, run.summary = "posted", output.text
            if output.follow_up is not None:  # posted is posted: its failure is only logged
                guarded("digest follow-up", spec.name, output.follow_up, ctx, run.channel, run.ts)
    finally:
        if run.status == "running":  # leaving with an exception: record it, let it go on
            failure = sys.exc_info()[1]
            run.status, run.error = "failed", f"{type(failure).__name__}: {failure}"[:2000]
        run.finished_at = datetime.now(UTC)
        with deps.db.session() as session:
            session.add(run)
        log.info("digest run", digest=spec.name, status=run.status, trigger=trigger)
    return run
