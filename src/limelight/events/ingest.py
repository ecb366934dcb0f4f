"""Ingest: validate each event, store the new ones once, fold them into profiles, commit.

Everything for one batch happens in one transaction, so "acknowledged" means committed: events,
identity links and profiles land together or not at all. Idempotency rests on the primary key
(``INSERT ... ON CONFLICT DO NOTHING RETURNING``), which also holds between concurrent requests
and between processes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnClause, Connection, bindparam, func, literal_column, select

from limelight.events.identity import IdentityResolver, anonymous_person
from limelight.events.model import (
    EVENT_COLUMNS,
    Event,
    IngestResult,
    Rejection,
    now_utc,
    validate_event,
)
from limelight.profiles.state import ItemMeta
from limelight.profiles.store import ProfileStore
from limelight.storage.database import Database, chunked
from limelight.storage.gcpause import gc_paused
from limelight.storage.schema import events

MetaLookup = Callable[[Connection, Sequence[str]], Mapping[str, ItemMeta]]


class Ingestor:
    """The write path for events."""

    def __init__(
        self,
        database: Database,
        profiles: ProfileStore,
        meta: MetaLookup,
        *,
        max_future_skew_s: float = 86_400.0,
    ) -> None:
        self.database = database
        self.profiles = profiles
        self.identity = IdentityResolver(database)
        self.meta = meta
        self.max_future_skew_s = max_future_skew_s
        #: Called with the newly stored events after each batch commits (rewards from events,
        #: real-time model updates). Derived state only: the events themselves are durable.
        self.listeners: list[Callable[[Sequence[Event]], None]] = []
        self._insert_returning = database.insert_ignore(events).returning(events.c.event_id)
        self._insert = database.insert_ignore(events)
        # SQLite's implicit row number (events is a rowid table).
        rowid: ColumnClause[int] = literal_column("rowid")
        self._max_rowid = select(func.coalesce(func.max(rowid), 0)).select_from(events)
        self._inserted_after = select(events.c.event_id).where(rowid > bindparam("mark"))

    def validate(
        self, batch: Sequence[Any], received_at: float
    ) -> tuple[list[Event], list[Rejection], int]:
        """Split a batch into valid unique events, rejections and in-batch duplicates."""
        valid: list[Event] = []
        rejected: list[Rejection] = []
        seen: set[str] = set()
        duplicates = 0
        for index, raw in enumerate(batch):
            outcome = validate_event(
                raw, index, received_at=received_at, max_future_skew_s=self.max_future_skew_s
            )
            if isinstance(outcome, Rejection):
                rejected.append(outcome)
            elif outcome.event_id in seen:
                duplicates += 1
            else:
                seen.add(outcome.event_id)
                valid.append(outcome)
        return valid, rejected, duplicates

    def ingest(self, batch: Sequence[Any]) -> IngestResult:
        """Store a batch; returns counts and the reason for every refused event."""
        with gc_paused():
            return self._ingest(batch)

    def _ingest(self, batch: Sequence[Any]) -> IngestResult:
        received_at = now_utc()
        valid, rejected, duplicates = self.validate(batch, received_at)
        result = IngestResult(rejected=rejected, duplicates=duplicates)
        if not valid:
            return result
        with self.database.write() as connection:
            stored = self.store(connection, valid, received_at)
        for listener in self.listeners:
            listener(stored)
        result.accepted = len(stored)
        result.duplicates += len(valid) - len(stored)
        return result

    def store(self, connection: Connection, valid: Sequence[Event], now: float) -> list[Event]:
        """Inside a write transaction: insert new events, fold profiles, apply identity links."""
        proposed = self.identity.resolve(connection, valid)
        stored = self._insert_new(connection, valid)
        item_ids = [event.item_id for event in stored if event.item_id]
        self.profiles.apply(connection, stored, self.meta(connection, item_ids), now)
        if not stored:
            return stored
        new_ids = {event.event_id for event in stored}
        for link in self.identity.record(
            connection, [link for link in proposed if link.event_id in new_ids]
        ):
            self.profiles.merge(connection, anonymous_person(link.anonymous_id), link.user_id, now)
        return stored

    def _insert_new(self, connection: Connection, valid: Sequence[Event]) -> list[Event]:
        """Insert the events not stored yet; return them."""
        if self.database.is_sqlite:
            # The single writer holds the database (BEGIN IMMEDIATE), so nobody else inserts
            # during this transaction: the count of inserted rows is exact, and the rows it
            # inserts get rowids above the largest one before it (SQLite numbers a new row
            # max(rowid) + 1). The common case, no duplicates, costs one statement; when the
            # count falls short, the new events are those above that mark. (A savepoint to
            # roll back and redo the insert for the fresh ids only, the way this was done
            # before, cost about a tenth of ingest time even when never rolled back.)
            mark = connection.execute(self._max_rowid).scalar_one()
            values = [event.values() for event in valid]
            if self.database.bulk_values(connection, self._insert, EVENT_COLUMNS, values) == len(
                valid
            ):
                return list(valid)
            fresh = set(connection.execute(self._inserted_after, {"mark": mark}).scalars())
            return [event for event in valid if event.event_id in fresh]
        # Concurrent writers: let the primary key decide, and learn from RETURNING who won.
        inserted: set[str] = set()
        for chunk in chunked(list(valid), 1000):
            result = connection.execute(self._insert_returning, [event.to_row() for event in chunk])
            inserted.update(result.scalars())
        return [event for event in valid if event.event_id in inserted]
