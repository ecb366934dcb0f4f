"""Why each title is on the list, in words a person can check.

"Because you watched X" must name a title the person really watched, and the one that did most
to bring this title up: for each recommended title we look at the item-item weights from the
person's history (ItemKNN's neighbour weights, else EASE's) and name the history title with the
largest weight. Titles with no such link are explained by what is true of them: nobody had
watched them when the model was trained ("new for you"), they are rising now ("trending"), or
they are among the most watched ("popular"); anything else is "picked for you".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from limelight.candidates import EASE, ItemKNN
from limelight.ranking import Ranker

BECAUSE = "because_you_watched"
TRENDING = "trending"
NEW = "new_for_you"
POPULAR = "popular"
FOR_YOU = "for_you"
SIMILAR = "similar_to"
#: A title within this many places of the top of a chart is "trending" or "popular".
CHART_DEPTH = 50


@dataclass(frozen=True, slots=True)
class Reason:
    """One item's reason: a stable ``kind`` for code, ``text`` for people, and the seed title."""

    kind: str
    text: str
    seed_item_id: str | None = None


def chart_ranks(scores: NDArray[np.floating[Any]]) -> NDArray[np.int64]:
    """Each item's place on a chart of ``scores`` (0 = top; items scoring 0 rank last)."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(scores.size, dtype=np.int64)
    ranks[order] = np.arange(scores.size)
    ranks[scores <= 0] = scores.size
    return ranks


class Explainer:
    """Reasons for one fitted model (built once per model version, then reused)."""

    def __init__(self, ranker: Ranker) -> None:
        self.item_ids = ranker.interactions_.item_ids
        sources = ranker.sources_
        self._links: sp.csr_matrix | None = None
        self._dense: NDArray[np.float32] | None = None
        self._dense_position: NDArray[np.int64] | None = None
        knn = sources.get("itemknn")
        ease = sources.get("ease")
        if isinstance(knn, ItemKNN):
            # Column i of the neighbour matrix lists who brings i up; as rows of the transpose.
            self._links = sp.csr_matrix(knn.weights_.T)
        elif isinstance(ease, EASE):
            self._dense = ease.weights_
            self._dense_position = ease.position_
        counts = ranker.interactions_.item_counts
        self.watched = counts > 0
        self.popular_rank = chart_ranks(counts)
        trending = sources.get("trending")
        trend = trending.cold_scores() if trending is not None else counts
        self.trending_rank = chart_ranks(np.asarray(trend, dtype=np.float64))

    def seeds(self, history: NDArray[np.int64], chosen: NDArray[np.int64]) -> NDArray[np.int64]:
        """For each chosen item, the history item that links to it most (-1 when none)."""
        out = np.full(chosen.size, -1, dtype=np.int64)
        if history.size == 0 or chosen.size == 0:
            return out
        if self._links is not None:
            links = self._links
            mine = np.zeros(links.shape[0], dtype=bool)
            mine[history] = True
            starts = links.indptr[chosen]
            lengths = links.indptr[chosen + 1] - starts
            total = int(lengths.sum())
            if total:
                owner = np.repeat(np.arange(chosen.size), lengths)
                at = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
                sources = links.indices[at]
                weights = np.where(mine[sources], links.data[at], 0.0)
                # Best link per chosen item (each item's links are contiguous): its largest
                # weight, the first link that has it.
                some = lengths > 0
                ends = np.cumsum(lengths)[some]
                best = np.maximum.reduceat(weights, ends - lengths[some])
                top = np.flatnonzero(weights == np.repeat(best, lengths[some]))
                first = top[np.r_[True, owner[top][1:] != owner[top][:-1]]]
                good = weights[first] > 0
                out[owner[first][good]] = sources[first][good]
        elif self._dense is not None and self._dense_position is not None:
            where = self._dense_position  # EASE may keep only the most watched titles
            rows, columns = where[history], where[chosen]
            usable_rows, usable_columns = rows >= 0, columns >= 0
            if usable_rows.any() and usable_columns.any():
                block = self._dense[np.ix_(rows[usable_rows], columns[usable_columns])]
                best = np.argmax(block, axis=0)
                found = block[best, np.arange(block.shape[1])] > 0
                targets = np.flatnonzero(usable_columns)[found]
                out[targets] = history[usable_rows][best[found]]
        return out

    def explain(
        self,
        history: NDArray[np.int64],
        chosen: NDArray[np.int64],
        title_of: Callable[[str], str | None],
        known: dict[int, int] | None = None,
    ) -> list[Reason]:
        """One reason per chosen item (model positions), naming seed titles via ``title_of``
        (the id stands in for a title the catalogue does not have). ``known`` holds seeds
        already found for this ``history`` (item -> seed); the missing ones are added."""
        if known is None:
            seeds = self.seeds(history, chosen).tolist()
        else:
            wanted = chosen.tolist()
            missing = [item for item in wanted if item not in known]
            if missing:
                found = self.seeds(history, np.asarray(missing, dtype=np.int64))
                known.update(zip(missing, found.tolist(), strict=True))
            seeds = [known[item] for item in wanted]
        reasons: list[Reason] = []
        for item, seed in zip(chosen.tolist(), seeds, strict=True):
            if seed >= 0:
                seed_id = self.item_ids[seed]
                name = title_of(seed_id) or seed_id
                reasons.append(Reason(BECAUSE, f"Because you watched {name}", seed_id))
            else:
                reasons.append(self.chart_reason(item))
        return reasons

    def chart_reason(self, item: int) -> Reason:
        """The reason of a title that no history item explains."""
        if not self.watched[item]:
            return Reason(NEW, "New for you")
        if self.trending_rank[item] < CHART_DEPTH and (
            self.trending_rank[item] <= self.popular_rank[item]
        ):
            return Reason(TRENDING, "Trending now")
        if self.popular_rank[item] < CHART_DEPTH:
            return Reason(POPULAR, "Popular")
        return Reason(FOR_YOU, "Picked for you")


__all__ = [
    "BECAUSE",
    "FOR_YOU",
    "NEW",
    "POPULAR",
    "SIMILAR",
    "TRENDING",
    "Explainer",
    "Reason",
    "chart_ranks",
]
