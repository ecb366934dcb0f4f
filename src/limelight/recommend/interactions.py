"""From the event store to the interaction log every model trains on.

Models learn from one interaction per (person, title), not from raw events: a film that was
started, finished and rated is one "watched", and a trailer click or an impression is none. Each
event type carries a weight (:class:`EventWeights`); a pair whose weights sum to more than zero
is an interaction, dated by its first event (when the person chose the title) and tagged with
that event's device and UTC offset (from its ``context.timezone``). Skips subtract, so
"started then skipped" can cancel out.

:class:`PairLog` folds events chunk by chunk with numpy (a sort and a segmented sum, no Python
loop per pair), so the same code reads MovieLens from SQLite and a 10-million-event synthetic
log, and never builds anything dense of users x items. :func:`read_interactions` streams the
events table through it inside a data window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement

from limelight.candidates.data import FloatArray, IntArray, Interactions, ItemMeta
from limelight.errors import InvalidInput
from limelight.profiles.state import utc_offset
from limelight.storage.database import Database
from limelight.storage.schema import events, items

#: Rows fetched from the database at a time while streaming the events table.
CHUNK_ROWS = 50_000
#: A chunk of coded events: persons, items, weights, times, device codes, UTC offsets (None:
#: none of its events had a time zone; no array is spent on them).
_Part = tuple[IntArray, IntArray, FloatArray, FloatArray, IntArray, FloatArray | None]


def _default_weights() -> dict[str, float]:
    # Why these: a start or a finish means "chose this title"; a rating means it was watched
    # (its value moves the weight, see EventWeights); a list add is a softer yes; a skip is no.
    return {
        "play_start": 1.0,
        "play_complete": 1.0,
        "play_progress": 0.0,
        "rating": 1.0,
        "add_to_list": 0.5,
        "click": 0.0,
        "skip": -1.0,
    }


@dataclass(frozen=True)
class EventWeights:
    """Weight of each event type; types not listed weigh nothing (impressions, searches).

    A rating adds ``weights["rating"] * (1 + (rating - rating_midpoint) / rating_midpoint)``:
    a rating at the midpoint counts like any other event, a top rating about twice, a bottom
    one little, but never below zero (a rated title was still watched).
    """

    weights: dict[str, float] = field(default_factory=_default_weights)
    rating_midpoint: float = 3.0

    def __post_init__(self) -> None:
        if self.rating_midpoint <= 0:
            raise InvalidInput("rating_midpoint must be positive", field="rating_midpoint")

    def types(self) -> list[str]:
        """The event types that carry any weight."""
        return sorted(kind for kind, weight in self.weights.items() if weight != 0)

    def of(self, kinds: Sequence[str], ratings: Sequence[float | None]) -> FloatArray:
        """Weight of each event (``ratings`` matter for rating events only)."""
        table = self.weights
        midpoint = self.rating_midpoint
        out = np.fromiter((table.get(k, 0.0) for k in kinds), dtype=np.float64, count=len(kinds))
        for position, (kind, rating) in enumerate(zip(kinds, ratings, strict=True)):
            if kind == "rating" and rating is not None:
                out[position] *= max(0.0, 1.0 + (float(rating) - midpoint) / midpoint)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"weights": dict(self.weights), "rating_midpoint": self.rating_midpoint}


@dataclass(frozen=True)
class DataWindow:
    """The span of events a model learns from: ``since <= ts < until`` (None: unbounded)."""

    since: float | None = None
    until: float | None = None

    def __post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise InvalidInput("the data window must end after it starts", field="until")

    def where(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if self.since is not None:
            clauses.append(events.c.ts >= self.since)
        if self.until is not None:
            clauses.append(events.c.ts < self.until)
        return clauses


@dataclass
class LogStats:
    """What went into an interaction log (recorded in the artifact's metadata)."""

    events: int = 0
    pairs: int = 0
    users: int = 0
    items: int = 0
    first_event: float | None = None
    last_event: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


class PairLog:
    """Weighted events gathered chunk by chunk, folded into one interaction per pair.

    Ids become integer codes as chunks arrive (:meth:`add_rows`), or callers hand codes in
    directly (:meth:`add_codes`, used by the synthetic scale benchmark).
    """

    def __init__(self, catalogue: Sequence[str] = ()) -> None:
        self.person_index: dict[str, int] = {}
        self.item_index: dict[str, int] = {key: code for code, key in enumerate(catalogue)}
        self.device_index: dict[str, int] = {}
        self._parts: list[_Part] = []
        self._zoned = False  # whether any event so far had a time zone
        self.stats = LogStats()

    def add_rows(
        self,
        rows: Iterable[Sequence[Any]],
        weights: EventWeights,
    ) -> int:
        """Add ``(person_id, item_id, type, ts, rating, device[, timezone])`` rows; returns
        how many."""
        batch = list(rows)
        if not batch:
            return 0
        columns = list(zip(*batch, strict=True))
        persons, item_ids, kinds, stamps, ratings, devices = columns[:6]
        zones = columns[6] if len(columns) > 6 else (None,) * len(batch)
        people = self.person_index
        titles = self.item_index
        screens = self.device_index
        person_codes = np.fromiter(
            (people.setdefault(p, len(people)) for p in persons), np.int64, len(batch)
        )
        item_codes = np.fromiter(
            (titles.setdefault(i, len(titles)) for i in item_ids), np.int64, len(batch)
        )
        device_codes = np.fromiter(
            (-1 if d is None else screens.setdefault(str(d), len(screens)) for d in devices),
            np.int64,
            len(batch),
        )
        offsets = None
        if any(zones):
            offsets = np.fromiter(
                (utc_offset(float(t), z) for t, z in zip(stamps, zones, strict=True)),
                np.float64,
                len(batch),
            )
        self.add_codes(
            person_codes,
            item_codes,
            weights.of(kinds, ratings),
            np.asarray(stamps, dtype=np.float64),
            device_codes,
            offsets,
        )
        return len(batch)

    def add_codes(
        self,
        persons: IntArray,
        items: IntArray,
        weights: FloatArray,
        timestamps: FloatArray,
        devices: IntArray | None = None,
        offsets: FloatArray | None = None,
    ) -> None:
        """Add events already coded as integers (codes index ``person_index``/``item_index``
        or, with no index, are the ids themselves); ``offsets``: seconds east of UTC."""
        if devices is None:
            devices = np.full(persons.size, -1, dtype=np.int64)
        if offsets is not None:
            self._zoned = True
        self._parts.append((persons, items, weights, timestamps, devices, offsets))
        self.stats.events += int(persons.size)
        if timestamps.size:
            low, high = float(timestamps.min()), float(timestamps.max())
            first, last = self.stats.first_event, self.stats.last_event
            self.stats.first_event = low if first is None else min(first, low)
            self.stats.last_event = high if last is None else max(last, high)

    def _concatenated(self) -> _Part:
        if not self._parts:
            empty_i = np.zeros(0, dtype=np.int64)
            empty_f = np.zeros(0, dtype=np.float64)
            return empty_i, empty_i, empty_f, empty_f, empty_i, None
        parts = self._parts
        columns = [np.concatenate([part[k] for part in parts]) for k in range(5)]
        offsets = None
        if self._zoned:
            offsets = np.concatenate(
                [p[5] if p[5] is not None else np.zeros(p[0].size) for p in parts]
            )
        self._parts = [(columns[0], columns[1], columns[2], columns[3], columns[4], offsets)]
        return self._parts[0]

    def build(
        self,
        *,
        metadata: Mapping[str, ItemMeta] | None = None,
        n_people: int | None = None,
        n_items: int | None = None,
        person_ids: Callable[[IntArray], list[str]] | None = None,
        item_ids: Sequence[str] | None = None,
    ) -> Interactions:
        """Fold the events into an :class:`Interactions` log.

        People without any interaction are left out; every title of the catalogue (and every
        title seen in an event) is kept, so content similarity can still recommend the unwatched.
        ``n_people``/``n_items``/``person_ids``/``item_ids`` describe coded input that did not
        go through :meth:`add_rows`.
        """
        persons, titles, weights, stamps, devices, offsets = self._concatenated()
        width = n_items if n_items is not None else max(len(self.item_index), 1)
        key = persons * np.int64(width) + titles
        order = np.lexsort((stamps, key))
        key_sorted = key[order]
        starts = np.flatnonzero(np.r_[True, key_sorted[1:] != key_sorted[:-1]])
        if key.size:
            sums = np.add.reduceat(weights[order], starts)
        else:  # no events: an empty log over the catalogue
            starts, sums = np.zeros(0, dtype=np.int64), np.zeros(0)
        first = order[starts]
        keep = sums > 0
        pair_people = persons[first][keep]
        pair_items = titles[first][keep]
        people, rows = np.unique(pair_people, return_inverse=True)
        if person_ids is not None:
            user_list = person_ids(people)
        else:
            names = np.empty(len(self.person_index), dtype=object)
            for name, code in self.person_index.items():
                names[code] = name
            user_list = [str(names[code]) for code in people]
        if item_ids is not None:
            catalogue = list(item_ids)
        else:
            catalogue = [""] * len(self.item_index)
            for name, code in self.item_index.items():
                catalogue[code] = name
        if n_people is not None and people.size and people.max() >= n_people:
            raise InvalidInput("a person code is out of range", field="persons")
        device_names = sorted(self.device_index, key=self.device_index.__getitem__)
        pair_devices = devices[first][keep]
        device_list: tuple[str | None, ...] | None = None
        if device_names and (pair_devices >= 0).any():
            device_list = tuple(None if d < 0 else device_names[d] for d in pair_devices)
        known = set(catalogue)
        meta = {key: value for key, value in (metadata or {}).items() if key in known}
        log = Interactions(
            tuple(user_list),
            tuple(catalogue),
            rows.astype(np.int64),
            pair_items.astype(np.int64),
            sums[keep].astype(np.float64),
            stamps[first][keep].astype(np.float64),
            device_list,
            meta,
            None if offsets is None else offsets[first][keep].astype(np.float64),
        )
        self.stats.pairs = len(log)
        self.stats.users = log.n_users
        self.stats.items = log.n_items
        return log


def catalogue_metadata(database: Database) -> dict[str, ItemMeta]:
    """Genres, tags, release year and title of every catalogue item, for content features."""
    query = select(
        items.c.item_id, items.c.genres, items.c.tags, items.c.release_year, items.c.title
    )
    with database.read() as connection:
        return {
            item_id: ItemMeta(
                genres=tuple(genres or ()),
                tags=tuple(tags or ()),
                release_year=year,
                text=title or "",
            )
            for item_id, genres, tags, year, title in connection.execute(query)
        }


def _event_query(window: DataWindow, weights: EventWeights) -> Any:
    return (
        select(
            events.c.person_id,
            events.c.item_id,
            events.c.type,
            events.c.ts,
            events.c.properties["rating"].as_float(),
            events.c.context["device"].as_string(),
            events.c.context["timezone"].as_string(),
        )
        .where(events.c.item_id.is_not(None), events.c.type.in_(weights.types()), *window.where())
        .order_by(events.c.ts, events.c.event_id)
    )


def count_events(database: Database, window: DataWindow, weights: EventWeights) -> int:
    """How many events of weighted types fall inside the window (for a progress bar)."""
    query = (
        select(func.count())
        .select_from(events)
        .where(events.c.item_id.is_not(None), events.c.type.in_(weights.types()), *window.where())
    )
    with database.read() as connection:
        return int(connection.execute(query).scalar_one())


def read_interactions(
    database: Database,
    window: DataWindow | None = None,
    weights: EventWeights | None = None,
    *,
    metadata: Mapping[str, ItemMeta] | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> tuple[Interactions, LogStats]:
    """The interaction log of the events inside ``window``, streamed in chunks.

    ``metadata`` (default: the whole catalogue) puts every catalogue title in the log, watched
    or not. ``on_chunk`` hears how many events each chunk held (progress bars).
    """
    window = window or DataWindow()
    weights = weights or EventWeights()
    meta = catalogue_metadata(database) if metadata is None else dict(metadata)
    pairs = PairLog(sorted(meta))
    with database.read() as connection:
        result = connection.execution_options(stream_results=True, yield_per=CHUNK_ROWS).execute(
            _event_query(window, weights)
        )
        for chunk in result.partitions(CHUNK_ROWS):
            added = pairs.add_rows(chunk, weights)
            if on_chunk is not None:
                on_chunk(added)
    log = pairs.build(metadata=meta)
    return log, pairs.stats


__all__ = [
    "DataWindow",
    "EventWeights",
    "LogStats",
    "PairLog",
    "catalogue_metadata",
    "count_events",
    "read_interactions",
]
