"""What every ``limelight`` sub-command group shares: groups that show their help, the root's
settings, and the one-line error exit (never a traceback)."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

from limelight.config import Settings

USAGE_ERROR = 2


def help_without_command(ctx: typer.Context) -> None:
    """A group run without a command shows its help (and succeeds)."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)


def command_group(help_text: str) -> typer.Typer:
    """A Typer group that shows its help when run bare, with tracebacks off."""
    return typer.Typer(
        help=help_text,
        invoke_without_command=True,
        callback=help_without_command,
        add_completion=False,
        pretty_exceptions_enable=False,
    )


def root_settings(ctx: typer.Context) -> Settings:
    """The root command's settings when run inside ``limelight``, else the environment's."""
    holder = ctx.find_root().obj
    get = getattr(holder, "get", None)
    if callable(get):
        found = get()
        if isinstance(found, Settings):
            return found
    return Settings()


def fail(message: object, code: int = USAGE_ERROR) -> NoReturn:
    """Print ``error: <message>`` on one line to stderr and exit."""
    line = " ".join(str(message).split()) or "failed"
    print(f"error: {line}", file=sys.stderr)
    raise typer.Exit(code)
