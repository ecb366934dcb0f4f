"""The decision log: visible at once, written in batches, exported and erased with the person."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from limelight import Engine
from limelight.decisions import DecisionRecord, new_decision_id
from limelight.storage.schema import decisions
from tests.helpers import all_rows, mentions


def record(person: str | None, point: str = "artwork") -> DecisionRecord:
    return DecisionRecord(
        decision_id=new_decision_id(),
        kind="bandit",
        point=point,
        person_id=person,
        chosen=["art-2"],
        created_at=time.time(),
        context={"device": "tv"},
        candidates=["art-1", "art-2", "art-3"],
        probabilities=[0.9],
        policy="linucb",
        model_version="v3",
        explored=False,
    )


def stored(engine: Engine) -> int:
    with engine.database.read() as connection:
        return int(connection.execute(select(func.count()).select_from(decisions)).scalar_one())


def test_ids_are_unique_and_time_ordered() -> None:
    ids = [new_decision_id() for _ in range(2000)]
    assert len(set(ids)) == 2000
    assert ids[0] < ids[-1]


def test_recorded_decisions_are_readable_at_once_and_flushed(engine: Engine) -> None:
    log = engine.decisions
    first = record("ada")
    log.record(first)
    assert log.get(first.decision_id) == first  # from the buffer
    assert log.flush() == 1
    assert stored(engine) == 1
    assert log.get(first.decision_id) == first  # from the database, identical
    many = [record("ada") for _ in range(30)]
    log.record_many(many)
    assert set(log.many([r.decision_id for r in many[:5]] + ["missing"])) == {
        r.decision_id for r in many[:5]
    }


def test_background_writer_flushes_without_being_asked(engine: Engine) -> None:
    engine.decisions.record(record("bo"))
    deadline = time.time() + 5
    while stored(engine) == 0 and time.time() < deadline:
        time.sleep(0.05)
    assert stored(engine) == 1


def test_close_writes_what_is_left(engine: Engine) -> None:
    engine.decisions.record(record("cy"))
    engine.decisions.close()
    assert stored(engine) == 1


def test_export_and_erase_include_decisions(engine: Engine) -> None:
    engine.ingest(
        [{"event_id": "e1", "type": "click", "user_id": "zed", "properties": {"item_id": "m"}}]
    )
    engine.decisions.record(record("zed"))
    engine.decisions.flush()
    engine.decisions.record(record("zed"))  # still buffered
    engine.decisions.record(record("other"))
    assert len(engine.export_user("zed")["decisions"]) == 2
    assert engine.erase_user("zed")["decisions"] == 2
    engine.decisions.flush()
    assert mentions(all_rows(engine), "zed") == []
    assert stored(engine) == 1


def test_a_record_the_database_refuses_is_dropped_not_retried_forever(engine: Engine) -> None:
    good = record("ada")
    bad = DecisionRecord(**{**good.as_row(), "decision_id": "x" * 500})  # longer than the column
    engine.decisions.record_many([good, bad])
    engine.decisions.flush()
    if engine.database.is_sqlite:  # SQLite does not enforce VARCHAR lengths: both are stored
        assert stored(engine) == 2
    else:
        assert stored(engine) == 1 and engine.decisions.dropped == 1
    assert engine.decisions.flush() == 0
