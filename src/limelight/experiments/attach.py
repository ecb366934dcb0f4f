"""The seam between the Engine and the experiments service.

``attached(engine)`` is how the routes, the CLI and the tests reach the service: the Engine's
own ``engine.experiments`` when it provides one, else one built on first use and kept for the
engine's life. One per engine matters, because each service registers a personal-data hook.
``Core`` is a protocol, so this package never imports the Engine (which imports it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from weakref import WeakKeyDictionary

from limelight.config import Settings
from limelight.errors import NotFound
from limelight.experiments.service import Experiments, ProfileLookup
from limelight.privacy.registry import PersonalData
from limelight.storage.database import Database


class Core(Protocol):
    """What the service needs of an Engine."""

    database: Database
    settings: Settings
    personal_data: PersonalData

    def profile(self, user_id: str) -> dict[str, Any]: ...


_ATTACHED: WeakKeyDictionary[Core, Experiments] = WeakKeyDictionary()


def profile_lookup(core: Core) -> ProfileLookup:
    """Look profiles up through the engine; a unit without one has an empty profile."""

    def lookup(person_id: str) -> Mapping[str, Any] | None:
        try:
            return core.profile(person_id)
        except NotFound:
            return None

    return lookup


def attached(core: Core) -> Experiments:
    """The engine's experiments service (see the module docstring)."""
    provided = getattr(core, "experiments", None)
    if isinstance(provided, Experiments):
        return provided
    found = _ATTACHED.get(core)
    if found is None:
        found = Experiments(
            core.database, core.settings, core.personal_data, profile_lookup=profile_lookup(core)
        )
        _ATTACHED[core] = found
    return found
