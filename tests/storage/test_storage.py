"""Storage: migrations on both backends, and one writer on SQLite under concurrency."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from limelight import Engine, Settings
from limelight.storage import Database, migrate
from limelight.storage.schema import events, metadata
from tests.helpers import event


def test_migrations_match_the_schema_and_are_idempotent(engine: Engine) -> None:
    migrate(engine.database)
    migrate(engine.database)
    with engine.database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
        assert differences == []
        tables = set(inspect(connection).get_table_names())
    assert {
        "events",
        "profiles",
        "profile_items",
        "identities",
        "items",
        "artwork",
        "alembic_version",
    } <= tables


def test_sqlite_is_in_wal_mode_with_full_sync(sqlite_engine: Engine) -> None:
    with sqlite_engine.database.read() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


def test_sqlite_default_file_is_under_the_data_dir(tmp_path: Path) -> None:
    with Engine(Settings(data_dir=tmp_path / "here")):
        pass
    assert (tmp_path / "here" / "limelight.sqlite").exists()


def test_many_writer_threads_never_meet_a_locked_database(sqlite_engine: Engine) -> None:
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for batch in range(15):
                sqlite_engine.ingest(
                    [event("click", user=f"w{worker}", item=f"m{batch}-{k}") for k in range(20)]
                )
                sqlite_engine.upsert_items([{"item_id": f"i{worker}-{batch}", "title": "x"}])
        except BaseException as error:  # pragma: no cover - surfaced below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sqlite_engine.event_count() == 8 * 15 * 20


def _write_from_process(data_dir: str, worker: int) -> None:
    with Engine(Settings(data_dir=Path(data_dir))) as engine:
        for batch in range(10):
            batch_events = [
                event("click", user=f"p{worker}", item=f"m{batch}-{k}") for k in range(30)
            ]
            for number, body in enumerate(batch_events):  # event ids must differ between processes
                body["event_id"] = f"p{worker}-{batch}-{number}"
            engine.ingest(batch_events)


def test_writer_processes_share_the_file(tmp_path: Path) -> None:
    with Engine(Settings(data_dir=tmp_path)):
        pass  # migrate once, like a server that is already running
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_write_from_process, args=(str(tmp_path), n)) for n in range(3)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert [process.exitcode for process in processes] == [0, 0, 0]
    database = Database(f"sqlite:///{tmp_path / 'limelight.sqlite'}")
    with database.read() as connection:
        assert (
            connection.execute(select(func.count()).select_from(events)).scalar_one() == 3 * 10 * 30
        )
    database.dispose()
