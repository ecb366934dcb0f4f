"""One place that knows every per-person store, so erase and export miss nothing.

A capability that keeps state about people registers a hook with an ``export`` and an ``erase``
function. Both run inside one write transaction with the core's, so an erase is all-or-nothing.
Hooks receive every id the person is known by (account id, device ids, internal person ids).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from limelight.storage.database import Database

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Identity:
    """Every id one person is known by."""

    user_id: str
    devices: tuple[str, ...]
    person_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PersonalDataHook:
    """How one capability exports and erases what it keeps about a person."""

    name: str
    export: Callable[[Connection, Identity], Any]
    erase: Callable[[Connection, Identity], int]


class PersonalData:
    """The registry of hooks, and the export and erase that walk it."""

    def __init__(self, database: Database, identify: Callable[[Connection, str], Identity]) -> None:
        self.database = database
        self.identify = identify
        self.hooks: list[PersonalDataHook] = []
        #: Called with the identity once an erase has committed: for what a process keeps in
        #: memory that was derived from people's data (serving caches), which has no rows.
        self.erased: list[Callable[[Identity], None]] = []

    def listen(self, listener: Callable[[Identity], None]) -> Callable[[], None]:
        """Call ``listener`` after every erase commits; returns what stops it (a closing
        service calls that, so the registry does not keep it alive)."""
        self.erased.append(listener)

        def stop() -> None:
            if listener in self.erased:
                self.erased.remove(listener)

        return stop

    def register(self, hook: PersonalDataHook) -> None:
        if any(existing.name == hook.name for existing in self.hooks):
            raise ValueError(f"a personal-data hook named {hook.name!r} is already registered")
        self.hooks.append(hook)

    def export(self, user_id: str) -> dict[str, Any]:
        with self.database.read() as connection:
            identity = self.identify(connection, user_id)
            return {
                "user_id": user_id,
                "devices": list(identity.devices),
                **{hook.name: hook.export(connection, identity) for hook in self.hooks},
            }

    def erase(self, user_id: str) -> dict[str, int]:
        """Delete everything about the person; returns rows removed per hook. Then tell the
        ``erased`` listeners (a listener that fails is logged: the erase has committed)."""
        with self.database.write() as connection:
            identity = self.identify(connection, user_id)
            # Later hooks may need the core's identity rows, so erase in reverse registration order.
            removed = {hook.name: hook.erase(connection, identity) for hook in reversed(self.hooks)}
        for listener in list(self.erased):
            try:
                listener(identity)
            except Exception:
                logger.exception("a listener failed after erasing a person")
        return removed


def listen_erased(engine: object, listener: Callable[[Identity], None]) -> Callable[[], None]:
    """:meth:`PersonalData.listen` on ``engine``'s registry; a part built without one (tests
    of a single capability) has nothing to listen to, and gets a stop that does nothing."""
    registry = getattr(engine, "personal_data", None)
    if isinstance(registry, PersonalData):
        return registry.listen(listener)
    return lambda: None
