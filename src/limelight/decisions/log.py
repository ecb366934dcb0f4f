"""The decision log: what was served, to whom, from which candidates, with what probability.

Writing one row per served list synchronously would put a database write on every read
request (a homepage decides hundreds of tiles). Instead records are buffered in memory and
written in batches by a background thread every ``flush_interval_s`` (and whenever the buffer
fills, and on close). A record is visible to ``get`` as soon as it is recorded, so a reward or
click arriving a millisecond later still joins. The cost: a process crash loses at most the
last interval of decision rows; events (what users did) are never buffered.

The same thread applies the retention (:mod:`.retention`): with ``retention_s`` set, decisions
older than that go, one short transaction of ``prune_chunk`` rows after a flush, every
``prune_interval_s`` (or at once again while a backlog of expired rows remains).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, select
from sqlalchemy.exc import DBAPIError

from limelight.decisions import retention
from limelight.decisions.batch import member, members_by_batch
from limelight.decisions.record import DecisionRecord
from limelight.errors import InvalidInput
from limelight.privacy.registry import Identity, PersonalDataHook
from limelight.storage.database import Database, chunked, rows
from limelight.storage.schema import decisions

logger = logging.getLogger(__name__)
#: Rows per retention transaction: a home page's batch row is about 45 KB, so a chunk writes
#: (frees) a few MB and holds SQLite's write lock for milliseconds, not seconds.
PRUNE_CHUNK = 200


def fetch(connection: Connection, decision_ids: Sequence[str]) -> dict[str, DecisionRecord]:
    """Written rows by their own id (no buffer, no member resolution)."""
    found: dict[str, DecisionRecord] = {}
    for chunk in chunked(list(dict.fromkeys(decision_ids))):
        query = select(decisions).where(decisions.c.decision_id.in_(chunk))
        for row in rows(connection.execute(query)):
            found[row["decision_id"]] = DecisionRecord.from_row(row)
    return found


def resolve(connection: Connection, decision_ids: Sequence[str]) -> dict[str, DecisionRecord]:
    """Written decisions by id, with member ids of batch rows resolved to their members."""
    return with_members(decision_ids, lambda ids: fetch(connection, ids))


def with_members(
    decision_ids: Sequence[str], lookup: Callable[[Sequence[str]], dict[str, DecisionRecord]]
) -> dict[str, DecisionRecord]:
    """``lookup`` of the ids, then of the batches named by the member ids it did not find
    (``<batch>~<k>``), each such id answered with its member's own record."""
    found = lookup(decision_ids)
    bases = members_by_batch(decision_ids, found)
    if bases:
        for base, record in lookup(list(bases)).items():
            for decision_id, index in bases[base]:
                resolved = member(record, index)
                if resolved is not None:
                    found[decision_id] = resolved
    return found


class DecisionLog:
    """Buffered, batched writer and reader of decision records."""

    def __init__(
        self,
        database: Database,
        *,
        flush_interval_s: float = 0.2,
        max_buffer: int = 5000,
        retention_s: float | None = None,
        prune_interval_s: float = 60.0,
        prune_chunk: int = PRUNE_CHUNK,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.flush_interval_s = flush_interval_s
        self.max_buffer = max_buffer
        #: Decisions older than this many seconds are deleted (None or 0 keeps them all).
        self.retention_s = retention_s if retention_s else None
        self.prune_interval_s = prune_interval_s
        self.prune_chunk = prune_chunk
        self.clock = clock
        self._holds: list[retention.Hold] = []
        self._next_prune = 0.0  # monotonic time of the background thread's next chunk
        #: Decisions deleted by the retention since this log was built.
        self.pruned = 0
        self._buffer: dict[str, DecisionRecord] = {}
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        #: Records the database refused (e.g. an over-long id); they are dropped, not retried.
        self.dropped = 0

    # -- writing ---------------------------------------------------------------------------

    def record(self, record: DecisionRecord) -> None:
        """Log a decision (returns at once; written within ``flush_interval_s``)."""
        self.record_many([record])

    def record_many(self, records: Iterable[DecisionRecord]) -> None:
        packed = [record.packed() for record in records]  # kept packed: see ``Packed``
        with self._lock:
            for record in packed:
                self._buffer[record.decision_id] = record
            full = len(self._buffer) >= self.max_buffer
        self._ensure_thread()
        if full:
            self.flush()

    def flush(self) -> int:
        """Write every buffered record now; returns how many were written."""
        with self._flush_lock:
            with self._lock:
                pending = list(self._buffer.values())
            if not pending:
                return 0
            try:
                with self.database.write() as connection:
                    for chunk in chunked(pending, 1000):
                        connection.execute(
                            self.database.insert_ignore(decisions), [r.as_row() for r in chunk]
                        )
            except DBAPIError:
                # One bad record must not wedge the log: write them one by one, drop the bad.
                pending = self._write_one_by_one(pending)
            with self._lock:
                for record in pending:
                    if self._buffer.get(record.decision_id) is record:
                        del self._buffer[record.decision_id]
            return len(pending)

    def _write_one_by_one(self, pending: list[DecisionRecord]) -> list[DecisionRecord]:
        for record in pending:
            try:
                with self.database.write() as connection:
                    connection.execute(self.database.insert_ignore(decisions), record.as_row())
            except DBAPIError:
                self.dropped += 1
        return pending  # written or dropped: either way they leave the buffer

    def _ensure_thread(self) -> None:
        if self._thread is not None or self._stopped.is_set():
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="limelight-decision-log", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            try:
                self.flush()
            except Exception:
                time.sleep(self.flush_interval_s)
                continue
            try:
                self._prune_step()
            except Exception:  # deliberately broad: the next interval retries
                logger.exception("decision log retention failed")
                self._next_prune = time.monotonic() + self.prune_interval_s

    # -- retention -------------------------------------------------------------------------

    def hold(self, hold: retention.Hold) -> None:
        """Keep the decisions ``hold`` names however old (see :mod:`.retention`)."""
        self._holds.append(hold)

    def _prune_step(self) -> None:
        """One chunk of the retention when it is due; due again at once while a backlog
        remains, so the backlog drains a chunk per flush interval between flushes."""
        if self.retention_s is None or time.monotonic() < self._next_prune:
            return
        if self._delete_chunk(self.clock() - self.retention_s) < self.prune_chunk:
            self._next_prune = time.monotonic() + self.prune_interval_s

    def _delete_chunk(self, before: float) -> int:
        """One transaction: the oldest ``prune_chunk`` decisions made before ``before`` that
        no hold keeps; returns how many went."""
        with self.database.write() as connection:
            kept = retention.held(connection, self._holds)
            gone = retention.delete_chunk(connection, before, kept, self.prune_chunk)
        self.pruned += gone
        return gone

    def expired(self, older_than_s: float | None = None) -> int:
        """How many decisions are older than ``older_than_s`` (default: the
        retention) and not held: what :meth:`prune` would delete now."""
        age = self._age(older_than_s)
        self.flush()
        with self.database.read() as connection:
            kept = retention.held(connection, self._holds)
            return retention.count_expired(connection, self.clock() - age, kept)

    def prune(
        self,
        older_than_s: float | None = None,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Delete every decision older than ``older_than_s`` (default: the retention) that no
        hold keeps, a chunk per transaction; returns how many went. ``progress`` hears each
        chunk's count."""
        age = self._age(older_than_s)
        self.flush()
        before = self.clock() - age
        total = 0
        while True:
            gone = self._delete_chunk(before)
            total += gone
            if progress is not None and gone:
                progress(gone)
            if gone < self.prune_chunk:
                return total

    def _age(self, older_than_s: float | None) -> float:
        age = self.retention_s if older_than_s is None else older_than_s
        if age is None:
            raise InvalidInput(
                "no retention is set: give an age (LIMELIGHT_DECISION_RETENTION_DAYS)",
                field="older_than",
            )
        if not age >= 0:
            raise InvalidInput("the age must be zero or more", field="older_than")
        return float(age)

    def close(self) -> None:
        """Stop the background writer and write what is left."""
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()

    # -- reading ---------------------------------------------------------------------------

    def get(self, decision_id: str) -> DecisionRecord | None:
        """The logged decision, or a batch member's own record (see :mod:`.batch`)."""
        return self.many([decision_id]).get(decision_id)

    def many(self, decision_ids: Sequence[str]) -> dict[str, DecisionRecord]:
        """Logged decisions by id; member ids of batch rows resolve to their members."""
        return with_members(decision_ids, self._stored)

    def _stored(self, decision_ids: Sequence[str]) -> dict[str, DecisionRecord]:
        """Rows by their own id, buffered or written."""
        found: dict[str, DecisionRecord] = {}
        with self._lock:
            for decision_id in decision_ids:
                if decision_id in self._buffer:
                    found[decision_id] = self._buffer[decision_id].unpacked()
        missing = [d for d in decision_ids if d not in found]
        if missing:
            with self.database.read() as connection:
                found.update(fetch(connection, missing))
        return found

    # -- personal data ---------------------------------------------------------------------

    def _export(self, connection: Connection, identity: Identity) -> list[dict[str, Any]]:
        query = (
            select(decisions)
            .where(decisions.c.person_id.in_(identity.person_ids))
            .order_by(decisions.c.created_at)
        )
        exported = rows(connection.execute(query))
        with self._lock:
            exported += [
                r.unpacked().as_row()
                for r in self._buffer.values()
                if r.person_id in identity.person_ids
            ]
        return exported

    def _erase(self, connection: Connection, identity: Identity) -> int:
        with self._lock:
            doomed = [k for k, r in self._buffer.items() if r.person_id in identity.person_ids]
            for key in doomed:
                del self._buffer[key]
        dropped = len(doomed)
        statement = delete(decisions).where(decisions.c.person_id.in_(identity.person_ids))
        return dropped + int(connection.execute(statement).rowcount)

    def personal_data_hook(self) -> PersonalDataHook:
        return PersonalDataHook(name="decisions", export=self._export, erase=self._erase)
