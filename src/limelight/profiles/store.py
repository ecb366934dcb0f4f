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
from sqlalchemy import Connection, and_, bindparam, case, delete, func, or_, select, update
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
from limelight.storage.schema import events, generations, profile_items, profiles

#: The ``generations`` counter bumped by every transaction that changes profiles (SQLite).
GENERATION = "profiles"
#: The ``generations`` row that records the profile document format, and its current value.
FORMAT, FORWARD_DECAY = "profiles_format", 2


@dataclass(frozen=True, slots=True)
class Folded:
    """A batch folded into rows: profile JSON texts by person, and per-item stat rows (and the
    folded states themselves, for the writer's memory)."""

    profiles: dict[str, str]
    items: list[tuple[Any, ...]]
    states: dict[str, ProfileState]


class ProfileStore:
    """Profiles and per-item stats on one database."""

    def __init__(
        self,
        database: Database,
        config: FoldConfig,
        *,
        cache_size: int = 100_000,
        hot_size: int = 20_000,
    ) -> None:
        self.database = database
        self.config = config
        self._merge_items = self._item_merge_statement()
        self._upsert_profiles = database.upsert(profiles)
        self._rewrite = (
            update(profiles)
            .where(profiles.c.person_id == bindparam("person"))
            .values(data=bindparam("document"))
        )
        # The single SQLite writer may keep profiles in memory between batches: the database
        # tells it when another process wrote (data_version) and every failed transaction
        # drops both caches, so it never serves state that was not committed. Two levels:
        # the people seen most recently as objects, folded in place (``hot``; decoding a
        # document costs about as much as folding a few events into it), and many more as the
        # JSON text just written (``cache``). The hot level stays small because the garbage
        # collector walks each of its objects (one per person: see ``ProfileState``; 20,000
        # measured +20 ms per full collection); the text level costs it nothing.
        sqlite_only = database.is_sqlite
        self._cache: OrderedDict[str, str] | None = OrderedDict() if sqlite_only else None
        self._cache_size = cache_size
        self._hot: OrderedDict[str, ProfileState] | None = (
            OrderedDict() if sqlite_only and hot_size > 0 else None
        )
        self._hot_size = hot_size
        # Another process's commit drops the caches only when it changed profiles: every
        # transaction that does bumps the ``profiles`` generation, and ours remembers the
        # value it left (a raw or unrelated write elsewhere in the file keeps the caches).
        self._generation: int | None = None
        self._read_generation = select(generations.c.value).where(generations.c.name == GENERATION)
        bump = sqlite.insert(generations).values(name=GENERATION, value=1)
        self._bump = bump.on_conflict_do_update(
            index_elements=[generations.c.name], set_={"value": generations.c.value + 1}
        ).returning(generations.c.value)
        database.rollback_hooks.append(self._rolled_back)
        database.foreign_write_hooks.append(self._foreign_write)

    def _rolled_back(self) -> None:
        self.forget_all()
        self._generation = None

    def _foreign_write(self, connection: Connection) -> None:
        """Another connection committed since our last write: did it change profiles?"""
        if self._cache is None:
            return
        current = connection.execute(self._read_generation).scalar()
        if self._generation is None or current != self._generation:
            self.forget_all()
        self._generation = current

    def _changed(self, connection: Connection) -> None:
        """Inside a transaction that changes profiles: bump the generation (SQLite, where the
        caches live; PostgreSQL keeps none, and a counter row would serialize its writers)."""
        if self._cache is not None:
            self._generation = int(connection.execute(self._bump).scalar_one())

    def forget_all(self) -> None:
        """Drop every cached profile."""
        if self._cache is not None:
            self._cache.clear()
        if self._hot is not None:
            self._hot.clear()

    def forget(self, person_ids: Iterable[str], connection: Connection | None = None) -> None:
        """Drop cached profiles that were changed outside ``apply`` (erase, rebuild); with the
        transaction that changed them, also tell other processes (see ``_changed``)."""
        if connection is not None:
            self._changed(connection)
        for cache in (self._cache, self._hot):
            if cache is not None:
                for person in person_ids:
                    cache.pop(person, None)

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
        """Load (and on PostgreSQL lock) the profiles of these people.

        A state from the hot cache is the cached object itself: folding changes it in place,
        and a transaction that fails drops the caches (``forget_all``)."""
        ordered = sorted(set(person_ids))
        half_life = self.config.half_life_s
        states: dict[str, ProfileState] = {}
        missing = ordered
        if self._cache is not None:
            hot = self._hot if self._hot is not None else {}
            missing = []
            for person in ordered:
                state = hot.get(person)
                if state is not None:
                    states[person] = state
                    continue
                cached = self._cache.get(person)
                if cached is None:
                    missing.append(person)
                else:
                    states[person] = ProfileState.from_json(orjson.loads(cached), half_life)
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
                states[person] = ProfileState.from_json(data, half_life)
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
        """Step 2 of ``apply``, pure Python (no database): the rows to write."""
        stats: dict[tuple[str, str], ItemStats] = {}
        touched: dict[str, ProfileState] = {}
        config = self.config
        for event in batch:
            person = event.person_id
            state = touched.get(person)
            if state is None:
                state = states.get(person)
                if state is None:
                    state = states[person] = ProfileState()
                touched[person] = state
            item_id = event.item_id
            if not item_id:
                state.fold(event, None, config)
                continue
            state.fold(event, meta.get(item_id), config)
            if event.type in ITEM_STAT_TYPES:
                key = (person, item_id)
                entry = stats.get(key)
                if entry is None:
                    entry = stats[key] = ItemStats(first_at=event.ts, last_at=event.ts)
                entry.fold(event)
        return Folded(
            profiles={person: state.dumps().decode() for person, state in touched.items()},
            items=[entry.values(*key) for key, entry in sorted(stats.items())],
            states=touched,
        )

    def write(self, connection: Connection, folded: Folded, now: float) -> None:
        """Step 3 of ``apply``: write the folded rows."""
        self._write_texts(connection, folded.profiles, now)
        self._changed(connection)
        self._remember(folded.states)
        if folded.items:
            self.database.bulk_values(
                connection, self._merge_items, ITEM_STAT_COLUMNS, folded.items
            )

    def _save(self, connection: Connection, states: Mapping[str, ProfileState], now: float) -> None:
        texts = {person: state.dumps().decode() for person, state in states.items()}
        self.write(connection, Folded(texts, [], dict(states)), now)

    def _remember(self, states: Mapping[str, ProfileState]) -> None:
        """Keep just-written states as objects (the hot cache; see ``__init__``)."""
        hot = self._hot
        if hot is None:
            return
        for person, state in states.items():
            hot[person] = state
            hot.move_to_end(person)
        while len(hot) > self._hot_size:
            hot.popitem(last=False)

    def _write_texts(self, connection: Connection, texts: Mapping[str, str], now: float) -> None:
        self.database.bulk_values(
            connection,
            self._upsert_profiles,
            ("person_id", "data", "updated_at"),
            sorted((person, text, now) for person, text in texts.items()),  # key order
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
            self.forget([source])  # ``_save`` bumped the generation in this transaction
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
        self.forget([person_id], connection)

    def upgrade(self) -> int:
        """Rewrite documents stored before forward decay (``decay``), once per database: their
        conversion needs the half-life, which only settings know. Returns how many changed."""
        done = select(generations.c.value).where(generations.c.name == FORMAT)
        with self.database.read() as connection:
            if (connection.execute(done).scalar() or 0) >= FORWARD_DECAY:
                return 0
        half_life = self.config.half_life_s
        with self.database.write() as connection:
            every = connection.execute(select(profiles.c.person_id, profiles.c.data))
            documents = [  # only the old ones are kept (read fully before the rewrites)
                {"person": person, "document": ProfileState.from_json(data, half_life).plain()}
                for person, data in every
                if ProfileState.is_old(data)
            ]
            for chunk in chunked(documents):
                connection.execute(self._rewrite, chunk)
            old = [document["person"] for document in documents]
            connection.execute(
                self.database.upsert(generations), [{"name": FORMAT, "value": FORWARD_DECAY}]
            )
            if old:
                self.forget(old, connection)
        return len(old)

    # -- reading ---------------------------------------------------------------------------

    def state(self, connection: Connection, person_id: str) -> ProfileState | None:
        data = connection.execute(
            select(profiles.c.data).where(profiles.c.person_id == person_id)
        ).scalar()
        return None if data is None else ProfileState.from_json(data, self.config.half_life_s)

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
