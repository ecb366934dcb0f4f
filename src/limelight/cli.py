"""The ``limelight`` command: a thin Typer + Rich layer over the library.

Commands parse options, call one library function and print its result; no domain logic lives
here. Every expected failure (a LimelightError, a missing file, a bad option) prints one line,
``error: <message>``, on stderr and exits with status 2, never a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.exceptions import TyperException

from limelight.bandits.cli import bandits_app
from limelight.cli_support import command_group, help_without_command
from limelight.config import Settings
from limelight.decisions.cli import decisions_app
from limelight.errors import InvalidInput, LimelightError, NotFound
from limelight.experiments.cli import experiments_app
from limelight.recommend.cli import evaluate_app, train_app

USAGE_ERROR = 2
INTERNAL_ERROR = 1


app = typer.Typer(
    name="limelight",
    help="Limelight: a self-hosted personalization engine for streaming services.",
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = command_group("Public data sets: fetch them and load them.")
import_app = command_group("Import events from files.")
keys_app = command_group("API keys (stored hashed in the data directory).")
users_app = command_group("Personal data: export or erase a user.")
app.add_typer(data_app, name="data")
app.add_typer(import_app, name="import")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(experiments_app, name="experiments")
app.add_typer(bandits_app, name="bandits")
app.add_typer(decisions_app, name="decisions")
app.add_typer(train_app, name="train")
app.add_typer(evaluate_app, name="evaluate")

out = Console()


class _Settings:
    """Settings built once, on first use (so ``--help`` works even with a broken environment)."""

    def __init__(self, data_dir: Path | None) -> None:
        self.data_dir = data_dir
        self._built: Settings | None = None

    def get(self) -> Settings:
        if self._built is None:
            try:
                self._built = (
                    Settings() if self.data_dir is None else Settings(data_dir=self.data_dir)
                )
            except ValidationError as error:
                first = error.errors(include_url=False)[0]
                where = ".".join(str(part) for part in first.get("loc", ())) or "settings"
                raise InvalidInput(f"invalid setting {where}: {first.get('msg')}") from None
        return self._built


def _settings(ctx: typer.Context) -> Settings:
    holder = ctx.find_root().obj
    if not isinstance(holder, _Settings):  # a command invoked without the root callback
        holder = _Settings(None)
        ctx.find_root().obj = holder
    return holder.get()


def _say(text: str) -> None:
    """One line on stdout, never wrapped (scripts and tests read it)."""
    out.print(text, soft_wrap=True)


def _show(title: str, table: Table) -> None:
    _say(f"[bold]{title}[/]")
    out.print(table)


def _table(rows: dict[str, Any]) -> Table:
    """Two columns, name and value; counts are right-aligned with thousands separators."""
    table = Table(show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for name, value in rows.items():
        shown = Text(f"{value:,}", justify="right") if isinstance(value, int) else str(value)
        table.add_row(name.replace("_", " "), shown)
    return table


@app.callback()
def _root(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Data directory (SQLite file, keys, data sets). "
            "Default: $LIMELIGHT_DATA_DIR, else ./data.",
            show_default=False,
        ),
    ] = None,
) -> None:
    ctx.obj = _Settings(data_dir)
    help_without_command(ctx)


# -- serve ----------------------------------------------------------------------------------


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Run the HTTP API and the dashboard."""
    settings = _settings(ctx)
    from limelight.api.server import serve as run_server  # the server's imports are heavy

    url = f"http://{host}:{port}"
    _say(f"Limelight on [bold]{url}[/]  (dashboard and API docs: {url}/docs)")
    run_server(settings, host, port)


# -- data -----------------------------------------------------------------------------------

SourceOption = Annotated[
    Path | None,
    typer.Option(
        "--from",
        help="A local copy: the official ml-100k.zip, its folder, or a RecBole wheel.",
        show_default=False,
    ),
]


@data_app.command("fetch")
def data_fetch(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Data set name, e.g. movielens-100k.")],
    source: SourceOption = None,
) -> None:
    """Download a data set (or read a local copy) into the data directory."""
    from limelight.datasets import registry

    facts = registry.fetch(name, _settings(ctx), source, progress=True)
    shown = {
        key: facts[key]
        for key in ("folder", "source", "ratings", "movies", "users")
        if key in facts
    }
    _show(f"{registry.dataset(name).name} is ready", _table(shown))


@data_app.command("load")
def data_load(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Data set name, e.g. movielens-100k.")],
    source: SourceOption = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Events per ingest batch.")] = 5000,
) -> None:
    """Load a data set into Limelight (fetching it first if needed). Safe to run twice."""
    from limelight.datasets import registry
    from limelight.engine import Engine

    with Engine(_settings(ctx)) as engine:
        summary = registry.load(name, engine, source, batch_size=batch_size, progress=True)
    _show(f"loaded {registry.dataset(name).name}", _table(summary))


@data_app.command("list")
def data_list() -> None:
    """The data sets Limelight knows."""
    from limelight.datasets import registry

    table = Table("name", "description")
    for known in registry.DATASETS.values():
        table.add_row(known.name, known.description)
    _show("data sets", table)


# -- import ---------------------------------------------------------------------------------


@import_app.command("events")
def import_events(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A .jsonl, .csv or .parquet file of events.")],
    format: Annotated[
        str | None,
        typer.Option("--format", help="jsonl, csv or parquet (default: from the extension)."),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Events per ingest batch.")] = 5000,
) -> None:
    """Import events from a file; bad rows are reported, good rows are stored."""
    from limelight.datasets.importer import import_events as run_import
    from limelight.engine import Engine

    with Engine(_settings(ctx)) as engine:
        summary = run_import(engine, file, format=format, batch_size=batch_size, progress=True)
    counts = {
        "rows read": summary.read,
        "accepted": summary.accepted,
        "duplicates": summary.duplicates,
        "rejected": summary.rejected,
    }
    _show(f"imported {summary.path.name} ({summary.format})", _table(counts))
    if summary.groups:
        table = Table("field", "reason", "count", f"first {summary.unit}s")
        for group in summary.groups:
            table.add_row(
                group.field, group.reason, f"{group.count:,}", ", ".join(map(str, group.rows))
            )
        _show("rejected rows", table)


# -- keys -----------------------------------------------------------------------------------


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    scope: Annotated[
        list[str], typer.Option("--scope", help="ingest, read or admin; repeat for several.")
    ],
    name: Annotated[str, typer.Option("--name", help="A name to list and revoke it by.")],
) -> None:
    """Create an API key and print it (only the key, on stdout; it is shown once)."""
    from limelight.auth import create_key

    typer.echo(create_key(_settings(ctx), scope, name))


@keys_app.command("list")
def keys_list(ctx: typer.Context) -> None:
    """The API keys that exist (names and scopes; never the keys)."""
    from limelight.auth import KeyRing

    table = Table("name", "scopes", "created")
    for info in KeyRing(_settings(ctx)).infos():
        table.add_row(info.name, ", ".join(sorted(info.scopes)), info.created_at or "(configured)")
    _show("API keys", table)


@keys_app.command("revoke")
def keys_revoke(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The key's name.")]
) -> None:
    """Revoke the stored keys with this name."""
    from limelight.auth import revoke_key

    removed = revoke_key(_settings(ctx), name)
    if not removed:
        raise NotFound(f"no stored key named {name!r} (configured keys live in the settings)")
    _say(f"revoked {removed} key{'s' if removed > 1 else ''} named {name!r}")


# -- users ----------------------------------------------------------------------------------


@users_app.command("export")
def users_export(
    ctx: typer.Context,
    user_id: Annotated[str, typer.Argument(help="The user's id.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
) -> None:
    """Everything Limelight keeps about a user, as JSON."""
    from limelight.engine import Engine

    with Engine(_settings(ctx)) as engine:
        exported = engine.export_user(user_id)
    body = (
        orjson.dumps(
            exported, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
        )
        + b"\n"
    )
    if output is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    else:
        output.expanduser().write_bytes(body)
        _say(f"wrote the data of user {user_id!r} to {output}")


@users_app.command("erase")
def users_erase(
    ctx: typer.Context,
    user_id: Annotated[str, typer.Argument(help="The user's id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: erasing cannot be undone.")] = False,
) -> None:
    """Erase a user everywhere (events, profiles and derived state)."""
    from limelight.engine import Engine

    if not yes:
        raise InvalidInput(f"erasing user {user_id!r} cannot be undone; pass --yes to confirm")
    with Engine(_settings(ctx)) as engine:
        erased = engine.erase_user(user_id)
    _show(f"erased user {user_id!r}", _table(erased))


# -- entry point ----------------------------------------------------------------------------


def _fail(message: str, code: int = USAGE_ERROR) -> NoReturn:
    line = " ".join(str(message).split()) or "failed"
    print(f"error: {line}", file=sys.stderr)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; expected failures become one ``error:`` line and exit status 2."""
    try:
        code = app(args=argv, prog_name="limelight", standalone_mode=False)
    except TyperException as error:  # usage errors: unknown command, missing or bad option
        context = getattr(error, "ctx", None)
        path = getattr(context, "command_path", None)
        _fail(error.format_message() + (f" (see '{path} --help')" if path else ""))
    except LimelightError as error:
        _fail(error.message)
    except FileNotFoundError as error:
        _fail(f"no such file: {error.filename or error}")
    except OSError as error:
        _fail(f"{error.strerror or error}{f': {error.filename}' if error.filename else ''}")
    except (KeyboardInterrupt, typer.Abort):
        _fail("interrupted", 130)
    except Exception as error:
        if os.environ.get("LIMELIGHT_DEBUG"):
            raise
        _fail(
            f"internal error: {type(error).__name__}: {error} "
            "(set LIMELIGHT_DEBUG=1 to see the traceback)",
            INTERNAL_ERROR,
        )
    sys.exit(code if isinstance(code, int) else 0)
