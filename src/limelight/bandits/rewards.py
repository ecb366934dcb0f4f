"""Rewards and the learning ledger: storage, attribution and the exactly-once claim.

Two tables (see ``limelight.storage.schema``):

``bandit_rewards``
    Every reward ever received, whatever became of it: from the API or from an event that
    carries a decision id. Its primary key (a client's ``reward_id``, ``e:<event_id>`` for
    events) makes a retried request or a replayed event harmless. Late rewards are kept with
    ``in_window`` false, for analysis (how long do rewards really take?) but not for learning.
    The default learned when a window closes without a reward is not a received reward: the
    ledger holds it (rule ``default``), and reports count it from there.
``bandit_learned``
    The ledger: one row per (decision, served action) that a model learned from, with the value
    it learned. Learning happens only after this row is inserted by the caller (``INSERT ... ON
    CONFLICT DO NOTHING RETURNING``), so whoever inserts it learns and everyone else does not:
    exactly once, across threads, processes and restarts. ``seq`` orders the ledger, which is
    what a restart replays on top of the last snapshot.

    A page of decisions (a batch row, :mod:`limelight.decisions.batch`) closes with one *rest*
    row, ``(<batch id>, "*")``, rule ``default``, ``pairs`` = how many (member, served action)
    pairs it stands for: every pair of the batch without a row of its own when it was written.
    A page of 200 tiles is mostly unrewarded; a row per tile made closing windows slower than a
    busy server makes tiles. Once the rest row exists the batch's members are closed (a reward
    for one is late), so the pairs it stands for never change: a replay or an evaluation
    recovers them as the batch's pairs minus the member rows.

Attribution: a reward belongs to one served action. It is the given ``action_id`` (which must be
one the decision served), else the only served action, else for events the action at the
event's ``position`` or the served action equal to its ``action_id`` or ``item_id`` property.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, and_, delete, func, select, tuple_

from limelight.decisions import DecisionRecord, split_member
from limelight.privacy.registry import Identity
from limelight.storage.database import Database, chunked, rows
from limelight.storage.schema import bandit_learned, bandit_rewards

Key = tuple[str, str]  # (decision_id, action_id)
#: The action id of a batch's rest row (not a valid action id: those are 1-256 characters of
#: the caller's choosing, but a rest row's decision id is a batch id, never a decision's).
REST = "*"
Source = Literal["api", "event"]
Status = Literal["learned", "pending", "extra", "late", "duplicate", "unattributed"]
Rule = Literal["first", "sum", "default"]


@dataclass(frozen=True, slots=True)
class RewardOutcome:
    """What became of one reward.

    ``status``: ``learned`` (the model learned from it now), ``pending`` (aggregation ``sum``:
    it counts when the window closes), ``extra`` (aggregation ``first``: an earlier reward was
    already learned), ``late`` (after the window; stored only), ``duplicate`` (this reward id
    was already stored), ``unattributed`` (several actions were served and the reward names
    none of them; stored only).
    """

    reward_id: str
    decision_id: str
    action_id: str | None
    value: float
    in_window: bool
    status: Status

    @property
    def learned(self) -> bool:
        return self.status == "learned"


@dataclass(frozen=True, slots=True)
class Claimed:
    """A ledger row this process inserted, so must learn from."""

    seq: int
    decision_id: str
    action_id: str
    value: float


def attribute(
    record: DecisionRecord, action_id: str | None, properties: Mapping[str, Any] | None = None
) -> str | None:
    """The served action a reward belongs to, or None when it cannot be told."""
    served = [str(chosen) for chosen in record.chosen]
    if action_id is not None:
        return action_id if action_id in served else None
    if len(served) == 1:
        return served[0]
    if properties:
        position = properties.get("position")
        if isinstance(position, int) and not isinstance(position, bool):
            return served[position] if 0 <= position < len(served) else None
        for key in ("action_id", "item_id"):
            named = properties.get(key)
            if isinstance(named, str) and named in served:
                return named
    return None


def insert_rewards(
    database: Database, connection: Connection, entries: Sequence[Mapping[str, Any]]
) -> set[str]:
    """Store rewards; returns the ids that were new (the others were already stored)."""
    fresh: set[str] = set()
    statement = database.insert_ignore(bandit_rewards).returning(bandit_rewards.c.reward_id)
    for chunk in chunked(list(entries), 500):
        fresh.update(connection.execute(statement, list(chunk)).scalars())
    return fresh


def ledger_rules(connection: Connection, decision_ids: Iterable[str]) -> dict[Key, str]:
    """The rule each already-learned (decision, action) was learned by, and the rest row
    ``(<batch id>, REST)`` of the batch of each member id, where there is one (see
    :func:`closed_by_rest`)."""
    found: dict[Key, str] = {}
    wanted = set(decision_ids)
    wanted.update(parts[0] for d in list(wanted) if (parts := split_member(d)) is not None)
    for chunk in chunked(sorted(wanted)):
        query = select(
            bandit_learned.c.decision_id, bandit_learned.c.action_id, bandit_learned.c.rule
        ).where(bandit_learned.c.decision_id.in_(chunk))
        for decision_id, action_id, rule in connection.execute(query):
            found[(decision_id, action_id)] = rule
    return found


def closed_by_rest(rules: Mapping[Key, str], decision_id: str) -> bool:
    """Whether ``decision_id`` is a member of a batch whose rest row is in ``rules`` (from
    :func:`ledger_rules`): its window closed and nothing more is learned for it."""
    parts = split_member(decision_id)
    return parts is not None and (parts[0], REST) in rules


def in_window_sums(connection: Connection, keys: Sequence[Key]) -> dict[Key, tuple[float, int]]:
    """Sum and count of the in-window rewards of each (decision, action)."""
    found: dict[Key, tuple[float, int]] = {}
    for chunk in chunked(sorted(set(keys))):
        query = (
            select(
                bandit_rewards.c.decision_id,
                bandit_rewards.c.action_id,
                func.sum(bandit_rewards.c.value),
                func.count(),
            )
            .where(
                tuple_(bandit_rewards.c.decision_id, bandit_rewards.c.action_id).in_(chunk),
                bandit_rewards.c.in_window.is_(True),
            )
            .group_by(bandit_rewards.c.decision_id, bandit_rewards.c.action_id)
        )
        for decision_id, action_id, total, count in connection.execute(query):
            found[(decision_id, action_id)] = (float(total), int(count))
    return found


def claim(
    database: Database, connection: Connection, entries: Sequence[Mapping[str, Any]]
) -> list[Claimed]:
    """Insert ledger rows; returns those this call inserted (ordered by ``seq``)."""
    claimed: list[Claimed] = []
    statement = database.insert_ignore(bandit_learned).returning(
        bandit_learned.c.seq,
        bandit_learned.c.decision_id,
        bandit_learned.c.action_id,
        bandit_learned.c.value,
    )
    for chunk in chunked([{"pairs": 1, **entry} for entry in entries], 500):
        for seq, decision_id, action_id, value in connection.execute(statement, list(chunk)):
            claimed.append(Claimed(int(seq), decision_id, action_id, float(value)))
    return sorted(claimed, key=lambda entry: entry.seq)


def ledger_after(connection: Connection, point: str, seq: int, limit: int) -> list[Claimed]:
    """Ledger rows of ``point`` after ``seq``, in order (what a restart replays)."""
    query = (
        select(
            bandit_learned.c.seq,
            bandit_learned.c.decision_id,
            bandit_learned.c.action_id,
            bandit_learned.c.value,
        )
        .where(bandit_learned.c.point == point, bandit_learned.c.seq > seq)
        .order_by(bandit_learned.c.seq)
        .limit(limit)
    )
    return [Claimed(int(s), d, a, float(v)) for s, d, a, v in connection.execute(query)]


def last_seq(connection: Connection, point: str) -> int:
    query = select(func.max(bandit_learned.c.seq)).where(bandit_learned.c.point == point)
    return int(connection.execute(query).scalar() or 0)


def learned_values(connection: Connection, point: str) -> dict[Key, float]:
    """What the model learned for each (decision, action) of ``point``, and for each batch
    with a rest row ``(<batch id>, REST)``: the value of its members without a row of their
    own (see :func:`learned_value`)."""
    query = select(
        bandit_learned.c.decision_id, bandit_learned.c.action_id, bandit_learned.c.value
    ).where(bandit_learned.c.point == point)
    return {(d, a): float(v) for d, a, v in connection.execute(query)}


def learned_value(values: Mapping[Key, float], decision_id: str, action_id: str) -> float | None:
    """The value learned for one (decision, action) from :func:`learned_values`: its own row,
    else its batch's rest row, else None (not learned yet)."""
    found = values.get((decision_id, action_id))
    if found is None:
        parts = split_member(decision_id)
        if parts is not None:
            found = values.get((parts[0], REST))
    return found


# -- personal data ---------------------------------------------------------------------------


def export_person(connection: Connection, identity: Identity) -> dict[str, list[dict[str, Any]]]:
    """The person's rewards and what was learned from their decisions."""
    people = identity.person_ids
    return {
        "rewards": rows(
            connection.execute(
                select(bandit_rewards)
                .where(bandit_rewards.c.person_id.in_(people))
                .order_by(bandit_rewards.c.received_at)
            )
        ),
        "learned": rows(
            connection.execute(
                select(bandit_learned)
                .where(bandit_learned.c.person_id.in_(people))
                .order_by(bandit_learned.c.seq)
            )
        ),
    }


def erase_person(connection: Connection, identity: Identity) -> int:
    """Delete the person's rewards and ledger rows (the decisions have their own hook)."""
    people = identity.person_ids
    removed = connection.execute(
        delete(bandit_rewards).where(bandit_rewards.c.person_id.in_(people))
    ).rowcount
    removed += connection.execute(
        delete(bandit_learned).where(bandit_learned.c.person_id.in_(people))
    ).rowcount
    return int(removed)


def reward_counts(connection: Connection, point: str, since: float | None) -> dict[str, int]:
    """Rewards of a point by source and window (for the point's report); ``default_in_window``
    counts the pairs the ledger learned with the default."""
    condition = bandit_learned.c.point == point
    if since is not None:
        condition = and_(condition, bandit_learned.c.learned_at >= since)
    defaults = connection.execute(
        select(func.sum(bandit_learned.c.pairs)).where(
            condition, bandit_learned.c.rule == "default"
        )
    ).scalar()
    # Data dirs from before the ledger held the defaults also have a ``default`` reward row
    # for each: the ledger counts those already.
    condition = and_(bandit_rewards.c.point == point, bandit_rewards.c.source != "default")
    if since is not None:
        condition = and_(condition, bandit_rewards.c.received_at >= since)
    query = (
        select(bandit_rewards.c.source, bandit_rewards.c.in_window, func.count())
        .where(condition)
        .group_by(bandit_rewards.c.source, bandit_rewards.c.in_window)
    )
    counts: dict[str, int] = {"default_in_window": int(defaults)} if defaults else {}
    for source, in_window, count in connection.execute(query):
        name = f"{source}_{'in_window' if in_window else 'late'}"
        counts[name] = counts.get(name, 0) + int(count)
    return counts


def learned_summary(connection: Connection, point: str, since: float | None) -> tuple[int, float]:
    """How many (decision, action) pairs were learned and their mean value."""
    condition = bandit_learned.c.point == point
    if since is not None:
        condition = and_(condition, bandit_learned.c.learned_at >= since)
    pairs = bandit_learned.c.pairs
    count, total = connection.execute(
        select(func.sum(pairs), func.sum(bandit_learned.c.value * pairs)).where(condition)
    ).one()
    return int(count or 0), float(total) / float(count) if count else 0.0
