"""Per-unit metric values, aggregated in SQL over the events table (SQLite and PostgreSQL).

One query per metric joins the experiment's exposures to the unit's events and sums, per unit
and per calendar day since the experiment's first exposure, the numerator and the denominator.
Day ``-1`` collects the pre-exposure window (the CUPED covariate). The database does the heavy
part (scanning events by the ``(person_id, ts)`` index); Python receives at most one row per
unit and active day, from which it builds the final values and the day-by-day timeline.

Only events at or after a unit's first exposure count, and before the end of the analysis
(the experiment's stop, or now), so an event from before the unit saw the variant can never be
credited to the variant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)

from limelight.experiments.metrics import NOT_ACTIVITY, Metric, Selector
from limelight.experiments.model import Experiment
from limelight.storage.schema import events, experiment_exposures

DAY_S = 86_400.0
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Units:
    """The exposed units of one experiment, in a fixed order every metric shares."""

    ids: list[str]
    variants: IntArray
    devices: list[str]
    first_exposed: FloatArray

    @property
    def origin(self) -> float:
        """The experiment's first exposure: day 0 of its timeline."""
        return float(self.first_exposed.min()) if self.first_exposed.size else 0.0

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Measurement:
    """Sparse per-unit, per-day sums of one metric (scaled), ready to fold into values."""

    metric: Metric
    unit: IntArray
    day: IntArray
    numerator: FloatArray
    denominator: FloatArray
    size: int

    def _sum(self, values: FloatArray, keep: NDArray[np.bool_]) -> FloatArray:
        counts = np.bincount(self.unit[keep], weights=values[keep], minlength=self.size)
        return counts.astype(np.float64)

    def post(self, before_day: int | None = None) -> tuple[FloatArray, FloatArray]:
        """Numerator and denominator per unit after exposure (up to ``before_day``, exclusive)."""
        keep = self.day >= 0
        if before_day is not None:
            keep &= self.day < before_day
        return self._sum(self.numerator, keep), self._sum(self.denominator, keep)

    def pre(self) -> tuple[FloatArray, FloatArray]:
        """Numerator and denominator per unit in the pre-exposure window."""
        keep = self.day == -1
        return self._sum(self.numerator, keep), self._sum(self.denominator, keep)


def units_of(connection: Connection, experiment: Experiment) -> Units:
    """The exposed units, with variants as indexes into ``experiment.variants``."""
    x = experiment_exposures
    query = (
        select(x.c.unit_id, x.c.variant, x.c.device, x.c.first_exposed_at)
        .where(x.c.experiment_key == experiment.key)
        .order_by(x.c.unit_id)
    )
    index = {variant.key: position for position, variant in enumerate(experiment.variants)}
    found = [row for row in connection.execute(query).all() if row[1] in index]
    return Units(
        ids=[str(row[0]) for row in found],
        variants=np.array([index[row[1]] for row in found], dtype=np.int64),
        devices=[str(row[2]) if row[2] else "unknown" for row in found],
        first_exposed=np.array([float(row[3]) for row in found], dtype=np.float64),
    )


def _number(connection: Connection, name: str) -> ColumnElement[float]:
    """A numeric property, 0 when absent or not a number (never an error on either backend)."""
    element = events.c.properties[name]
    if connection.dialect.name == "postgresql":
        is_number = func.jsonb_typeof(element) == "number"
    else:
        is_number = func.json_type(events.c.properties, f'$."{name}"').in_(["integer", "real"])
    return case((is_number, element.as_float()), else_=literal(0.0, Float))


def _matches(selector: Selector) -> ColumnElement[bool]:
    if selector.events:
        clauses: list[ColumnElement[bool]] = [events.c.type.in_(selector.events)]
    else:
        clauses = [events.c.type.not_in(NOT_ACTIVITY)]
    for path, wanted in selector.where.items():
        root, name = path.split(".", 1)
        column = events.c.properties if root == "properties" else events.c.context
        text = column[name].as_string()
        if wanted is True:
            clauses.append(text.is_not(None))
        elif wanted is False:
            clauses.append(text.is_(None))
        elif isinstance(wanted, str):
            clauses.append(text == wanted)
        else:
            clauses.append(text.in_(wanted))
    return and_(*clauses)


def _worth(connection: Connection, selector: Selector) -> ColumnElement[float]:
    name = selector.property_name
    return literal(1.0, Float) if name is None else _number(connection, name)


def _day(connection: Connection, origin: float) -> ColumnElement[int]:
    offset = (events.c.ts - literal(origin, Float)) / DAY_S
    if connection.dialect.name == "postgresql":
        return cast(func.floor(offset), Integer)
    return cast(offset, Integer)  # SQLite truncates; offsets here are never negative


def measure(
    connection: Connection,
    experiment: Experiment,
    metric: Metric,
    units: Units,
    *,
    end: float,
    pre_exposure_s: float,
) -> Measurement:
    """Sum ``metric`` per unit and day over the events of ``experiment``'s exposed units."""
    x = experiment_exposures
    first = x.c.first_exposed_at
    if experiment.unit == "user":
        same_unit = events.c.person_id == x.c.unit_id
    else:
        same_unit = events.c.anonymous_id == x.c.unit_id
    top = _matches(metric.numerator)
    bottom = _matches(metric.denominator) if metric.denominator is not None else None
    wanted = top if bottom is None else or_(top, bottom)

    post = and_(events.c.ts >= first + metric.offset_s, events.c.ts < end)
    if metric.length_s is not None:
        post = and_(post, events.c.ts < first + metric.offset_s + metric.length_s)
    window = post
    if pre_exposure_s > 0:
        window = or_(post, and_(events.c.ts >= first - pre_exposure_s, events.c.ts < first))

    day = case((events.c.ts < first, literal(-1, Integer)), else_=_day(connection, units.origin))
    zero = literal(0.0, Float)
    per_event = (
        select(
            x.c.unit_id.label("unit_id"),
            day.label("day"),
            case((top, _worth(connection, metric.numerator)), else_=zero).label("top"),
            (
                zero
                if bottom is None or metric.denominator is None
                else case((bottom, _worth(connection, metric.denominator)), else_=zero)
            ).label("bottom"),
        )
        .select_from(x.join(events, and_(same_unit, window, wanted)))
        .where(x.c.experiment_key == experiment.key)
        .subquery()
    )
    query = select(
        per_event.c.unit_id,
        per_event.c.day,
        func.sum(per_event.c.top),
        func.sum(per_event.c.bottom),
    ).group_by(per_event.c.unit_id, per_event.c.day)

    position = {unit_id: index for index, unit_id in enumerate(units.ids)}
    found = [row for row in connection.execute(query) if row[0] in position]
    top_scale = metric.numerator.scale
    bottom_scale = metric.denominator.scale if metric.denominator is not None else 1.0
    return Measurement(
        metric=metric,
        unit=np.array([position[row[0]] for row in found], dtype=np.int64),
        day=np.array([int(row[1]) for row in found], dtype=np.int64),
        numerator=np.array([float(row[2] or 0.0) * top_scale for row in found]),
        denominator=np.array([float(row[3] or 0.0) * bottom_scale for row in found]),
        size=len(units),
    )
