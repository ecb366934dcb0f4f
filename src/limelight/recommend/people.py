"""A person as the recommender sees them at request time: their live history and profile.

Read straight from ``profile_items`` (per-title stats folded in the same transaction that
stored the events), so an event ingested a moment ago is already here: a title finished a
second ago is "seen" now, without retraining and without a cache to invalidate.

* history: titles the person engaged with (a play, progress, a finish or a rating), in the
  order of their latest activity; this is what the models score;
* seen: history plus titles only ever skipped; none of these is recommended again;
* continue watching: started, not finished, most recent first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, bindparam, select

from limelight.events.identity import IdentityResolver
from limelight.events.model import ANONYMOUS_PREFIX
from limelight.profiles.state import ProfileState
from limelight.storage.schema import profile_items, profiles

#: Progress at or above this counts as finished (as ``ItemStats.finished``).
FINISHED_AT = 0.95

# Built once with a bound parameter: SQLAlchemy then reuses the compiled statement and its
# cache key, which costs more than the query itself when rebuilt per request.
_HISTORY = (
    select(
        profile_items.c.item_id,
        profile_items.c.last_at,
        profile_items.c.plays,
        profile_items.c.completions,
        profile_items.c.progress,
        profile_items.c.progress_at,
        profile_items.c.skips,
        profile_items.c.rating,
    )
    .where(profile_items.c.person_id == bindparam("person"))
    .order_by(profile_items.c.item_id)
)
_PROFILE = select(profiles.c.data).where(profiles.c.person_id == bindparam("person"))


@dataclass(frozen=True, slots=True)
class InProgress:
    """A title to continue: how far the person got and when."""

    item_id: str
    progress: float
    last_at: float


@dataclass(frozen=True)
class Person:
    """What one request knows about one person."""

    user_id: str
    person_id: str
    state: ProfileState | None
    history: list[str] = field(default_factory=list)
    history_times: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    seen: frozenset[str] = frozenset()
    finished: frozenset[str] = frozenset()
    in_progress: list[InProgress] = field(default_factory=list)

    @property
    def traits(self) -> dict[str, Any]:
        return {} if self.state is None else dict(self.state.traits)

    @property
    def opted_out(self) -> bool:
        """Whether the person said no to profiling (consent ``profiling`` false)."""
        return self.state is not None and self.state.consent.get("profiling") is False


def resolve(connection: Connection, identity: IdentityResolver, user_id: str) -> str:
    """The person behind an id (``anon:<device>`` follows the device's link to an account)."""
    if user_id.startswith(ANONYMOUS_PREFIX):
        linked = identity.links(connection, [user_id.removeprefix(ANONYMOUS_PREFIX)])
        return next(iter(linked.values()), user_id)
    return user_id


def read_person(
    connection: Connection,
    identity: IdentityResolver,
    user_id: str,
    *,
    with_history: bool = True,
) -> Person:
    """The person's profile and live per-title history (inside one read transaction)."""
    person_id = resolve(connection, identity, user_id)
    data = connection.execute(_PROFILE, {"person": person_id}).scalar()
    state = None if data is None else ProfileState.from_json(data)
    if state is None or not with_history:
        return Person(user_id, person_id, state)
    rows = connection.execute(_HISTORY, {"person": person_id}).all()
    if not rows:
        return Person(user_id, person_id, state)
    ids, last_at, plays, completions, progress, progress_at, skips, rating = zip(*rows, strict=True)
    last = np.asarray(last_at, dtype=np.float64)
    played = np.asarray(plays) > 0
    completed = np.asarray(completions) > 0
    reached = np.asarray(progress, dtype=np.float64)
    unstamped = np.asarray([at is None for at in progress_at])
    rated = np.asarray([value is not None for value in rating])
    done = (reached >= FINISHED_AT) | (completed & unstamped)
    engaged = played | completed | (reached > 0) | rated
    skipped = (np.asarray(skips) > 0) & ~engaged
    # Rows come in item id order, so the stable sorts break ties in time by item id.
    order = np.flatnonzero(engaged)
    order = order[np.argsort(last[order], kind="stable")]
    going = np.flatnonzero(engaged & ~done & (played | (reached > 0)))
    going = going[np.argsort(-last[going], kind="stable")]
    return Person(
        user_id,
        person_id,
        state,
        [ids[i] for i in order],
        last[order],
        frozenset(ids[i] for i in np.flatnonzero(engaged | skipped)),
        frozenset(ids[i] for i in np.flatnonzero(done & engaged)),
        [InProgress(ids[i], float(reached[i]), float(last[i])) for i in going],
    )


__all__ = ["FINISHED_AT", "InProgress", "Person", "read_person", "resolve"]
