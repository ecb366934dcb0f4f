"""Retention: old decisions go, the oldest first and a chunk at a time, in the background or on
demand; those whose reward windows are still open stay; events and young decisions are never
touched; a log without a retention keeps everything."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from limelight import Engine, Settings
from limelight.bandits import Action
from limelight.decisions import DecisionLog, DecisionRecord, new_decision_id
from limelight.errors import InvalidInput
from limelight.storage.schema import decisions, events
from tests.bandits.test_service_support import Clock, point, service_for
from tests.helpers import event
from tests.test_cli import assert_one_error_line, run

DAY = 86_400.0


def record(created_at: float, point_name: str = "home", person: str = "ada") -> DecisionRecord:
    return DecisionRecord(
        decision_id=new_decision_id(),
        kind="page",
        point=point_name,
        person_id=person,
        chosen=["top_picks"],
        created_at=created_at,
        context={"device": "tv"},
        candidates=["top_picks", "trending"],
    )


def stored_ids(engine: Engine) -> set[str]:
    with engine.database.read() as connection:
        return set(connection.execute(select(decisions.c.decision_id)).scalars())


def test_the_default_retention_is_thirty_days_and_zero_keeps_everything(tmp_path: Path) -> None:
    with Engine(Settings(data_dir=tmp_path / "a")) as engine:
        assert engine.decisions.retention_s == 30 * DAY
    with Engine(Settings(data_dir=tmp_path / "b", decision_retention_days=0)) as engine:
        assert engine.decisions.retention_s is None
        engine.decisions.record(record(time.time() - 400 * DAY))
        with pytest.raises(InvalidInput) as raised:
            engine.decisions.prune()
        assert raised.value.field == "older_than"
        assert engine.decisions.prune(older_than_s=500 * DAY) == 0
        assert len(stored_ids(engine)) == 1


def test_prune_deletes_only_what_is_older_than_the_retention(engine: Engine) -> None:
    now = time.time()
    log = engine.decisions
    log.prune_chunk = 3  # several chunks: the loop must go on while chunks come back full
    old = [record(now - (31 + k) * DAY) for k in range(7)]
    young = [record(now - 29 * DAY), record(now - 60.0), record(now)]
    log.record_many(old + young)
    # An event that names an old decision stays: events are what people did, never pruned.
    engine.ingest([event("play_start", user="ada", item="m1", decision_id=old[0].decision_id)])
    assert log.expired() == 7
    assert log.prune() == 7
    assert stored_ids(engine) == {r.decision_id for r in young}
    assert log.prune() == 0
    assert log.pruned == 7
    with engine.database.read() as connection:
        assert connection.execute(select(func.count()).select_from(events)).scalar_one() == 1
    # Another age on demand (the CLI's --older-than-days).
    assert log.prune(older_than_s=DAY) == 1
    assert stored_ids(engine) == {r.decision_id for r in young[1:]}
    with pytest.raises(InvalidInput):
        log.prune(older_than_s=-1.0)


def test_decisions_whose_reward_window_is_open_are_kept_until_the_sweep_closes_it(
    engine: Engine,
) -> None:
    clock = Clock(time.time() - 40 * DAY)
    service = service_for(engine, clock)
    service.configure(point())  # a 60 s reward window
    actions = [Action("a1", {"style": "dark"}), Action("a2", {"style": "bright"})]
    unswept = service.decide("artwork", {"device": "tv"}, actions, person_id="ada")
    page = record(clock.now)  # the same age, on a point that is not a bandit's
    engine.decisions.record(page)
    engine.decisions.flush()
    # Forty days old, but its window was never closed: the bandit holds it.
    assert engine.decisions.prune() == 1
    assert stored_ids(engine) == {unswept.decision_id}
    # The sweep closes the window (40 days late); the decision is learned, then free to go.
    clock.now = time.time()
    assert service.close_windows() == 1
    assert engine.decisions.prune() == 1
    assert stored_ids(engine) == set()
    # A decision made after the sweep's watermark stays held however old it is made to look.
    recent = service.decide("artwork", {"device": "tv"}, actions, person_id="bo")
    engine.decisions.flush()
    assert engine.decisions.prune(older_than_s=0.0) == 0
    assert stored_ids(engine) == {recent.decision_id}


def test_the_writer_thread_prunes_a_chunk_per_interval_while_it_serves(engine: Engine) -> None:
    now = time.time()
    log = DecisionLog(
        engine.database,
        flush_interval_s=0.02,
        retention_s=30 * DAY,
        prune_interval_s=3600.0,
        prune_chunk=4,
    )
    try:
        old = [record(now - 40 * DAY) for _ in range(10)]
        with engine.database.write() as connection:
            connection.execute(decisions.insert(), [r.as_row() for r in old])
        fresh = record(now)
        log.record(fresh)  # starts the writer, which flushes, then prunes 4, 4 and 2
        deadline = time.time() + 10
        while stored_ids(engine) != {fresh.decision_id} and time.time() < deadline:
            time.sleep(0.02)
        assert stored_ids(engine) == {fresh.decision_id}
        assert log.pruned == 10
        # The last chunk was short: the next one waits for the interval, not the next flush.
        newly_old = record(now - 40 * DAY)
        with engine.database.write() as connection:
            connection.execute(decisions.insert(), [newly_old.as_row()])
        time.sleep(0.3)
        assert newly_old.decision_id in stored_ids(engine)
    finally:
        log.close()


def test_the_cli_counts_then_deletes_old_decisions(tmp_path: Path) -> None:
    now = time.time()
    # Written straight to the table: through the log, its writer would prune the old one.
    rows = [record(now - 45 * DAY).as_row(), record(now - 20 * DAY).as_row()]
    with Engine(Settings(data_dir=tmp_path)) as engine, engine.database.write() as connection:
        connection.execute(decisions.insert(), rows)
    done = run(tmp_path, "decisions", "prune", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1 decisions would be deleted"
    done = run(tmp_path, "decisions", "prune", "--older-than-days", "10", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "deleted 2 decisions"
    assert_one_error_line(
        run(tmp_path, "decisions", "prune", "--older-than-days", "-1"), "--older-than-days"
    )
