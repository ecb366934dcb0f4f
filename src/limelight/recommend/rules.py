"""Business rules applied after ranking: what may be shown, and in what mix.

The ranker says what a person would most likely watch; these rules say what the service may
and should show: nothing finished (unfinished titles go to "continue watching" instead), nothing
above the profile's maturity limit, nothing outside its availability window at the request's
time, and a list that is not ten variations of one genre (maximal marginal relevance with a
``diversity`` knob).

Maturity ratings map to the youngest age they suit, so one ordering covers film and TV systems
(``G`` 0, ``TV-Y7`` 7, ``PG`` 10, ``PG-13``/``TV-14`` 13, ``R``/``TV-MA`` 17, ``NC-17`` 18) and
plain ages (``"12"``, ``"FSK 16"``, ``"16+"``). A profile's limit comes from its traits: a
``maturity`` trait (a rating or an age), ``max_maturity``, or ``kids``/``kid``/``child`` true
(limit 7). For a limited profile a title without a known rating is left out: failing closed is
the safe side of a kids' profile.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

UNRATED = -1
KIDS_LIMIT = 7
_LEVELS = {
    "G": 0,
    "TV-Y": 0,
    "TV-G": 0,
    "U": 0,
    "ALL": 0,
    "TV-Y7": 7,
    "TV-Y7-FV": 7,
    "PG": 10,
    "TV-PG": 10,
    "PG-13": 13,
    "TV-14": 13,
    "12A": 12,
    "R": 17,
    "TV-MA": 17,
    "NC-17": 18,
    "X": 18,
    "ADULT": 18,
}
_AGE = re.compile(r"(\d{1,2})")


def maturity_level(rating: str | int | float | None) -> int:
    """The youngest age a rating suits (``UNRATED`` when unknown)."""
    if rating is None or isinstance(rating, bool):
        return UNRATED
    if isinstance(rating, int | float):
        return int(rating)
    text = rating.strip().upper()
    if text in _LEVELS:
        return _LEVELS[text]
    match = _AGE.search(text)
    return int(match.group(1)) if match else UNRATED


def profile_limit(traits: Mapping[str, Any] | None) -> int | None:
    """The highest maturity level a profile may see (None: no limit)."""
    if not traits:
        return None
    for key in ("maturity", "max_maturity", "maturity_rating"):
        if traits.get(key) is not None:
            level = maturity_level(traits[key])
            return None if level == UNRATED else level
    if any(traits.get(key) is True for key in ("kids", "kid", "child", "is_kid")):
        return KIDS_LIMIT
    return None


def allowed_maturity(levels: NDArray[np.int64], limit: int | None) -> NDArray[np.bool_]:
    """Which items a profile with ``limit`` may see (unrated ones only without a limit)."""
    if limit is None:
        return np.ones(levels.shape, dtype=bool)
    result: NDArray[np.bool_] = (levels != UNRATED) & (levels <= limit)
    return result


def mmr(
    relevance: NDArray[np.floating[Any]],
    vectors: NDArray[np.float32],
    n: int,
    diversity: float,
) -> NDArray[np.int64]:
    """Positions of ``n`` items picked by maximal marginal relevance, best first.

    Each step takes the item maximising ``(1 - diversity) * relevance - diversity * max
    similarity to what is already picked``, with relevance min-max scaled to [0, 1] and
    similarity the dot product of the (L2-normalised) genre ``vectors``. ``diversity`` 0 is
    the ranker's own order; 1 ignores relevance except to break ties.
    """
    count = relevance.shape[0]
    n = min(n, count)
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    if diversity <= 0 or count <= 1:
        return np.argsort(-relevance, kind="stable")[:n].astype(np.int64)
    low, high = float(relevance.min()), float(relevance.max())
    scaled = (relevance - low) / (high - low) if high > low else np.ones(count)
    similarity = vectors @ vectors.T
    chosen: list[int] = []
    closest = np.zeros(count)
    open_ = np.ones(count, dtype=bool)
    for _ in range(n):
        gain = (1.0 - diversity) * scaled - diversity * closest + 1e-9 * scaled
        gain[~open_] = -np.inf
        pick = int(np.argmax(gain))
        chosen.append(pick)
        open_[pick] = False
        closest = np.maximum(closest, similarity[pick])
    return np.asarray(chosen, dtype=np.int64)


__all__ = ["KIDS_LIMIT", "UNRATED", "allowed_maturity", "maturity_level", "mmr", "profile_limit"]
