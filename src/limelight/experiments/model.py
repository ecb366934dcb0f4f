"""Experiments as data: what people write (``ExperimentSpec``) and what is stored (``Experiment``).

The same models read YAML and JSON files, API bodies and Python dicts, so that an experiment is
reviewed like any other configuration and behaves the same whichever door it came in by.

>>> spec = ExperimentSpec.model_validate({
...     "key": "home-rows",
...     "variants": [{"key": "control"}, {"key": "personalized", "weight": 1}],
...     "metrics": {"primary": ["click_through"]},
... })
>>> [variant.key for variant in spec.variants], spec.control.key
(['control', 'personalized'], 'control')
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from limelight.experiments import targeting
from limelight.experiments.metrics import KEY_PATTERN, Metric, resolve
from limelight.experiments.stats import DEFAULT_TUNING

Status = Literal["draft", "running", "stopped"]
Unit = Literal["user", "device"]
CorrectionName = Literal["holm", "benjamini-hochberg", "none"]

#: Fields a running experiment may still change. Variants, weights, unit, layer and seed are
#: frozen once units are assigned: changing them would move units between arms mid-test.
RUNNING_CHANGES = frozenset(
    {
        "name",
        "hypothesis",
        "targeting",
        "traffic_percent",
        "start_at",
        "stop_at",
        "metrics",
        "metric_definitions",
        "analysis",
    }
)
#: Fields a stopped experiment may change: how it is described and analysed, nothing else.
STOPPED_CHANGES = frozenset({"name", "hypothesis", "metrics", "metric_definitions", "analysis"})


def utc(value: datetime | None) -> datetime | None:
    """A datetime in UTC; naive ones are taken as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def epoch(value: datetime | None) -> float | None:
    return None if value is None else (utc(value) or value).timestamp()


class Variant(BaseModel):
    """One arm. ``parameters`` is what the calling code reads (a ranker name, a row order)."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY_PATTERN)
    weight: float = Field(default=1.0, gt=0, le=1_000_000, allow_inf_nan=False)
    parameters: dict[str, Any] = Field(default_factory=dict)
    description: str = Field(default="", max_length=1000)


class MetricSet(BaseModel):
    """The metrics judged, by name: one decision metric at least, others to watch."""

    model_config = ConfigDict(extra="forbid")

    primary: list[str] = Field(min_length=1, max_length=10)
    secondary: list[str] = Field(default_factory=list, max_length=50)
    guardrails: list[str] = Field(default_factory=list, max_length=20)

    @property
    def roles(self) -> list[tuple[str, str]]:
        """``(name, role)`` pairs, primary first; a name listed twice keeps its first role."""
        seen: dict[str, str] = {}
        for role, names in (
            ("primary", self.primary),
            ("secondary", self.secondary),
            ("guardrail", self.guardrails),
        ):
            for name in names:
                seen.setdefault(name, role)
        return list(seen.items())


class Analysis(BaseModel):
    """How to analyse: significance level, correction across arms x metrics, CUPED window."""

    model_config = ConfigDict(extra="forbid")

    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    correction: CorrectionName = "holm"
    cuped: bool = True
    pre_exposure_days: float = Field(default=14.0, ge=0, le=365)
    sequential_tuning: float = Field(default=DEFAULT_TUNING, gt=0)


class ExperimentSpec(BaseModel):
    """An experiment as people write it.

    The first variant is the control. ``traffic_percent`` of the units (of the layer's units,
    when ``layer`` is set) enter; experiments that share a ``layer`` never share a unit.
    ``targeting`` is a rule of :mod:`.targeting`; ``seed`` (default: the key) salts the hash
    that splits units between variants, so two experiments never split the same way.
    """

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(default="", max_length=200)
    hypothesis: str = Field(default="", max_length=5000)
    unit: Unit = "user"
    variants: list[Variant] = Field(min_length=2, max_length=20)
    targeting: dict[str, Any] = Field(default_factory=dict)
    traffic_percent: float = Field(default=100.0, gt=0, le=100)
    layer: str | None = Field(default=None, pattern=KEY_PATTERN)
    start_at: datetime | None = None
    stop_at: datetime | None = None
    metrics: MetricSet
    metric_definitions: list[Metric] = Field(default_factory=list, max_length=50)
    analysis: Analysis = Field(default_factory=Analysis)
    seed: str | None = Field(default=None, min_length=1, max_length=128)

    @field_validator("targeting")
    @classmethod
    def _targeting(cls, rule: dict[str, Any]) -> dict[str, Any]:
        try:
            targeting.parse(rule)
        except targeting.TargetingError as error:
            raise ValueError(str(error)) from None
        return rule

    @field_validator("start_at", "stop_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return utc(value)

    @model_validator(mode="after")
    def _consistent(self) -> ExperimentSpec:
        keys = [variant.key for variant in self.variants]
        if len(set(keys)) != len(keys):
            raise ValueError("variant keys must be unique")
        if self.start_at and self.stop_at and self.stop_at <= self.start_at:
            raise ValueError("stop_at must be after start_at")
        names = [metric.name for metric in self.metric_definitions]
        if len(set(names)) != len(names):
            raise ValueError("metric definitions must have unique names")
        resolve([name for name, _ in self.metrics.roles], self.metric_definitions)
        return self

    @property
    def control(self) -> Variant:
        return self.variants[0]

    @property
    def hash_seed(self) -> str:
        return self.seed or self.key

    @property
    def layer_name(self) -> str:
        """The hash space the experiment draws from: its layer, or its own."""
        return self.layer or f"experiment:{self.key}"

    def metric_roles(self) -> list[tuple[Metric, str]]:
        """Every metric judged, resolved, with its role."""
        roles = self.metrics.roles
        found = resolve([name for name, _ in roles], self.metric_definitions)
        return [(metric, role) for metric, (_, role) in zip(found, roles, strict=True)]


class Experiment(ExperimentSpec):
    """An experiment as stored: the spec plus its lifecycle.

    ``buckets`` is the slice ``[start, end)`` of the layer's hash space the experiment holds
    while running, allocated on start so that experiments of one layer never overlap.
    """

    status: Status = "draft"
    buckets: tuple[int, int] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None

    def spec(self) -> ExperimentSpec:
        return ExperimentSpec.model_validate(
            self.model_dump(include=set(ExperimentSpec.model_fields))
        )

    def serving_at(self, at: float) -> bool:
        """Whether units are assigned at ``at`` (running, and inside the scheduled window)."""
        if self.status != "running":
            return False
        start, stop = epoch(self.start_at), epoch(self.stop_at)
        return (start is None or at >= start) and (stop is None or at < stop)


class Assignment(BaseModel):
    """The variant a unit sees in one experiment, and when it was first exposed to it."""

    experiment: str
    variant: str
    parameters: dict[str, Any]
    unit_id: str
    exposed_at: datetime | None = Field(
        default=None, description="First exposure; null when the variant was never read."
    )
    device: str | None = None
