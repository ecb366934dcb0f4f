"""Forward-decayed sums: time-decayed totals per key, exact under out-of-order events and merges.

A decayed sum at time t is ``sum_i w_i * 2 ** (-(t - t_i) / half_life)``. Forward decay
(Cormode, Shkapenyuk, Srivastava and Xu, ICDE 2009) keeps instead, for a *landmark* L shared by
every key of a profile, ``sum_i w_i * 2 ** ((t_i - L) / half_life)``; reading at t multiplies by
``2 ** (-(t - L) / half_life)``. Compared with one (value, time) pair per key:

- folding an event costs one power for every key it touches, not one per key;
- shares between keys need no power at all (the factor is common to every key);
- two sums merge by addition (after bringing them to one landmark);
- a stored profile keeps one number per key.

The result does not depend on the order in which events arrive, so a profile folded live equals
one rebuilt from the raw log. When events move far past the landmark the values are rebased
(scaled once, every key) so that they stay far from overflow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

DAY_S = 86_400.0

#: Half-lives past the landmark before the values are rebased onto a later one (2**256 ~ 1e77).
REBASE_AFTER = 256.0


def growth(at: float, landmark: float, half_life_s: float) -> float:
    """What a weight observed at ``at`` counts for, against one observed at the landmark."""
    scale: float = 2.0 ** ((at - landmark) / half_life_s)
    return scale


def value_at(scaled: float, landmark: float, at: float, half_life_s: float) -> float:
    """A forward-decayed value as seen at time ``at`` (never read before its landmark)."""
    return scaled * growth(landmark, max(at, landmark), half_life_s)


def rebase(
    maps: Iterable[dict[str, float]], landmark: float, new: float, half_life_s: float
) -> None:
    """Move values kept against ``landmark`` onto ``new``, in place."""
    scale = growth(landmark, new, half_life_s)
    for values in maps:
        for key, value in values.items():
            values[key] = value * scale


def shares(values: Mapping[str, float]) -> dict[str, float]:
    """Each key's part of the positive total; independent of the time read (decay is common)."""
    total = sum(value for value in values.values() if value > 0)
    if total <= 0:
        return {key: 0.0 for key in values}
    return {key: max(value, 0.0) / total for key, value in values.items()}


def from_pairs(
    pairs: Mapping[str, tuple[float, float]], landmark: float, half_life_s: float
) -> dict[str, float]:
    """Values kept the old way, one ``(value, reference time)`` pair per key, against a
    landmark (how documents written before forward decay are read)."""
    return {key: value * growth(ref, landmark, half_life_s) for key, (value, ref) in pairs.items()}
