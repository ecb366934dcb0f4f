"""``limelight train`` and ``limelight evaluate``: thin Typer layers over the recommender.

``train_app`` trains from the event store and publishes the new version (running servers
switch to it on their own); ``train_app versions`` lists what is stored and ``train_app use``
rolls back or forward. ``evaluate_app`` runs the offline protocols on the event store and writes
a Markdown, JSON and PNG report. Expected failures print one line, ``error: <message>``, on
stderr and exit with status 2, inside ``limelight`` or on their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from limelight.cli_support import fail as _fail
from limelight.cli_support import root_settings as _settings
from limelight.errors import InvalidInput, LimelightError

out = Console()


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except LimelightError as error:
        _fail(error.message)
    except OSError as error:
        _fail(f"{error.strerror or error}{f': {error.filename}' if error.filename else ''}")


def _moment(value: str | None, field: str) -> float | None:
    """Epoch seconds, or ISO 8601 (naive means UTC), as epoch seconds."""
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        stamp = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"--{field}: {value!r} is neither ISO 8601 nor epoch seconds") from None
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


def _window(since: str | None, until: str | None) -> Any:
    from limelight.recommend.interactions import DataWindow

    return DataWindow(_moment(since, "since"), _moment(until, "until"))


def _say(text: str) -> None:
    out.print(text, soft_wrap=True, highlight=False)


Since = Annotated[
    str | None,
    typer.Option(help="Only events at or after this moment (ISO 8601 or epoch seconds)."),
]
Until = Annotated[
    str | None, typer.Option(help="Only events before this moment (ISO 8601 or epoch seconds).")
]

# ---------------------------------------------------------------------- train

train_app = typer.Typer(
    help="Train the recommender on the event store and publish a new model version.",
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@train_app.callback()
def train(
    ctx: typer.Context,
    since: Since = None,
    until: Until = None,
    validate: Annotated[
        bool, typer.Option(help="Measure the pipeline on a leave-last-out split first.")
    ] = True,
    publish: Annotated[
        bool, typer.Option(help="Put the new version in use (servers switch to it).")
    ] = True,
    seed: Annotated[int, typer.Option(help="Random seed of every model.")] = 0,
    threads: Annotated[
        int | None,
        typer.Option(min=1, help="Threads to train on (default: every core of this machine)."),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Draw progress bars on stderr.")] = True,
) -> None:
    """Read the events, fit every source and the ranker, write a versioned artifact."""
    if ctx.invoked_subcommand is not None:
        return
    from limelight.engine import Engine
    from limelight.recommend.service import RecommendationService
    from limelight.recommend.training import TrainingConfig

    with _one_line_errors():
        config = TrainingConfig(
            window=_window(since, until), validate=validate, random_state=seed, threads=threads
        )
        with Engine(_settings(ctx)) as engine:
            service = RecommendationService.from_engine(engine)
            model = service.train(config, progress=progress, publish=publish)
            folder = service.store.root / model.version
    window = model.metadata["data_window"]
    table = Table(show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("version", model.version + ("  (in use)" if publish else ""))
    table.add_row("folder", str(folder))
    table.add_row(
        "data",
        f"{window['events']:,} events -> {window['pairs']:,} interactions, "
        f"{window['users']:,} people, {window['items']:,} titles",
    )
    table.add_row("seconds", f"{model.metadata['training_seconds']:.1f}")
    validation = model.metadata.get("metrics", {}).get("validation", {})
    for name in ("limelight", "ease", "popular"):
        if name in validation:
            found = validation[name]
            table.add_row(
                f"validation {name}",
                f"NDCG@10 {found['ndcg@10']:.4f}  HR@10 {found['hr@10']:.4f}",
            )
    if "skipped" in validation:
        table.add_row("validation", f"skipped: {validation['skipped']}")
    _say(f"[bold]trained model {model.version}[/]")
    out.print(table)


@train_app.command("versions")
def versions(ctx: typer.Context) -> None:
    """The stored model versions, oldest first; the one in use is marked."""
    from limelight.recommend.registry import ModelStore

    with _one_line_errors():
        found = ModelStore.for_data_dir(_settings(ctx).data_dir).info()
    table = Table("version", "in use", "pairs", "validation NDCG@10")
    for info in found:
        validation = info.metrics.get("validation", {})
        ndcg = validation.get("limelight", {}).get("ndcg@10")
        table.add_row(
            info.version,
            "yes" if info.current else "",
            f"{info.data_window.get('pairs', 0):,}",
            "-" if ndcg is None else f"{ndcg:.4f}",
        )
    out.print(table)


@train_app.command("use")
def use(
    ctx: typer.Context,
    version: Annotated[str, typer.Argument(help="A stored version (see `versions`).")],
) -> None:
    """Put a stored version in use (roll back or forward); servers switch to it."""
    from limelight.recommend.registry import ModelStore

    with _one_line_errors():
        ModelStore.for_data_dir(_settings(ctx).data_dir).publish(version)
    _say(f"model version {version} is in use")


# ---------------------------------------------------------------------- evaluate

evaluate_app = typer.Typer(
    help="Evaluate the recommender offline on the event store (protocols a, b, c).",
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@evaluate_app.callback()
def evaluate(
    ctx: typer.Context,
    protocol: Annotated[
        list[str] | None,
        typer.Option(
            "--protocol",
            "-p",
            help="a (leave-last-out), b (global time split) or c (random 75/25); repeat for "
            "several. Default: all three.",
        ),
    ] = None,
    seeds: Annotated[int, typer.Option(min=1, help="Runs per protocol (mean and sd).")] = 1,
    k: Annotated[
        list[int] | None, typer.Option("--k", help="Cut-offs of the metrics; repeatable.")
    ] = None,
    baseline: Annotated[
        list[str] | None,
        typer.Option(help="popular, itemknn, als or ease; repeatable. Default: all."),
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder of report.md, report.json, report.png.")
    ] = Path("reports/evaluate"),
    since: Since = None,
    until: Until = None,
    progress: Annotated[bool, typer.Option(help="Draw progress bars on stderr.")] = True,
) -> None:
    """Split the event store's interactions per protocol, fit, rank every unseen title."""
    if ctx.invoked_subcommand is not None:
        return
    from limelight.engine import Engine
    from limelight.recommend import evaluation
    from limelight.recommend.interactions import read_interactions

    ks = k or [10]
    with _one_line_errors():
        chosen = protocol or ["a", "b", "c"]
        for code in chosen:
            evaluation.protocol_of(code)
        with Engine(_settings(ctx)) as engine:
            log, _stats = read_interactions(engine.database, _window(since, until))
        if len(log) == 0:
            raise InvalidInput("no interactions to evaluate: ingest play events first")
        report = evaluation.run(
            log,
            chosen,
            seeds=seeds,
            ks=ks,
            baselines=baseline or list(evaluation.BASELINES),
            progress=progress,
        )
        metrics = evaluation.metric_names(ks)
        written = report.write(output, metrics=metrics, plot_metric=f"ndcg@{min(ks)}")
    for name in report.runs:
        _say(f"[bold]{name}[/]")
        out.print(report.table(name, [*metrics[:4], "mrr", "coverage"]), soft_wrap=True)
    for path in written:
        _say(f"wrote {path}")


__all__ = ["evaluate_app", "train_app"]


if __name__ == "__main__":  # pragma: no cover - ``python -m limelight.recommend.cli train``
    root = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    root.add_typer(train_app, name="train")
    root.add_typer(evaluate_app, name="evaluate")
    root()
