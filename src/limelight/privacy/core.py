"""The core's personal data: raw events, identity links, profiles and per-item stats."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, or_, select

from limelight.catalog.model import iso
from limelight.events.identity import anonymous_person
from limelight.privacy.registry import Identity, PersonalDataHook
from limelight.storage.database import rows
from limelight.storage.schema import events, identities, profile_items, profiles


def identify(connection: Connection, user_id: str) -> Identity:
    """Every id that names this person: the account, its devices, their anonymous profiles."""
    query = select(identities.c.anonymous_id).where(identities.c.user_id == user_id)
    devices = tuple(sorted(connection.execute(query).scalars()))
    if user_id.startswith("anon:"):
        return Identity(user_id, (user_id.removeprefix("anon:"),), (user_id,))
    return Identity(user_id, devices, (user_id, *(anonymous_person(device) for device in devices)))


def _event_filter(identity: Identity) -> Any:
    clauses = [events.c.person_id.in_(identity.person_ids), events.c.user_id == identity.user_id]
    if identity.devices:
        clauses.append(events.c.anonymous_id.in_(identity.devices))
    return or_(*clauses)


def _export(connection: Connection, identity: Identity) -> dict[str, Any]:
    event_rows = rows(
        connection.execute(select(events).where(_event_filter(identity)).order_by(events.c.ts))
    )
    for row in event_rows:
        row["timestamp"] = iso(row.pop("ts"))
        row["received_at"] = iso(row["received_at"])
    return {
        "events": event_rows,
        "identities": rows(
            connection.execute(select(identities).where(identities.c.user_id == identity.user_id))
        ),
        "profiles": rows(
            connection.execute(
                select(profiles).where(profiles.c.person_id.in_(identity.person_ids))
            )
        ),
        "item_stats": rows(
            connection.execute(
                select(profile_items).where(profile_items.c.person_id.in_(identity.person_ids))
            )
        ),
    }


def _erase(connection: Connection, identity: Identity) -> int:
    removed = connection.execute(delete(events).where(_event_filter(identity))).rowcount
    removed += connection.execute(
        delete(profile_items).where(profile_items.c.person_id.in_(identity.person_ids))
    ).rowcount
    removed += connection.execute(
        delete(profiles).where(profiles.c.person_id.in_(identity.person_ids))
    ).rowcount
    removed += connection.execute(
        delete(identities).where(
            or_(
                identities.c.user_id == identity.user_id,
                identities.c.anonymous_id.in_(identity.devices),
            )
        )
    ).rowcount
    return int(removed)


CORE_HOOK = PersonalDataHook(name="core", export=_export, erase=_erase)
