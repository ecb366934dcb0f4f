"""Exponentially time-decayed sums, kept exact under out-of-order events and merges.

A decayed sum at time t is ``sum_i w_i * 2 ** (-(t - t_i) / half_life)``. We keep it as a pair
``(value, ref)``: the sum decayed to its reference time ``ref``. Adding an event, reading at any
later time and merging two sums are O(1), and the result does not depend on the order in which
events arrive, so a profile folded live equals one rebuilt from the raw log.
"""

from __future__ import annotations

DAY_S = 86_400.0

#: ``(value, ref_ts)``; stored in JSON as a two-element array. A tuple of floats, not a list:
#: the garbage collector stops tracking it, which matters for profiles kept in memory.
Decayed = tuple[float, float]


def factor(elapsed_s: float, half_life_s: float) -> float:
    """How much of a weight survives ``elapsed_s`` seconds."""
    survives: float = 2.0 ** (-elapsed_s / half_life_s)
    return survives


def add(entry: Decayed | None, weight: float, at: float, half_life_s: float) -> Decayed:
    """Add ``weight`` observed at time ``at`` to a decayed sum."""
    if entry is None:
        return (weight, at)
    value, ref = entry
    if at >= ref:
        return (value * factor(at - ref, half_life_s) + weight, at)
    return (value + weight * factor(ref - at, half_life_s), ref)


def merge(left: Decayed | None, right: Decayed | None, half_life_s: float) -> Decayed | None:
    """The decayed sum of two decayed sums."""
    if left is None:
        return right
    if right is None:
        return left
    value, ref = right
    return add(left, value, ref, half_life_s)


def value_at(entry: Decayed, at: float, half_life_s: float) -> float:
    """The sum as seen at time ``at`` (no decay is applied backwards in time)."""
    value, ref = entry
    return value * factor(max(0.0, at - ref), half_life_s)


def shares(entries: dict[str, Decayed], half_life_s: float) -> dict[str, float]:
    """Each key's part of the positive total. Independent of the time read (decay is common)."""
    if not entries:
        return {}
    latest = max(ref for _, ref in entries.values())
    values = {key: value_at(entry, latest, half_life_s) for key, entry in entries.items()}
    total = sum(value for value in values.values() if value > 0)
    if total <= 0:
        return {key: 0.0 for key in values}
    return {key: max(value, 0.0) / total for key, value in values.items()}
