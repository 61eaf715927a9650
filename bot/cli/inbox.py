"""`opsbot inbox list|retry|drop`: the alert inbox's set-aside rows from the command line."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from bot.errors import BadInput, ConfigError
from bot.incidents import inbox
from bot.settings import load_settings
from bot.store.db import Database

inbox_cli = typer.Typer(help="The durable alert inbox.", no_args_is_help=True)


def _db() -> Database:
    try:
        return Database(load_settings().database)
    except ConfigError as exc:
        typer.echo(f"opsbot: {exc}", err=True)
        raise typer.Exit(2) from None


@inbox_cli.command("list")
def list_command() -> None:
    """Show the rows set aside after their retry budget, with their reasons."""
    rows = inbox.set_aside(_db())
    if not rows:
        typer.echo("no inbox row is set aside")
        return
    for row in rows:
        typer.echo(
            f"{row.id}\treceived {row.received_at:%Y-%m-%d %H:%M:%S}\t"
            f"attempts {row.attempts}\t{row.size} bytes\t{row.reason}"
        )


@inbox_cli.command("retry")
def retry_command(
    inbox_id: Annotated[int, typer.Argument(help="The row's id (from `opsbot inbox list`).")],
) -> None:
    """Give a set-aside row a fresh retry budget; the running bot ingests it next."""
    try:
        inbox.retry(_db(), inbox_id)
    except BadInput as exc:
        typer.echo(f"opsbot: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"inbox row {inbox_id} will be retried")


@inbox_cli.command("drop")
def drop_command(
    inbox_id: Annotated[int, typer.Argument(help="The row's id (from `opsbot inbox list`).")],
) -> None:
    """Mark a set-aside row handled without ingesting it (the row is kept for the record)."""
    try:
        inbox.drop(_db(), inbox_id, who=getpass.getuser())
    except BadInput as exc:
        typer.echo(f"opsbot: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"inbox row {inbox_id} dropped")
