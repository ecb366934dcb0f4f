"""Identity stitching: which person an event belongs to, and linking devices to accounts.

A signed-in event belongs to its ``user_id``. An anonymous event belongs to the account its
device was linked to, or else to the anonymous person ``anon:<anonymous_id>``. A device is
linked by an ``alias`` event (``previous_id`` -> ``user_id``) or by the first event that carries
both ids. The first link of a device wins (links are never silently re-pointed), and the raw ids
stay in the log so any profile can be rebuilt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from limelight.events.model import ANONYMOUS_PREFIX, Event
from limelight.storage.database import Database, chunked
from limelight.storage.schema import identities


def anonymous_person(anonymous_id: str) -> str:
    return f"{ANONYMOUS_PREFIX}{anonymous_id}"


@dataclass(frozen=True, slots=True)
class Link:
    """A device (anonymous id) joined to an account."""

    anonymous_id: str
    user_id: str
    linked_at: float
    event_id: str


class IdentityResolver:
    """Resolves people for a batch and records new links."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def links(self, connection: Connection, anonymous_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in chunked(sorted(set(anonymous_ids))):
            query = select(identities.c.anonymous_id, identities.c.user_id).where(
                identities.c.anonymous_id.in_(chunk)
            )
            found.update(
                {anonymous_id: user_id for anonymous_id, user_id in connection.execute(query)}
            )
        return found

    def resolve(self, connection: Connection, batch: Sequence[Event]) -> list[Link]:
        """Set ``person_id`` on every event; return the links this batch proposes, in order."""
        wanted = [event.anonymous_id for event in batch if event.anonymous_id]
        wanted += [event.previous_id for event in batch if event.previous_id]
        known = self.links(connection, wanted)
        proposed: list[Link] = []
        for event in batch:
            device = event.previous_id if event.type == "alias" else event.anonymous_id
            if event.user_id is not None:
                event.person_id = event.user_id
                if device is not None and device not in known:
                    known[device] = event.user_id
                    proposed.append(Link(device, event.user_id, event.ts, event.event_id))
            else:
                assert event.anonymous_id is not None  # validation guarantees one of the two
                event.person_id = known.get(event.anonymous_id) or anonymous_person(
                    event.anonymous_id
                )
        return proposed

    def record(self, connection: Connection, proposed: Sequence[Link]) -> list[Link]:
        """Store new links; return those that were new (a concurrent writer may have won)."""
        created: list[Link] = []
        for link in proposed:
            statement = self.database.insert_ignore(identities).returning(identities.c.anonymous_id)
            result = connection.execute(
                statement,
                {
                    "anonymous_id": link.anonymous_id,
                    "user_id": link.user_id,
                    "linked_at": link.linked_at,
                    "event_id": link.event_id,
                },
            )
            if result.first() is not None:
                created.append(link)
        return created

    def devices(self, connection: Connection, user_id: str) -> list[str]:
        query = select(identities.c.anonymous_id).where(identities.c.user_id == user_id)
        return sorted(connection.execute(query).scalars())
