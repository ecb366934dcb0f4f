"""The rules of an experiment's life: what may change in each state, and layer slices.

Kept apart from the service so that the rules read in one place: a draft may change anything
but its key; a running experiment only what does not move units between arms; a stopped one
only how it is described and analysed. A running experiment holds a slice of its layer's hash
space, allocated inside the write transaction that starts (or ramps) it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from limelight.errors import InvalidInput
from limelight.experiments import store
from limelight.experiments.assignment import allocate, slice_size
from limelight.experiments.errors import ExperimentConflict, validated
from limelight.experiments.model import (
    RUNNING_CHANGES,
    STOPPED_CHANGES,
    Experiment,
    ExperimentSpec,
)
from limelight.storage.database import Database


def revised(current: Experiment, changes: Mapping[str, Any], at: datetime) -> Experiment:
    """``current`` with ``changes`` applied, if its state allows them (buckets unchanged)."""
    if "key" in changes and changes["key"] != current.key:
        raise InvalidInput("an experiment's key cannot change", field="key")
    spec = validated(ExperimentSpec, {**current.spec().model_dump(mode="json"), **changes})
    changed = {
        name
        for name in ExperimentSpec.model_fields
        if getattr(spec, name) != getattr(current, name)
    }
    limit = {"draft": None, "running": RUNNING_CHANGES, "stopped": STOPPED_CHANGES}[current.status]
    if limit is not None and changed - limit:
        field = sorted(changed - limit)[0]
        raise ExperimentConflict(
            f"{field} cannot change while the experiment is {current.status}", field=field
        )
    return Experiment.model_validate(
        {**current.model_dump(), **spec.model_dump(), "updated_at": at}
    )


def take_slice(
    database: Database, connection: Connection, experiment: Experiment, traffic_percent: float
) -> tuple[int, int]:
    """A slice of the layer for ``traffic_percent``, inside the caller's write transaction.

    A ramping experiment keeps its start, so every unit it had stays in. On PostgreSQL, writers
    run concurrently, so an advisory lock on the layer makes two starts in one layer take
    turns; SQLite's single writer already does.
    """
    layer = experiment.layer_name
    if not database.is_sqlite:
        lock = int.from_bytes(hashlib.sha256(layer.encode()).digest()[:8], "big", signed=True)
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock})
    taken = [
        other.buckets
        for other in store.running_in_layer(connection, layer)
        if other.key != experiment.key and other.buckets is not None
    ]
    prefer = experiment.buckets[0] if experiment.buckets else None
    found = allocate(slice_size(traffic_percent), taken, prefer=prefer)
    if found is None:
        raise ExperimentConflict(
            f"layer {experiment.layer!r} has no free slice of {traffic_percent:g}%: the "
            "running experiments of the layer hold the rest",
            field="traffic_percent",
        )
    return found
