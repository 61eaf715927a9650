"""The `opsbot` command line."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperCommand

from bot.cli.analysis import digest_cli, logs_cli, traces_cli
from bot.cli.audit import audit_cli
from bot.cli.eval import eval_command
from bot.cli.inbox import inbox_cli
from bot.cli.policy import policy_cli
from bot.cli.replay import replay_cli
from bot.errors import ConfigError
from bot.settings import Settings, load_settings, masked, require_webhook_auth, settings_table

cli = typer.Typer(
    help="opsbot: a Slack-first AIOps bot.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
db_cli = typer.Typer(help="The durable store.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(policy_cli, name="policy")
cli.add_typer(logs_cli, name="logs")
cli.add_typer(traces_cli, name="traces")
cli.add_typer(digest_cli, name="digest")
cli.add_typer(audit_cli, name="audit")
cli.add_typer(inbox_cli, name="inbox")
cli.add_typer(replay_cli, name="replay")
cli.command("eval")(eval_command)
console = Console()
err = Console(stderr=True, soft_wrap=True)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        err.print(f"[red]opsbot: {exc}[/red]")
        raise typer.Exit(2) from None


def _reachable(settings: Settings, *, cache: bool = True) -> Settings:
    """`settings`, once the database (and the cache) answer; else one line and exit 2."""
    from bot.cli.reachability import unreachable

    down = unreachable(settings, cache=cache)
    if down is not None:
        err.print(f"opsbot: {down.line()}", style="red", markup=False, highlight=False)
        raise typer.Exit(2)
    return settings


@cli.command()
def run() -> None:
    """Serve the bot (HTTP mode, or Socket Mode when SLACK_APP_TOKEN is set)."""
    from bot.app.server import serve

    try:
        settings = _settings()
        require_webhook_auth(settings)
        serve(_reachable(settings))
    except ConfigError as exc:
        err.print(f"[red]opsbot: {exc}[/red]")
        raise typer.Exit(2) from None


@cli.command()
def config(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    reference: Annotated[
        bool, typer.Option("--reference", help="Print every setting as a Markdown table.")
    ] = False,
) -> None:
    """Print the effective settings, secrets masked."""
    if reference:
        print(settings_table())
        return
    data = masked(_settings())
    if as_json:
        print(json.dumps(data, indent=2, default=str))
        return
    table = Table("group", "variable", "value")
    for group, rows in data.items():
        for variable, value in rows.items():
            table.add_row(group, variable, "" if value is None else str(value))
    console.print(table)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations."""
    from bot.store.db import Database

    db = Database(_reachable(_settings(), cache=False).database)
    db.upgrade()
    console.print(f"database at revision {db.current_revision()}")


@db_cli.command("current")
def db_current() -> None:
    """Print the database's migration revision."""
    from bot.store.db import Database

    console.print(str(Database(_reachable(_settings(), cache=False).database).current_revision()))


class DevCommand(TyperCommand):
    """`opsbot dev`, whose help lists the scenario packs (read only when help is asked
    for: the sandbox is not imported on every start of the CLI)."""

    def format_help(self, *args: Any, **kwargs: Any) -> None:
        from bot.cli.devworld import scenario_names

        self.help = f"{self.help}\n\nScenarios: {', '.join(scenario_names())}."
        super().format_help(*args, **kwargs)


@cli.command(cls=DevCommand)
def dev(
    port: Annotated[int, typer.Option(help="Port of the workspace page and Slack API.")] = 8600,
    bot_port: Annotated[int, typer.Option(help="Port of the bot's HTTP server.")] = 3000,
    socket_mode: Annotated[bool, typer.Option("--socket-mode", help="Use Socket Mode.")] = False,
    scenario: Annotated[
        str | None, typer.Option(help="Start this incident scenario in the sandbox at once.")
    ] = None,
    bare: Annotated[
        bool, typer.Option("--bare", help="No sandbox: the workspace and the bot only.")
    ] = False,
    keep_state: Annotated[
        bool,
        typer.Option("--keep-state", help="Keep incidents between runs (the configured database)."),
    ] = False,
) -> None:
    """Start a local Slack workspace, the bot and the sandbox shop (Prometheus,
    Alertmanager, logs, traces, Kubernetes with healthy traffic); print the URL."""
    from bot.cli.devworld import run_dev

    if bare and scenario:
        err.print("opsbot: --scenario needs the sandbox; drop --bare", style="red", markup=False)
        raise typer.Exit(2)
    run_dev(
        port=port,
        bot_port=bot_port,
        socket_mode=socket_mode,
        scenario=scenario,
        bare=bare,
        keep_state=keep_state,
    )


@cli.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def sandbox(ctx: typer.Context) -> None:
    """The sandbox alone: `opsbot sandbox up [--scenario NAME] | status | down`."""
    from bot.cli.devworld import sandbox_command

    raise typer.Exit(sandbox_command(ctx.args))


@cli.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def gameday(ctx: typer.Context) -> None:
    """Play every scenario pack in the closed-loop world, unattended:
    `opsbot gameday [DIR] [--mode supervised|autonomous] [--only NAME…] [--json OUT]`."""
    from bot.cli.gameday import gameday_main

    raise typer.Exit(gameday_main(ctx.args))


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)
