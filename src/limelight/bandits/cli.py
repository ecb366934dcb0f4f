"""``limelight bandits ...``: a thin Typer layer over :class:`.service.DecisionService`.

Each command parses its options, calls one method and prints the result. Expected failures (a
bad file, an unknown point, a candidate policy that cannot be built, a log too small to
evaluate) print one line, ``error: <message>``, on stderr and exit with status 2, whether this
sub-app runs inside the ``limelight`` command or on its own (``python -m limelight.bandits.cli``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from limelight.cli_support import command_group
from limelight.cli_support import fail as _fail
from limelight.cli_support import root_settings as _settings
from limelight.errors import InvalidInput, LimelightError

if TYPE_CHECKING:
    from limelight.bandits.service import DecisionService

out = Console()


bandits_app = command_group(
    "Contextual bandits: decision points and off-policy evaluation of their logs."
)


@contextmanager
def _service(ctx: typer.Context) -> Iterator[DecisionService]:
    """An Engine for the command's duration, and its decision service; errors become one line."""
    from limelight.bandits.service import attached  # heavy imports: --help stays fast
    from limelight.engine import Engine

    try:
        with Engine(_settings(ctx)) as engine:
            yield attached(engine)
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


def read_points(path: Path) -> list[dict[str, Any]]:
    """A JSON file holding one decision point or a list of them."""
    if path.suffix.lower() != ".json":
        raise InvalidInput(f"{path.name}: a decision point file ends in .json")
    try:
        content = orjson.loads(path.expanduser().read_bytes())
    except orjson.JSONDecodeError as error:
        raise InvalidInput(f"{path.name} is not valid JSON ({error})") from None
    found = content if isinstance(content, list) else [content]
    if not all(isinstance(entry, dict) for entry in found):
        raise InvalidInput(f"{path.name} must hold an object or a list of objects")
    return found


def parse_params(values: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; values are read as JSON when they can be (``0.3``, ``true``)."""
    params: dict[str, Any] = {}
    for value in values:
        key, sep, raw = value.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--param takes key=value, got {value!r}")
        try:
            params[key] = orjson.loads(raw)
        except orjson.JSONDecodeError:
            params[key] = raw
    return params


def _number(value: float) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.4f}"


@bandits_app.command("points")
def points(ctx: typer.Context) -> None:
    """The decision points, with their policy, rollout, reward rules and model version."""
    with _service(ctx) as service:
        found = service.points()
        versions = {point.name: service.model_version(point.name) for point in found}
    table = Table("name", "policy", "rollout", "reward", "revision", "model version")
    for point in found:
        params = ", ".join(f"{k}={v}" for k, v in point.policy.params.items())
        rollout = point.rollout
        table.add_row(
            point.name,
            f"{point.policy.name}({params})" if params else point.policy.name,
            f"{rollout.mode} {rollout.percent:g}% (baseline: {rollout.baseline})",
            f"{point.reward.aggregation} in {point.reward.window_s:g}s, "
            f"default {point.reward.default:g}",
            str(point.revision),
            versions[point.name],
        )
    out.print(table)


@bandits_app.command("configure")
def configure(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A .json file: one decision point or a list.")],
) -> None:
    """Create or update decision points from a file."""
    with _service(ctx) as service:
        for entry in read_points(file):
            point = service.configure(entry)
            out.print(
                f"configured {point.name!r} ({point.policy.name}, revision {point.revision})",
                soft_wrap=True,
            )


@bandits_app.command("report")
def report(ctx: typer.Context, point: Annotated[str, typer.Argument()]) -> None:
    """Traffic, rewards, learning and (in apprentice mode) the agreement rate of a point."""
    with _service(ctx) as service:
        found = service.report(point)
    table = Table("", "value")
    table.add_row("model version", found.model_version)
    table.add_row("decisions", ", ".join(f"{k} {v}" for k, v in sorted(found.decisions.items())))
    table.add_row("explored", str(found.explored))
    table.add_row("rewards", ", ".join(f"{k} {v}" for k, v in sorted(found.rewards.items())))
    table.add_row("learned", f"{found.learned} (mean reward {found.mean_learned_reward:.4f})")
    if found.agreement_rate is not None:
        table.add_row(
            "apprentice agreement",
            f"{found.agreement_rate:.1%} of {found.apprentice_decisions} decisions",
        )
    out.print(table)


@bandits_app.command("evaluate")
def evaluate(
    ctx: typer.Context,
    point: Annotated[str, typer.Argument(help="The decision point whose log is used.")],
    policy: Annotated[
        str,
        typer.Option(
            help="uniform, greedy (on the reward model), current (the live model, frozen), or "
            "a policy replayed on the log: linucb, thompson, epsilon-greedy, softmax, vw."
        ),
    ],
    param: Annotated[
        list[str] | None,
        typer.Option(help="A policy parameter as key=value (repeatable), e.g. alpha=0.5."),
    ] = None,
    n_bootstrap: Annotated[int, typer.Option(min=1, max=100_000)] = 200,
    alpha: Annotated[float, typer.Option(min=0.001, max=0.5, help="1 - confidence.")] = 0.05,
    tau: Annotated[float, typer.Option(min=0.0, help="Switch-DR's weight threshold.")] = 10.0,
    limit: Annotated[int, typer.Option(min=2, help="The most recent N decisions.")] = 50_000,
    since: Annotated[float | None, typer.Option(help="Decisions since (epoch s).")] = None,
    until: Annotated[float | None, typer.Option(help="Decisions before (epoch s).")] = None,
    include_baseline: Annotated[
        bool, typer.Option(help="Also use baseline-served decisions (probability 1).")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seeds folds and bootstrap.")] = 0,
    plot: Annotated[
        Path | None, typer.Option(help="Where to write the PNG (default under data_dir/reports).")
    ] = None,
) -> None:
    """Estimate a candidate policy's value on a point's own log (DM, IPS, SNIPS, DR, SNDR,
    Switch-DR), with bootstrap intervals and weight diagnostics, and plot it."""
    from limelight.bandits.offpolicy import plot_evaluation

    with _service(ctx) as service:
        candidate = {"name": policy, "params": parse_params(param or [])}
        result = service.evaluate(
            point,
            candidate,
            n_bootstrap=n_bootstrap,
            alpha=alpha,
            tau=tau,
            limit=limit,
            since=since,
            until=until,
            include_baseline=include_baseline,
            random_state=seed,
        )
        target = plot or (
            _settings(ctx).data_dir / "reports" / "bandits" / f"ope-{point}-{policy}.png"
        )
        plot_evaluation(result, target)
    level = f"{1 - alpha:.0%}"
    table = Table(
        "estimator", "estimate", f"{level} lower", f"{level} upper", "vs logged", title=None
    )
    for row in result.rows():
        change = float(row["vs_logged"])
        table.add_row(
            str(row["estimator"]).upper(),
            _number(float(row["estimate"])),
            _number(float(row["lower"])),
            _number(float(row["upper"])),
            "-" if not math.isfinite(change) else f"{change:+.1%}",
        )
    out.print(f"{result.candidate} on {point!r}: {result.n_rounds:,} logged rounds", soft_wrap=True)
    out.print(table)
    weights = result.report.diagnostics
    skipped = ", ".join(f"{k} {v}" for k, v in result.skipped.items() if v) or "none"
    out.print(
        f"logged policy's reward per decision {result.logged_value:.4f}; "
        f"effective sample size {weights.effective_sample_size:,.1f} of {weights.n_rounds:,}; "
        f"largest weight {weights.max_weight:.2f}; mean weight {weights.mean_weight:.3f}; "
        f"support {result.support:.1%}; skipped: {skipped}",
        soft_wrap=True,
    )
    out.print(f"plot: {target}", soft_wrap=True)


if __name__ == "__main__":
    bandits_app()
