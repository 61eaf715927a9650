"""`opsbot replay`: investigate recorded fault injections and score the answers."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.investigation.scoring import FaultOutcome, report

replay_cli = typer.Typer(help="Replay recorded incidents and score root-cause localisation.")
console = Console()


def outcome_table(outcomes: list[FaultOutcome]) -> Table:
    """One row per fault: truth, the rank given to the faulty service, kinds, time."""
    table = Table("fault", "truth service", "rank", "top 3", "kind (truth/predicted)", "s")
    for o in outcomes:
        rank = (
            str(o.ranked_services.index(o.truth_service) + 1)
            if o.truth_service in o.ranked_services
            else "-"
        )
        table.add_row(
            escape(o.inject_time),
            escape(o.truth_service),
            rank,
            escape(", ".join(o.ranked_services[:3])),
            escape(f"{o.truth_type}/{o.predicted_type}"),
            f"{o.seconds:.1f}",
        )
    return table


@replay_cli.command("nezha")
def nezha(
    directory: Annotated[Path, typer.Argument(help="A Nezha-layout directory (fault/, normal/).")],
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Only these faults, by HH_MM.")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the scored results here.")
    ] = None,
    packs_out: Annotated[
        Path | None,
        typer.Option("--write-packs", help="Also write each fault as a recorded pack here."),
    ] = None,
    in_memory: Annotated[
        bool,
        typer.Option(
            "--in-memory",
            help="Localise the in-memory pack directly (fast; no backends, no investigation).",
        ),
    ] = False,
) -> None:
    """Investigate every recorded fault of a Nezha dataset and print AS@1, AS@3, kind accuracy.

    Each fault is loaded into a sandbox world's backends and its alert investigated as an
    incident; the finding's suspects are scored (``--in-memory``: the localisation alone).
    """
    from bot.investigation.replay import replay_nezha

    def progress(outcome: FaultOutcome, lines: list[str]) -> None:
        mark = "hit" if outcome.hit(1) else ("top3" if outcome.hit(3) else "miss")
        head, *rest = lines or [""]
        console.print(f"{escape(outcome.name)} [{mark}] {outcome.seconds:.1f}s: {escape(head)}")
        for line in rest:
            console.print(f"    {escape(line[:200])}")

    if in_memory:
        outcomes = replay_nezha(directory, only or (), on_outcome=progress, packs_to=packs_out)
    else:
        outcomes = _investigated(directory, only or [], progress, packs_out)
    if not outcomes:
        console.print("no faults found")
        raise typer.Exit(1)
    summary = report(outcomes)
    console.print(outcome_table(outcomes))
    console.print(
        f"AS@1 {summary['as_at_1']:.3f}  AS@3 {summary['as_at_3']:.3f}  "
        f"kind {summary['type_accuracy']:.3f}  {summary['seconds_per_fault']:.1f} s/fault "
        f"over {len(outcomes)} faults"
    )
    if json_out is not None:
        json_out.write_text(json.dumps(summary, indent=2))


def _investigated(
    directory: Path,
    only: list[str],
    progress: Callable[[FaultOutcome, list[str]], None],
    packs_out: Path | None,
) -> list[FaultOutcome]:
    """Every fault through a fresh sandbox world and the normal investigation."""
    from bot.investigation.eval import investigating_world
    from bot.investigation.replay import InvestigatedReplay, replay_nezha

    with (
        tempfile.TemporaryDirectory(prefix="opsbot-replay-") as scratch,
        investigating_world() as (world, investigator),
    ):
        replay = InvestigatedReplay(world, investigator, Path(scratch))
        return replay_nezha(directory, only, progress, packs_out, replay)
