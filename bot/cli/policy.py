"""`opsbot policy check|explain`: the policy engine from the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from bot.settings import load_settings
from policies import (
    EvaluationContext,
    PolicyInputError,
    PolicyLoadError,
    check_policy_files,
    explain,
    load_policy,
    parse_action_kind,
    parse_target,
)
from policies.explain_input import UNKNOWN_PARAMS_NOTE, explained_action, parse_params

policy_cli = typer.Typer(help="Remediation policies.", no_args_is_help=True)


def _paths(files: list[str] | None) -> list[str]:
    return files if files else load_settings().policy.paths


@policy_cli.command("check")
def check(
    files: Annotated[
        list[str] | None, typer.Argument(help="Policy files (default: settings).")
    ] = None,
) -> None:
    """Validate the policy files; problems are printed as file:line: message."""
    problems = check_policy_files(_paths(files))
    for problem in problems:
        typer.echo(str(problem), err=True)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise typer.Exit(1)
    typer.echo(f"policy OK ({len(problems)} warning(s))")


@policy_cli.command("explain")
def explain_command(
    action: Annotated[str, typer.Argument(help="Action kind, e.g. restart_deployment.")],
    target: Annotated[str, typer.Argument(help="e.g. deployment/prod/checkout or node/n1.")],
    confidence: Annotated[float, typer.Option(help="The finding's confidence, 0..1.")] = 0.9,
    pods: Annotated[int, typer.Option(help="Pods the action affects.")] = 1,
    share: Annotated[float, typer.Option(help="Share of the workload affected, 0..1.")] = 0.34,
    files: Annotated[list[str] | None, typer.Option("--file", help="Policy files.")] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="A param of the action as key=value (e.g. replicas=4)."),
    ] = None,
) -> None:
    """Print the decision for an action on a target and the rule that made it."""
    try:
        kind, ref = parse_action_kind(action), parse_target(target)
        explained = explained_action(
            kind, ref, parse_params(param or []), confidence=confidence, pods=pods, share=share
        )
        policy = load_policy(_paths(files))
    except PolicyInputError as exc:
        typer.echo(f"opsbot: {exc}", err=True)
        raise typer.Exit(2) from None
    except PolicyLoadError as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None
    typer.echo(explain(explained.action, EvaluationContext(now=datetime.now(UTC)), policy))
    if explained.params_unknown:
        typer.echo(UNKNOWN_PARAMS_NOTE)
