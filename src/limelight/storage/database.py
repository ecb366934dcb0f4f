"""Connections, the single SQLite writer, and dialect-neutral upserts.

SQLite allows one writer at a time. Rather than let concurrent requests race for the file lock
(and meet "database is locked"), every write in this process goes through one lock and opens its
transaction with ``BEGIN IMMEDIATE``, so a transaction never has to upgrade its lock half-way.
Other processes (a CLI import beside a server) wait on ``busy_timeout``. PostgreSQL needs none
of this: its writers run concurrently and rely on constraints and row locks.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.engine import make_url


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class Database:
    """One database: a SQLAlchemy engine plus the write discipline its backend needs."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL") -> None:
        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise ValueError(
                f"unsupported database backend {self.dialect!r} (sqlite or postgresql)"
            )
        if self.is_sqlite:
            database = self.url.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.engine: SAEngine = create_engine(
                self.url,
                json_serializer=_json_dumps,
                json_deserializer=orjson.loads,
                connect_args={"check_same_thread": False, "timeout": 30},
                pool_size=8,
                max_overflow=16,
            )
            self._install_sqlite_hooks(sqlite_synchronous)
            self._write_lock: threading.Lock | None = threading.Lock()
        else:
            self.engine = create_engine(
                self.url,
                json_serializer=_json_dumps,
                json_deserializer=orjson.loads,
                pool_size=8,
                max_overflow=16,
                pool_pre_ping=True,
            )
            self._write_lock = None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def _install_sqlite_hooks(self, synchronous: str) -> None:
        @event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take over transaction control from pysqlite so that BEGIN IMMEDIATE is possible.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(self.engine, "begin")
        def _on_begin(connection: Connection) -> None:
            immediate = connection.info.pop("limelight_immediate", False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction; committed when the block exits without error."""
        lock = self._write_lock if self._write_lock is not None else nullcontext()
        with lock, self.engine.connect() as connection:
            connection.info["limelight_immediate"] = True
            with connection.begin():
                yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot on both backends)."""
        with self.engine.connect() as connection, connection.begin():
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()

    # -- dialect-neutral statements -------------------------------------------------------

    def insert_ignore(self, table: Table) -> Any:
        """``INSERT ... ON CONFLICT DO NOTHING`` for this backend."""
        module = sqlite if self.is_sqlite else postgresql
        return module.insert(table).on_conflict_do_nothing()

    def upsert(self, table: Table, update_columns: Sequence[str] | None = None) -> Any:
        """``INSERT ... ON CONFLICT (pk) DO UPDATE SET col = excluded.col``."""
        module = sqlite if self.is_sqlite else postgresql
        statement = module.insert(table)
        keys = [column.name for column in table.primary_key.columns]
        columns = update_columns or [c.name for c in table.columns if c.name not in keys]
        return statement.on_conflict_do_update(
            index_elements=keys, set_={name: statement.excluded[name] for name in columns}
        )


def rows(result: Any) -> list[dict[str, Any]]:
    """Result rows as plain dicts."""
    return [dict(row) for row in result.mappings()]


def chunked(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """Slices of at most ``size``: keeps ``IN (...)`` lists under every backend's limits."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def as_dict(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return dict(mapping)
