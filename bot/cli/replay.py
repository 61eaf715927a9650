"""`opsbot replay`: investigate recorded fault injections and score the answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.investigation.localise import Localisation
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
) -> None:
    """Localise every recorded fault of a Nezha dataset and print AS@1, AS@3 and kind accuracy."""
    from bot.investigation.finding import finding_of
    from bot.investigation.replay import replay_nezha

    def progress(outcome: FaultOutcome, found: Localisation) -> None:
        mark = "hit" if outcome.hit(1) else ("top3" if outcome.hit(3) else "miss")
        finding = finding_of(found)
        console.print(
            f"{escape(outcome.name)} [{mark}] {outcome.seconds:.1f}s: {escape(finding.summary)}"
        )
        for item in finding.evidence[:2]:
            console.print(f"    {escape(item.tool)}: {escape(item.excerpt[:160])}")

    outcomes = replay_nezha(directory, only or (), on_outcome=progress, packs_to=packs_out)
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
