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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from limelight.candidates.base import CandidateSource, ScoreArray
from limelight.candidates.data import FloatArray, IntArray, Interactions
from limelight.candidates.popular import DAY_S

HOUR_BINS = 6
YEAR_S = 365.25 * DAY_S


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


def _hour_bin(at: FloatArray) -> IntArray:
    return ((at % DAY_S) // (DAY_S / HOUR_BINS)).astype(np.int64)


def _row_ranks(masked: ScoreArray, depth: int) -> NDArray[np.float32]:
    """Rank (0 = best) of each item in each row among finite scores, ``depth`` past the top."""
    rows, width = masked.shape
    ranks = np.full((rows, width), float(depth), dtype=np.float32)
    k = min(depth, width)
    top = np.argpartition(-masked, k - 1, axis=1)[:, :k] if k < width else None
    if top is None:
        top = np.broadcast_to(np.arange(width), (rows, width))
    values = np.take_along_axis(masked, top, axis=1)
    order = np.argsort(-values, axis=1, kind="stable")
    ordered = np.take_along_axis(top, order, axis=1)
    finite = np.isfinite(np.take_along_axis(values, order, axis=1))
    positions = np.broadcast_to(np.arange(k, dtype=np.float32), ordered.shape)
    np.put_along_axis(ranks, ordered, np.where(finite, positions, float(depth)), axis=1)
    return ranks


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
        np.add.at(hours, (window.items, _hour_bin(window.timestamps)), 1.0)
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
        return [
            *out,
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
        ]

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
    ) -> Candidates:
        """The union of every source's top ``per_source`` per person, with features."""
        n = len(people.seen)
        masked: dict[str, ScoreArray] = {}
        chosen = np.zeros((n, self.window.n_items), dtype=bool)
        for name, block in people.scores.items():
            values = block.astype(np.float32, copy=True)
            values[:, ~self.eligible[name]] = -np.inf
            if exclude_seen:
                for p, items in enumerate(people.seen):
                    values[p, items] = -np.inf
            masked[name] = values
            k = min(self.per_source, values.shape[1])
            top = np.argpartition(-values, k - 1, axis=1)[:, :k]
            finite = np.isfinite(np.take_along_axis(values, top, axis=1))
            np.put_along_axis(chosen, top, finite, axis=1)
        person, items = np.nonzero(chosen)
        offsets = np.concatenate([[0], np.cumsum(np.bincount(person, minlength=n))])
        columns: list[NDArray[Any]] = []
        for name, block in people.scores.items():
            values = masked[name]
            finite = np.isfinite(values)
            count = np.maximum(finite.sum(axis=1), 1)
            mean = np.where(finite, values, 0.0).sum(axis=1) / count
            spread = np.sqrt(
                np.where(finite, (values - mean[:, None]) ** 2, 0.0).sum(axis=1) / count
            )
            raw = block[person, items]
            columns += [
                raw,
                (raw - mean[person]) / np.maximum(spread[person], 1e-9),
                _row_ranks(values, self.rank_depth)[person, items],
            ]
        at_p = np.asarray(at, dtype=np.float64)[person]
        age = (np.nan_to_num(at_p / YEAR_S + 1970.0, nan=0.0)) - self.release_year[items]
        genre_hits = self.item_genres[items] * people.genre_share[person]
        device_codes = np.array(
            [-1 if d is None else self.devices.get(d, -1) for d in (devices or [None] * n)],
            dtype=np.float64,
        )
        columns += [
            self.log_popularity[items],
            self.trend[items],
            age,
            np.where(
                np.isfinite(self.first_seen[items]), (at_p - self.first_seen[items]) / DAY_S, -1
            ),
            self.hour_lift[items, _hour_bin(at_p)],
            np.log1p(people.n_history[person]),
            people.recent_day[person],
            people.recent_week[person],
            np.maximum(at_p - people.last_seen[person], 0.0) / DAY_S,
            people.history_popularity[person],
            genre_hits.sum(axis=1) / np.maximum(self.genre_counts[items], 1.0),
            genre_hits.max(axis=1),
            (at_p % DAY_S) // 3600.0,
            ((at_p // DAY_S) + 3) % 7,
            device_codes[person],
        ]
        features = np.column_stack(columns).astype(np.float32)
        features[~np.isfinite(features)] = np.nan
        return Candidates(offsets.astype(np.int64), items.astype(np.int64), features)


def labels_for(candidates: Candidates, positives: Sequence[IntArray]) -> NDArray[np.float32]:
    """1 for each candidate that is among its person's ``positives``, else 0."""
    labels = np.zeros(candidates.items.size, dtype=np.float32)
    for p, items in enumerate(positives):
        start, stop = candidates.offsets[p], candidates.offsets[p + 1]
        labels[start:stop] = np.isin(candidates.items[start:stop], items)
    return labels


__all__ = ["Candidates", "FeatureBuilder", "People", "labels_for"]
