"""``limelight experiments ...``: a thin Typer layer over :class:`.service.Experiments`.

Each command parses its options, calls one method and prints the result. Expected failures (a
bad file, an unknown key, a change the experiment's state forbids) print one line,
``error: <message>``, on stderr and exit with status 2, whether this sub-app runs inside the
``limelight`` command or on its own (``python -m limelight.experiments.cli``).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from limelight.cli_support import command_group
from limelight.cli_support import fail as _fail
from limelight.cli_support import root_settings as _settings
from limelight.errors import InvalidInput, LimelightError
from limelight.experiments.model import Status
from limelight.experiments.service import Experiments

out = Console()


experiments_app = command_group("A/B tests: define, run and analyse experiments.")


@contextmanager
def _service(ctx: typer.Context) -> Iterator[Experiments]:
    """An Engine for the command's duration, and its experiments; errors become one line."""
    from limelight.engine import Engine  # the engine's imports are heavy; --help stays fast
    from limelight.experiments.attach import attached

    with _one_line_errors(), Engine(_settings(ctx)) as engine:
        yield attached(engine)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except LimelightError as error:
        _fail(error.message)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        _fail(f"{where}: {first.get('msg')}" if where else str(first.get("msg")))
    except FileNotFoundError as error:
        _fail(f"no such file: {error.filename or error}")
    except OSError as error:
        _fail(f"{error.strerror or error}{f': {error.filename}' if error.filename else ''}")


def _plain(value: Any) -> Any:
    """YAML dates as ISO strings (pydantic reads those; it refuses a bare date as a datetime)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return value


def read_definition(path: Path) -> Any:
    """An experiment file: ``.json``, or ``.yaml``/``.yml`` when PyYAML is installed."""
    suffix = path.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise InvalidInput(f"{path.name}: an experiment file ends in .yaml, .yml or .json")
    content = path.expanduser().read_bytes()
    if suffix == ".json":
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError as error:
            raise InvalidInput(f"{path.name} is not valid JSON ({error})") from None
    try:
        yaml = importlib.import_module("yaml")
    except ModuleNotFoundError:
        raise InvalidInput(
            "reading YAML needs PyYAML, which is not installed; use a .json file"
        ) from None
    try:
        return _plain(yaml.safe_load(content))
    except yaml.YAMLError as error:
        raise InvalidInput(
            f"{path.name} is not valid YAML ({' '.join(str(error).split())})"
        ) from None


def _json(value: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()


FileArgument = Annotated[Path, typer.Argument(help="A .yaml, .yml or .json file.")]
KeyArgument = Annotated[str, typer.Argument(help="The experiment's key.")]


@experiments_app.command("create")
def create(ctx: typer.Context, file: FileArgument) -> None:
    """Create a draft experiment from a file."""
    with _service(ctx) as service:
        experiment = service.create(read_definition(file))
    out.print(f"created experiment {experiment.key!r} (draft)", soft_wrap=True)


@experiments_app.command("update")
def update(ctx: typer.Context, key: KeyArgument, file: FileArgument) -> None:
    """Change fields of an experiment from a file holding only those fields."""
    with _service(ctx) as service:
        changes = read_definition(file)
        if not isinstance(changes, dict):
            raise InvalidInput(f"{file.name} must hold an object of fields to change")
        experiment = service.update(key, changes)
    out.print(f"updated experiment {experiment.key!r} ({experiment.status})", soft_wrap=True)


@experiments_app.command("list")
def list_experiments(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(help="Only draft, running or stopped experiments.")
    ] = None,
) -> None:
    """The experiments, with their status, layer, traffic and variants."""
    with _service(ctx) as service:
        if status not in (None, "draft", "running", "stopped"):
            raise InvalidInput("--status must be draft, running or stopped")
        chosen: Status | None = status  # type: ignore[assignment]
        found = service.list(chosen)
    table = Table("key", "status", "layer", "traffic", "variants", "primary")
    for experiment in found:
        table.add_row(
            experiment.key,
            experiment.status,
            experiment.layer or "-",
            f"{experiment.traffic_percent:g}%",
            ", ".join(f"{v.key} ({v.weight:g})" for v in experiment.variants),
            ", ".join(experiment.metrics.primary),
        )
    out.print(table)


@experiments_app.command("show")
def show(ctx: typer.Context, key: KeyArgument) -> None:
    """The experiment's definition and state, as JSON."""
    with _service(ctx) as service:
        experiment = service.get(key)
    _json(experiment.model_dump(mode="json"))


@experiments_app.command("start")
def start(ctx: typer.Context, key: KeyArgument) -> None:
    """Start a draft: units are assigned from now on."""
    with _service(ctx) as service:
        experiment = service.start(key)
    buckets = experiment.buckets or (0, 0)
    out.print(
        f"started experiment {key!r} (layer {experiment.layer_name!r}, "
        f"buckets {buckets[0]}-{buckets[1]})",
        soft_wrap=True,
    )


@experiments_app.command("stop")
def stop(ctx: typer.Context, key: KeyArgument) -> None:
    """Stop a running experiment; its report covers exposures up to now."""
    with _service(ctx) as service:
        service.stop(key)
    out.print(f"stopped experiment {key!r}", soft_wrap=True)


@experiments_app.command("delete")
def delete(
    ctx: typer.Context,
    key: KeyArgument,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: exposures are deleted too.")] = False,
) -> None:
    """Delete a draft or stopped experiment and its exposures."""
    with _service(ctx) as service:
        if not yes:
            raise InvalidInput(f"deleting experiment {key!r} cannot be undone; pass --yes")
        removed = service.delete(key)
    out.print(f"deleted experiment {key!r} and {removed:,} exposures", soft_wrap=True)


@experiments_app.command("report")
def report(
    ctx: typer.Context,
    key: KeyArgument,
    format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    plots: Annotated[
        Path | None, typer.Option("--plots", help="Write PNG plots into this folder.")
    ] = None,
) -> None:
    """Analyse the experiment: lifts, intervals, p-values, SRM check, devices, timeline."""
    with _service(ctx) as service:
        if format not in ("text", "json"):
            raise InvalidInput("--format must be text or json")
        analysed = service.analyse(key)
        written = []
        if plots is not None:
            from limelight.experiments.plots import write_plots

            written = write_plots(analysed, plots.expanduser())
    if format == "json":
        _json(analysed.to_dict())
    else:
        from limelight.experiments.report import render_text

        sys.stdout.write(render_text(analysed))
    for path in written:
        print(f"wrote {path}", file=sys.stderr if format == "json" else sys.stdout)


@experiments_app.command("power")
def power(
    ctx: typer.Context,
    baseline: Annotated[float, typer.Option(help="Control's rate (proportion) or mean.")],
    mde: Annotated[float, typer.Option(help="Minimum detectable effect, relative: 0.05 is +5%.")],
    kind: Annotated[str, typer.Option(help="proportion or mean.")] = "proportion",
    sd: Annotated[
        float | None, typer.Option("--sd", help="Standard deviation of a mean metric.")
    ] = None,
    alpha: Annotated[float, typer.Option(help="Significance level.")] = 0.05,
    target_power: Annotated[float, typer.Option("--power", help="Chance to detect.")] = 0.8,
    variants: Annotated[int, typer.Option(help="Arms, control included.")] = 2,
    daily_units: Annotated[
        float | None, typer.Option(help="New eligible units a day (gives the duration).")
    ] = None,
    traffic: Annotated[float, typer.Option(help="Traffic percentage.")] = 100.0,
    sequential: Annotated[
        bool, typer.Option("--sequential", help="Plan for the sequential (peek-safe) test.")
    ] = False,
) -> None:
    """Units (and days) needed to detect a minimum effect."""
    with _one_line_errors():
        if kind not in ("proportion", "mean"):
            raise InvalidInput("--kind must be proportion or mean")
        chosen: Literal["proportion", "mean"] = "mean" if kind == "mean" else "proportion"
        plan = Experiments.power(
            kind=chosen,
            baseline=baseline,
            mde=mde,
            standard_deviation=sd,
            alpha=alpha,
            target_power=target_power,
            variants=variants,
            daily_units=daily_units,
            traffic_percent=traffic,
            sequential=sequential,
        )
    out.print(f"units per variant: {plan.n_per_variant:,}", soft_wrap=True)
    out.print(f"units in total:    {plan.n_total:,}", soft_wrap=True)
    out.print(f"power:             {plan.power:.3f}", soft_wrap=True)
    if plan.days is not None:
        out.print(f"days:              {plan.days:,}", soft_wrap=True)


@experiments_app.command("holdout")
def holdout(
    ctx: typer.Context,
    percent: Annotated[
        float | None, typer.Argument(help="Set the global holdout to this percentage.")
    ] = None,
) -> None:
    """Show or set the global holdout (units kept out of every experiment)."""
    with _service(ctx) as service:
        value = service.holdout() if percent is None else service.set_holdout(percent)
    out.print(f"global holdout: {value:g}%", soft_wrap=True)


def main() -> None:
    """Run the sub-app on its own (``python -m limelight.experiments.cli``)."""
    experiments_app(prog_name="limelight experiments")


if __name__ == "__main__":
    main()
