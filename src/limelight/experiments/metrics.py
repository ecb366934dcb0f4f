"""Metrics as data: what to count in the events table, per unit, after its first exposure.

A metric is a definition, not code, so that people can add one in a YAML file and so that the
same definition drives the SQL on SQLite and PostgreSQL alike (see :mod:`.measure`). Four
kinds cover the usual KPIs:

* ``proportion``: the share of units with at least one matching event (click-through: users
  with a click over exposed users; play-start rate).
* ``mean``: a per-unit sum averaged over units (watch minutes per user, plays per user).
* ``ratio``: a per-unit sum over another per-unit sum (clicks over impressions), analysed by
  the delta method because one user's impressions are not independent.
* ``retention``: the share of units with a matching event on day ``day`` after their first
  exposure; only units exposed at least ``day + 1`` days ago count, since the others have
  not yet had the chance to return.

Only events after each unit's first exposure count; the same definition over the days before
exposure gives the CUPED covariate. ``higher_is_better=False`` marks metrics such as skip rate
and errors, which guardrails watch for getting worse.
"""

from __future__ import annotations

import re
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from limelight.events.schema import EventType

MetricKind = Literal["proportion", "mean", "ratio", "retention"]
KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
PROPERTY_PATTERN = r"^properties\.[A-Za-z0-9_]{1,64}$"
WHERE_PATTERN = r"^(properties|context)\.[A-Za-z0-9_]{1,64}$"
NOT_ACTIVITY = ("identify", "alias")
"""Event types that say who someone is rather than what they did; never counted as activity."""

WhereValue = str | list[str] | bool


class Selector(BaseModel):
    """Which events to count and what each one is worth.

    ``events`` lists event types (empty: any activity). ``value`` is ``count`` (each event is
    worth 1) or ``properties.<name>`` (a numeric property, non-numbers count as 0), multiplied
    by ``scale`` (``1/60`` turns seconds into minutes). ``where`` keeps events whose
    ``properties.<name>`` or ``context.<name>`` equals a string, is one of a list of strings,
    or (``true``/``false``) is present or absent. Only strings are compared, because SQLite and
    PostgreSQL disagree on the types of JSON numbers.
    """

    model_config = ConfigDict(extra="forbid")

    events: list[EventType] = Field(default_factory=list, max_length=20)
    value: str = Field(default="count", max_length=80)
    scale: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    where: dict[str, WhereValue] = Field(default_factory=dict, max_length=10)

    @field_validator("value")
    @classmethod
    def _value(cls, value: str) -> str:
        if value != "count" and not re.fullmatch(PROPERTY_PATTERN, value):
            raise ValueError("value must be 'count' or 'properties.<name>'")
        return value

    @field_validator("where")
    @classmethod
    def _where(cls, where: dict[str, WhereValue]) -> dict[str, WhereValue]:
        for path, wanted in where.items():
            if not re.fullmatch(WHERE_PATTERN, path):
                raise ValueError(f"where key {path!r} must be properties.<name> or context.<name>")
            if isinstance(wanted, list) and not (0 < len(wanted) <= 100):
                raise ValueError(f"where {path!r}: a list of 1 to 100 strings")
        return where

    @property
    def property_name(self) -> str | None:
        return None if self.value == "count" else self.value.removeprefix("properties.")


class Metric(BaseModel):
    """One metric; see the module docstring for the kinds."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=KEY_PATTERN)
    kind: MetricKind
    description: str = Field(default="", max_length=1000)
    numerator: Selector
    denominator: Selector | None = None
    day: int | None = Field(default=None, ge=0, le=365)
    window_days: float | None = Field(default=None, gt=0, le=365)
    winsorize: float | None = Field(
        default=None, gt=0.5, lt=1.0, description="Cap per-unit values at this upper quantile."
    )
    higher_is_better: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> Metric:
        if (self.kind == "ratio") != (self.denominator is not None):
            raise ValueError("a ratio needs a denominator, and only a ratio has one")
        if (self.kind == "retention") != (self.day is not None):
            raise ValueError("a retention metric needs a day, and only retention has one")
        if self.kind == "retention" and self.window_days is not None:
            raise ValueError("a retention metric's window is its day; drop window_days")
        if self.winsorize is not None and self.kind in ("proportion", "retention"):
            raise ValueError("winsorization applies to means and ratios, not 0/1 metrics")
        return self

    @property
    def offset_s(self) -> float:
        """Where the metric's window starts, in seconds after the unit's first exposure."""
        return 0.0 if self.day is None else self.day * 86_400.0

    @property
    def length_s(self) -> float | None:
        """How long the window lasts (``None``: until the analysis ends)."""
        if self.day is not None:
            return 86_400.0
        return None if self.window_days is None else self.window_days * 86_400.0

    @property
    def binary(self) -> bool:
        return self.kind in ("proportion", "retention")


def _metric(name: str, kind: MetricKind, description: str, **fields: Any) -> Metric:
    return Metric.model_validate({"name": name, "kind": kind, "description": description, **fields})


BUILT_IN: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        _metric(
            "click_through",
            "proportion",
            "Users with a click over exposed users.",
            numerator={"events": ["click"]},
        ),
        _metric(
            "play_start_rate",
            "proportion",
            "Users who started a play over exposed users.",
            numerator={"events": ["play_start"]},
        ),
        _metric(
            "retention_d1",
            "retention",
            "Users active on day 1 after their first exposure.",
            numerator={},
            day=1,
        ),
        _metric(
            "retention_d7",
            "retention",
            "Users active on day 7 after their first exposure.",
            numerator={},
            day=7,
        ),
        _metric(
            "watch_minutes",
            "mean",
            "Minutes watched per user (properties.watch_s of progress and completion events, "
            "each the seconds watched since the previous report), capped at the 99th "
            "percentile.",
            numerator={
                "events": ["play_progress", "play_complete"],
                "value": "properties.watch_s",
                "scale": 1 / 60,
            },
            winsorize=0.99,
        ),
        _metric(
            "plays_per_user",
            "mean",
            "Plays started per user.",
            numerator={"events": ["play_start"]},
        ),
        _metric(
            "clicks_per_impression",
            "ratio",
            "Clicks over impressions (the tile click-through rate).",
            numerator={"events": ["click"]},
            denominator={"events": ["impression"]},
        ),
        _metric(
            "skip_rate",
            "ratio",
            "Skips over plays started (lower is better).",
            numerator={"events": ["skip"]},
            denominator={"events": ["play_start"]},
            higher_is_better=False,
        ),
        _metric(
            "errors",
            "mean",
            "Events reporting an error (properties.error present) per user (lower is better).",
            numerator={"where": {"properties.error": True}},
            higher_is_better=False,
        ),
    )
}
"""Metrics every experiment can name without defining them."""

EVENT_TYPES: tuple[str, ...] = get_args(EventType)


def resolve(names: list[str], definitions: list[Metric]) -> list[Metric]:
    """The metrics named, looked up first among ``definitions`` and then the built-ins."""
    local = {metric.name: metric for metric in definitions}
    found = []
    for name in names:
        metric = local.get(name) or BUILT_IN.get(name)
        if metric is None:
            known = ", ".join(sorted({*local, *BUILT_IN}))
            raise ValueError(f"unknown metric {name!r} (known: {known})")
        found.append(metric)
    return found
