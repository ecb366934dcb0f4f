"""``limelight train`` and ``limelight evaluate`` through their Typer sub-apps (CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from limelight import Engine, Settings
from limelight.recommend.cli import evaluate_app, train_app
from limelight.recommend.registry import ModelStore
from tests.recommend import world


class _Holder:
    """Stands in for the root command's settings holder (``ctx.obj.get()``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def get(self) -> Settings:
        return self.settings


def _app(data_dir: Path) -> typer.Typer:
    root = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @root.callback()
    def _root(ctx: typer.Context) -> None:
        ctx.obj = _Holder(Settings(data_dir=data_dir))

    root.add_typer(train_app, name="train")
    root.add_typer(evaluate_app, name="evaluate")
    return root


def _loaded(tmp_path: Path) -> Path:
    with Engine(Settings(data_dir=tmp_path)) as engine:
        world.load(engine)
    return tmp_path


def test_train_writes_a_version_lists_it_and_rolls_back(tmp_path: Path) -> None:
    folder = _loaded(tmp_path)
    runner = CliRunner()
    app = _app(folder)
    first = runner.invoke(app, ["train", "--no-validate", "--no-progress"])
    assert first.exit_code == 0, first.output
    store = ModelStore.for_data_dir(folder)
    version = store.current()
    assert version is not None and f"trained model {version}" in first.output
    assert "536 events -> 268 interactions" in first.output
    meta = json.loads((store.root / version / "metadata.json").read_text())
    assert meta["data_window"]["pairs"] == 268 and meta["parameters"]["random_state"] == 0

    second = runner.invoke(
        app, ["train", "--no-validate", "--no-progress", "--no-publish", "--threads", "3"]
    )
    assert second.exit_code == 0, second.output
    assert len(store.versions()) == 2 and store.current() == version  # written, not in use
    meta = json.loads((store.root / store.versions()[-1] / "metadata.json").read_text())
    assert meta["parameters"]["ranker"]["fit_threads"] == 3
    assert meta["parameters"]["sources"]["als"]["num_threads"] == 3
    bad = runner.invoke(app, ["train", "--no-progress", "--threads", "0"])
    assert bad.exit_code == 2 and "--threads" in bad.output

    listed = runner.invoke(app, ["train", "versions"])
    assert listed.exit_code == 0 and all(v in listed.output for v in store.versions())
    newest = store.versions()[-1]
    assert runner.invoke(app, ["train", "use", newest]).exit_code == 0
    assert store.current() == newest


def test_train_validates_and_reports_the_metrics(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _app(_loaded(tmp_path)), ["train", "--no-progress", "--since", "2025-01-01"]
    )
    assert result.exit_code == 0, result.output
    assert "validation limelight" in result.output and "NDCG@10" in result.output


def test_train_on_an_empty_store_fails_with_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(tmp_path), ["train", "--no-progress"])
    assert result.exit_code == 2
    assert "error: no interactions in the data window" in result.output
    bad = CliRunner().invoke(_app(tmp_path), ["train", "--since", "yesterday-ish"])
    assert bad.exit_code == 2 and "neither ISO 8601 nor epoch seconds" in bad.output


def test_evaluate_writes_markdown_json_and_png(tmp_path: Path) -> None:
    folder = _loaded(tmp_path)
    out = tmp_path / "report"
    result = CliRunner().invoke(
        _app(folder),
        [
            "evaluate",
            "--protocol", "a",
            "--protocol", "b",
            "--protocol", "c",
            "--k", "5",
            "--k", "10",
            "--baseline", "popular",
            "--baseline", "ease",
            "--output", str(out),
            "--no-progress",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    markdown = (out / "report.md").read_text()
    for needle in ("leave_last_out", "time_split", "random_75_25", "limelight", "ease", "mrr"):
        assert needle in markdown
    summary = json.loads((out / "report.json").read_text())["summary"]
    metrics = summary["leave_last_out"]["limelight"]
    expected = {"ndcg@10", "hr@10", "recall@10", "precision@10", "mrr", "coverage", "novelty"}
    assert expected | {"ndcg@5", "diversity"} <= set(metrics)
    assert (out / "report.png").read_bytes().startswith(b"\x89PNG")


def test_evaluate_refuses_an_unknown_protocol(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(tmp_path), ["evaluate", "--protocol", "z"])
    assert result.exit_code == 2 and "error: unknown protocol 'z'" in result.output
