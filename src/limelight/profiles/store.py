"""Persisting live profiles: fold a batch of events in the same transaction that stores them.

Per-item stats are merged by the database itself (``ON CONFLICT DO UPDATE`` with the same rules
as ``ItemStats.merge``), so they need no read and stay right under concurrent writers. The
profile document is read, folded and written back; on PostgreSQL its row is locked first (in a
fixed order, so two batches never deadlock).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, and_, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from limelight.events.model import Event
from limelight.profiles.state import (
    ITEM_STAT_COLUMNS,
    ITEM_STAT_TYPES,
    FoldConfig,
    ItemMeta,
    ItemStats,
    ProfileState,
)
from limelight.storage.database import Database, chunked, rows
from limelight.storage.schema import events, profile_items, profiles


@dataclass(frozen=True, slots=True)
class Folded:
    """A batch folded into rows: profile JSON texts by person, and per-item stat rows."""

    profiles: dict[str, str]
    items: list[tuple[Any, ...]]


class ProfileStore:
    """Profiles and per-item stats on one database."""

    def __init__(
        self, database: Database, config: FoldConfig, *, cache_size: int = 100_000
    ) -> None:
        self.database = database
        self.config = config
        self._merge_items = self._item_merge_statement()
        self._upsert_profiles = database.upsert(profiles)
        # The single SQLite writer may keep profiles in memory between batches: the database
        # tells it when another process wrote (data_version) and every failed transaction
        # drops the cache, so it never serves state that was not committed. Profiles are kept
        # as the JSON text just written, not as objects: decoding is cheap, and a large cache
        # of objects would make every garbage collection walk millions of containers.
        self._cache: OrderedDict[str, str] | None = OrderedDict() if database.is_sqlite else None
        self._cache_size = cache_size
        database.rollback_hooks.append(self.forget_all)
        database.foreign_write_hooks.append(self.forget_all)

    def forget_all(self) -> None:
        """Drop every cached profile."""
        if self._cache is not None:
            self._cache.clear()

    def forget(self, person_ids: Iterable[str]) -> None:
        """Drop cached profiles that were changed outside ``apply`` (erase, rebuild)."""
        if self._cache is not None:
            for person in person_ids:
                self._cache.pop(person, None)

    def _item_merge_statement(self) -> Any:
        module = sqlite if self.database.is_sqlite else postgresql
        insert = module.insert(profile_items)
        new, old = insert.excluded, profile_items.c
        smallest = func.min if self.database.is_sqlite else func.least
        largest = func.max if self.database.is_sqlite else func.greatest
        newer_progress = and_(
            new.progress_at.is_not(None),
            or_(
                old.progress_at.is_(None),
                new.progress_at > old.progress_at,
                and_(new.progress_at == old.progress_at, new.progress > old.progress),
            ),
        )
        newer_rating = and_(
            new.rating_at.is_not(None), or_(old.rating_at.is_(None), new.rating_at >= old.rating_at)
        )
        return insert.on_conflict_do_update(
            index_elements=[profile_items.c.person_id, profile_items.c.item_id],
            set_={
                "first_at": smallest(old.first_at, new.first_at),
                "last_at": largest(old.last_at, new.last_at),
                "plays": old.plays + new.plays,
                "completions": old.completions + new.completions,
                "clicks": old.clicks + new.clicks,
                "skips": old.skips + new.skips,
                "progress": case((newer_progress, new.progress), else_=old.progress),
                "progress_at": case((newer_progress, new.progress_at), else_=old.progress_at),
                "rating": case((newer_rating, new.rating), else_=old.rating),
                "rating_at": case((newer_rating, new.rating_at), else_=old.rating_at),
            },
        )

    # -- writing ---------------------------------------------------------------------------

    def _lock(
        self, connection: Connection, person_ids: Sequence[str], now: float
    ) -> dict[str, ProfileState]:
        """Load (and on PostgreSQL lock) the profiles of these people."""
        ordered = sorted(set(person_ids))
        states: dict[str, ProfileState] = {}
        missing = ordered
        if self._cache is not None:
            missing = []
            for person in ordered:
                cached = self._cache.get(person)
                if cached is None:
                    missing.append(person)
                else:
                    states[person] = ProfileState.from_json(orjson.loads(cached))
        elif not self.database.is_sqlite:
            # Make sure a row exists for every person so that FOR UPDATE can lock it.
            connection.execute(
                self.database.insert_ignore(profiles),
                [{"person_id": person, "data": {}, "updated_at": now} for person in ordered],
            )
        for chunk in chunked(missing):
            query = select(profiles.c.person_id, profiles.c.data).where(
                profiles.c.person_id.in_(chunk)
            )
            if not self.database.is_sqlite:
                query = query.order_by(profiles.c.person_id).with_for_update()
            for person, data in connection.execute(query):
                states[person] = ProfileState.from_json(data)
        return states

    def apply(
        self,
        connection: Connection,
        batch: Sequence[Event],
        meta: Mapping[str, ItemMeta],
        now: float,
    ) -> None:
        """Fold newly stored events into their people's profiles."""
        if not batch:
            return
        states = self.prepare(connection, batch, now)
        self.write(connection, self.fold(states, batch, meta), now)

    def prepare(
        self, connection: Connection, batch: Sequence[Event], now: float
    ) -> dict[str, ProfileState]:
        """Step 1 of ``apply``: load (and lock) the profiles a batch touches."""
        return self._lock(connection, [event.person_id for event in batch], now)

    def fold(
        self, states: dict[str, ProfileState], batch: Sequence[Event], meta: Mapping[str, ItemMeta]
    ) -> Folded:
        """Step 2 of ``apply``, pure Python (no database): the rows to write.

        Kept apart so that the single SQLite writer can run it while the events' insert is
        executing on another thread (sqlite releases the GIL while it works).
        """
        stats: dict[tuple[str, str], ItemStats] = {}
        config = self.config
        for event in batch:
            state = states.get(event.person_id)
            if state is None:
                state = states[event.person_id] = ProfileState()
            item_id = event.item_id
            state.fold(event, meta.get(item_id) if item_id else None, config)
            if item_id and event.type in ITEM_STAT_TYPES:
                key = (event.person_id, item_id)
                entry = stats.get(key)
                if entry is None:
                    entry = stats[key] = ItemStats(first_at=event.ts, last_at=event.ts)
                entry.fold(event)
        touched = {event.person_id for event in batch}
        return Folded(
            profiles={person: orjson.dumps(states[person]).decode() for person in touched},
            items=[entry.values(person, item) for (person, item), entry in stats.items()],
        )

    def write(self, connection: Connection, folded: Folded, now: float) -> None:
        """Step 3 of ``apply``: write the folded rows."""
        self._write_texts(connection, folded.profiles, now)
        if folded.items:
            self.database.bulk_values(
                connection, self._merge_items, ITEM_STAT_COLUMNS, folded.items
            )

    def _save(self, connection: Connection, states: Mapping[str, ProfileState], now: float) -> None:
        texts = {person: orjson.dumps(state).decode() for person, state in states.items()}
        self._write_texts(connection, texts, now)

    def _write_texts(self, connection: Connection, texts: Mapping[str, str], now: float) -> None:
        self.database.bulk_values(
            connection,
            self._upsert_profiles,
            ("person_id", "data", "updated_at"),
            [(person, text, now) for person, text in texts.items()],
        )
        cache = self._cache
        if cache is not None:
            for person, text in texts.items():
                cache[person] = text
                cache.move_to_end(person)
            while len(cache) > self._cache_size:
                cache.popitem(last=False)

    def merge(self, connection: Connection, source: str, target: str, now: float) -> None:
        """Move everything known about ``source`` into ``target`` (used when identities link)."""
        states = self._lock(connection, [source, target], now)
        source_state = states.get(source)
        if source_state is not None:
            target_state = states.get(target) or ProfileState(user_id=target)
            target_state.merge(source_state, self.config)
            self._save(connection, {target: target_state}, now)
            connection.execute(delete(profiles).where(profiles.c.person_id == source))
            self.forget([source])
        moved = rows(
            connection.execute(select(profile_items).where(profile_items.c.person_id == source))
        )
        if moved:
            for row in moved:
                row["person_id"] = target
            connection.execute(self._merge_items, moved)
            connection.execute(delete(profile_items).where(profile_items.c.person_id == source))
        connection.execute(
            update(events).where(events.c.person_id == source).values(person_id=target)
        )

    def delete(self, connection: Connection, person_id: str) -> None:
        connection.execute(delete(profile_items).where(profile_items.c.person_id == person_id))
        connection.execute(delete(profiles).where(profiles.c.person_id == person_id))
        self.forget([person_id])

    # -- reading ---------------------------------------------------------------------------

    def state(self, connection: Connection, person_id: str) -> ProfileState | None:
        data = connection.execute(
            select(profiles.c.data).where(profiles.c.person_id == person_id)
        ).scalar()
        return None if data is None else ProfileState.from_json(data)

    def item_stats(
        self, connection: Connection, person_id: str, limit: int | None = None
    ) -> dict[str, ItemStats]:
        """Per-item stats, most recent first."""
        query = (
            select(profile_items)
            .where(profile_items.c.person_id == person_id)
            .order_by(profile_items.c.last_at.desc(), profile_items.c.item_id)
        )
        if limit is not None:
            query = query.limit(limit)
        return {row["item_id"]: ItemStats.from_row(row) for row in rows(connection.execute(query))}
