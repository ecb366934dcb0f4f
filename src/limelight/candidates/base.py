"""The one contract every recommender follows, documented here once.

Habits (scikit-learn, implicit):

* The constructor only stores its keyword parameters, unchanged, under the same names;
  :meth:`Recommender.get_params` reads them back and :meth:`Recommender.clone` makes an unfitted
  copy. No work and no validation happens before ``fit``.
* ``fit(interactions) -> self`` validates its input and learns. Everything learned ends in
  ``_`` (``interactions_``, ``popularity_``, ``item_factors_``, ...). Fitting again starts over.
* Using a model before ``fit`` raises :class:`limelight.errors.NotFitted`; it never answers
  with an empty list.
* ``recommend(users, n, exclude_seen=True)`` answers many users at once (ids or row indices of
  the training matrix) with :class:`Recommendations`. A user with no history (unknown id or
  empty row) is cold and gets the popular titles, never an error.
* ``recommend_for_history(items, timestamps, n)`` scores someone who is *not* in the training
  data from their recent history. This is how the engine reacts to an event without retraining:
  the event changes the history, the next answer changes with it. History items the model does
  not know are ignored (a title newer than the model carries no signal for it).
* ``similar_items(item_id, n)`` lists the nearest titles; an unknown item raises
  :class:`limelight.errors.UnknownItem`.
* Randomness comes only from the model's own ``random_state``: the same data and the same
  ``random_state`` give the same answers (sources with no randomness take no ``random_state``).
* Nothing builds a dense users x items array: users are scored in batches whose dense block of
  ``batch x items`` stays small.

:class:`CandidateSource` implements the verbs once on top of three scoring hooks; a source only
says how to score rows of known users, a free-standing history, and the neighbours of one item.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from limelight.candidates.data import FloatArray, IntArray, Interactions
from limelight.errors import InvalidInput, NotFitted

ScoreArray = NDArray[np.float32]
Users = Sequence[str] | Sequence[int] | NDArray[np.integer[Any]]

#: Most scores kept in one dense block (batch x items), about 32 MB of float32.
BLOCK_CELLS = 1 << 23


@dataclass(frozen=True, eq=False)
class Recommendations:
    """Top-n lists for a batch of people: one row per person, best first.

    Rows shorter than ``n`` (fewer eligible items) are padded with index -1 and score -inf.
    """

    indices: IntArray
    scores: ScoreArray
    catalogue: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    @property
    def ids(self) -> list[list[str]]:
        """Item ids per row, padding dropped."""
        return [[self.catalogue[i] for i in row if i >= 0] for row in self.indices]

    def pairs(self, row: int = 0) -> list[tuple[str, float]]:
        """``(item_id, score)`` of one row, padding dropped."""
        return [
            (self.catalogue[int(i)], float(s))
            for i, s in zip(self.indices[row], self.scores[row], strict=True)
            if i >= 0
        ]


def top_n(scores: NDArray[np.floating[Any]], n: int) -> tuple[IntArray, ScoreArray]:
    """Indices and values of the ``n`` largest entries of each row, best first (-1 / -inf
    where a row has fewer than ``n`` finite entries). Ties go to the lower index."""
    scores = np.atleast_2d(scores)
    rows, width = scores.shape
    k = min(n, width)
    if k <= 0:
        return np.full((rows, n), -1, dtype=np.int64), np.full((rows, n), -np.inf, np.float32)
    if k < width:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(width), (rows, width)).copy()
    values = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -values), axis=1)
    idx = np.take_along_axis(part, order, axis=1).astype(np.int64)
    val = np.take_along_axis(values, order, axis=1).astype(np.float32)
    idx[~np.isfinite(val)] = -1
    val[idx < 0] = -np.inf
    if k < n:
        idx = np.pad(idx, ((0, 0), (0, n - k)), constant_values=-1)
        val = np.pad(val, ((0, 0), (0, n - k)), constant_values=-np.inf)
    return idx, val


def batches(count: int, width: int) -> list[slice]:
    """Slices of ``range(count)`` whose dense block of ``batch x width`` stays small."""
    size = max(1, min(4096, BLOCK_CELLS // max(width, 1)))
    return [slice(start, min(start + size, count)) for start in range(0, count, size)]


def csr_row_sum(
    matrix: sp.csr_matrix, rows: IntArray, weights: FloatArray | None = None
) -> ScoreArray:
    """``sum_k weights[k] * matrix[rows[k]]`` as a dense float32 vector, without building a
    sparse slice: one gather of the rows' entries and one ``bincount`` (serving scores one
    history this way in microseconds)."""
    indptr = matrix.indptr
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    total = int(lengths.sum())
    width = matrix.shape[1]
    if total == 0:
        return np.zeros(width, dtype=np.float32)
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
    values = matrix.data[offsets].astype(np.float64)
    if weights is not None:
        values *= np.repeat(np.asarray(weights, dtype=np.float64), lengths)
    summed = np.bincount(matrix.indices[offsets], weights=values, minlength=width)
    return summed.astype(np.float32)


def check_n(n: int) -> None:
    """Raise :class:`InvalidInput` unless ``n`` is a positive integer."""
    if not isinstance(n, int | np.integer) or n < 1:
        raise InvalidInput("n must be a positive integer", field="n")


class Recommender(ABC):
    """Base of every recommender: the contract in the module docstring above."""

    def get_params(self) -> dict[str, Any]:
        """The constructor's parameters, as stored."""
        names = [
            name
            for name, parameter in inspect.signature(type(self).__init__).parameters.items()
            if name != "self" and parameter.kind is not parameter.VAR_KEYWORD
        ]
        return {name: getattr(self, name) for name in names}

    def clone(self) -> Self:
        """An unfitted copy with the same parameters."""
        params = {
            key: value.clone() if isinstance(value, Recommender) else value
            for key, value in self.get_params().items()
        }
        return type(self)(**params)

    def __repr__(self) -> str:
        params = ", ".join(f"{key}={value!r}" for key, value in self.get_params().items())
        return f"{type(self).__name__}({params})"

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "interactions_")

    def _check_fitted(self) -> Interactions:
        if not hasattr(self, "interactions_"):
            raise NotFitted(f"{type(self).__name__} is not fitted; call fit(interactions) first")
        interactions: Interactions = self.interactions_
        return interactions

    @abstractmethod
    def fit(self, interactions: Interactions) -> Self:
        """Learn from ``interactions``; returns self."""

    @abstractmethod
    def recommend(self, users: Users, n: int = 10, *, exclude_seen: bool = True) -> Recommendations:
        """Top ``n`` items for each user (ids or training row indices)."""

    @abstractmethod
    def recommend_for_history(
        self,
        items: Sequence[str],
        timestamps: Sequence[float] | None = None,
        n: int = 10,
        *,
        exclude_seen: bool = True,
    ) -> Recommendations:
        """Top ``n`` items for one person outside the training data, from their history."""

    @abstractmethod
    def similar_items(self, item_id: str, n: int = 10) -> Recommendations:
        """The ``n`` titles nearest to ``item_id`` (itself excluded)."""

    # ---------------------------------------------------------------- shared helpers

    def _user_rows(self, users: Users) -> IntArray:
        """Training row per user (-1 for an id the model has not seen)."""
        interactions = self._check_fitted()
        values = list(users) if not isinstance(users, np.ndarray) else users
        if isinstance(values, np.ndarray) and np.issubdtype(values.dtype, np.integer):
            rows = values.astype(np.int64).ravel()
        elif all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values):
            rows = np.asarray(values, dtype=np.int64).reshape(-1)
        else:
            index = interactions.user_index
            return np.asarray([index.get(str(v), -1) for v in values], dtype=np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= interactions.n_users):
            raise InvalidInput("user index out of range", field="users")
        return rows

    def _history_positions(
        self, items: Sequence[str], timestamps: Sequence[float] | None
    ) -> tuple[IntArray, FloatArray]:
        """Known history items and their times in time order (unknown items dropped)."""
        interactions = self._check_fitted()
        if timestamps is not None and len(timestamps) != len(items):
            raise InvalidInput("items and timestamps differ in length", field="timestamps")
        stamps = (
            np.arange(len(items), dtype=np.float64)
            if timestamps is None
            else np.asarray(timestamps, dtype=np.float64)
        )
        index = interactions.item_index
        keep = [(index[str(k)], t) for k, t in zip(items, stamps, strict=True) if str(k) in index]
        if not keep:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        positions = np.asarray([p for p, _ in keep], dtype=np.int64)
        times = np.asarray([t for _, t in keep], dtype=np.float64)
        order = np.argsort(times, kind="stable")
        return positions[order], times[order]


class CandidateSource(Recommender):
    """A recommender that can score every catalogue item for a person.

    Subclasses implement ``_fit``, ``_score_rows``, ``_score_history`` and ``_similar``; the
    verbs, batching, exclusion of seen items and cold-start answers live here.
    """

    #: Whether the source can score titles nobody has interacted with yet (content can).
    scores_unwatched: ClassVar[bool] = False

    interactions_: Interactions
    popularity_: FloatArray

    def fit(self, interactions: Interactions) -> Self:
        if not isinstance(interactions, Interactions):
            raise InvalidInput("fit expects an Interactions log", field="interactions")
        if len(interactions) == 0:
            raise InvalidInput("cannot fit on an empty interaction log", field="interactions")
        for name in [n for n in vars(self) if n.endswith("_") and not n.startswith("__")]:
            delattr(self, name)
        self._validate_params()
        self._fit(interactions)
        self.interactions_ = interactions
        self.popularity_ = interactions.item_counts
        return self

    def _validate_params(self) -> None:
        """Raise :class:`InvalidInput` for a parameter out of range (called by ``fit``)."""

    @abstractmethod
    def _fit(self, interactions: Interactions) -> None: ...

    @abstractmethod
    def _score_rows(self, rows: IntArray) -> ScoreArray:
        """Scores of every item for training rows ``rows`` (a dense batch x items block)."""

    @abstractmethod
    def _score_history(self, items: IntArray, timestamps: FloatArray) -> ScoreArray:
        """Scores of every item for a history (non-empty, in time order)."""

    @abstractmethod
    def _similar(self, item: int) -> ScoreArray:
        """Similarity of every item to ``item``."""

    # ---------------------------------------------------------------- public scoring

    def score_users(self, rows: IntArray) -> ScoreArray:
        """Raw scores of every item for training rows (cold rows get popularity). Callers
        batch rows; see :func:`batches`."""
        interactions = self._check_fitted()
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((rows.size, interactions.n_items), dtype=np.float32)
        warm = (rows >= 0) & (interactions.user_counts[np.maximum(rows, 0)] > 0)
        if warm.any():
            out[warm] = self._score_rows(rows[warm])
        if (~warm).any():
            out[~warm] = self.cold_scores()
        return out

    def score_history(self, items: IntArray, timestamps: FloatArray) -> ScoreArray:
        """Raw scores of every item for a history of item positions in time order."""
        self._check_fitted()
        if items.size == 0:
            return self.cold_scores()
        return self._score_history(items, timestamps)

    def cold_scores(self) -> ScoreArray:
        """What a person with no history is shown: popularity."""
        return self.popularity_.astype(np.float32)

    def eligible(self) -> NDArray[np.bool_]:
        """Items this source may recommend."""
        interactions = self._check_fitted()
        if self.scores_unwatched:
            return np.ones(interactions.n_items, dtype=bool)
        return self.popularity_ > 0

    # ---------------------------------------------------------------- the verbs

    def recommend(self, users: Users, n: int = 10, *, exclude_seen: bool = True) -> Recommendations:
        check_n(n)
        interactions = self._check_fitted()
        rows = self._user_rows(users)
        matrix = interactions.matrix
        blocked = ~self.eligible()
        indices = np.empty((rows.size, n), dtype=np.int64)
        scores = np.empty((rows.size, n), dtype=np.float32)
        for part in batches(rows.size, interactions.n_items):
            block_rows = rows[part]
            block = self.score_users(block_rows)
            block[:, blocked] = -np.inf
            if exclude_seen:
                for offset, row in enumerate(block_rows):
                    if row >= 0:
                        seen = matrix.indices[matrix.indptr[row] : matrix.indptr[row + 1]]
                        block[offset, seen] = -np.inf
            indices[part], scores[part] = top_n(block, n)
        return Recommendations(indices, scores, interactions.item_ids)

    def recommend_for_history(
        self,
        items: Sequence[str],
        timestamps: Sequence[float] | None = None,
        n: int = 10,
        *,
        exclude_seen: bool = True,
    ) -> Recommendations:
        check_n(n)
        interactions = self._check_fitted()
        positions, times = self._history_positions(items, timestamps)
        row = self.score_history(positions, times).astype(np.float32, copy=True)
        row[~self.eligible()] = -np.inf
        if exclude_seen:
            row[positions] = -np.inf
        indices, scores = top_n(row[None, :], n)
        return Recommendations(indices, scores, interactions.item_ids)

    def similar_items(self, item_id: str, n: int = 10) -> Recommendations:
        check_n(n)
        interactions = self._check_fitted()
        item = int(interactions.item_positions([item_id])[0])
        row = np.asarray(self._similar(item), dtype=np.float32).copy()
        row[~self.eligible()] = -np.inf
        row[item] = -np.inf
        indices, scores = top_n(row[None, :], n)
        return Recommendations(indices, scores, interactions.item_ids)


def require(condition: bool, message: str, field: str) -> None:
    """Raise :class:`InvalidInput` unless ``condition`` (parameter checks in ``fit``)."""
    if not condition:
        raise InvalidInput(message, field=field)


__all__ = [
    "CandidateSource",
    "Recommendations",
    "Recommender",
    "batches",
    "csr_row_sum",
    "require",
    "top_n",
]
