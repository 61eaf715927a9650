"""`opsbot audit verify|export|archive`: the audit log from the command line."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

import typer

from bot.audit.archive import archive, export, verify, verify_archives
from bot.errors import ConfigError
from bot.settings import Settings, load_settings
from bot.store.db import Database

audit_cli = typer.Typer(help="The append-only audit log.", no_args_is_help=True)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        typer.echo(f"opsbot: {exc}", err=True)
        raise typer.Exit(2) from None


def _since(text: str) -> datetime:
    """An ISO date/time, or a duration back from now such as 24h or 7d."""
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if text[:-1].isdigit() and text[-1:] in units:
        return datetime.now(UTC) - timedelta(**{units[text[-1]]: int(text[:-1])})
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r}: use an ISO date (2025-01-31) or 24h / 7d") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@audit_cli.command("verify")
def verify_command(
    archives: Annotated[
        bool, typer.Option("--archives", help="Also check the archive files.")
    ] = False,
) -> None:
    """Check every hash link; exit 1 naming the first changed, deleted or moved row."""
    settings = _settings()
    db = Database(settings.database)
    with db.session() as session:
        result = verify(session)
        if result.ok and archives:
            archived = verify_archives(session, Path(settings.audit.archive_dir))
            if not archived.ok:
                result = archived
    db.dispose()
    if not result.ok:
        typer.echo(f"audit chain BROKEN after {result.checked} good row(s): {result.reason}")
        raise typer.Exit(1)
    typer.echo(f"audit chain OK: {result.checked} row(s) verified")


@audit_cli.command("export")
def export_command(
    since: Annotated[str, typer.Option(help="ISO date/time, or 24h / 7d back from now.")],
    fmt: Annotated[Literal["jsonl", "csv"], typer.Option("--format")] = "jsonl",
    output: Annotated[Path | None, typer.Option(help="File (default: stdout).")] = None,
) -> None:
    """Write the rows since a moment as JSON lines or CSV."""
    db = Database(_settings().database)
    with db.session() as session:
        text = export(session, _since(since), fmt)
    db.dispose()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)


@audit_cli.command("archive")
def archive_command(
    older_than_days: Annotated[
        int | None, typer.Option(help="Default: OPSBOT_AUDIT_RETENTION_DAYS.")
    ] = None,
) -> None:
    """Move rows older than the retention to a gzip JSONL file, keeping the chain whole."""
    settings = _settings()
    days = older_than_days or settings.audit.retention_days
    if days is None:
        typer.echo("opsbot: set --older-than-days or OPSBOT_AUDIT_RETENTION_DAYS", err=True)
        raise typer.Exit(2)
    db = Database(settings.database)
    anchor = archive(db, datetime.now(UTC) - timedelta(days=days), Path(settings.audit.archive_dir))
    db.dispose()
    if anchor is None:
        typer.echo("nothing to archive")
        return
    typer.echo(f"archived {anchor.rows} row(s) up to #{anchor.cut_id} to {anchor.location}")
