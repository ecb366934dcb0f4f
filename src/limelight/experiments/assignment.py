"""Deterministic assignment: the same unit gets the same variant in every process and machine.

Everything is derived from SHA-256 of text, never from Python's ``hash()`` (salted per
process) or a random generator, so a unit's variant can be recomputed anywhere from the
experiment definition alone: by a second API worker, by the CLI, by an analyst next year.

Three independent hashes decide, each salted differently so they are uncorrelated:

1. the global holdout: ``holdout_percent`` of all units never enter any experiment;
2. the layer bucket: ``bucket(layer, unit)`` in ``[0, BUCKETS)``; an experiment holds a slice
   of its layer's buckets whose size is its traffic, and slices of one layer never overlap, so
   experiments of one layer are mutually exclusive;
3. the variant: ``position(seed, unit)`` in ``[0, 1)`` against the cumulative weights.

>>> variant_index("exp-1", "user-42", [1.0, 1.0]) == variant_index("exp-1", "user-42", [1, 1])
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import Any, Literal

import orjson

from limelight.experiments import targeting
from limelight.experiments.model import Experiment

BUCKETS = 10_000
"""Slices of a layer: traffic is set in steps of 0.01%."""
HOLDOUT_SALT = "limelight:holdout"


def position(*parts: str) -> float:
    """A uniform number in ``[0, 1)`` from text: the first 8 bytes of SHA-256 over 2^64."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def bucket(layer: str, unit_id: str) -> int:
    """The unit's bucket in a layer's hash space."""
    return int(position("layer", layer, unit_id) * BUCKETS)


def in_holdout(unit_id: str, holdout_percent: float) -> bool:
    """Whether the unit is in the global holdout (kept out of every experiment)."""
    return holdout_percent > 0 and position(HOLDOUT_SALT, unit_id) * 100.0 < holdout_percent


def variant_index(seed: str, unit_id: str, weights: Sequence[float]) -> int:
    """Index of the variant for a unit, with probabilities proportional to ``weights``."""
    total = float(sum(weights))
    if total <= 0 or any(weight <= 0 for weight in weights):
        raise ValueError("weights must be positive")
    point = position("variant", seed, unit_id) * total
    for index, edge in enumerate(accumulate(float(weight) for weight in weights)):
        if point < edge:
            return index
    return len(weights) - 1  # rounding at the very top edge


def slice_size(traffic_percent: float) -> int:
    """How many buckets a traffic share takes (at least one, so 0.001% is not silently 0%)."""
    return max(1, min(BUCKETS, round(traffic_percent / 100.0 * BUCKETS)))


def allocate(
    size: int, taken: Sequence[tuple[int, int]], *, prefer: int | None = None
) -> tuple[int, int] | None:
    """The first free slice ``[start, start + size)`` between the ``taken`` ones, or ``None``.

    ``prefer`` keeps a slice's start when it still fits (a running experiment whose traffic is
    ramped up keeps every unit it had).

    >>> allocate(3000, [(0, 5000)])
    (5000, 8000)
    >>> allocate(6000, [(0, 5000)]) is None
    True
    """
    ordered = sorted(taken)

    def free(start: int) -> bool:
        end = start + size
        return end <= BUCKETS and all(end <= lo or start >= hi for lo, hi in ordered)

    if prefer is not None and free(prefer):
        return (prefer, prefer + size)
    for start in [0, *(hi for _, hi in ordered)]:
        if free(start):
            return (start, start + size)
    return None


Reason = Literal["assigned", "holdout", "traffic", "targeting"]


@dataclass(frozen=True, slots=True)
class Decision:
    """Which variant (by index) a unit gets, or why it gets none."""

    variant: int | None
    reason: Reason


@lru_cache(maxsize=256)
def _predicate(rule: str) -> targeting.Predicate:
    return targeting.parse(orjson.loads(rule))


def decide(
    experiment: Experiment,
    unit_id: str,
    *,
    holdout_percent: float = 0.0,
    attributes: Mapping[str, Any] | None = None,
) -> Decision:
    """Holdout, then traffic (the layer slice), then targeting, then the weighted split.

    ``attributes`` is ``{"context": ..., "profile": ...}`` for targeting; it is not consulted
    when the experiment has no targeting. The status and schedule are the caller's to check.
    """
    if in_holdout(unit_id, holdout_percent):
        return Decision(None, "holdout")
    low, high = experiment.buckets or (0, slice_size(experiment.traffic_percent))
    if not low <= bucket(experiment.layer_name, unit_id) < high:
        return Decision(None, "traffic")
    if experiment.targeting:
        rule = _predicate(orjson.dumps(experiment.targeting, option=orjson.OPT_SORT_KEYS).decode())
        if not rule(attributes or {}):
            return Decision(None, "targeting")
    weights = [variant.weight for variant in experiment.variants]
    return Decision(variant_index(experiment.hash_seed, unit_id, weights), "assigned")
