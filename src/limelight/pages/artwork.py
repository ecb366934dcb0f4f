"""Artwork per tile, chosen for this person by the ``artwork`` decision point.

Why one ``decide_batch`` per page: a page holds up to hundreds of tiles that share the person's
context, and their candidates come from one table of every variant seen so far (checked once,
kept per catalogue version), so the decision service scores each distinct combination of
artwork attributes once and logs the page as one row. Every tile still gets its own bandit
decision and id (``<batch>~<k>``, on the tile), so a click or play event carrying that id is the
reward of exactly that artwork choice.

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
from limelight.bandits.service import DecisionService
from limelight.bandits.shared import ActionTable
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
class _Loaded:
    """One catalogue version's cached variants: the action table and the maps beside it."""

    table: ActionTable
    keys: dict[str, tuple[str, ...]]
    urls: dict[str, dict[str, str]]
    variants: dict[str, tuple[Variant, ...]]


@dataclass(frozen=True, slots=True)
class Choices:
    """The artwork served on each tile and the decision that chose it, in tile order (parallel
    lists: a page reads them once, tile by tile). ``artwork_ids[k]`` and ``urls[k]`` are None
    for a title without artwork."""

    decision_ids: list[str]
    artwork_ids: list[str | None]
    urls: list[str | None]


class ArtworkChooser:
    """Reads variants (cached per title, dropped when the catalogue changes) and decides."""

    def __init__(self, database: Database, catalog: CatalogStore, bandits: DecisionService) -> None:
        self.database = database
        self.catalog = catalog
        self.bandits = bandits
        self._variants: dict[str, tuple[Variant, ...]] = {}
        self._keys: dict[str, tuple[str, ...]] = {}
        self._urls: dict[str, dict[str, str]] = {}
        self._table = ActionTable.build(())
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

    def warm(self, item_ids: Sequence[str], mark: Any) -> None:
        """Read every title's variants and resolve their candidate lists now (a server's
        start-up): otherwise each title's first tile reads them inside a page. The point is
        not configured here: that waits for the first page, as before."""
        loaded = self._load(item_ids, mark)
        loaded.table.columns_many([loaded.keys[item] for item in item_ids])

    def variants(self, item_ids: Sequence[str], mark: Any) -> dict[str, tuple[Variant, ...]]:
        """Variants per title, read once per catalogue version (``mark``)."""
        loaded = self._load(item_ids, mark)
        return {i: loaded.variants[i] for i in item_ids}

    def _load(self, item_ids: Sequence[str], mark: Any) -> _Loaded:
        """Read the titles not cached yet; the action table that holds every title's variants
        (keys ``<item>\x1f<artwork>``; a title without artwork has the single ``none``), with
        the maps of this catalogue version (another version replaces them, never empties
        them, so what is returned stays whole while another request moves on)."""
        while True:
            with self._lock:  # the table and the maps change together, under the lock
                if mark != self._mark:
                    self._variants, self._keys, self._urls = {}, {}, {}
                    self._table = ActionTable.build(())
                    self._mark = mark
                missing = [i for i in dict.fromkeys(item_ids) if i not in self._keys]
                if not missing:
                    return _Loaded(self._table, self._keys, self._urls, self._variants)
            with self.database.read() as connection:
                found = self.catalog.artwork(connection, missing)
            with self._lock:
                if mark != self._mark:
                    continue  # another catalogue version came meanwhile: again, lock released
                self._add([i for i in missing if i not in self._keys], found)
                return _Loaded(self._table, self._keys, self._urls, self._variants)

    def _add(self, missing: Sequence[str], found: dict[str, list[dict[str, Any]]]) -> None:
        """Cache the variants read for ``missing`` titles (under the lock)."""
        entries: list[tuple[str, Action]] = []
        for item in missing:
            variants = tuple(
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
            self._variants[item] = variants
            self._urls[item] = {v.artwork_id: v.url for v in variants}
            actions = tuple(v.action() for v in variants) or (Action(NO_ARTWORK, {}),)
            keys = tuple(f"{item}\x1f{a.id}" for a in actions)
            entries.extend(zip(keys, actions, strict=True))
            self._keys[item] = keys
        self._table = self._table.extended(entries)

    def choose(
        self,
        item_ids: Sequence[str],
        rows: Sequence[str],
        context: PageContext,
        *,
        person_id: str | None,
        page_id: str,
        mark: Any,
    ) -> Choices:
        """One logged artwork decision per tile (in tile order), in one ``decide_batch``; each
        decision's context names the tile's row (logged, not a model feature)."""
        self.ensure_point()
        loaded = self._load(item_ids, mark)
        table, keys = loaded.table, loaded.keys
        by_row = {row: {"row": row} for row in set(rows)}
        result = self.bandits.decide_batch(
            POINT,
            context.features(),
            table,
            [keys[item] for item in item_ids],
            person_id=person_id,
            page_id=page_id,
            member_context=[by_row[row] for row in rows],
        )
        urls = loaded.urls  # every title asked for is loaded: a map, empty without artwork
        artwork_ids: list[str | None] = []
        links: list[str | None] = []
        for item, action in zip(item_ids, result.chosen, strict=True):
            url = urls[item].get(action)
            artwork_ids.append(None if url is None else action)
            links.append(url)
        return Choices(list(result.decision_ids), artwork_ids, links)


__all__ = ["DEFAULT_POINT", "POINT", "ArtworkChooser", "Choices", "Variant"]
