"""The decision service: decision points, decisions, rewards, learning, persistence and rollout.

This is the Rank-and-Reward loop (what Azure Personalizer sold) on top of the bandit library:

1. ``decide(point, context, actions)`` ranks the candidates with the point's policy, logs the
   decision (context, candidates, what was served, the exact probability of each served action,
   the policy and the model version) in the shared :class:`~limelight.decisions.DecisionLog`, and
   answers with a decision id.
2. Rewards arrive by ``reward(decision_id, value)`` or from events that carry the decision id
   (``on_events`` is the ingest listener), mapped by the point's configuration, and are stored.
3. The policy learns online: aggregation ``first`` learns from the first in-window reward at
   once, ``sum`` learns from the sum when the window closes; a decision without any in-window
   reward is learned with the default when its window closes (``close_windows``). Each served
   action is learned exactly once, guarded by the ledger (see :mod:`.rewards`).
4. ``save()`` writes numbered snapshots; a restart loads the newest and replays the ledger rows
   learned since, so even a crash loses no learning (only the random generator's position).

Windows are closed by a background sweep thread (``sweep="thread"``, every
``sweep_interval_s``, ``close_grace_s`` behind the clock so that a reward stamped just before a
deadline has committed), which also saves every ``autosave_s``. ``sweep="inline"`` runs the same
sweep and autosave at most that often at the start of calls instead (no thread, for embedding
where nobody calls ``close``); ``sweep="off"`` leaves both to the caller (tests, batch jobs).

Model version: ``"<snapshot>.<updates since>"``. The snapshot number only grows, and so does the
update count until the next snapshot, so versions of a point compare as tuples of integers, and
each names an exact learned state (a snapshot plus the next ledger rows in order).

One learner per point: models live in this process's memory, so run one server process (the
default ``limelight serve``) or the processes learn separately from the rewards each receives.
Decisions and rewards stay correct either way (the log and the ledger are shared).
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol
from weakref import WeakKeyDictionary

import numpy as np
from pydantic import ValidationError
from sqlalchemy import Connection, select, update

from limelight.bandits import rewards as store
from limelight.bandits.base import Action, FeatureValue, Policy
from limelight.bandits.batch import Ranked, rank_many
from limelight.bandits.offpolicy import PointEvaluation, evaluate_point
from limelight.bandits.persistence import SnapshotMeta, Snapshots
from limelight.bandits.points import (
    DecisionPoint,
    DecisionPointSpec,
    build_policy,
    policy_from_state,
)
from limelight.bandits.rewards import RewardOutcome
from limelight.bandits.served import Served, read_served, served_members, served_of
from limelight.bandits.shared import ActionTable, SharedRanked, rank_shared
from limelight.config import Settings
from limelight.decisions import (
    BATCH_KIND,
    DecisionLog,
    DecisionRecord,
    batch_record,
    columnar_record,
    member_extras,
    member_id,
    member_ids,
    new_decision_id,
)
from limelight.errors import InvalidInput, LimelightError, NotFound
from limelight.events.model import Event, now_utc
from limelight.privacy.registry import PersonalData, PersonalDataHook
from limelight.storage.database import Database
from limelight.storage.schema import bandit_points, decisions

logger = logging.getLogger(__name__)

KIND = "bandit"
SweepMode = Literal["thread", "inline", "off"]
Mode = Literal["live", "holdout", "apprentice"]
#: Decisions logged this long before the sweep's watermark are looked at again: a decision
#: buffered in another process's log reaches the table a little after it was made (within its
#: flush interval, 0.2 s by default; this process's own log is flushed before each sweep).
WATERMARK_SLACK_S = 30.0
MAX_ACTIONS = 1000
MAX_SLOTS = 100
MAX_BATCH = 5000
_PAGE = 2000


class DecisionConflict(LimelightError):
    """A client decision id already names a decision of another point or kind."""

    status = 409
    title = "Decision id conflict"


# -- requests and answers ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    """One decision to make: the context, the candidates and the options of ``decide``."""

    context: Mapping[str, FeatureValue]
    actions: Sequence[Action | Mapping[str, Any]]
    person_id: str | None = None
    decision_id: str | None = None
    slots: int = 1
    page_id: str | None = None


@dataclass(frozen=True, slots=True)
class _Checked:
    """A validated request: actions parsed, ids unique, slots in range."""

    context: dict[str, FeatureValue]
    actions: tuple[Action, ...]
    person_id: str | None
    decision_id: str | None
    slots: int
    page_id: str | None


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """The answer: what to serve, how likely each served action was, and under which model.

    ``mode`` says who served it: ``live`` (the policy), ``holdout`` (the baseline, outside the
    rollout percentage) or ``apprentice`` (the baseline, with the policy's choice logged).
    ``replayed`` is true when a client decision id was seen before and this is the logged answer.
    """

    decision_id: str
    point: str
    chosen: list[str]
    probabilities: list[float]
    ranking: list[str]
    policy: str
    model_version: str
    explored: bool
    mode: Mode
    created_at: float
    replayed: bool = False

    @property
    def action(self) -> str:
        """The action served in the first slot."""
        return self.chosen[0]

    @property
    def probability(self) -> float:
        return self.probabilities[0]

    @classmethod
    def from_record(cls, record: DecisionRecord, *, replayed: bool = True) -> DecisionResult:
        """The answer a logged decision gave (``replayed``: it is being given again)."""
        extra = record.extra or {}
        return cls(
            decision_id=record.decision_id,
            point=record.point,
            chosen=[str(action) for action in record.chosen],
            probabilities=[float(p) for p in record.probabilities or []],
            ranking=[str(action) for action in extra.get("ranking", record.chosen)],
            policy=record.policy or "",
            model_version=record.model_version or "",
            explored=bool(record.explored),
            mode=extra.get("mode", "live"),
            created_at=record.created_at,
            replayed=replayed,
        )


@dataclass(frozen=True, slots=True)
class BatchResult:
    """The answers of ``decide_batch``, one entry per decision in request order."""

    batch_id: str
    decision_ids: list[str]
    chosen: list[str]
    probabilities: list[float]
    explored: list[bool]
    modes: list[Mode]
    policy: str
    model_version: str


@dataclass(frozen=True, slots=True)
class PointReport:
    """How a decision point is doing: traffic by mode, rewards, learning, agreement."""

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


# -- per point runtime ---------------------------------------------------------------------


@dataclass(eq=False)
class _Runtime:
    """A point's configuration and live policy. ``lock`` guards the policy (its model and its
    random generator) and the counters."""

    point: DecisionPoint
    policy: Policy
    snapshot: int
    last_seq: int
    learned: int = 0
    since: int = 0
    dirty: bool = False
    checked_at: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def version(self) -> str:
        return f"{self.snapshot}.{self.since}"


def _copied(value: Any) -> Any:
    """A deep copy of a state (arrays included): models update their arrays in place."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    return value


def _action(raw: Action | Mapping[str, Any], where: str) -> Action:
    if isinstance(raw, Action):
        return raw
    if not isinstance(raw, Mapping):
        raise InvalidInput("each action must be an object with an id", field=where)
    identifier = raw.get("id")
    features = raw.get("features") or {}
    if not isinstance(identifier, str) or not 0 < len(identifier) <= 256:
        raise InvalidInput("an action id must be a string of 1-256 characters", field=where)
    if not isinstance(features, Mapping):
        raise InvalidInput("action features must be an object", field=f"{where}.features")
    return Action(identifier, dict(features))


def _check_features(features: Mapping[str, Any], where: str) -> None:
    for key, value in features.items():
        if isinstance(value, str) or (
            isinstance(value, int | float) and math.isfinite(float(value))
        ):
            continue
        raise InvalidInput("features must be finite numbers or strings", field=f"{where}.{key}")


class Core(Protocol):
    """What :func:`attached` needs of an Engine (a protocol, so this module never imports it)."""

    database: Database
    settings: Settings
    decisions: DecisionLog
    personal_data: PersonalData


# -- the service ---------------------------------------------------------------------------


def unclosed(connection: Connection) -> dict[str, float]:
    """The decisions retention must keep (:meth:`DecisionLog.hold`): of every point, those the
    reward-window sweep has not closed yet (all of a point never swept), with the sweep's
    slack, since the sweep looks at them again."""
    found = connection.execute(select(bandit_points.c.name, bandit_points.c.closed_through))
    return {
        str(name): -math.inf if through is None else float(through) - WATERMARK_SLACK_S
        for name, through in found
    }


class DecisionService:
    """Decision points, decisions, rewards and learning over one database and data directory."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        decision_log: DecisionLog,
        personal_data: PersonalData,
        data_dir: Path | str,
        *,
        clock: Callable[[], float] | None = None,
        sweep: SweepMode = "thread",
        sweep_interval_s: float = 5.0,
        close_grace_s: float = 1.0,
        autosave_s: float = 60.0,
        refresh_s: float = 2.0,
        sweep_share: float = 0.5,
    ) -> None:
        self.database = database
        self.settings = settings
        self.decisions = decision_log
        self.snapshots = Snapshots(Path(data_dir) / "models" / "bandits")
        self.clock = clock or now_utc
        self.sweep = sweep
        self.sweep_interval_s = sweep_interval_s
        self.close_grace_s = close_grace_s
        self.autosave_s = autosave_s
        self.refresh_s = refresh_s
        if not 0.0 < sweep_share <= 1.0:
            raise InvalidInput("sweep_share must be in (0, 1]", field="sweep_share")
        #: The largest share of the time the background sweep takes while it works through a
        #: backlog: after each transaction it rests ``(1 - share) / share`` times as long.
        #: Unpaced it holds the interpreter lock most of the time, and pages composed meanwhile
        #: (each waits for the lock again after every database read) slowed from ~100 to ~20 a
        #: second; at 0.5, to ~74 (``benchmarks/home.py --sweep``).
        self.sweep_share = sweep_share
        #: Unexpected errors met by the ingest listener (logged; ingest itself is unaffected).
        self.listener_errors = 0
        self._runtimes: dict[str, _Runtime] = {}
        self._runtimes_lock = threading.Lock()
        self._learn_lock = threading.Lock()  # serializes reward claims + learning (seq order)
        self._save_lock = threading.Lock()
        self._recent: OrderedDict[str, DecisionResult] = OrderedDict()  # client ids, newest last
        self._reward_types: frozenset[str] = frozenset()
        self._last_sweep = time.monotonic()
        self._last_save = time.monotonic()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        personal_data.register(
            PersonalDataHook(
                name="bandit_rewards", export=store.export_person, erase=store.erase_person
            )
        )
        decision_log.hold(unclosed)
        self.load()

    # -- decision points -------------------------------------------------------------------

    def configure(self, spec: DecisionPointSpec | Mapping[str, Any]) -> DecisionPoint:
        """Create or update a decision point. Changing its policy, features, exploration or
        seed starts a fresh model (a new revision); other changes keep what was learned."""
        fields = set(DecisionPointSpec.model_fields)
        if isinstance(spec, DecisionPointSpec):
            data = spec.model_dump(include=fields)
        else:  # what GET answered may come back: its stored-only fields are dropped
            data = {
                k: v for k, v in spec.items() if k not in ("revision", "created_at", "updated_at")
            }
        try:
            spec_only = DecisionPointSpec.model_validate(data)
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            where = ".".join(str(part) for part in first.get("loc", ())) or "point"
            raise InvalidInput(f"{where}: {first.get('msg')}", field=where) from None
        checked = spec_only
        fresh = build_policy(spec_only)  # refuses bad parameters before anything is stored
        now = self.clock()
        with self.database.write() as connection:
            row = (
                connection.execute(
                    select(bandit_points).where(bandit_points.c.name == checked.name)
                )
                .mappings()
                .first()
            )
            if row is None:
                revision, created_at, reshaped = 1, now, True
            else:
                stored = DecisionPointSpec.model_validate(
                    {
                        k: v
                        for k, v in row["definition"].items()
                        if k in DecisionPointSpec.model_fields
                    }
                )
                reshaped = stored.model_key() != spec_only.model_key()
                revision = int(row["revision"]) + (1 if reshaped else 0)
                created_at = float(row["created_at"])
            point = DecisionPoint.model_validate(
                {
                    **spec_only.model_dump(),
                    "revision": revision,
                    "created_at": created_at,
                    "updated_at": now,
                }
            )
            values = {
                "name": point.name,
                "definition": spec_only.model_dump(mode="json"),
                "revision": revision,
                "created_at": created_at,
                "updated_at": now,
            }
            connection.execute(
                self.database.upsert(
                    bandit_points, ["definition", "revision", "created_at", "updated_at"]
                ),
                values,
            )
            start_seq = store.last_seq(connection, point.name)
        replay = False
        with self._runtimes_lock:
            current = self._runtimes.get(point.name)
            if reshaped:
                snapshot = max(
                    self.snapshots.highest(point.name), current.snapshot if current else 0
                )
                runtime = _Runtime(point, fresh, snapshot, start_seq, dirty=True)
                self._runtimes[point.name] = runtime
            elif current is None or current.point.revision != revision:
                # The model is unchanged but this process does not hold it (yet): restore it.
                runtime = self._runtimes[point.name] = self._restore(point)
                replay = True
            else:
                runtime = current
                with runtime.lock:
                    runtime.point = point
                    runtime.checked_at = time.monotonic()
            self._index_reward_types()
        if replay:
            self._replay(runtime)
        if reshaped:
            self._save_one(runtime)  # a restart must know the new revision's starting point
        return point

    def points(self) -> list[DecisionPoint]:
        """Every decision point, by name (read from the database, so current everywhere)."""
        with self.database.read() as connection:
            found = connection.execute(select(bandit_points).order_by(bandit_points.c.name))
            return [self._point_of(dict(row)) for row in found.mappings()]

    def point(self, name: str) -> DecisionPoint:
        """One decision point (``NotFound`` if it does not exist)."""
        return self._runtime(name).point

    def model_version(self, name: str) -> str:
        """The version the point's next decision will be logged with."""
        runtime = self._runtime(name)
        with runtime.lock:
            return runtime.version

    def policy(self, name: str) -> Policy:
        """A copy of the point's live policy, as it is now (its model and its generator).

        A copy, because the live one is only ever touched under the point's lock; use it to
        inspect estimates (``predict_one``) or to replay decisions offline.
        """
        runtime = self._runtime(name)
        with runtime.lock:
            state = _copied(runtime.policy.state())
        return policy_from_state(state)

    @staticmethod
    def _point_of(row: Mapping[str, Any]) -> DecisionPoint:
        return DecisionPoint.model_validate(
            {
                **row["definition"],
                "name": row["name"],
                "revision": row["revision"],
                "created_at": row["created_at"],
                "updated_at": row["updated_at"],
            }
        )

    def _runtime(self, name: str) -> _Runtime:
        runtime = self._runtimes.get(name)
        if runtime is None or time.monotonic() - runtime.checked_at > self.refresh_s:
            runtime = self._refresh(name)
        if runtime is None:
            raise NotFound(f"no decision point {name!r}", field="point")
        return runtime

    def _refresh(self, name: str) -> _Runtime | None:
        """Re-read a point's configuration (another process may have changed it)."""
        with self.database.read() as connection:
            row = (
                connection.execute(select(bandit_points).where(bandit_points.c.name == name))
                .mappings()
                .first()
            )
        with self._runtimes_lock:
            current = self._runtimes.get(name)
            if row is None:
                self._runtimes.pop(name, None)
                self._index_reward_types()
                return None
            point = self._point_of(dict(row))
            if current is not None and current.point.revision == point.revision:
                with current.lock:
                    current.point = point
                    current.checked_at = time.monotonic()
                self._index_reward_types()
                return current
            runtime = self._restore(point)
            self._runtimes[name] = runtime
            self._index_reward_types()
        self._replay(runtime)
        return runtime

    def _index_reward_types(self) -> None:
        """Event types that are a reward at some point (the listener skips the others)."""
        self._reward_types = frozenset(
            kind for runtime in self._runtimes.values() for kind in runtime.point.reward.events
        )

    # -- decisions -------------------------------------------------------------------------

    def decide(
        self,
        point: str,
        context: Mapping[str, FeatureValue],
        actions: Sequence[Action | Mapping[str, Any]],
        *,
        person_id: str | None = None,
        decision_id: str | None = None,
        slots: int = 1,
        page_id: str | None = None,
    ) -> DecisionResult:
        """Choose ``slots`` of ``actions`` for ``context`` at ``point``, and log the decision.

        A ``decision_id`` the log already holds returns the logged answer (idempotent retries).
        """
        request = DecisionRequest(context, actions, person_id, decision_id, slots, page_id)
        return self.decide_many(point, [request])[0]

    def decide_many(
        self, point: str, requests: Sequence[DecisionRequest | Mapping[str, Any]]
    ) -> list[DecisionResult]:
        """Many decisions of one point at once (a page of tiles): the same answers, draws and
        log as calling ``decide`` for each in order, with the linear algebra batched."""
        self._maybe_sweep()
        runtime = self._runtime(point)
        checked = [self._checked(request, f"requests.{i}") for i, request in enumerate(requests)]
        known = self._known(point, checked)
        results: list[DecisionResult | None] = [None] * len(checked)
        records: list[DecisionRecord] = []
        with runtime.lock:
            config = runtime.point
            pending: list[int] = []
            for i, request in enumerate(checked):
                previous = known.get(request.decision_id or "") or self._recent.get(
                    request.decision_id or ""
                )
                if previous is not None:
                    results[i] = previous
                else:
                    pending.append(i)
            pending = self._first_of_each_id(checked, pending, results)
            fresh = iter(_decision_ids(sum(1 for i in pending if checked[i].decision_id is None)))
            ids = {i: checked[i].decision_id or next(fresh) for i in pending}
            modes: dict[int, Mode] = {}
            for i in pending:
                request = checked[i]
                if config.rollout.mode == "apprentice":
                    modes[i] = "apprentice"
                else:
                    unit = request.person_id or ids[i]
                    live = config.rollout.serves_policy(config.name, unit)
                    modes[i] = "live" if live else "holdout"
            asked = [i for i in pending if modes[i] != "holdout"]
            features = config.features
            ranked = rank_many(
                runtime.policy,
                [features.context_of(checked[i].context) for i in asked],
                [
                    [Action(a.id, features.action_of(a.features)) for a in checked[i].actions]
                    for i in asked
                ],
                [checked[i].slots for i in asked],
            )
            by_index = dict(zip(asked, ranked, strict=True))
            if pending:
                runtime.dirty = True
            version = runtime.version
            created_at = self.clock()
            policy_name = runtime.policy.name
            for i in pending:
                record = self._record(
                    config,
                    checked[i],
                    ids[i],
                    modes[i],
                    by_index.get(i),
                    policy_name,
                    version,
                    created_at,
                )
                records.append(record)
                results[i] = DecisionResult.from_record(record, replayed=False)
                client_id = checked[i].decision_id
                if client_id is not None:
                    self._recent[client_id] = DecisionResult.from_record(record)
            while len(self._recent) > 10_000:
                self._recent.popitem(last=False)
            self.decisions.record_many(records)
        self._ensure_thread()
        for i, request in enumerate(checked):
            if results[i] is None:  # a repeated client id within this batch
                results[i] = self._recent[request.decision_id or ""]
        return [result for result in results if result is not None]

    def decide_batch(
        self,
        point: str,
        context: Mapping[str, FeatureValue],
        table: ActionTable,
        lists: Sequence[Sequence[str]],
        *,
        person_id: str | None = None,
        page_id: str | None = None,
        member_context: Sequence[Mapping[str, Any] | None] | None = None,
    ) -> BatchResult:
        """One single-slot decision per entry of ``lists`` (candidate keys of ``table``), all
        in ``context``: a page of tiles. Logged as one batch row; each decision keeps its own id
        (``<batch id>~<k>``) for rewards and events (see :mod:`limelight.decisions.batch`).

        Each answer is the one ``decide`` would give for that context and those candidates,
        drawn in order from the point's generator. ``member_context`` adds logged-only keys to
        a decision's context (e.g. the row of a tile). No client decision ids here: a retried
        page is a new page.
        """
        self._maybe_sweep()
        runtime = self._runtime(point)
        if not isinstance(context, Mapping):
            raise InvalidInput("context must be an object", field="context")
        _check_features(context, "context")
        for name, value, longest in (("person_id", person_id, 261), ("page_id", page_id, 128)):
            if value is not None and not (isinstance(value, str) and 0 < len(value) <= longest):
                raise InvalidInput(f"{name} must be a string of 1-{longest} characters", field=name)
        count = len(lists)
        if count > MAX_BATCH:
            raise InvalidInput(f"at most {MAX_BATCH} decisions in a batch", field="lists")
        if member_context is not None and len(member_context) != count:
            raise InvalidInput(
                "member_context needs one entry per decision", field="member_context"
            )
        try:
            resolved = table.columns_many(lists)
        except (KeyError, ValueError):  # find the entry, for its field and a plain message
            for i, ids in enumerate(lists):
                if not ids:
                    raise InvalidInput(
                        "at least one action is needed", field=f"lists.{i}"
                    ) from None
                try:
                    table.columns(ids)
                except KeyError as error:
                    raise InvalidInput(
                        f"unknown action {error.args[0]!r}", field=f"lists.{i}"
                    ) from None
                except ValueError as error:
                    raise InvalidInput(str(error), field=f"lists.{i}") from None
            raise
        sizes = np.fromiter((len(r) for r in resolved), dtype=np.intp, count=count)
        width = int(sizes.max()) if count else 0
        columns = np.zeros((count, width), dtype=np.intp)
        if count:
            columns[np.arange(width) < sizes[:, None]] = np.fromiter(
                itertools.chain.from_iterable(resolved), dtype=np.intp, count=int(sizes.sum())
            )
        if count == 0:
            return BatchResult("", [], [], [], [], [], "", runtime.version)
        with runtime.lock:
            config = runtime.point
            selected = config.features.context
            checked: set[int] = set()  # a page's tiles share a few overlays (their rows)
            for i, overlay in enumerate(member_context or ()):
                if not overlay or id(overlay) in checked:
                    continue
                checked.add(id(overlay))
                if selected is None or any(k in selected for k in overlay):
                    raise InvalidInput(
                        "member_context may only add keys the point does not use as features "
                        "(they are logged, never learned from)",
                        field=f"member_context.{i}",
                    )
            batch_id = new_decision_id("b")
            ids = member_ids(batch_id, count)
            rollout = config.rollout
            # The members the policy is asked about: all but the holdout ones.
            if rollout.mode == "apprentice":
                modes: list[Mode] = ["apprentice"] * count
                asked = np.arange(count, dtype=np.intp)
            elif person_id is not None:
                live = rollout.serves_policy(config.name, person_id)
                modes = ["live" if live else "holdout"] * count
                asked = np.arange(count if live else 0, dtype=np.intp)
            else:
                modes = [
                    "live" if rollout.serves_policy(config.name, ids[k]) else "holdout"
                    for k in range(count)
                ]
                asked = np.array([k for k in range(count) if modes[k] == "live"], dtype=np.intp)
            derived = table.derived((config.name, config.revision), config.features.action_of)
            ranked = (
                rank_shared(
                    runtime.policy,
                    config.features.context_of(context),
                    table,
                    derived,
                    columns[asked],
                    sizes[asked],
                )
                if asked.shape[0]
                else None
            )
            runtime.dirty = True
            version = runtime.version
            created_at = self.clock()
            policy_name = runtime.policy.name
        header = _BatchHeader(
            batch_id=batch_id,
            ids=ids,
            point=config.name,
            context=dict(context),
            member_context=(
                list(member_context) if member_context is not None else [None] * len(ids)
            ),
            person_id=person_id,
            page_id=page_id,
            policy_name=policy_name,
            version=version,
            created_at=created_at,
        )
        if ranked is not None and all(mode == "live" for mode in modes):
            record, result = _live_batch_record(header, table, columns, sizes, ranked)
        else:
            record, result = _batch_record(
                header, config, table, columns, sizes, modes, asked, ranked
            )
        self.decisions.record(record)
        self._ensure_thread()
        return result

    def _checked(self, raw: DecisionRequest | Mapping[str, Any], where: str) -> _Checked:
        if isinstance(raw, Mapping):
            try:
                raw = DecisionRequest(**raw)
            except TypeError as error:
                raise InvalidInput(f"invalid decision request: {error}", field=where) from None
        if not isinstance(raw.context, Mapping):
            raise InvalidInput("context must be an object", field=f"{where}.context")
        _check_features(raw.context, f"{where}.context")
        actions = tuple(_action(a, f"{where}.actions.{j}") for j, a in enumerate(raw.actions))
        if not actions:
            raise InvalidInput("at least one action is needed", field=f"{where}.actions")
        if len(actions) > MAX_ACTIONS:
            raise InvalidInput(f"at most {MAX_ACTIONS} actions", field=f"{where}.actions")
        if len({a.id for a in actions}) != len(actions):
            raise InvalidInput("action ids must be unique", field=f"{where}.actions")
        for j, action in enumerate(actions):
            _check_features(action.features, f"{where}.actions.{j}.features")
        if not 1 <= raw.slots <= min(len(actions), MAX_SLOTS):
            raise InvalidInput(
                "slots must be between 1 and the number of actions", field=f"{where}.slots"
            )
        for name, value, longest in (
            ("decision_id", raw.decision_id, 128),
            ("person_id", raw.person_id, 261),
            ("page_id", raw.page_id, 128),
        ):  # the log's columns: a longer id would fail its write, long after this call
            if value is not None and not (isinstance(value, str) and 0 < len(value) <= longest):
                raise InvalidInput(
                    f"{name} must be a string of 1-{longest} characters", field=f"{where}.{name}"
                )
        return _Checked(
            dict(raw.context), actions, raw.person_id, raw.decision_id, raw.slots, raw.page_id
        )

    def _known(self, point: str, requests: Sequence[_Checked]) -> dict[str, DecisionResult]:
        """Logged answers for the client decision ids already used."""
        wanted = [r.decision_id for r in requests if r.decision_id is not None]
        if not wanted:
            return {}
        found: dict[str, DecisionResult] = {}
        for decision_id, record in self.decisions.many(wanted).items():
            if record.kind != KIND or record.point != point:
                raise DecisionConflict(
                    f"decision id {decision_id!r} already names a {record.kind} decision of "
                    f"{record.point!r}",
                    field="decision_id",
                )
            found[decision_id] = DecisionResult.from_record(record)
        return found

    @staticmethod
    def _first_of_each_id(
        requests: Sequence[_Checked],
        pending: list[int],
        results: list[DecisionResult | None],
    ) -> list[int]:
        """Within one batch a client id is decided once; its repeats get the same answer."""
        seen: set[str] = set()
        kept = []
        for i in pending:
            decision_id = requests[i].decision_id
            if decision_id is not None:
                if decision_id in seen:
                    continue
                seen.add(decision_id)
            kept.append(i)
        return kept

    def _record(
        self,
        point: DecisionPoint,
        request: _Checked,
        decision_id: str,
        mode: Mode,
        ranked: Ranked | None,
        policy_name: str,
        version: str,
        created_at: float,
    ) -> DecisionRecord:
        actions = request.actions
        ids = [action.id for action in actions]
        extra: dict[str, Any] = {"mode": mode, "slots": request.slots}
        if mode == "live":
            assert ranked is not None
            served = [ids[i] for i in ranked.chosen]
            probabilities = list(ranked.probabilities)
            ranking = [ids[i] for i in ranked.ranking]
            policy = policy_name
            explored = ranked.explored
            extra["distribution"] = [float(p) for p in ranked.distribution]
        else:
            first = point.rollout.baseline_index(actions)
            order = [first, *(i for i in range(len(ids)) if i != first)]
            if ranked is not None:  # apprentice: the rest by the policy's estimates
                rest = [i for i in ranked.ranking if i != first]
                order = [first, *rest]
            served = [ids[i] for i in order[: request.slots]]
            probabilities = [1.0] * request.slots
            ranking = [ids[i] for i in order]
            policy = f"baseline:{point.rollout.baseline}"
            explored = False
            if ranked is not None:
                extra["policy"] = policy_name
                extra["policy_choice"] = [ids[i] for i in ranked.chosen]
                extra["policy_probabilities"] = list(ranked.probabilities)
                extra["agree"] = ids[ranked.chosen[0]] == served[0]
        extra["ranking"] = ranking
        return DecisionRecord(
            decision_id=decision_id,
            kind=KIND,
            point=point.name,
            person_id=request.person_id,
            chosen=served,
            created_at=created_at,
            context=dict(request.context),
            candidates=[{"id": a.id, "features": dict(a.features)} for a in actions],
            page_id=request.page_id,
            probabilities=probabilities,
            policy=policy,
            model_version=version,
            explored=explored,
            extra=extra,
        )

    # -- rewards ---------------------------------------------------------------------------

    def reward(
        self,
        decision_id: str,
        value: float,
        *,
        action_id: str | None = None,
        source: Literal["api"] = "api",
        reward_id: str | None = None,
    ) -> RewardOutcome:
        """Record a reward for a logged decision (and learn from it if its rules say so).

        ``action_id`` is needed only when the decision served several actions. ``reward_id``
        makes a retried call harmless (default: a fresh id, so each call counts).
        """
        self._maybe_sweep()
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InvalidInput("value must be a finite number", field="value")
        if reward_id is not None and not 0 < len(reward_id) <= 256:
            raise InvalidInput("reward_id must have 1-256 characters", field="reward_id")
        record = self.decisions.get(decision_id)
        if record is None or record.kind != KIND:
            raise NotFound(f"no bandit decision {decision_id!r}", field="decision_id")
        runtime = self._runtime(record.point)
        target = store.attribute(record, action_id)
        if target is None:
            if action_id is not None:
                raise InvalidInput(
                    f"decision {decision_id!r} did not serve {action_id!r}", field="action_id"
                )
            raise InvalidInput(
                "the decision served several actions: name the rewarded one in action_id",
                field="action_id",
            )
        incoming = _Incoming(
            record,
            runtime,
            target,
            float(value),
            source,
            None,
            reward_id or f"{source}:{uuid.uuid4().hex}",
            self.clock(),
        )
        return self._accept([incoming])[0]

    def on_events(self, events: Sequence[Event]) -> None:
        """The ingest listener: rewards from newly stored events that carry a decision id.

        Never raises: the events are already committed, and a failure here must not turn their
        acknowledgement into an error (the client would retry for nothing). Errors are logged and
        counted in ``listener_errors``.
        """
        try:
            self.rewards_from_events(events)
        except Exception:  # deliberately broad: see the docstring
            self.listener_errors += 1
            logger.exception("bandit rewards from %d events failed", len(events))

    def rewards_from_events(self, events: Sequence[Event]) -> list[RewardOutcome]:
        """Map events to rewards by each point's configuration, store them and learn."""
        self._maybe_sweep()
        types = self._reward_types
        relevant = [e for e in events if e.decision_id is not None and e.type in types]
        if not relevant:
            return []
        records = self.decisions.many(sorted({e.decision_id or "" for e in relevant}))
        incoming: list[_Incoming] = []
        now = self.clock()
        for event in relevant:
            record = records.get(event.decision_id or "")
            if record is None or record.kind != KIND:
                continue
            try:
                runtime = self._runtime(record.point)
            except NotFound:
                continue
            rule = runtime.point.reward.rule_for(event.type)
            value = None if rule is None else rule.of(event.properties)
            if value is None or not math.isfinite(value):
                continue
            target = store.attribute(record, None, event.properties)
            incoming.append(
                _Incoming(
                    record,
                    runtime,
                    target,
                    value,
                    "event",
                    event.event_id,
                    f"e:{event.event_id}",
                    now,
                )
            )
        return self._accept(incoming) if incoming else []

    def _accept(self, incoming: Sequence[_Incoming]) -> list[RewardOutcome]:
        """Store rewards, claim what ``first`` aggregation learns now, then learn it."""
        with self._learn_lock:
            with self.database.write() as connection:
                rules = store.ledger_rules(connection, [i.record.decision_id for i in incoming])
                states: list[tuple[bool, str | None]] = []
                entries = []
                for item in incoming:
                    reward = item.runtime.point.reward
                    key = (item.record.decision_id, item.action_id or "")
                    closed = rules.get(key) in ("sum", "default") or store.closed_by_rest(
                        rules, item.record.decision_id
                    )
                    deadline = item.record.created_at + reward.window_s
                    in_window = (
                        item.action_id is not None and item.received_at <= deadline and not closed
                    )
                    states.append((in_window, rules.get(key)))
                    entries.append(
                        {
                            "reward_id": item.reward_id,
                            "decision_id": item.record.decision_id,
                            "point": item.record.point,
                            "person_id": item.record.person_id,
                            "action_id": item.action_id,
                            "value": item.value,
                            "source": item.source,
                            "event_id": item.event_id,
                            "received_at": item.received_at,
                            "in_window": in_window,
                        }
                    )
                fresh = store.insert_rewards(self.database, connection, entries)
                wanted: dict[tuple[str, str], _Incoming] = {}
                for item, (in_window, rule) in zip(incoming, states, strict=True):
                    key = (item.record.decision_id, item.action_id or "")
                    if (
                        item.reward_id in fresh
                        and in_window
                        and rule is None
                        and item.runtime.point.reward.aggregation == "first"
                        and key not in wanted
                    ):
                        wanted[key] = item
                claimed = store.claim(
                    self.database,
                    connection,
                    [
                        {
                            "decision_id": item.record.decision_id,
                            "action_id": item.action_id,
                            "point": item.record.point,
                            "person_id": item.record.person_id,
                            "value": item.value,
                            "rule": "first",
                            "learned_at": item.received_at,
                        }
                        for item in wanted.values()
                    ],
                )
            learned_keys = {(c.decision_id, c.action_id) for c in claimed}
            self._learn_claimed(
                claimed, {item.record.decision_id: served_of(item.record) for item in incoming}
            )
        outcomes = []
        for item, (in_window, _rule) in zip(incoming, states, strict=True):
            key = (item.record.decision_id, item.action_id or "")
            status: store.Status
            if item.reward_id not in fresh:
                status = "duplicate"
            elif item.action_id is None:
                status = "unattributed"
            elif not in_window:
                status = "late"
            elif key in learned_keys and wanted.get(key) is item:
                status = "learned"
            elif item.runtime.point.reward.aggregation == "sum":
                status = "pending"
            else:
                status = "extra"
            outcomes.append(
                RewardOutcome(
                    item.reward_id,
                    item.record.decision_id,
                    item.action_id,
                    item.value,
                    in_window,
                    status,
                )
            )
        return outcomes

    # -- windows ---------------------------------------------------------------------------

    def close_windows(self, now: float | None = None, *, paced: bool = False) -> int:
        """Learn every decision whose reward window ended before ``now`` and was not learned
        yet: the sum of its in-window rewards (``sum``) or the default when none came. Returns
        how many (decision, action) pairs were learned. Safe to run anywhere, any number of
        times, concurrently: the ledger lets each pair be learned once. ``paced`` rests after
        each transaction so as to take at most ``sweep_share`` of the time (the background
        sweep does, so that requests served meanwhile are not starved)."""
        moment = self.clock() if now is None else now
        self.decisions.flush()
        with self.database.read() as connection:
            names = list(connection.execute(select(bandit_points.c.name)).scalars())
        total = 0
        for name in names:
            try:
                runtime = self._runtime(name)
            except NotFound:
                continue
            total += self._close_point(runtime, moment, paced)
        return total

    def _close_point(self, runtime: _Runtime, now: float, paced: bool = False) -> int:
        point = runtime.point
        cutoff = now - point.reward.window_s
        with self.database.read() as connection:
            watermark = connection.execute(
                select(bandit_points.c.closed_through).where(bandit_points.c.name == point.name)
            ).scalar()
        lower = -math.inf if watermark is None else float(watermark) - WATERMARK_SLACK_S
        if cutoff <= lower:
            return 0
        learned = 0
        after: tuple[float, str] | None = None
        while True:
            # Only ids, times and served actions: most rows of the slack are closed already,
            # and their context and candidates are not worth decoding to find that out. A
            # batch row (a page of decisions) stands for its members, ``<id>~<k>``.
            query = (
                select(
                    decisions.c.decision_id,
                    decisions.c.created_at,
                    decisions.c.chosen,
                    decisions.c.kind,
                )
                .where(
                    decisions.c.kind.in_((KIND, BATCH_KIND)),
                    decisions.c.point == point.name,
                    decisions.c.created_at < cutoff,
                )
                .order_by(decisions.c.created_at, decisions.c.decision_id)
                .limit(_PAGE)
            )
            if math.isfinite(lower):
                query = query.where(decisions.c.created_at > lower)
            if after is not None:
                query = query.where(
                    (decisions.c.created_at > after[0])
                    | ((decisions.c.created_at == after[0]) & (decisions.c.decision_id > after[1]))
                )
            with self.database.read() as connection:
                found = connection.execute(query).all()
            if not found:
                break
            # A batch row (a page of tiles) closes whole, in one transaction: its unrewarded
            # members become one rest row. Transactions hold about ``_PAGE`` members.
            page: list[_Closing] = []
            size = 0
            for decision_id, _at, chosen, kind in found:
                if kind == BATCH_KIND:
                    members = [[str(a) for a in served] for served in chosen]
                    page.append(_Closing(str(decision_id), members, batch=True))
                    size += len(members)
                else:
                    page.append(_Closing(str(decision_id), [[str(a) for a in chosen]]))
                    size += 1
                if size >= _PAGE:
                    learned += self._paced(runtime, page, paced)
                    page, size = [], 0
            if page:
                learned += self._paced(runtime, page, paced)
            after = (float(found[-1][1]), str(found[-1][0]))
            if len(found) < _PAGE:
                break
        with self.database.write() as connection:
            connection.execute(
                update(bandit_points)
                .where(bandit_points.c.name == point.name)
                .where(
                    (bandit_points.c.closed_through.is_(None))
                    | (bandit_points.c.closed_through < cutoff)
                )
                .values(closed_through=cutoff)
            )
        return learned

    def _paced(self, runtime: _Runtime, page: Sequence[_Closing], paced: bool) -> int:
        """``_close_page``, then, when ``paced``, a rest (see ``sweep_share``)."""
        started = time.perf_counter()
        learned = self._close_page(runtime, page)
        if paced and self.sweep_share < 1.0:
            rest = (time.perf_counter() - started) * (1.0 - self.sweep_share) / self.sweep_share
            self._stopped.wait(rest)
        return learned

    def _close_page(self, runtime: _Runtime, page: Sequence[_Closing]) -> int:
        """Learn the open (decision, served action) pairs of a page of expired decisions: the
        sum of their in-window rewards (aggregation ``sum``) or the default, each in a ledger
        row of its own, except a batch's defaults, which share one rest row."""
        reward = runtime.point.reward
        with self._learn_lock:
            with self.database.write() as connection:
                keyed = [(closing, closing.decision_ids()) for closing in page]
                # ledger_rules also finds the rest rows of the members' batches
                rules = store.ledger_rules(connection, [key for _, ids in keyed for key in ids])
                open_keys = [
                    (closing, key, (key, action))
                    for closing, ids in keyed
                    if (closing.decision_id, store.REST) not in rules
                    for key, served in zip(ids, closing.members, strict=True)
                    for action in served
                    if (key, action) not in rules
                ]
                if not open_keys:
                    return 0
                views = read_served(connection, list(dict.fromkeys(k for _, k, _ in open_keys)))
                sums = (
                    store.in_window_sums(connection, [pair for _, _, pair in open_keys])
                    if reward.aggregation == "sum"
                    else {}
                )
                now = self.clock()
                claims: list[dict[str, Any]] = []
                rests: dict[str, list[store.Key]] = {}
                for closing, key, pair in open_keys:
                    view = views.get(key)
                    if view is None:
                        continue  # erased since it was served
                    total = sums.get(pair)
                    if total is None and closing.batch:
                        rests.setdefault(closing.decision_id, []).append(pair)
                        continue
                    claims.append(
                        {
                            "decision_id": key,
                            "action_id": pair[1],
                            "point": view.point,
                            "person_id": view.person_id,
                            "value": reward.default if total is None else total[0],
                            "rule": "default" if total is None else "sum",
                            "learned_at": now,
                        }
                    )
                for batch_id, pairs in rests.items():
                    view = views[pairs[0][0]]
                    claims.append(
                        {
                            "decision_id": batch_id,
                            "action_id": store.REST,
                            "point": view.point,
                            "person_id": view.person_id,
                            "value": reward.default,
                            "rule": "default",
                            "learned_at": now,
                            "pairs": len(pairs),
                        }
                    )
                claimed = store.claim(self.database, connection, claims)
            learned = _expand_rests(claimed, rests)
            self._learn_claimed(learned, views)
        return len(learned)

    # -- learning --------------------------------------------------------------------------

    def _learn_claimed(
        self, claimed: Sequence[store.Claimed], records: Mapping[str, Served]
    ) -> None:
        """Feed claimed ledger rows to their points' policies, in ledger order."""
        by_point: dict[str, list[tuple[store.Claimed, Served]]] = {}
        for entry in claimed:
            record = records.get(entry.decision_id)
            if record is not None:
                by_point.setdefault(record.point, []).append((entry, record))
        for name, entries in by_point.items():
            runtime = self._runtimes.get(name)
            if runtime is not None:
                self._learn(runtime, entries)

    def _learn(self, runtime: _Runtime, entries: Sequence[tuple[store.Claimed, Served]]) -> None:
        """Learn ledger rows in order, in one ``learn_many`` (a page's tiles share contexts and
        a handful of artwork feature combinations, which linear policies fold together)."""
        with runtime.lock:
            features = runtime.point.features
            # Views of one batch share their context and feature objects: so do the inputs
            # built from them (the views outlive this loop, so their ids stay theirs).
            contexts: dict[int, dict[str, FeatureValue]] = {}
            actions: dict[tuple[str, int], Action] = {}
            feedback: list[tuple[dict[str, FeatureValue], Action, float, float]] = []
            start = last = runtime.last_seq
            for entry, served in entries:
                if entry.seq <= start:
                    continue  # learned before this model's snapshot (or already replayed)
                last = max(last, entry.seq)  # the pairs of a rest row share its seq
                found = served.action(entry.action_id)
                if found is None:
                    continue
                context = contexts.get(id(served.context))
                if context is None:
                    context = contexts[id(served.context)] = features.context_of(served.context)
                action_features, probability = found
                key = (entry.action_id, id(action_features))
                action = actions.get(key)
                if action is None:
                    action = actions[key] = Action(
                        entry.action_id, features.action_of(action_features)
                    )
                feedback.append((context, action, entry.value, min(max(probability, 1e-12), 1.0)))
            if last == runtime.last_seq:
                return
            runtime.policy.learn_many(feedback)
            runtime.learned += len(feedback)
            runtime.since += len(feedback)
            runtime.last_seq = last
            runtime.dirty = True

    def _replay(self, runtime: _Runtime) -> int:
        """Learn the ledger rows written after the runtime's snapshot (a crash's lost work)."""
        replayed = 0
        with self._learn_lock:
            while True:
                with self.database.read() as connection:
                    batch = store.ledger_after(
                        connection, runtime.point.name, runtime.last_seq, _PAGE
                    )
                if not batch:
                    return replayed
                records = self.decisions.many(sorted({entry.decision_id for entry in batch}))
                entries: list[tuple[store.Claimed, Served]] = []
                for entry in batch:
                    record = records.get(entry.decision_id)
                    if record is None:  # erased since: nothing to learn, but move past it
                        with runtime.lock:
                            runtime.last_seq = max(runtime.last_seq, entry.seq)
                        continue
                    if entry.action_id == store.REST:
                        entries += self._rest_entries(entry, record)
                    else:
                        entries.append((entry, served_of(record)))
                self._learn(runtime, entries)
                with runtime.lock:
                    runtime.last_seq = max(runtime.last_seq, batch[-1].seq)
                replayed += len(entries)

    def _rest_entries(
        self, entry: store.Claimed, record: DecisionRecord
    ) -> list[tuple[store.Claimed, Served]]:
        """The pairs a batch's rest row stands for: the batch's (member, served action) pairs
        without a ledger row of their own (none can be added once the rest row exists)."""
        record = record.unpacked()
        ids = [member_id(record.decision_id, k) for k in range(len(record.chosen))]
        with self.database.read() as connection:
            rules = store.ledger_rules(connection, ids)
        views = served_members(record, range(len(ids)))
        return [
            (store.Claimed(entry.seq, key, str(action), entry.value), views[k])
            for k, key in enumerate(ids)
            if k in views
            for action in record.chosen[k]
            if (key, str(action)) not in rules
        ]

    # -- persistence -----------------------------------------------------------------------

    def save(self) -> list[str]:
        """Snapshot every point whose state changed; returns their new model versions."""
        saved = []
        for runtime in list(self._runtimes.values()):
            version = self._save_one(runtime)
            if version is not None:
                saved.append(f"{runtime.point.name}@{version}")
        self._last_save = time.monotonic()
        return saved

    def _save_one(self, runtime: _Runtime) -> str | None:
        with self._save_lock:
            with runtime.lock:
                if not runtime.dirty:
                    return None
                runtime.snapshot = max(runtime.snapshot, self.snapshots.highest(runtime.point.name))
                runtime.snapshot += 1
                runtime.since = 0
                runtime.dirty = False
                state = _copied(runtime.policy.state())
                meta = SnapshotMeta(
                    point=runtime.point.name,
                    snapshot=runtime.snapshot,
                    revision=runtime.point.revision,
                    model_key=runtime.point.model_key(),
                    last_seq=runtime.last_seq,
                    learned=runtime.learned,
                    saved_at=self.clock(),
                )
                version = runtime.version
            self.snapshots.save(meta, state)
        return version

    def load(self) -> None:
        """(Re)load every point: its newest snapshot of the current revision (else a fresh
        model), plus the ledger rows learned after it."""
        with self.database.read() as connection:
            rows = [dict(row) for row in connection.execute(select(bandit_points)).mappings()]
        loaded = {}
        for row in rows:
            point = self._point_of(row)
            loaded[point.name] = self._restore(point)
        with self._runtimes_lock:
            self._runtimes = loaded
            self._index_reward_types()
        for runtime in loaded.values():
            self._replay(runtime)

    def _restore(self, point: DecisionPoint) -> _Runtime:
        latest = self.snapshots.latest(point.name)
        if latest is not None:
            meta, state = latest
            if meta.revision == point.revision and meta.model_key == point.model_key():
                return _Runtime(
                    point, policy_from_state(state), meta.snapshot, meta.last_seq, meta.learned
                )
        with self.database.read() as connection:
            start = store.last_seq(connection, point.name)
        return _Runtime(
            point, build_policy(point), self.snapshots.highest(point.name), start, dirty=True
        )

    # -- background work -------------------------------------------------------------------

    def _maybe_sweep(self) -> None:
        """Inline mode: close windows and autosave at most every interval, on the way in."""
        if self.sweep != "inline":
            return
        now = time.monotonic()
        if now - self._last_sweep >= self.sweep_interval_s:
            self._last_sweep = now
            self.close_windows(self.clock() - self.close_grace_s)
        if now - self._last_save >= self.autosave_s:
            self.save()

    def _ensure_thread(self) -> None:
        if self.sweep != "thread" or self._thread is not None or self._stopped.is_set():
            return
        with self._runtimes_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="limelight-bandit-sweep", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self.sweep_interval_s):
            try:
                self.close_windows(self.clock() - self.close_grace_s, paced=True)
                if time.monotonic() - self._last_save >= self.autosave_s:
                    self.save()
            except Exception:  # deliberately broad: keep sweeping, the next round retries
                logger.exception("bandit reward-window sweep failed")

    def close(self) -> None:
        """Stop the sweep and save every changed model (call before closing the database)."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.save()

    # -- reports and evaluation ------------------------------------------------------------

    def report(self, name: str, *, since: float | None = None) -> PointReport:
        """Traffic by mode, rewards by source and window, learning, and (apprentice) the rate
        at which the policy's first choice agreed with the baseline."""
        runtime = self._runtime(name)
        self.decisions.flush()
        query = select(decisions.c.kind, decisions.c.extra, decisions.c.explored).where(
            decisions.c.kind.in_((KIND, BATCH_KIND)), decisions.c.point == name
        )
        if since is not None:
            query = query.where(decisions.c.created_at >= since)
        modes: dict[str, int] = {}
        explored = agreed = apprentice = 0
        with self.database.read() as connection:
            for kind, extra, was_explored in connection.execute(query):
                if kind == BATCH_KIND:  # a page of decisions: each member counts
                    pairs = list(
                        zip(member_extras(extra), (extra or {}).get("explored") or [], strict=True)
                    )
                else:
                    pairs = [(extra, was_explored)]
                for one, one_explored in pairs:
                    fields = one or {}
                    mode = str(fields.get("mode", "live"))
                    modes[mode] = modes.get(mode, 0) + 1
                    explored += int(bool(one_explored))
                    if "agree" in fields:
                        apprentice += 1
                        agreed += int(bool(fields["agree"]))
            counts = store.reward_counts(connection, name, since)
            learned, mean = store.learned_summary(connection, name, since)
        return PointReport(
            point=name,
            model_version=self.model_version(name),
            revision=runtime.point.revision,
            decisions=modes,
            explored=explored,
            rewards=counts,
            learned=learned,
            mean_learned_reward=mean,
            apprentice_decisions=apprentice,
            agreement_rate=agreed / apprentice if apprentice else None,
        )

    def evaluate(
        self, point: str, candidate: Mapping[str, Any] | str, **options: Any
    ) -> PointEvaluation:
        """Off-policy evaluation of ``candidate`` on the point's own log (options as for
        :func:`limelight.bandits.offpolicy.evaluate_point`); ``"current"`` is a frozen copy of
        the live model."""
        runtime = self._runtime(point)
        self.decisions.flush()
        name = candidate if isinstance(candidate, str) else candidate.get("name")
        current = None
        if name == "current":
            with runtime.lock:
                state = _copied(runtime.policy.state())
            current = policy_from_state(state)
        return evaluate_point(self.database, runtime.point, candidate, current=current, **options)


@dataclass(frozen=True, slots=True)
class _Closing:
    """A logged row whose reward window is closing: one decision, or a batch row whose
    ``members`` are its decisions (each entry: the actions that decision served)."""

    decision_id: str
    members: list[list[str]]
    batch: bool = False

    def decision_ids(self) -> list[str]:
        if not self.batch:
            return [self.decision_id]
        return [member_id(self.decision_id, k) for k in range(len(self.members))]


def _expand_rests(
    claimed: Sequence[store.Claimed], rests: Mapping[str, Sequence[store.Key]]
) -> list[store.Claimed]:
    """Claimed ledger rows, each rest row replaced by the pairs it stands for (its seq)."""
    out: list[store.Claimed] = []
    for entry in claimed:
        if entry.action_id == store.REST:
            out += [
                store.Claimed(entry.seq, key, action, entry.value)
                for key, action in rests.get(entry.decision_id, ())
            ]
        else:
            out.append(entry)
    return out


@dataclass(frozen=True, slots=True)
class _Incoming:
    """A reward on its way in, with the decision it belongs to."""

    record: DecisionRecord
    runtime: _Runtime
    action_id: str | None
    value: float
    source: str
    event_id: str | None
    reward_id: str
    received_at: float


@dataclass(frozen=True, slots=True)
class _BatchHeader:
    """What every member of a batch shares, and the making of its row and its answers."""

    batch_id: str
    ids: Sequence[str]
    point: str
    context: dict[str, Any]
    member_context: list[Mapping[str, Any] | None]
    person_id: str | None
    page_id: str | None
    policy_name: str
    version: str
    created_at: float

    def row_fields(self) -> dict[str, Any]:
        """What a batch row of either layout takes from the header."""
        return {
            "batch_id": self.batch_id,
            "member_kind": KIND,
            "point": self.point,
            "person_id": self.person_id,
            "page_id": self.page_id,
            "created_at": self.created_at,
            "policy": self.policy_name,
            "model_version": self.version,
            "context": self.context,
        }

    def finish(
        self,
        table: ActionTable,
        columns: np.ndarray,
        sizes: np.ndarray,
        chosen: list[str],
        probabilities: list[float],
        explored: list[bool],
        modes: list[Mode],
        member_extra: Sequence[Mapping[str, Any] | None] | Mapping[str, Any],
        member_policy: Sequence[str | None],
    ) -> tuple[DecisionRecord, BatchResult]:
        """The batch row (each distinct candidate once, members as positions into them)."""
        _, used, local, groups, numbered = _distinct_candidates(table, columns, sizes)
        distinct = table.feature_groups.distinct
        record = batch_record(
            **self.row_fields(),
            actions=list(zip(table.id_array[used].tolist(), numbered.tolist(), strict=True)),
            features=[distinct[n] for n in groups.tolist()],
            lists=[row[:k] for row, k in zip(local.tolist(), sizes.tolist(), strict=True)],
            chosen=[[c] for c in chosen],
            probabilities=[[p] for p in probabilities],
            explored=explored,
            member_context=self.member_context,
            member_extra=member_extra,
            member_policy=member_policy,
        )
        result = BatchResult(
            self.batch_id,
            list(self.ids),
            chosen,
            probabilities,
            explored,
            modes,
            self.policy_name,
            self.version,
        )
        return record, result


def _batch_record(
    header: _BatchHeader,
    point: DecisionPoint,
    table: ActionTable,
    columns: np.ndarray,
    sizes: np.ndarray,
    modes: Sequence[Mode],
    asked: np.ndarray,
    ranked: SharedRanked | None,
) -> tuple[DecisionRecord, BatchResult]:
    """The batch row and the answers, member by member: what ``_record`` would have logged
    for each (baseline members in apprentice and holdout modes)."""
    action_ids = table.ids
    count = len(header.ids)
    positions = [row[:k] for row, k in zip(columns.tolist(), sizes.tolist(), strict=True)]
    lists = [[action_ids[c] for c in row] for row in positions]
    chosen: list[str] = [""] * count
    probabilities: list[float] = [1.0] * count
    explored = [False] * count
    policies: list[str | None] = [None] * count
    extras: list[Mapping[str, Any] | None] = [None] * count
    row_of = {int(k): j for j, k in enumerate(asked.tolist())}
    if ranked is not None:
        picks = ranked.chosen.tolist()
        served_p = ranked.probability().tolist()
        was_explored = ranked.explored.tolist()
        orders = ranked.order().tolist()
        rankings = ranked.ranking().tolist()
        distributions = ranked.distributions.tolist()
    baseline = f"baseline:{point.rollout.baseline}"
    for i in range(count):
        names = lists[i]
        size = len(names)
        j = row_of.get(i)
        if modes[i] == "live":
            assert j is not None
            pick = picks[j]
            chosen[i] = names[pick]
            probabilities[i] = served_p[j]
            explored[i] = was_explored[j]
            extras[i] = {
                "mode": "live",
                "slots": 1,
                "distribution": distributions[j][:size],
                "ranking": [names[c] for c in rankings[j][:size]],
            }
            continue
        actions = [Action(names[k], table.features[c]) for k, c in enumerate(positions[i])]
        first = point.rollout.baseline_index(actions)
        order = [first, *(c for c in range(size) if c != first)]
        extra: dict[str, Any] = {"mode": modes[i], "slots": 1}
        if j is not None:  # apprentice: the rest by the policy's estimates, its choice logged
            order = [first, *(c for c in orders[j][:size] if c != first)]
            extra["policy"] = header.policy_name
            extra["policy_choice"] = [names[picks[j]]]
            extra["policy_probabilities"] = [served_p[j]]
            extra["agree"] = picks[j] == first
        extra["ranking"] = [names[c] for c in order]
        chosen[i] = names[first]
        policies[i] = baseline
        extras[i] = extra
    return header.finish(
        table, columns, sizes, chosen, probabilities, explored, list(modes), extras, policies
    )


def _live_batch_record(
    header: _BatchHeader,
    table: ActionTable,
    columns: np.ndarray,
    sizes: np.ndarray,
    ranked: SharedRanked,
) -> tuple[DecisionRecord, BatchResult]:
    """``_batch_record`` when the policy served every member (the usual page): the same
    members, logged in the columnar layout (:func:`limelight.decisions.batch.columnar_record`)
    from the decision's arrays, without a Python list per member."""
    count = columns.shape[0]
    mask, used, lists, groups, numbered = _distinct_candidates(table, columns, sizes)
    names = table.id_array
    chosen = names[columns[np.arange(count), ranked.chosen]]
    probabilities = np.asarray(ranked.probability(), dtype=np.float64)
    explored = np.asarray(ranked.explored, dtype=bool)
    # Served first, then by score; a member's own columns come before the padding.
    ranking = np.where(mask, ranked.ranking(), -1)
    record = columnar_record(
        **header.row_fields(),
        action_ids=names[used].tolist(),
        action_features=numbered,
        features=[table.feature_groups.distinct[n] for n in groups.tolist()],
        lists=lists,
        chosen=chosen.reshape(count, 1).tolist(),
        probabilities=probabilities,
        explored=explored,
        member_context=header.member_context,
        member_same={"mode": "live", "slots": 1},
        padded={"distribution": np.asarray(ranked.distributions, dtype=np.float64)},
        ranked={"ranking": ranking},
    )
    result = BatchResult(
        header.batch_id,
        list(header.ids),
        chosen.tolist(),
        probabilities.tolist(),
        explored.tolist(),
        ["live"] * count,
        header.policy_name,
        header.version,
    )
    return record, result


def _distinct_candidates(
    table: ActionTable, columns: np.ndarray, sizes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What a batch row lists once: ``mask`` (which of ``columns`` are a member's own), the
    distinct candidates ``used`` (table positions, ascending), each member's candidates as
    positions among them (``-1`` past its size), the distinct feature mappings they use
    (``groups``, numbers of the table's) and each candidate's number among those."""
    mask = np.arange(columns.shape[1]) < sizes[:, None]
    used, inverse = _distinct(columns[mask], len(table.ids))
    local = np.full(columns.shape, -1, dtype=np.int64)
    local[mask] = inverse
    grouped = table.feature_groups
    groups, numbered = _distinct(grouped.numbers[used], len(grouped.distinct))
    return mask, used, local, groups, numbered


def _distinct(values: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` for integers in ``[0, bound)``, by marking a
    table rather than sorting."""
    present = np.zeros(bound, dtype=bool)
    present[values] = True
    number = np.cumsum(present) - 1
    return np.flatnonzero(present), number[values]


def _decision_ids(count: int) -> list[str]:
    """``count`` fresh ids like ``new_decision_id``'s (time in microseconds, then 48 random
    bits), from one read of the system's randomness (one ``getrandom`` call per id was a fifth
    of the cost of a page). Ids of one page also carry their position after the time, so that
    they sort in request order: the page shares one ``created_at``, and the log's order within
    it is what off-policy replay follows."""
    if count <= 1:
        return [new_decision_id() for _ in range(count)]
    stamp = f"d_{time.time_ns() // 1000:x}"
    noise = os.urandom(6 * count).hex()
    return [f"{stamp}{i:04x}{noise[12 * i : 12 * i + 12]}" for i in range(count)]


_ATTACHED: WeakKeyDictionary[Any, DecisionService] = WeakKeyDictionary()


def attached(core: Core) -> DecisionService:
    """The engine's decision service: ``engine.bandits`` once the Engine provides it, else one
    built on first use and kept for the engine's life (one per engine, since it registers a
    personal-data hook and an ingest listener). The stand-in sweeps inline (no thread to stop,
    as nobody calls its ``close``); a restart replays its learning from the ledger."""
    provided = getattr(core, "bandits", None)
    if isinstance(provided, DecisionService):
        return provided
    found = _ATTACHED.get(core)
    if found is None:
        found = DecisionService(
            core.database,
            core.settings,
            core.decisions,
            core.personal_data,
            core.settings.data_dir,
            sweep="inline",
        )
        ingestor = getattr(core, "ingestor", None)
        listeners = getattr(ingestor, "listeners", None)
        if isinstance(listeners, list):
            listeners.append(found.on_events)
        _ATTACHED[core] = found
    return found
