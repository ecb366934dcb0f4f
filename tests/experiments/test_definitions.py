"""Experiments as data: validation, the draft -> running -> stopped lifecycle, and the schema."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect

from limelight import Settings
from limelight.errors import InvalidInput, NotFound
from limelight.experiments.errors import ExperimentConflict, validated
from limelight.experiments.metrics import BUILT_IN, Metric
from limelight.experiments.model import Experiment, ExperimentSpec
from limelight.experiments.service import Experiments
from limelight.storage.database import Database
from limelight.storage.migrate import alembic_config, migrate
from tests.experiments.builders import definition


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"key": "Has Spaces"}, "key", "pattern"),
        ({"variants": [{"key": "only"}]}, "variants", "at least 2"),
        ({"variants": [{"key": "a"}, {"key": "a"}]}, None, "unique"),
        (
            {"variants": [{"key": "a", "weight": 0}, {"key": "b"}]},
            "variants.0.weight",
            "greater than 0",
        ),
        ({"traffic_percent": 0}, "traffic_percent", "greater than 0"),
        ({"traffic_percent": 101}, "traffic_percent", "less than or equal to 100"),
        ({"targeting": {"device": {"regex": "t.*"}}}, "targeting", "unknown operator"),
        ({"metrics": {"primary": []}}, "metrics.primary", "at least 1 item"),
        ({"metrics": {"primary": ["no_such_metric"]}}, None, "unknown metric 'no_such_metric'"),
        ({"start_at": "2030-01-02", "stop_at": "2030-01-01"}, None, "stop_at must be after"),
        ({"status": "running"}, "status", "Extra inputs"),
        ({"unit": "household"}, "unit", "'user' or 'device'"),
    ],
)
def test_bad_definitions_name_the_field(
    changes: dict[str, Any], field: str | None, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as raised:
        validated(ExperimentSpec, definition(**changes))
    if field is not None:
        assert raised.value.field == field


def test_a_full_definition_reads_as_written() -> None:
    spec = validated(
        ExperimentSpec,
        definition(
            name="Home rows",
            unit="device",
            variants=[
                {"key": "popular", "weight": 1, "parameters": {"ranker": "popular"}},
                {"key": "ease", "weight": 2, "parameters": {"ranker": "ease", "rows": 12}},
                {"key": "mf", "weight": 2, "parameters": {"ranker": "mf"}},
            ],
            targeting={"device": {"in": ["tv"]}, "profile.counts.play_start": {"gte": 5}},
            traffic_percent=25,
            layer="home",
            start_at="2030-01-01T00:00:00Z",
            stop_at=1_893_542_400,
            metrics={
                "primary": ["click_through"],
                "secondary": ["watch_minutes", "binge_rate"],
                "guardrails": ["skip_rate", "errors"],
            },
            metric_definitions=[
                {
                    "name": "binge_rate",
                    "kind": "proportion",
                    "numerator": {"events": ["play_complete"], "where": {"context.device": "tv"}},
                    "window_days": 7,
                }
            ],
            analysis={"alpha": 0.01, "correction": "benjamini-hochberg", "pre_exposure_days": 7},
        ),
    )
    assert spec.control.key == "popular"
    assert spec.layer_name == "home"
    assert spec.stop_at is not None and spec.stop_at.isoformat() == "2030-01-02T00:00:00+00:00"
    roles = [(metric.name, role) for metric, role in spec.metric_roles()]
    assert roles == [
        ("click_through", "primary"),
        ("watch_minutes", "secondary"),
        ("binge_rate", "secondary"),
        ("skip_rate", "guardrail"),
        ("errors", "guardrail"),
    ]
    again = ExperimentSpec.model_validate_json(spec.model_dump_json())
    assert again == spec


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "ratio", "numerator": {}}, "needs a denominator"),
        ({"kind": "mean", "numerator": {}, "denominator": {}}, "only a ratio"),
        ({"kind": "retention", "numerator": {}}, "needs a day"),
        ({"kind": "proportion", "numerator": {}, "winsorize": 0.99}, "means and ratios"),
        ({"kind": "mean", "numerator": {"value": "watch_s"}}, "properties.<name>"),
        ({"kind": "mean", "numerator": {"where": {"ts": "x"}}}, "properties.<name> or context"),
        ({"kind": "mean", "numerator": {"events": ["page_view"]}}, "Input should be"),
    ],
)
def test_bad_metric_definitions(body: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validated(Metric, {"name": "m", **body})


def test_built_in_metrics_cover_the_kpis() -> None:
    kinds = {name: metric.kind for name, metric in BUILT_IN.items()}
    assert kinds == {
        "click_through": "proportion",
        "play_start_rate": "proportion",
        "retention_d1": "retention",
        "retention_d7": "retention",
        "watch_minutes": "mean",
        "plays_per_user": "mean",
        "clicks_per_impression": "ratio",
        "skip_rate": "ratio",
        "errors": "mean",
    }
    assert not BUILT_IN["skip_rate"].higher_is_better
    assert not BUILT_IN["errors"].higher_is_better


def test_lifecycle_draft_running_stopped(experiments: Experiments) -> None:
    created = experiments.create(definition(traffic_percent=50))
    assert created.status == "draft" and created.buckets is None
    with pytest.raises(ExperimentConflict, match="already exists"):
        experiments.create(definition())
    assert [e.key for e in experiments.list()] == ["home-rows"]
    assert experiments.list("running") == []

    # a draft may change anything but its key
    changed = experiments.update("home-rows", {"variants": [{"key": "a"}, {"key": "b"}]})
    assert [v.key for v in changed.variants] == ["a", "b"]
    with pytest.raises(InvalidInput, match="key cannot change"):
        experiments.update("home-rows", {"key": "other"})
    with pytest.raises(InvalidInput, match="traffic_percent"):
        experiments.update("home-rows", {"traffic_percent": 0})
    assert experiments.variant("home-rows", "ada") is None  # drafts assign nobody

    running = experiments.start("home-rows")
    assert running.status == "running" and running.buckets == (0, 5000)
    assert running.started_at is not None
    with pytest.raises(ExperimentConflict, match="only a draft can start"):
        experiments.start("home-rows")
    with pytest.raises(ExperimentConflict, match="variants cannot change while"):
        experiments.update("home-rows", {"variants": [{"key": "a"}, {"key": "c"}]})
    with pytest.raises(ExperimentConflict, match="stop"):
        experiments.delete("home-rows")
    renamed = experiments.update("home-rows", {"name": "Rows", "metrics": {"primary": ["errors"]}})
    assert renamed.name == "Rows" and renamed.buckets == (0, 5000)

    stopped = experiments.stop("home-rows")
    assert stopped.status == "stopped" and stopped.stopped_at is not None
    assert experiments.variant("home-rows", "ada") is None
    with pytest.raises(ExperimentConflict, match="traffic_percent cannot change while"):
        experiments.update("home-rows", {"traffic_percent": 60})
    with pytest.raises(ExperimentConflict, match="not running"):
        experiments.stop("home-rows")
    assert experiments.update("home-rows", {"hypothesis": "learned"}).hypothesis == "learned"

    assert experiments.delete("home-rows") == 0
    with pytest.raises(NotFound):
        experiments.get("home-rows")
    with pytest.raises(NotFound):
        experiments.variant("home-rows", "ada")


def test_a_schedule_bounds_assignment(experiments: Experiments) -> None:
    experiments.create(definition(start_at=2_000_000_000, stop_at=2_000_086_400))
    experiments.start("home-rows", at=1_999_000_000)
    assert experiments.variant("home-rows", "ada", at=1_999_999_999) is None
    assert experiments.variant("home-rows", "ada", at=2_000_000_001) is not None
    assert experiments.variant("home-rows", "bo", at=2_000_086_400) is None
    experiments.create(definition("late", stop_at=1_000_000_000))
    with pytest.raises(InvalidInput, match="stop_at is already past"):
        experiments.start("late")


def test_migration_0002_downgrades_and_upgrades_cleanly(settings: Settings) -> None:
    """Up to 0002 only, down to 0001 and up again, on a fresh database of each backend (later
    revisions belong to other capabilities and are not this test's business)."""
    ours = {"experiments", "experiment_exposures", "experiment_settings"}
    database = Database(settings.resolved_database_url)
    try:
        migrate(database, "0002")
        assert ours <= _tables(database)
        config = alembic_config()
        with database.engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")
            connection.commit()
        assert not ours & _tables(database)
        assert "events" in _tables(database)
        migrate(database, "0002")
        assert ours <= _tables(database)
    finally:
        database.dispose()


def _tables(database: Database) -> set[str]:
    with database.engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def test_stored_experiments_round_trip(experiments: Experiments) -> None:
    experiments.create(definition(targeting={"device": "tv"}, layer="home"))
    stored = experiments.start("home-rows")
    assert experiments.get("home-rows") == stored
    assert isinstance(stored, Experiment)
