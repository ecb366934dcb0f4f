"""The catalogue as arrays, for the rules that run on every request.

Maturity, availability windows, genres and titles are needed for every candidate of every
request; reading them from the database each time would cost more than ranking. A
:class:`CatalogView` keeps a snapshot in memory and refreshes it when the catalogue changed
(count and latest ``updated_at`` differ), checked at most every ``refresh_s`` seconds.
:meth:`Snapshot.align` maps it onto a model's item index once per (snapshot, model) pair.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, select

from limelight.recommend.rules import maturity_level
from limelight.storage.database import Database
from limelight.storage.schema import items

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Aligned:
    """Catalogue facts for each item of one model's index (positions match the model's)."""

    known: NDArray[np.bool_]
    maturity: IntArray
    available_from: FloatArray
    available_until: FloatArray
    genres: NDArray[np.float32]

    def available(self, at: float) -> NDArray[np.bool_]:
        """Items that may be shown at ``at`` (no window means always)."""
        after = np.isnan(self.available_from) | (self.available_from <= at)
        before = np.isnan(self.available_until) | (at < self.available_until)
        result: NDArray[np.bool_] = after & before
        return result


@dataclass(frozen=True, eq=False)
class Snapshot:
    """Every catalogue item at one moment, as parallel arrays."""

    item_ids: tuple[str, ...]
    titles: tuple[str, ...]
    genre_lists: tuple[tuple[str, ...], ...]
    maturity: IntArray
    available_from: FloatArray
    available_until: FloatArray
    release_year: FloatArray
    updated_at: FloatArray
    mark: tuple[int, float]
    _aligned: dict[tuple[str, int], Aligned] = field(default_factory=dict, repr=False)

    @cached_property
    def index(self) -> dict[str, int]:
        return {item: position for position, item in enumerate(self.item_ids)}

    @cached_property
    def genres_of(self) -> dict[str, tuple[str, ...]]:
        """Each item's genres by id (a page looks up its session's titles here)."""
        return dict(zip(self.item_ids, self.genre_lists, strict=True))

    @cached_property
    def genre_names(self) -> list[str]:
        return sorted({g for genres in self.genre_lists for g in genres})

    @cached_property
    def genre_matrix(self) -> NDArray[np.float32]:
        """Items x genres, rows L2-normalised (cosine of two rows is their genre overlap)."""
        column = {g: j for j, g in enumerate(self.genre_names)}
        out = np.zeros((len(self.item_ids), max(len(column), 1)), dtype=np.float32)
        for row, genres in enumerate(self.genre_lists):
            for genre in genres:
                out[row, column[genre]] = 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        result: NDArray[np.float32] = (out / np.where(norms > 0, norms, 1.0)).astype(np.float32)
        return result

    @cached_property
    def availability_changes(self) -> FloatArray:
        """Every moment at which some title's availability window opens or closes, sorted."""
        bounds = np.concatenate([self.available_from, self.available_until])
        result: FloatArray = np.unique(bounds[np.isfinite(bounds)])
        return result

    def availability_epoch(self, at: float) -> int:
        """Which stretch between two availability changes ``at`` falls in: at any two moments
        of one stretch exactly the same titles are available (a window holds ``from <= at <
        until``), so answers that depend on ``at`` only through availability may be kept
        under it."""
        return int(np.searchsorted(self.availability_changes, at, side="right"))

    @cached_property
    def title_by_id(self) -> dict[str, str]:
        """Each item's title by id (a page names hundreds of tiles)."""
        return dict(zip(self.item_ids, self.titles, strict=True))

    def title(self, item_id: str) -> str | None:
        return self.title_by_id.get(item_id)

    def align(self, key: str, item_ids: Sequence[str]) -> Aligned:
        """Catalogue facts in the order of ``item_ids`` (cached under ``key``, e.g. a model
        version); items missing from the catalogue are unknown, unrated and always available."""
        cache_key = (key, len(item_ids))
        found = self._aligned.get(cache_key)
        if found is not None:
            return found
        index = self.index
        positions = np.fromiter((index.get(i, -1) for i in item_ids), np.int64, len(item_ids))
        known = positions >= 0
        safe = np.where(known, positions, 0)

        def pick(values: NDArray[Any], missing: Any) -> NDArray[Any]:
            if values.size == 0:
                return np.full(len(item_ids), missing, dtype=values.dtype)
            return np.where(known, values[safe], missing)

        genres = np.zeros((len(item_ids), self.genre_matrix.shape[1]), dtype=np.float32)
        if known.any():
            genres[known] = self.genre_matrix[positions[known]]
        aligned = Aligned(
            known,
            pick(self.maturity, -1),
            pick(self.available_from, np.nan),
            pick(self.available_until, np.nan),
            genres,
        )
        if len(self._aligned) > 8:
            self._aligned.clear()
        self._aligned[cache_key] = aligned
        return aligned


def _mark(database: Database) -> tuple[int, float]:
    query = select(func.count(), func.max(items.c.updated_at)).select_from(items)
    with database.read() as connection:
        count, latest = connection.execute(query).one()
    return int(count), float(latest or 0.0)


def _load(database: Database) -> Snapshot:
    query = select(
        items.c.item_id,
        items.c.title,
        items.c.genres,
        items.c.maturity_rating,
        items.c.available_from,
        items.c.available_until,
        items.c.release_year,
        items.c.updated_at,
    ).order_by(items.c.item_id)
    with database.read() as connection:
        found = list(connection.execute(query))
        mark_count = len(found)
    nan = float("nan")
    return Snapshot(
        item_ids=tuple(row[0] for row in found),
        titles=tuple(row[1] for row in found),
        genre_lists=tuple(tuple(row[2] or ()) for row in found),
        maturity=np.asarray([maturity_level(row[3]) for row in found], dtype=np.int64),
        available_from=np.asarray([nan if r[4] is None else r[4] for r in found], np.float64),
        available_until=np.asarray([nan if r[5] is None else r[5] for r in found], np.float64),
        release_year=np.asarray([nan if r[6] is None else r[6] for r in found], np.float64),
        updated_at=np.asarray([r[7] for r in found], dtype=np.float64),
        mark=(mark_count, max((float(r[7]) for r in found), default=0.0)),
    )


class CatalogView:
    """A catalogue snapshot kept fresh cheaply (see the module docstring)."""

    def __init__(self, database: Database, *, refresh_s: float = 2.0) -> None:
        self.database = database
        self.refresh_s = refresh_s
        self._snapshot: Snapshot | None = None
        self._next_check = 0.0
        self._lock = threading.Lock()

    def get(self) -> Snapshot:
        """The current snapshot (reloaded if the catalogue changed since the last check)."""
        now = time.monotonic()
        snapshot = self._snapshot
        if snapshot is not None and now < self._next_check:
            return snapshot
        with self._lock:
            self._next_check = now + self.refresh_s
            snapshot = self._snapshot
            if snapshot is None or _mark(self.database) != snapshot.mark:
                snapshot = self._snapshot = _load(self.database)
        return snapshot

    def invalidate(self) -> None:
        """Reload on the next request (after a catalogue write in this process)."""
        self._next_check = 0.0


__all__ = ["Aligned", "CatalogView", "Snapshot"]
