"""`opsbot eval DIR`: play every scenario pack of a folder in the sandbox, investigate each
as an incident, grade the answers against the packs' expected.yaml and print a table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from bot.investigation.eval import EvalReport, PackResult

console = Console()
if not console.is_terminal:  # a file or a pipe: full rows, no wrapping at 80 columns
    console = Console(width=220)
err = Console(stderr=True)


def _row(result: PackResult) -> list[str]:
    proposals = ", ".join(f"{p.kind} {p.target}" for p in result.proposals) or "-"
    return [
        result.name,
        result.engine,
        result.grade_root_cause,
        result.grade_remediation,
        f"{result.confidence:.2f}",
        f"{result.seconds:.1f}",
        str(result.tokens),
        f"{result.cost_usd:.4f}",
        proposals,
    ]


def print_report(report: EvalReport) -> None:
    """The graded rows, the totals and the calibration table."""
    table = Table("pack", "engine", "root cause", "remediation", "conf", "s", "tokens", "$")
    table.add_column("proposals")
    for result in report.packs:
        table.add_row(*_row(result))
    console.print(table)
    total = report.summary()
    packs = total["packs"] or 1
    console.print(
        f"{total['packs']} packs: root cause right {total['root_cause_right']} "
        f"({total['root_cause_right'] / packs:.0%}), remediation right "
        f"{total['remediation_right']} ({total['remediation_right'] / packs:.0%}), "
        f"harmful {total['harmful']}"
    )
    calibration = Table("stated confidence", "findings", "root cause right", "accuracy")
    for row in report.calibration():
        accuracy = "-" if row.accuracy is None else f"{row.accuracy:.0%}"
        calibration.add_row(
            f"{row.low:.2f}-{min(row.high, 1.0):.2f}", str(row.findings), str(row.right), accuracy
        )
    console.print(calibration)


def eval_command(
    directory: Annotated[Path, typer.Argument(help="A folder of scenario and/or recorded packs.")],
    engine: Annotated[
        str, typer.Option(help="pattern, or claude (needs ANTHROPIC_API_KEY).")
    ] = "pattern",
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Only this pack (repeatable).")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the graded rows as JSON here.")
    ] = None,
) -> None:
    """Grade the investigation of every scenario pack in DIR (root cause, remediation)."""
    from bot.investigation.eval import EvalError, evaluate

    if engine not in ("pattern", "claude"):
        raise typer.BadParameter("--engine is pattern or claude")
    chosen: Literal["pattern", "claude"] = "claude" if engine == "claude" else "pattern"

    def progress(result: PackResult) -> None:
        err.print(
            f"{result.name}: root cause {result.grade_root_cause}, remediation "
            f"{result.grade_remediation} ({result.seconds:.1f}s)"
        )

    try:
        report = evaluate(directory, engine=chosen, only=tuple(only or ()), progress=progress)
    except EvalError as exc:
        err.print(f"[red]opsbot eval: {exc}[/red]")
        raise typer.Exit(2) from None
    print_report(report)
    if json_out is not None:
        json_out.write_text(json.dumps(report.as_json(), indent=2) + "\n")
