"""Artwork per tile, chosen for this person by the ``artwork`` decision point.

Why one ``decide_many`` per page: a page holds up to hundreds of tiles, and the decision
service batches the linear algebra of many decisions of one point (same answers and log as one
``decide`` each). Every tile gets its own logged bandit decision (its id goes on the tile), so a
click or play event carrying that id is the reward of exactly that artwork choice.

The default point (configured on first use when none exists; an operator's own configuration is
never overwritten): LinUCB with one ridge shared over context x artwork attributes (device and
daypart x style, palette and focus), so what is learned about "close-ups on TV in the evening"
carries over to every title; click and play start each worth 1.0, first reward learned at once,
a one-hour window. A tile whose title has no artwork still gets a decision (a single ``none``
action) so that its clicks join to what was served.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from limelight.bandits.base import Action
from limelight.bandits.service import DecisionRequest, DecisionService
from limelight.catalog.store import CatalogStore
from limelight.errors import NotFound
from limelight.pages.context import PageContext
from limelight.storage.database import Database

POINT = "artwork"
NO_ARTWORK = "none"
ATTRIBUTES = ("style", "palette", "focus")

DEFAULT_POINT: dict[str, Any] = {
    "name": POINT,
    "description": "Artwork variant per home tile (configured by limelight.pages on first use).",
    "policy": {"name": "linucb", "params": {"alpha": 0.5, "shared": True}},
    "features": {"context": ["device", "daypart"], "action": list(ATTRIBUTES)},
    "exploration": {"floor": 0.01},
    "reward": {
        "window_s": 3600.0,
        "default": 0.0,
        "aggregation": "first",
        "events": {"click": {"value": 1.0}, "play_start": {"value": 1.0}},
    },
}


@dataclass(frozen=True, slots=True)
class Variant:
    artwork_id: str
    url: str
    features: dict[str, str | float]
    is_default: bool

    def action(self) -> Action:
        """The bandit action (built once per variant and reused: pages decide thousands)."""
        return Action(self.artwork_id, {**self.features, "default": int(self.is_default)})


@dataclass(frozen=True, slots=True)
class Chosen:
    """The artwork served on one tile and the decision that chose it."""

    decision_id: str
    artwork_id: str | None
    url: str | None


class ArtworkChooser:
    """Reads variants (cached per title, dropped when the catalogue changes) and decides."""

    def __init__(self, database: Database, catalog: CatalogStore, bandits: DecisionService) -> None:
        self.database = database
        self.catalog = catalog
        self.bandits = bandits
        self._variants: dict[str, tuple[Variant, ...]] = {}
        self._actions: dict[str, tuple[Action, ...]] = {}
        self._mark: Any = None
        self._configured = False
        self._lock = threading.Lock()

    def ensure_point(self) -> None:
        """Configure the default ``artwork`` point unless one exists (see the module docstring)."""
        if self._configured:
            return
        with self._lock:
            if self._configured:
                return
            try:
                self.bandits.point(POINT)
            except NotFound:
                self.bandits.configure(DEFAULT_POINT)
            self._configured = True

    def variants(self, item_ids: Sequence[str], mark: Any) -> dict[str, tuple[Variant, ...]]:
        """Variants per title, read once per catalogue version (``mark``)."""
        if mark != self._mark:
            self._variants = {}
            self._actions = {}
            self._mark = mark
        missing = [i for i in dict.fromkeys(item_ids) if i not in self._variants]
        if missing:
            with self.database.read() as connection:
                found = self.catalog.artwork(connection, missing)
            for item in missing:
                self._variants[item] = tuple(
                    Variant(
                        art["artwork_id"],
                        art["url"],
                        {
                            k: v
                            for k, v in (art["attributes"] or {}).items()
                            if k in ATTRIBUTES and isinstance(v, str | int | float)
                        },
                        bool(art["is_default"]),
                    )
                    for art in found.get(item, [])
                )
            for item in missing:
                self._actions[item] = tuple(v.action() for v in self._variants[item]) or (
                    Action(NO_ARTWORK, {}),
                )
        return {i: self._variants[i] for i in item_ids}

    def choose(
        self,
        item_ids: Sequence[str],
        rows: Sequence[str],
        context: PageContext,
        *,
        person_id: str | None,
        page_id: str,
        mark: Any,
    ) -> list[Chosen]:
        """One logged artwork decision per tile (in tile order), in one ``decide_many``; each
        decision's context names the tile's row (logged, not a model feature)."""
        self.ensure_point()
        variants = self.variants(item_ids, mark)
        features = context.features()
        actions = self._actions
        by_row = {row: {**features, "row": row} for row in set(rows)}
        requests = [
            DecisionRequest(by_row[row], actions[item], person_id=person_id, page_id=page_id)
            for item, row in zip(item_ids, rows, strict=True)
        ]
        results = self.bandits.decide_many(POINT, requests)
        out = []
        for item, result in zip(item_ids, results, strict=True):
            by_id = {v.artwork_id: v for v in variants[item]}
            picked = by_id.get(result.action)
            out.append(
                Chosen(
                    result.decision_id,
                    None if picked is None else picked.artwork_id,
                    None if picked is None else picked.url,
                )
            )
        return out


__all__ = ["DEFAULT_POINT", "POINT", "ArtworkChooser", "Chosen", "Variant"]
