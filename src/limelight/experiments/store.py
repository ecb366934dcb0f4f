"""Storage of experiments, exposures and the global holdout, on SQLite and PostgreSQL alike.

Functions take a connection, so the service decides the transactions (a start reads the layer
and writes the slice in one write transaction, which is what keeps two experiments of one layer
from taking the same buckets when two processes start them at once).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, select

from limelight.experiments.model import Experiment, Status
from limelight.storage.database import Database, rows
from limelight.storage.schema import experiment_exposures, experiment_settings, experiments

HOLDOUT = "holdout_percent"


def load(connection: Connection, key: str, *, for_update: bool = False) -> Experiment | None:
    """The experiment, or ``None``. ``for_update`` locks its row until the transaction ends
    (PostgreSQL; SQLite's single writer needs no lock), so two changes cannot interleave."""
    query = select(experiments.c.definition).where(experiments.c.experiment_key == key)
    if for_update:
        query = query.with_for_update()
    found = connection.execute(query).scalar_one_or_none()
    return None if found is None else Experiment.model_validate(found)


def load_all(connection: Connection, status: Status | None = None) -> list[Experiment]:
    query = select(experiments.c.definition).order_by(experiments.c.experiment_key)
    if status is not None:
        query = query.where(experiments.c.status == status)
    return [Experiment.model_validate(found) for found in connection.execute(query).scalars()]


def running_in_layer(connection: Connection, layer: str) -> list[Experiment]:
    query = select(experiments.c.definition).where(
        experiments.c.status == "running", experiments.c.layer == layer
    )
    return [Experiment.model_validate(found) for found in connection.execute(query).scalars()]


def _row(experiment: Experiment) -> dict[str, Any]:
    assert experiment.created_at is not None and experiment.updated_at is not None
    return {
        "experiment_key": experiment.key,
        "status": experiment.status,
        "layer": experiment.layer_name,
        "definition": experiment.model_dump(mode="json"),
        "created_at": experiment.created_at.timestamp(),
        "updated_at": experiment.updated_at.timestamp(),
    }


def insert(database: Database, connection: Connection, experiment: Experiment) -> bool:
    """Store a new experiment; ``False`` when its key is taken (even by a concurrent insert)."""
    # RETURNING, not rowcount: PostgreSQL's driver reports -1 rows for ON CONFLICT DO NOTHING
    statement = database.insert_ignore(experiments).returning(experiments.c.experiment_key)
    return connection.execute(statement, _row(experiment)).first() is not None


def save(database: Database, connection: Connection, experiment: Experiment) -> None:
    """Insert or replace the experiment's row."""
    connection.execute(database.upsert(experiments), _row(experiment))


def remove(connection: Connection, key: str) -> int:
    """Delete the experiment and its exposures; returns exposures removed."""
    removed = connection.execute(
        delete(experiment_exposures).where(experiment_exposures.c.experiment_key == key)
    ).rowcount
    connection.execute(delete(experiments).where(experiments.c.experiment_key == key))
    return int(removed)


# -- exposures ---------------------------------------------------------------------------------


def exposure(connection: Connection, key: str, unit_id: str) -> dict[str, Any] | None:
    found = connection.execute(
        select(experiment_exposures).where(
            experiment_exposures.c.experiment_key == key,
            experiment_exposures.c.unit_id == unit_id,
        )
    ).mappings()
    first = found.first()
    return None if first is None else dict(first)


def record_exposure(database: Database, connection: Connection, row: dict[str, Any]) -> bool:
    """Store a first exposure; ``False`` when the unit was already exposed (first one wins)."""
    statement = database.insert_ignore(experiment_exposures).returning(
        experiment_exposures.c.unit_id
    )
    return connection.execute(statement, row).first() is not None


def exposures_of(connection: Connection, unit_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Every exposure of these units, in every experiment."""
    query = (
        select(experiment_exposures)
        .where(experiment_exposures.c.unit_id.in_(list(unit_ids)))
        .order_by(experiment_exposures.c.first_exposed_at, experiment_exposures.c.experiment_key)
    )
    return rows(connection.execute(query))


def erase_units(connection: Connection, unit_ids: Sequence[str]) -> int:
    done = connection.execute(
        delete(experiment_exposures).where(experiment_exposures.c.unit_id.in_(list(unit_ids)))
    )
    return int(done.rowcount)


# -- settings ----------------------------------------------------------------------------------


def holdout_percent(connection: Connection) -> float:
    found = connection.execute(
        select(experiment_settings.c.value).where(experiment_settings.c.name == HOLDOUT)
    ).scalar_one_or_none()
    # stored as an object: SQLite's JSON columns have numeric affinity, so a bare number would
    # come back as a number rather than as JSON text
    return 0.0 if found is None else float(found["percent"])


def set_holdout_percent(database: Database, connection: Connection, percent: float) -> None:
    connection.execute(
        database.upsert(experiment_settings), {"name": HOLDOUT, "value": {"percent": percent}}
    )
