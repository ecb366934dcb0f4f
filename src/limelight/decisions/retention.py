"""Retention: decisions older than a window are deleted, the oldest first, a chunk at a time.

Why: a home page logs about 60 KB (its page row and one batch row for its tiles' artwork
decisions), so at 100 pages a second the log grows about 22 GB an hour; kept forever it fills
any disk, and a larger table makes every read of it slower. What reads decisions reads recent
ones: reward windows (an hour by default), a person's latest pages (the row order), and the
KPIs and off-policy evaluation of the windows asked for, which can reach back as far as the
retention.

Something that still needs a decision however old it is says so with a *hold*: a callable that,
inside a read transaction, maps decision points to the ``created_at`` from which their rows are
kept (the bandits hold every decision whose reward window their sweep has not closed yet, so a
backlog is learned before it goes). Deleting in chunks keeps each write transaction short: on
SQLite other writers (ingest, the log's own flushes) wait for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

from sqlalchemy import ColumnElement, Connection, and_, delete, func, not_, select

from limelight.storage.schema import decisions

#: Point name -> the ``created_at`` from which that point's decisions are kept.
Held = Mapping[str, float]
Hold = Callable[[Connection], Held]


def held(connection: Connection, holds: Iterable[Hold]) -> dict[str, float]:
    """Every hold's points, the earliest time per point where holds overlap."""
    merged: dict[str, float] = {}
    for hold in holds:
        for point, since in hold(connection).items():
            merged[point] = min(since, merged.get(point, math.inf))
    return merged


def _expired(before: float, kept: Held) -> ColumnElement[bool]:
    condition = decisions.c.created_at < before
    for point, since in kept.items():
        if since == -math.inf:  # the whole point is held
            condition = and_(condition, decisions.c.point != point)
        elif since < before:
            condition = and_(
                condition, not_((decisions.c.point == point) & (decisions.c.created_at >= since))
            )
    return condition


def delete_chunk(connection: Connection, before: float, kept: Held, limit: int) -> int:
    """Delete up to ``limit`` of the oldest decisions made before ``before`` and not held;
    returns how many went (fewer than ``limit``: nothing older is left)."""
    oldest = (
        select(decisions.c.decision_id)
        .where(_expired(before, kept))
        .order_by(decisions.c.created_at)
        .limit(limit)
    )
    doomed = list(connection.execute(oldest).scalars())
    if not doomed:
        return 0
    result = connection.execute(delete(decisions).where(decisions.c.decision_id.in_(doomed)))
    return int(result.rowcount)


def count_expired(connection: Connection, before: float, kept: Held) -> int:
    """How many decisions a prune at ``before`` would delete (for a progress bar's total)."""
    query = select(func.count()).select_from(decisions).where(_expired(before, kept))
    return int(connection.execute(query).scalar_one())


__all__ = ["Held", "Hold", "count_expired", "delete_chunk", "held"]
