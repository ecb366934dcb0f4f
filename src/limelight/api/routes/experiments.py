"""Experiments over HTTP: definitions (admin to change, read to view), variants, reports.

Routes are thin: each calls one method of :class:`limelight.experiments.service.Experiments`,
reached through the Engine (``engine.experiments`` once the Engine provides it).
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from limelight.api.deps import EngineDep, moment, require
from limelight.api.problems import problem_responses
from limelight.events.schema import Context
from limelight.experiments.attach import attached
from limelight.experiments.metrics import KEY_PATTERN
from limelight.experiments.model import Assignment, Experiment, ExperimentSpec, Status, Unit
from limelight.experiments.report import render_text
from limelight.experiments.service import Experiments
from limelight.experiments.stats import DEFAULT_TUNING

router = APIRouter(tags=["experiments"])


def get_experiments(engine: EngineDep) -> Experiments:
    return attached(engine)


ExperimentsDep = Annotated[Experiments, Depends(get_experiments)]
Key = Annotated[str, Path(pattern=KEY_PATTERN, description="The experiment's key.")]
UserId = Annotated[
    str,
    Path(min_length=1, max_length=261, description="A user id, or a device id for device units."),
]


class Deleted(BaseModel):
    key: str
    exposures_deleted: int


class VariantRequest(BaseModel):
    """Who asks, and where (the context feeds targeting and is kept with the first exposure)."""

    model_config = ConfigDict(extra="forbid")

    unit_id: str = Field(min_length=1, max_length=261)
    context: Context = Field(default_factory=lambda: Context())


class VariantResponse(BaseModel):
    """The unit's variant, or ``assignment: null`` when the unit is not in the experiment."""

    experiment: str
    unit_id: str
    assignment: Assignment | None


class Holdout(BaseModel):
    model_config = ConfigDict(extra="forbid")

    percent: float = Field(ge=0, le=50, description="Units kept out of every experiment (%).")


class PowerRequest(BaseModel):
    """A minimum detectable effect to plan for (relative: 0.05 is +5%)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["proportion", "mean"] = "proportion"
    baseline: float = Field(description="Control's rate (proportion) or mean.")
    mde: float = Field(description="Minimum detectable effect, relative to the baseline.")
    standard_deviation: float | None = Field(default=None, gt=0)
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    target_power: float = Field(default=0.8, gt=0, lt=1)
    variants: int = Field(default=2, ge=2, le=20)
    daily_units: float | None = Field(default=None, gt=0)
    traffic_percent: float = Field(default=100.0, gt=0, le=100)
    sequential: bool = False
    sequential_tuning: float = Field(default=DEFAULT_TUNING, gt=0)


class PowerPlan(BaseModel):
    n_per_variant: int
    n_total: int
    power: float
    days: int | None


@router.post(
    "/v1/experiments",
    status_code=201,
    response_model=Experiment,
    dependencies=[require("admin")],
    responses=problem_responses(409, 422),
)
def create_experiment(experiments: ExperimentsDep, spec: ExperimentSpec) -> Experiment:
    """Create an experiment as a draft (start it with ``POST .../start``)."""
    return experiments.create(spec)


@router.get("/v1/experiments", response_model=list[Experiment], dependencies=[require("read")])
def list_experiments(
    experiments: ExperimentsDep,
    status: Annotated[Status | None, Query(description="Only experiments in this state.")] = None,
) -> list[Experiment]:
    """Every experiment, by key."""
    return experiments.list(status)


@router.get(
    "/v1/experiments/{key}",
    response_model=Experiment,
    dependencies=[require("read")],
    responses=problem_responses(404),
)
def get_experiment(experiments: ExperimentsDep, key: Key) -> Experiment:
    """One experiment: its definition and state."""
    return experiments.get(key)


@router.patch(
    "/v1/experiments/{key}",
    response_model=Experiment,
    dependencies=[require("admin")],
    responses=problem_responses(404, 409, 422),
)
def update_experiment(
    experiments: ExperimentsDep,
    key: Key,
    changes: Annotated[
        dict[str, Any],
        Body(description="The fields to change, as in the definition; the others stay."),
    ],
) -> Experiment:
    """Change fields. Running experiments may change description, targeting, traffic, schedule
    and analysis; stopped ones only description and analysis."""
    return experiments.update(key, changes)


@router.delete(
    "/v1/experiments/{key}",
    response_model=Deleted,
    dependencies=[require("admin")],
    responses=problem_responses(404, 409),
)
def delete_experiment(experiments: ExperimentsDep, key: Key) -> Deleted:
    """Delete a draft or stopped experiment, and its exposures."""
    return Deleted(key=key, exposures_deleted=experiments.delete(key))


@router.post(
    "/v1/experiments/{key}/start",
    response_model=Experiment,
    dependencies=[require("admin")],
    responses=problem_responses(404, 409, 422),
)
def start_experiment(experiments: ExperimentsDep, key: Key) -> Experiment:
    """Start a draft: it takes its slice of the layer and assigns units from now on."""
    return experiments.start(key)


@router.post(
    "/v1/experiments/{key}/stop",
    response_model=Experiment,
    dependencies=[require("admin")],
    responses=problem_responses(404, 409),
)
def stop_experiment(experiments: ExperimentsDep, key: Key) -> Experiment:
    """Stop a running experiment; its analysis window ends now."""
    return experiments.stop(key)


@router.post(
    "/v1/experiments/{key}/variant",
    response_model=VariantResponse,
    dependencies=[require("read")],
    responses=problem_responses(404, 422),
)
def read_variant(experiments: ExperimentsDep, key: Key, body: VariantRequest) -> VariantResponse:
    """The unit's variant; reading it logs the unit's first exposure."""
    found = experiments.variant(key, body.unit_id, context=dict(body.context))
    return VariantResponse(experiment=key, unit_id=body.unit_id, assignment=found)


@router.get(
    "/v1/experiments/{key}/report",
    dependencies=[require("read")],
    responses={
        **problem_responses(404),
        200: {
            "description": "The report, as JSON or (format=text) plain text.",
            "content": {"application/json": {}, "text/plain": {}},
        },
    },
)
def experiment_report(
    experiments: ExperimentsDep,
    key: Key,
    format: Annotated[Literal["json", "text"], Query(description="json or text.")] = "json",
    at: Annotated[
        str | None, Query(description="Analyse as of this moment (ISO 8601 or epoch seconds).")
    ] = None,
) -> Any:
    """Lifts with intervals, p-values (raw, Holm, Benjamini-Hochberg), sequential and Bayesian
    results, the sample-ratio check, devices and the day-by-day timeline."""
    report = experiments.analyse(key, at=moment(at, "at"))
    if format == "text":
        return PlainTextResponse(render_text(report))
    return report.to_dict()


@router.get(
    "/v1/users/{user_id}/assignments",
    response_model=list[Assignment],
    dependencies=[require("read")],
    responses=problem_responses(422),
)
def user_assignments(
    experiments: ExperimentsDep,
    user_id: UserId,
    device: Annotated[
        str | None, Query(max_length=64, description="The device, for targeting.")
    ] = None,
    platform: Annotated[
        str | None, Query(max_length=64, description="The platform, for targeting.")
    ] = None,
    unit: Annotated[
        Unit | None, Query(description="Only experiments on this kind of unit.")
    ] = None,
) -> list[Assignment]:
    """The unit's variants in the running experiments; reading them here logs no exposure."""
    context = {name: value for name, value in (("device", device), ("platform", platform)) if value}
    return experiments.assignments(user_id, context=context, unit=unit)


@router.get("/v1/experiment-holdout", response_model=Holdout, dependencies=[require("read")])
def get_holdout(experiments: ExperimentsDep) -> Holdout:
    """The global holdout: the share of units kept out of every experiment."""
    return Holdout(percent=experiments.holdout())


@router.put(
    "/v1/experiment-holdout",
    response_model=Holdout,
    dependencies=[require("admin")],
    responses=problem_responses(422),
)
def set_holdout(experiments: ExperimentsDep, body: Holdout) -> Holdout:
    """Set the global holdout; units already exposed stay in their experiments."""
    return Holdout(percent=experiments.set_holdout(body.percent))


@router.post(
    "/v1/experiment-power",
    response_model=PowerPlan,
    dependencies=[require("read")],
    responses=problem_responses(422),
)
def plan_power(body: PowerRequest) -> PowerPlan:
    """Units per variant, in total and (given daily units) days to detect the effect."""
    plan = Experiments.power(**body.model_dump())
    return PowerPlan(
        n_per_variant=plan.n_per_variant, n_total=plan.n_total, power=plan.power, days=plan.days
    )
