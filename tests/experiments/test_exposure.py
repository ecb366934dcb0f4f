"""Exposure is logged when a variant is read, once per unit, and is personal data."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from limelight import Engine
from limelight.errors import InvalidInput
from limelight.experiments import store
from limelight.experiments.service import Experiments
from limelight.storage.schema import experiment_exposures
from tests.experiments.builders import definition
from tests.helpers import event


def exposure_rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.database.read() as connection:
        query = select(experiment_exposures).order_by(
            experiment_exposures.c.experiment_key, experiment_exposures.c.unit_id
        )
        return [dict(row) for row in connection.execute(query).mappings()]


def test_exposure_only_on_read_and_only_once(engine: Engine, experiments: Experiments) -> None:
    experiments.create(definition())
    experiments.start("home-rows")
    # assignment alone (what the unit would get) logs nothing
    listed = experiments.assignments("ada", context={"device": "tv"})
    assert [(a.experiment, a.exposed_at) for a in listed] == [("home-rows", None)]
    assert exposure_rows(engine) == []

    first = experiments.variant("home-rows", "ada", context={"device": "tv", "app": "v2"}, at=1e9)
    assert first is not None and first.variant == listed[0].variant
    assert first.parameters in ({"ranker": "popular"}, {"ranker": "personalized"})
    rows = exposure_rows(engine)
    assert rows == [
        {
            "experiment_key": "home-rows",
            "unit_id": "ada",
            "variant": first.variant,
            "first_exposed_at": 1e9,
            "device": "tv",
            "context": {"device": "tv", "app": "v2"},
        }
    ]

    again = experiments.variant("home-rows", "ada", context={"device": "mobile"}, at=2e9)
    assert again == first  # same variant, same first exposure, first context kept
    assert exposure_rows(engine) == rows
    assert experiments.assignments("ada")[0].exposed_at == first.exposed_at


def test_exposed_units_keep_their_variant_when_targeting_changes(
    engine: Engine, experiments: Experiments
) -> None:
    experiments.cache_ttl_s = 0.0
    experiments.create(definition(targeting={"device": "tv"}))
    experiments.start("home-rows")
    assert experiments.variant("home-rows", "ada", context={"device": "mobile"}) is None
    assert exposure_rows(engine) == []
    on_tv = experiments.variant("home-rows", "ada", context={"device": "tv"})
    assert on_tv is not None
    experiments.update("home-rows", {"targeting": {"device": "web"}})
    assert experiments.variant("home-rows", "ada", context={"device": "tv"}) == on_tv
    assert experiments.variant("home-rows", "bo", context={"device": "tv"}) is None
    assert experiments.variant("home-rows", "bo", context={"device": "web"}) is not None


def test_targeting_on_the_live_profile(engine: Engine, experiments: Experiments) -> None:
    experiments.create(
        definition(targeting={"device": {"in": ["tv"]}, "profile.counts.play_start": {"gte": 5}})
    )
    experiments.start("home-rows")
    engine.ingest([event("play_start", user="fan", item=f"m{n}") for n in range(5)])
    engine.ingest([event("play_start", user="casual", item="m1")])
    tv = {"device": "tv"}
    # the profile is looked up through the engine when not given ...
    assert experiments.variant("home-rows", "fan", context=tv) is not None
    assert experiments.variant("home-rows", "casual", context=tv) is None
    assert experiments.variant("home-rows", "stranger", context=tv) is None
    assert experiments.variant("home-rows", "fan2", context={"device": "mobile"}) is None
    # ... and a given profile is used as is
    profile = {"counts": {"play_start": 9}}
    assert experiments.variant("home-rows", "given", context=tv, profile=profile) is not None
    assert [row["unit_id"] for row in exposure_rows(engine)] == ["fan", "given"]


def test_device_units_are_keyed_by_anonymous_id(engine: Engine, experiments: Experiments) -> None:
    experiments.create(definition(unit="device"))
    experiments.start("home-rows")
    assert experiments.variant("home-rows", "device-1", context={"device": "tv"}) is not None
    assert [row["unit_id"] for row in exposure_rows(engine)] == ["device-1"]
    assert experiments.assignments("device-1", unit="user") == []
    listed = experiments.assignments("device-1", unit="device")
    assert [(a.experiment, a.device) for a in listed] == [("home-rows", "tv")]


@pytest.mark.parametrize("unit_id", ["", "x" * 262])
def test_unit_ids_are_checked(experiments: Experiments, unit_id: str) -> None:
    experiments.create(definition())
    experiments.start("home-rows")
    with pytest.raises(InvalidInput, match="1 to 261"):
        experiments.variant("home-rows", unit_id)


def test_export_and_erase_include_exposures(engine: Engine, experiments: Experiments) -> None:
    experiments.create(definition())
    experiments.start("home-rows")
    experiments.create(definition("devices", unit="device"))
    experiments.start("devices")
    engine.ingest(
        [
            event("play_start", user="ada", anon="phone-1", item="m1"),
            event("alias", user="ada", anon="phone-1", previous_id="phone-1"),
            event("play_start", user="bo", item="m1"),
        ]
    )
    ada = experiments.variant("home-rows", "ada", at=1e9)
    phone = experiments.variant("devices", "phone-1", context={"device": "mobile"}, at=1e9)
    experiments.variant("home-rows", "bo")
    assert ada is not None and phone is not None

    exported = engine.export_user("ada")["experiments"]["exposures"]
    assert {(row["experiment_key"], row["unit_id"]) for row in exported} == {
        ("home-rows", "ada"),
        ("devices", "phone-1"),
    }
    assert all(row["first_exposed_at"] == "2001-09-09T01:46:40Z" for row in exported)

    erased = engine.erase_user("ada")
    assert erased["experiments"] == 2
    assert [row["unit_id"] for row in exposure_rows(engine)] == ["bo"]
    with engine.database.read() as connection:
        count = connection.execute(select(func.count()).select_from(experiment_exposures))
        assert count.scalar_one() == 1


def test_concurrent_first_reads_store_one_exposure_and_agree(
    engine: Engine, experiments: Experiments
) -> None:
    experiments.create(definition())
    experiments.start("home-rows")
    units = [f"unit-{n}" for n in range(40)]

    def read_all(device: str) -> list[Any]:
        context = {"device": device}
        return [experiments.variant("home-rows", unit, context=context) for unit in units]

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(read_all, ["tv", "web", "mobile", "tv", "web", "mobile"]))
    assert all(answer == answers[0] for answer in answers)  # same variant, same first exposure
    assert len(exposure_rows(engine)) == len(units)


def test_inserts_report_whether_they_stored(engine: Engine, experiments: Experiments) -> None:
    created = experiments.create(definition())
    row = {
        "experiment_key": "home-rows",
        "unit_id": "ada",
        "variant": "control",
        "first_exposed_at": 1.0,
        "device": None,
        "context": None,
    }
    with engine.database.write() as connection:
        assert not store.insert(engine.database, connection, created)
        assert store.record_exposure(engine.database, connection, row)
        assert not store.record_exposure(engine.database, connection, {**row, "variant": "x"})
        assert store.exposure(connection, "home-rows", "ada") == row
