"""Features of (person, candidate) pairs for the learned ranker.

Every number here is computed from one interaction window (the log the sources were fitted on)
and from the request's context; nothing reads anything later. Per candidate:

* for each source: its raw score, the score standardised within the person's row (so a ranker
  trained on sources fitted to an earlier window still reads sources fitted to everything), and
  its rank among the items the source may recommend (capped at ``rank_depth``);
* the item: log popularity, trending score, years since release, days since its first
  interaction in the window, how much more it is watched at this hour of day than on average;
* the person: how many titles they have, how many in the day and week before their last
  activity (a binge is under way), days since their last activity, how mainstream their history
  is, and the candidate's genre affinity (mean and max of the person's genre shares over the
  candidate's genres, from the window only);
* context: hour of day, day of week and device (a small integer code, -1 unknown).

Hours and weekdays are the person's own: each interaction's time plus its UTC offset
(``Interactions.offsets``) in the window, the request's moment plus the offset of the zone it
was made in (``offsets`` of :meth:`FeatureBuilder.at_moment`) when asked. Ages and "days since"
read absolute times.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from limelight.candidates.base import CandidateSource, ScoreArray
from limelight.candidates.data import FloatArray, IntArray, Interactions
from limelight.candidates.popular import DAY_S

HOUR_BINS = 6
YEAR_S = 365.25 * DAY_S
#: The features after the sources' (score, z, rank) columns, in order.
_LATER = (
    "item_log_popularity",
    "item_trend",
    "item_age_years",
    "item_days_in_catalogue",
    "item_hour_lift",
    "user_log_history",
    "user_recent_day",
    "user_recent_week",
    "user_days_since_last",
    "user_history_popularity",
    "genre_affinity_mean",
    "genre_affinity_max",
    "hour",
    "day_of_week",
    "device",
)
#: Those that depend on the moment asked about (``at``, device); the rest do not.
MOMENT_FEATURES = (
    "item_age_years",
    "item_days_in_catalogue",
    "item_hour_lift",
    "user_days_since_last",
    "hour",
    "day_of_week",
    "device",
)
_MOMENT_COLUMNS = np.array([_LATER.index(name) for name in MOMENT_FEATURES])


@dataclass(frozen=True, eq=False)
class People:
    """What the features need to know about a batch of people (one row each)."""

    scores: dict[str, ScoreArray]
    seen: list[IntArray]
    n_history: FloatArray
    last_seen: FloatArray
    recent_day: FloatArray
    recent_week: FloatArray
    genre_share: NDArray[np.float64]
    history_popularity: FloatArray


@dataclass(frozen=True, eq=False)
class Candidates:
    """Candidate rows of a batch: ``items[offsets[p]:offsets[p + 1]]`` belong to person ``p``."""

    offsets: IntArray
    items: IntArray
    features: NDArray[np.float32]

    def group_sizes(self) -> IntArray:
        return np.diff(self.offsets)


@dataclass(frozen=True, eq=False)
class Pool:
    """Candidates before the moment: like :class:`Candidates`, with the moment's feature
    columns (``MOMENT_FEATURES``) still empty, each row's person, and each person's last
    activity (which "days since last activity" needs). Read-only once built: it may be
    shared by the requests of one history."""

    offsets: IntArray
    items: IntArray
    person: IntArray
    features: NDArray[np.float32]
    last_seen: FloatArray


def _hour_bin(at: FloatArray) -> IntArray:
    return ((at % DAY_S) // (DAY_S / HOUR_BINS)).astype(np.int64)


def top_scores(masked: ScoreArray, depth: int) -> tuple[IntArray, ScoreArray]:
    """Per row, the positions and the values of the ``depth`` largest scores (unordered)."""
    width = masked.shape[1]
    k = min(depth, width)
    if k < width:
        top = np.argpartition(-masked, k - 1, axis=1)[:, :k]
    else:
        top = np.broadcast_to(np.arange(width), masked.shape)
    return top, np.take_along_axis(masked, top, axis=1)


def ranks_at(
    top: IntArray,
    top_values: ScoreArray,
    rows: IntArray,
    items: IntArray,
    depth: int,
    width: int,
) -> NDArray[np.float32]:
    """Rank (0 = best) of ``items[j]`` in row ``rows[j]``: its place when the row's scores are
    sorted best first, ties going to the lower item index; ``depth`` when it is not among the
    row's top ``depth`` or its score is not finite. Only the top (``top``/``top_values`` from
    :func:`top_scores`) is sorted (one ``lexsort`` of every row at once), and the places go
    into a rows x width table that is read once."""
    n_rows, size = top.shape
    order = np.lexsort((top, -top_values), axis=1)  # best first, ties: lower index first
    ranked_items = np.take_along_axis(top, order, axis=1)
    ranked_values = np.take_along_axis(top_values, order, axis=1)
    places = np.broadcast_to(np.arange(size), (n_rows, size))
    keep = np.isfinite(ranked_values) & (places < depth)
    table = np.full((n_rows, width), depth, dtype=np.float32)
    table[np.nonzero(keep)[0], ranked_items[keep]] = places[keep]
    result: NDArray[np.float32] = table[rows, items]
    return result


class FeatureBuilder:
    """Builds candidates and their features from fitted sources and their training window."""

    def __init__(
        self,
        sources: Mapping[str, CandidateSource],
        window: Interactions,
        *,
        per_source: int = 50,
        rank_depth: int = 200,
        devices: Sequence[str] = (),
        trend_half_life_days: float = 7.0,
    ) -> None:
        self.sources = dict(sources)
        self.window = window
        self.per_source = per_source
        self.rank_depth = rank_depth
        self.devices = {name: code for code, name in enumerate(devices)}
        counts = window.item_counts
        self.log_popularity = np.log1p(counts)
        age = window.last_timestamp - window.timestamps
        decay = np.exp2(-age / (trend_half_life_days * DAY_S))
        self.trend = np.log1p(np.bincount(window.items, decay, minlength=window.n_items))
        self.first_seen = window.item_first_seen
        meta = window.metadata
        years = [meta[i].release_year if i in meta else None for i in window.item_ids]
        self.release_year = np.array([np.nan if y is None else y for y in years], dtype=np.float64)
        names = sorted({g for i in window.item_ids if i in meta for g in meta[i].genres})
        column = {g: j for j, g in enumerate(names)}
        self.item_genres = np.zeros((window.n_items, max(len(names), 1)))
        for position, item in enumerate(window.item_ids):
            for genre in meta[item].genres if item in meta else ():
                self.item_genres[position, column[genre]] = 1.0
        self.genre_counts = self.item_genres.sum(axis=1)
        hours = np.zeros((window.n_items, HOUR_BINS))
        np.add.at(hours, (window.items, _hour_bin(window.local_timestamps)), 1.0)
        overall = (hours.sum(axis=0) + 1.0) / (hours.sum() + HOUR_BINS)
        self.hour_lift = (hours + overall) / (hours.sum(axis=1, keepdims=True) + 1.0) / overall
        binary = window.matrix.copy()
        binary.data[:] = 1.0
        self.binary = binary
        self.eligible = {name: source.eligible() for name, source in self.sources.items()}

    # ---------------------------------------------------------------- feature names

    def names(self) -> list[str]:
        out: list[str] = []
        for name in self.sources:
            out += [f"{name}_score", f"{name}_z", f"{name}_rank"]
        return [*out, *_LATER]

    # ---------------------------------------------------------------- people

    def _people(
        self,
        scores: dict[str, ScoreArray],
        seen: list[IntArray],
        times: list[FloatArray],
    ) -> People:
        n = len(seen)
        last = np.array([t.max() if t.size else -np.inf for t in times])
        day = np.array([float((t > t.max() - DAY_S).sum()) if t.size else 0.0 for t in times])
        week = np.array([float((t > t.max() - 7 * DAY_S).sum()) if t.size else 0.0 for t in times])
        shares = np.zeros((n, self.item_genres.shape[1]))
        popularity = np.zeros(n)
        for p, items in enumerate(seen):
            if items.size:
                total = self.item_genres[items].sum(axis=0)
                shares[p] = total / max(total.sum(), 1.0)
                popularity[p] = self.log_popularity[items].mean()
        sizes = np.array([float(s.size) for s in seen])
        return People(scores, seen, sizes, last, day, week, shares, popularity)

    def people_from_rows(self, rows: IntArray) -> People:
        """People who are in the window (training rows)."""
        window = self.window
        scores = {name: source.score_users(rows) for name, source in self.sources.items()}
        seen = [
            self.binary.indices[self.binary.indptr[r] : self.binary.indptr[r + 1]] for r in rows
        ]
        times = [window.user_sequence(int(r))[1] for r in rows]
        return self._people(scores, seen, times)

    def people_from_history(self, items: IntArray, timestamps: FloatArray) -> People:
        """One person outside the window, from their history (positions, in time order)."""
        scores = {
            name: source.score_history(items, timestamps)[None, :]
            for name, source in self.sources.items()
        }
        return self._people(scores, [np.unique(items)], [timestamps])

    # ---------------------------------------------------------------- candidates

    def candidates(
        self,
        people: People,
        at: FloatArray,
        devices: Sequence[str | None] | None = None,
        *,
        exclude_seen: bool = True,
        offsets: FloatArray | None = None,
    ) -> Candidates:
        """The union of every source's top ``per_source`` per person, with features."""
        pool = self.pool(people, exclude_seen=exclude_seen)
        return self.at_moment(pool, at, devices, offsets)

    def pool(self, people: People, *, exclude_seen: bool = True) -> Pool:
        """The candidates and every feature that does not depend on the moment asked about
        (all but ``MOMENT_FEATURES``): what one history always yields, so a server may keep it
        while the history stays the same (:meth:`at_moment` completes it per request)."""
        n = len(people.seen)
        width = self.window.n_items
        names = list(people.scores)
        stack = np.stack([people.scores[name] for name in names]).astype(np.float32, copy=False)
        eligible = np.stack([self.eligible[name] for name in names])[:, None, :]
        masked = np.where(eligible, stack, np.float32(-np.inf)).astype(np.float32, copy=False)
        if exclude_seen:
            for p, seen in enumerate(people.seen):
                masked[:, p, seen] = -np.inf
        flat = masked.reshape(len(names) * n, width)
        full_top, top_values = top_scores(flat, max(self.per_source, self.rank_depth))
        top = full_top
        if top.shape[1] > self.per_source:
            best = np.argpartition(-top_values, self.per_source - 1, axis=1)[:, : self.per_source]
            top = np.take_along_axis(top, best, axis=1)
            found = np.isfinite(np.take_along_axis(top_values, best, axis=1))
        else:
            found = np.isfinite(top_values)
        hits = np.zeros(flat.shape, dtype=bool)
        np.put_along_axis(hits, top, found, axis=1)
        person, items = np.nonzero(hits.reshape(len(names), n, width).any(axis=0))
        offsets = np.concatenate([[0], np.cumsum(np.bincount(person, minlength=n))])
        finite = np.isfinite(flat)
        count = np.maximum(finite.sum(axis=1), 1)
        safe = np.where(finite, flat, np.float32(0.0))
        mean = safe.sum(axis=1) / count
        spread = np.sqrt(np.where(finite, (safe - mean[:, None]) ** 2, 0.0).sum(axis=1) / count)
        rows = (np.arange(len(names))[:, None] * n + person[None, :]).ravel()
        ranks = ranks_at(
            full_top, top_values, rows, np.tile(items, len(names)), self.rank_depth, width
        )
        ranks = ranks.reshape(len(names), person.size)
        raw = stack[:, person, items]
        features = np.empty((person.size, 3 * len(names) + len(_LATER)), dtype=np.float32)
        for s in range(len(names)):
            row = s * n + person
            features[:, 3 * s] = raw[s]
            features[:, 3 * s + 1] = (raw[s] - mean[row]) / np.maximum(spread[row], 1e-9)
            features[:, 3 * s + 2] = ranks[s]
        later = 3 * len(names)
        genre_hits = self.item_genres[items] * people.genre_share[person]
        fixed = {
            "item_log_popularity": self.log_popularity[items],
            "item_trend": self.trend[items],
            "user_log_history": np.log1p(people.n_history[person]),
            "user_recent_day": people.recent_day[person],
            "user_recent_week": people.recent_week[person],
            "user_history_popularity": people.history_popularity[person],
            "genre_affinity_mean": genre_hits.sum(axis=1)
            / np.maximum(self.genre_counts[items], 1.0),
            "genre_affinity_max": genre_hits.max(axis=1),
        }
        for j, name in enumerate(_LATER):
            if name in fixed:
                features[:, later + j] = fixed[name]
        features[:, later + _MOMENT_COLUMNS] = np.nan
        return Pool(
            offsets.astype(np.int64),
            items.astype(np.int64),
            person,
            features,
            people.last_seen,
        )

    def at_moment(
        self,
        pool: Pool,
        at: FloatArray,
        devices: Sequence[str | None] | None = None,
        offsets: FloatArray | None = None,
    ) -> Candidates:
        """The pool's candidates with the features of the moment: ``at`` (seconds, one per
        person), each person's device and UTC offset (seconds east; default 0)."""
        n = pool.offsets.size - 1
        items, person = pool.items, pool.person
        at_p = np.asarray(at, dtype=np.float64)[person]
        local = at_p if offsets is None else at_p + np.asarray(offsets, dtype=np.float64)[person]
        device_codes = np.array(
            [-1 if d is None else self.devices.get(d, -1) for d in (devices or [None] * n)],
            dtype=np.float64,
        )
        first_seen = self.first_seen[items]
        moment = (
            np.nan_to_num(at_p / YEAR_S + 1970.0, nan=0.0) - self.release_year[items],
            np.where(np.isfinite(first_seen), (at_p - first_seen) / DAY_S, -1),
            self.hour_lift[items, _hour_bin(local)],
            np.maximum(at_p - pool.last_seen[person], 0.0) / DAY_S,
            (local % DAY_S) // 3600.0,
            ((local // DAY_S) + 3) % 7,
            device_codes[person],
        )
        features = pool.features.copy()
        later = features.shape[1] - len(_LATER)
        for column, values in zip(_MOMENT_COLUMNS, moment, strict=True):
            features[:, later + column] = values
        features[~np.isfinite(features)] = np.nan
        return Candidates(pool.offsets, items, features)


def labels_for(candidates: Candidates, positives: Sequence[IntArray]) -> NDArray[np.float32]:
    """1 for each candidate that is among its person's ``positives``, else 0."""
    labels = np.zeros(candidates.items.size, dtype=np.float32)
    for p, items in enumerate(positives):
        start, stop = candidates.offsets[p], candidates.offsets[p + 1]
        labels[start:stop] = np.isin(candidates.items[start:stop], items)
    return labels


__all__ = ["MOMENT_FEATURES", "Candidates", "FeatureBuilder", "People", "Pool", "labels_for"]
