"""``limelight decisions ...``: the decision log's retention from the command line.

A server applies the retention in the background (``LIMELIGHT_DECISION_RETENTION_DAYS``); this
command does it at once, for a log that grew before a retention was set, or with another age.
Expected failures print one line, ``error: <message>``, and exit with status 2.
"""

from __future__ import annotations

from typing import Annotated

import typer

from limelight.cli_support import command_group, fail, root_settings
from limelight.errors import LimelightError

decisions_app = command_group("The decision log: what was served, and how long it is kept.")


@decisions_app.command("prune")
def prune(
    ctx: typer.Context,
    older_than_days: Annotated[
        float | None,
        typer.Option(
            "--older-than-days",
            help="Delete decisions older than this (default: the configured retention).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Draw a progress bar on stderr.")] = True,
) -> None:
    """Delete old decisions, except those whose reward windows are still open."""
    from limelight.engine import Engine  # heavy imports: --help stays fast
    from limelight.recommend.progress import Stages

    if older_than_days is not None and not older_than_days >= 0:
        fail("--older-than-days must be zero or more")
    age = None if older_than_days is None else older_than_days * 86_400.0
    try:
        with Engine(root_settings(ctx)) as engine:
            log = engine.decisions
            expired = log.expired(age)
            if dry_run:
                typer.echo(f"{expired} decisions would be deleted")
                return
            bar = Stages(enabled=progress)
            with bar as stages, stages.stage("deleting old decisions", max(expired, 1)) as step:
                gone = log.prune(age, progress=step.advance)
            typer.echo(f"deleted {gone} decisions")
    except LimelightError as error:
        fail(error.message)


__all__ = ["decisions_app"]
