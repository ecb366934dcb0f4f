"""From scored candidates to the list served: rules, diversity, then a reason per title.

The same steps run whatever produced the scores (the ranker, the charts of a cold start, the
live chart before any model exists), over one index of titles with its catalogue facts
(:class:`~limelight.recommend.catalog_view.Aligned`): drop what the person has seen, what their
profile may not watch and what is not available at the request's time; keep the best
``pool``; pick ``n`` with maximal marginal relevance.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from limelight.recommend.catalog_view import Aligned
from limelight.recommend.rules import allowed_maturity, mmr


@dataclass(frozen=True, slots=True)
class Request:
    """The parts of a request the rules need."""

    n: int
    at: float
    diversity: float
    maturity_limit: int | None
    seen: Collection[str]
    pool: int = 100


@dataclass(frozen=True, eq=False)
class Picked:
    """Positions chosen (in serving order) and the candidates they were chosen from."""

    positions: NDArray[np.int64]
    scores: NDArray[np.float64]
    candidates: NDArray[np.int64]


def select(
    item_ids: Sequence[str],
    index: Mapping[str, int],
    aligned: Aligned,
    positions: NDArray[np.int64],
    scores: NDArray[np.floating[Any]],
    request: Request,
) -> Picked:
    """Apply the rules to candidates (positions into ``item_ids``, best first) and pick."""
    keep = (positions >= 0) & np.isfinite(scores)
    positions = positions[keep]
    values = np.asarray(scores, dtype=np.float64)[keep]
    allowed = aligned.available(request.at)[positions]
    allowed &= allowed_maturity(aligned.maturity[positions], request.maturity_limit)
    if request.seen:
        seen = [index[i] for i in request.seen if i in index]
        if seen:
            allowed &= ~np.isin(positions, np.asarray(seen, dtype=np.int64))
    positions, values = positions[allowed][: request.pool], values[allowed][: request.pool]
    order = mmr(values, aligned.genres[positions], request.n, request.diversity)
    return Picked(positions[order], values[order], positions)


def genre_profile(genres: NDArray[np.float32], rows: NDArray[np.int64]) -> NDArray[np.float32]:
    """A person's genre taste: the normalised sum of the genre vectors of ``rows``."""
    if rows.size == 0:
        return np.zeros(genres.shape[1], dtype=np.float32)
    total = genres[rows].sum(axis=0)
    norm = float(np.linalg.norm(total))
    result: NDArray[np.float32] = (total / norm if norm > 0 else total).astype(np.float32)
    return result


__all__ = ["Picked", "Request", "genre_profile", "select"]
