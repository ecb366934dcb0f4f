"""Bandit decisions over HTTP: decision points (admin to change, read to view), decisions (read)
and rewards (ingest, so that an app can report them with the key it already ships).

Routes are thin: each calls one method of :class:`limelight.bandits.service.DecisionService`,
reached through the Engine (``engine.bandits`` once the Engine provides it).
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt

from limelight.api.deps import EngineDep, moment, require
from limelight.api.problems import ProblemError, problem_responses
from limelight.bandits.points import NAME_PATTERN, DecisionPoint, DecisionPointSpec, PointName
from limelight.bandits.service import DecisionRequest, DecisionResult, DecisionService, attached

router = APIRouter(tags=["decisions"])


def get_bandits(engine: EngineDep) -> DecisionService:
    return attached(engine)


BanditsDep = Annotated[DecisionService, Depends(get_bandits)]
Name = Annotated[str, Path(pattern=NAME_PATTERN, description="The decision point's name.")]
FeatureName = Annotated[str, Field(min_length=1, max_length=128)]
FeatureValue = StrictBool | StrictInt | StrictFloat | Annotated[str, Field(max_length=1000)]
FeatureMap = dict[FeatureName, FeatureValue]
_STRICT = ConfigDict(extra="forbid")


class PointBody(DecisionPointSpec):
    """A decision point's definition; ``name`` may be left out (the path names it)."""

    name: PointName | None = None  # type: ignore[assignment]


class ActionIn(BaseModel):
    """A candidate: its id and the attributes the policy may learn from."""

    model_config = _STRICT

    id: str = Field(min_length=1, max_length=256)
    features: FeatureMap = Field(default_factory=dict)


class DecisionOptions(BaseModel):
    """One decision: context features, candidates, and the options of ``decide``."""

    model_config = _STRICT

    context: FeatureMap = Field(default_factory=dict)
    actions: list[ActionIn] = Field(min_length=1, max_length=1000)
    person_id: str | None = Field(default=None, min_length=1, max_length=261)
    decision_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Your id for this decision: a retry with the same id gets the logged answer.",
    )
    slots: int = Field(default=1, ge=1, le=100, description="How many actions to serve.")
    page_id: str | None = Field(default=None, min_length=1, max_length=128)

    def request(self) -> DecisionRequest:
        return DecisionRequest(
            context=self.context,
            actions=[{"id": a.id, "features": a.features} for a in self.actions],
            person_id=self.person_id,
            decision_id=self.decision_id,
            slots=self.slots,
            page_id=self.page_id,
        )


class DecisionIn(DecisionOptions):
    """A decision at a point."""

    point: PointName


class DecisionBatchIn(BaseModel):
    """Many decisions at one point (e.g. the artwork of every tile of a page), made at once."""

    model_config = _STRICT

    point: PointName
    requests: list[DecisionOptions] = Field(min_length=1, max_length=1000)


class DecisionOut(BaseModel):
    """What to serve, how likely each served action was, and under which model."""

    decision_id: str
    point: str
    action: str = Field(description="The action served in the first slot.")
    probability: float = Field(description="Its probability.")
    chosen: list[str] = Field(description="The served actions, one per slot.")
    probabilities: list[float] = Field(
        description="The probability of each served action (slot k: given the slots above)."
    )
    ranking: list[str] = Field(description="Every candidate, served ones first.")
    policy: str
    model_version: str
    explored: bool
    mode: Literal["live", "holdout", "apprentice"]
    created_at: float
    replayed: bool = Field(description="True when this decision id was answered before.")

    @classmethod
    def of(cls, result: DecisionResult) -> "DecisionOut":
        return cls(
            decision_id=result.decision_id,
            point=result.point,
            action=result.action,
            probability=result.probability,
            chosen=result.chosen,
            probabilities=result.probabilities,
            ranking=result.ranking,
            policy=result.policy,
            model_version=result.model_version,
            explored=result.explored,
            mode=result.mode,
            created_at=result.created_at,
            replayed=result.replayed,
        )


class DecisionBatchOut(BaseModel):
    decisions: list[DecisionOut]


class RewardIn(BaseModel):
    """A reward for a logged decision."""

    model_config = _STRICT

    decision_id: str = Field(min_length=1, max_length=128)
    value: float = Field(allow_inf_nan=False)
    action_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="The rewarded action (needed only when the decision served several).",
    )
    reward_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="Your id for this reward: sending it again is harmless.",
    )


class RewardOut(BaseModel):
    """What became of the reward (``learned``, ``pending``, ``extra``, ``late``,
    ``duplicate`` or ``unattributed``; see the service documentation)."""

    reward_id: str
    decision_id: str
    action_id: str | None
    value: float
    in_window: bool
    status: Literal["learned", "pending", "extra", "late", "duplicate", "unattributed"]


class PointReportOut(BaseModel):
    """Traffic by mode, rewards by source and window, learning and apprentice agreement."""

    point: str
    model_version: str
    revision: int
    decisions: dict[str, int]
    explored: int
    rewards: dict[str, int]
    learned: int
    mean_learned_reward: float
    apprentice_decisions: int
    agreement_rate: float | None


@router.get(
    "/v1/decision-points", response_model=list[DecisionPoint], dependencies=[require("read")]
)
def list_points(bandits: BanditsDep) -> list[DecisionPoint]:
    """Every decision point, by name."""
    return bandits.points()


@router.get(
    "/v1/decision-points/{name}",
    response_model=DecisionPoint,
    dependencies=[require("read")],
    responses=problem_responses(404),
)
def get_point(bandits: BanditsDep, name: Name) -> DecisionPoint:
    """One decision point with its model revision."""
    return bandits.point(name)


@router.put(
    "/v1/decision-points/{name}",
    response_model=DecisionPoint,
    dependencies=[require("admin")],
    responses=problem_responses(422),
)
def put_point(bandits: BanditsDep, name: Name, body: PointBody) -> DecisionPoint:
    """Create or replace a decision point. Changing its policy, features, exploration or seed
    starts a fresh model (``revision`` + 1); other changes keep what was learned."""
    if body.name is not None and body.name != name:
        raise ProblemError(
            422,
            "Invalid input",
            f"the body names {body.name!r} but the path names {name!r}",
            slug="invalid-input",
            field="name",
        )
    spec = body.model_dump(include=set(DecisionPointSpec.model_fields))
    return bandits.configure({**spec, "name": name})


@router.get(
    "/v1/decision-points/{name}/report",
    response_model=PointReportOut,
    dependencies=[require("read")],
    responses=problem_responses(404, 422),
)
def point_report(
    bandits: BanditsDep,
    name: Name,
    since: Annotated[
        str | None, Query(description="Only decisions and rewards since: ISO 8601 or epoch s.")
    ] = None,
) -> Any:
    """How the point is doing; in apprentice mode, how often the policy agreed with the
    baseline (``agreement_rate``)."""
    report = bandits.report(name, since=moment(since, "since"))
    return PointReportOut(**{k: getattr(report, k) for k in PointReportOut.model_fields})


@router.post(
    "/v1/decisions",
    response_model=DecisionOut,
    dependencies=[require("read")],
    responses=problem_responses(404, 409, 422),
)
def decide(bandits: BanditsDep, body: DecisionIn) -> DecisionOut:
    """Choose among the candidate actions, log the decision and answer with its id.

    Report what happened with ``POST /v1/rewards`` or with events carrying
    ``properties.decision_id``.
    """
    return DecisionOut.of(bandits.decide_many(body.point, [body.request()])[0])


@router.post(
    "/v1/decisions/batch",
    response_model=DecisionBatchOut,
    dependencies=[require("read")],
    responses=problem_responses(404, 409, 413, 422),
)
def decide_batch(bandits: BanditsDep, body: DecisionBatchIn) -> DecisionBatchOut:
    """Many decisions at one point in one call, answered in order (batched internally)."""
    results = bandits.decide_many(body.point, [options.request() for options in body.requests])
    return DecisionBatchOut(decisions=[DecisionOut.of(result) for result in results])


@router.post(
    "/v1/rewards",
    response_model=RewardOut,
    dependencies=[require("ingest")],
    responses=problem_responses(404, 422),
)
def reward(bandits: BanditsDep, body: RewardIn) -> RewardOut:
    """Report a reward for a decision (e.g. 1 for a click). Rewards after the point's window
    are stored but not learned from."""
    outcome = bandits.reward(
        body.decision_id, body.value, action_id=body.action_id, reward_id=body.reward_id
    )
    return RewardOut(
        reward_id=outcome.reward_id,
        decision_id=outcome.decision_id,
        action_id=outcome.action_id,
        value=outcome.value,
        in_window=outcome.in_window,
        status=outcome.status,
    )
