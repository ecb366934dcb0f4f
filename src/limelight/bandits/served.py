"""What learning needs of a logged decision: its context and the served action's features and
probability, read without building the decision's whole record.

Why: closing the reward windows of a page of artwork decisions learns hundreds of tiles from one
batch row (:mod:`limelight.decisions.batch`). Resolving each tile to its own
:class:`~limelight.decisions.DecisionRecord` copied the page's context, candidates and extras
per tile, and was a third of the sweep's time; a :class:`Served` view shares the batch row's
decoded parts (one context object per distinct member overlay, one action table), so learning
can also group the tiles by context (see ``LinearScorer.update_many``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from limelight.bandits.base import signature
from limelight.decisions import BATCH_KIND, DecisionRecord, fetch
from limelight.decisions.batch import (
    action_count,
    candidate_features,
    member_positions,
    members_by_batch,
)
from limelight.decisions.batch import action_id as candidate_id


@dataclass(frozen=True, slots=True)
class Served:
    """One decision as learning reads it. ``candidates`` is a batch row's packed candidates
    (``{"actions": ..., "features": ...}``, :mod:`limelight.decisions.batch`) or, for one
    decision, ``{"actions": [[id, features], ...]}``; ``positions`` picks this decision's
    candidates from its actions (None: all of them)."""

    point: str
    person_id: str | None
    context: Mapping[str, Any]
    chosen: Sequence[Any]
    probabilities: Sequence[Any]
    candidates: Mapping[str, Any]
    positions: Sequence[int] | None = None

    def action(self, action_id: str) -> tuple[Mapping[str, Any], float] | None:
        """The candidate's features and the probability it was served with (1.0 when it was a
        candidate that was not served); None when it was not a candidate."""
        packed = self.candidates
        for position in range(action_count(packed)) if self.positions is None else self.positions:
            if candidate_id(packed, position) == action_id:
                features = candidate_features(packed, position)
                break
        else:
            return None
        probability = 1.0
        for at, served in enumerate(self.chosen):
            if str(served) == action_id:
                if at < len(self.probabilities):
                    probability = float(self.probabilities[at])
                break
        return features, probability


def served_of(record: DecisionRecord) -> Served:
    """The view of one decision's own record (a single decision, or a member already resolved)."""
    record = record.unpacked()
    actions = [
        [candidate.get("id"), candidate.get("features")]
        for candidate in record.candidates
        if isinstance(candidate, Mapping)
    ]
    return Served(
        record.point,
        record.person_id,
        record.context,
        record.chosen,
        record.probabilities or [],
        {"actions": actions},
    )


def served_members(record: DecisionRecord, indices: Sequence[int]) -> dict[int, Served]:
    """Views of members ``indices`` of a batch row (out-of-range indices are left out). Members
    with equal context overlays share one context object."""
    record = record.unpacked()
    if record.kind != BATCH_KIND:
        return {}
    packed: Any = record.candidates
    extra = record.extra or {}
    count = int(extra.get("members", 0))
    overlays = extra.get("context") or [None] * count
    probabilities = record.probabilities or []
    contexts: dict[Any, Mapping[str, Any]] = {}
    found: dict[int, Served] = {}
    for index in indices:
        if not 0 <= index < count:
            continue
        overlay = overlays[index]
        key = None if not overlay else signature(overlay)
        context = contexts.get(key)
        if context is None:
            context = contexts[key] = {**record.context, **(overlay or {})}
        found[index] = Served(
            record.point,
            record.person_id,
            context,
            record.chosen[index],
            probabilities[index] if index < len(probabilities) else [],
            packed,
            member_positions(packed, index),
        )
    return found


def read_served(connection: Connection, decision_ids: Sequence[str]) -> dict[str, Served]:
    """Written decisions by id as :class:`Served` views, member ids (``<batch>~<k>``) read from
    their batch row once per batch (as :func:`limelight.decisions.resolve` does for records)."""
    found = {key: served_of(record) for key, record in fetch(connection, decision_ids).items()}
    bases = members_by_batch(decision_ids, found)
    for base, record in fetch(connection, list(bases)).items():
        wanted = bases[base]
        views = served_members(record, [index for _, index in wanted])
        for decision_id, index in wanted:
            if index in views:
                found[decision_id] = views[index]
    return found


__all__ = ["Served", "read_served", "served_members", "served_of"]
