"""Connections, the single SQLite writer, and dialect-neutral upserts.

SQLite allows one writer at a time. Rather than let concurrent requests race for the file lock
(and meet "database is locked"), every write in this process goes through one lock and opens its
transaction with ``BEGIN IMMEDIATE``, so a transaction never has to upgrade its lock half-way.
Other processes (a CLI import beside a server) wait on ``busy_timeout``. PostgreSQL needs none
of this: its writers run concurrently and rely on constraints and row locks.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
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
            self._writer: Connection | None = None
            self._data_version: int | None = None
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
        #: Called (inside the failed transaction's lock) when a write transaction rolls back, so
        #: that in-memory state folded during it can be dropped.
        self.rollback_hooks: list[Callable[[], None]] = []
        #: Called with the connection at the start of a write when another connection (another
        #: process) has committed since our last write: caches of database state must check
        #: whether their data changed (see ``generations``) or be dropped.
        self.foreign_write_hooks: list[Callable[[Connection], None]] = []
        self._compiled: dict[tuple[int, tuple[str, ...]], tuple[str, Any]] = {}

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
            # Straight to the driver: through ``exec_driver_sql`` this one statement cost about
            # as much as the query it opened (every read transaction begins here).
            driver = connection.connection.driver_connection
            assert driver is not None
            driver.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction; committed when the block exits without error.

        On SQLite every write of this process goes through one dedicated connection under one
        lock (the single writer); ``PRAGMA data_version`` on it then tells whether anyone else
        wrote since our last transaction.
        """
        if self._write_lock is None:
            with self.engine.connect() as connection:
                try:
                    with connection.begin():
                        yield connection
                except BaseException:
                    self._rolled_back()
                    raise
            return
        with self._write_lock:
            connection = self._writer_connection()
            try:
                connection.info["limelight_immediate"] = True
                with connection.begin():
                    version = connection.exec_driver_sql("PRAGMA data_version").scalar()
                    if version != self._data_version:
                        for hook in self.foreign_write_hooks:
                            hook(connection)
                    yield connection
                self._data_version = version
            except BaseException:
                self._rolled_back()
                self._close_writer()
                raise

    def _writer_connection(self) -> Connection:
        if self._writer is None or self._writer.closed:
            self._writer = self.engine.connect()
            self._data_version = None
        return self._writer

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _rolled_back(self) -> None:
        for hook in self.rollback_hooks:
            hook()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot on both backends)."""
        with self.engine.connect() as connection, connection.begin():
            yield connection

    def dispose(self) -> None:
        if self._write_lock is not None:
            with self._write_lock:
                self._close_writer()
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

    def bulk(
        self, connection: Connection, statement: Any, params: Sequence[Mapping[str, Any]]
    ) -> None:
        """Run one statement for many rows straight through the driver's ``executemany``.

        Skips SQLAlchemy's per-row type processing, so JSON values must already be serialized
        (``json_text``). Used on the hot ingest path only.
        """
        if not params:
            return
        keys = tuple(params[0].keys())
        cache_key = (id(statement), keys)
        compiled = self._compiled.get(cache_key)
        if compiled is None:
            built = statement.compile(dialect=self.engine.dialect, column_keys=list(keys))
            order = built.positiontup
            getter = operator.itemgetter(*order) if order else None
            compiled = self._compiled[cache_key] = (str(built), getter)
        sql, getter = compiled
        if getter is None:
            connection.exec_driver_sql(sql, list(params))
        else:
            connection.exec_driver_sql(sql, [getter(row) for row in params])

    def bulk_values(
        self,
        connection: Connection,
        statement: Any,
        columns: tuple[str, ...],
        values: Sequence[tuple[Any, ...]],
    ) -> int:
        """Like ``bulk`` with rows already as tuples in ``columns`` order; returns rows changed."""
        if not values:
            return 0
        cache_key = (id(statement), columns)
        compiled = self._compiled.get(cache_key)
        if compiled is None:
            built = statement.compile(dialect=self.engine.dialect, column_keys=list(columns))
            order = built.positiontup
            compiled = self._compiled[cache_key] = (str(built), order)
        sql, order = compiled
        if order is not None and tuple(order) == columns:
            params: Any = list(values)
        else:
            params = [dict(zip(columns, row, strict=True)) for row in values]
        return int(connection.exec_driver_sql(sql, params).rowcount)


def json_text(value: Any) -> str:
    """A value serialized the way the JSON columns store it (for ``Database.bulk``)."""
    return orjson.dumps(value).decode()


def rows(result: Any) -> list[dict[str, Any]]:
    """Result rows as plain dicts."""
    return [dict(row) for row in result.mappings()]


def chunked(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """Slices of at most ``size``: keeps ``IN (...)`` lists under every backend's limits."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def as_dict(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return dict(mapping)
