"""Row order: a small model of row-level engagement, learned from logged pages and clicks.

Why a model of engagement and not a bandit over row types: a page shows many rows at once and
a click lands on one of them, so every page is a labelled example for *every* row it showed
(shown, clicked or not). Counting per row family gives a click-through rate per family that
needs no exploration machinery, and is exact and explainable ("you click Trending more").

The rate for a family is a Beta-smoothed ratio, shrunk twice: the person's clicks per page
that showed the family towards everyone's rate for it (``person_prior`` pages of weight), and
everyone's rate towards the average over families (``global_prior``). The score of a row is its
builder's prior times ``rate / average``; pinned rows (continue watching, a chosen mood) stay
on top. Families: the type up to its first ``:`` (``genre:Comedy`` -> ``genre``).

What is read: the person's last ``pages`` page decisions (kind ``page``) and their click and
play events since, joined to the tiles' artwork decisions (whose logged context names the row);
everyone's from the last ``global_pages`` pages. Both are cached for ``refresh_s``: the
person's counts gain each page this process serves at once and are read again after one of
their clicks (or after ``refresh_s``, for what other processes served). Everyone's counts are
read on first use and then refreshed in a background thread while pages answer with the ones
they have: the read walks 2,000 pages and took 34 ms on MovieLens-100K, a stall that one page in
every ``refresh_s`` paid inline (and the pages queued behind it). Decisions still in the log's
write buffer (0.2 s) are not counted yet.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select

from limelight.decisions import resolve
from limelight.events.model import Event
from limelight.pages.refresh import Refresher
from limelight.pages.rows import Draft
from limelight.storage.database import Database
from limelight.storage.schema import decisions, events

KIND = "page"
POINT = "home"
#: The fields of each entry of a page decision's ``extra["tiles"]`` (lists keep the log small).
TILE_FIELDS = ("row", "item_id", "decision_id", "position", "artwork_id")
ENGAGED = ("click", "play_start")


def family(row_type: str) -> str:
    """``genre:Comedy`` -> ``genre``."""
    return row_type.split(":", 1)[0]


@dataclass(frozen=True)
class Counts:
    """Pages that showed each family, and clicks on its tiles."""

    shown: dict[str, int]
    clicked: dict[str, int]

    def rate(self, name: str, prior_rate: float, weight: float) -> float:
        return (self.clicked.get(name, 0) + weight * prior_rate) / (
            self.shown.get(name, 0) + weight
        )


# Statements built once (SQLAlchemy then reuses their compiled form): this runs on every page.
_PAGES = (
    select(decisions.c.created_at, decisions.c.chosen)
    .where(decisions.c.kind == KIND)
    .order_by(decisions.c.created_at.desc())
    .limit(bindparam("pages"))
)
_EVERYONE = _PAGES.where(decisions.c.point == POINT)
# The person's index, not the point's: without statistics SQLite prefers the point's index and
# walks every home page ever served. ``coalesce`` keeps the point test off any index (the column
# is never null), so the person's few rows are the only ones read.
_PERSON = _PAGES.where(
    decisions.c.person_id == bindparam("person"),
    func.coalesce(decisions.c.point, "") == POINT,
)
_CLICKS = select(events.c.decision_id).where(
    events.c.type.in_(ENGAGED),
    events.c.decision_id.is_not(None),
    events.c.received_at >= bindparam("since"),
)
_PERSON_CLICKS = _CLICKS.where(events.c.person_id == bindparam("person"))


def count(database: Database, *, person_id: str | None, pages: int) -> Counts:
    """Row families shown and clicked over a person's (or everyone's) latest pages.

    Shown: each page's ``chosen`` (its row types). Clicked: click and play events carrying a
    tile's decision id, whose artwork decision's context names the row (``row``; the artwork
    point's features leave that key out, so the log carries it without the model seeing it).
    """
    with database.read() as connection:
        if person_id is None:
            found = connection.execute(_EVERYONE, {"pages": pages}).all()
        else:
            found = connection.execute(_PERSON, {"person": person_id, "pages": pages}).all()
        if not found:
            return Counts({}, {})
        since = min(float(row[0]) for row in found)
        if person_id is None:
            clicks = connection.execute(_CLICKS, {"since": since})
        else:
            clicks = connection.execute(_PERSON_CLICKS, {"since": since, "person": person_id})
        clicked_ids = sorted({str(row[0]) for row in clicks})
        rows_of: dict[str, str] = {}
        for decision_id, record in resolve(connection, clicked_ids).items():
            row = (record.context or {}).get("row") if record.page_id is not None else None
            if isinstance(row, str):
                rows_of[decision_id] = family(row)
    shown: dict[str, int] = {}
    # A person's pages mostly repeat the same rows: each distinct row list is read once.
    for kinds, pages_shown in Counter(tuple(chosen or ()) for _, chosen in found).items():
        for name in {family(str(kind)) for kind in kinds}:
            shown[name] = shown.get(name, 0) + pages_shown
    clicked: dict[str, int] = {}
    for row in rows_of.values():
        clicked[row] = clicked.get(row, 0) + 1
    return Counts(shown, clicked)


class RowOrder:
    """Orders draft rows by prior x learned engagement (see the module docstring)."""

    policy = "row-engagement"

    def __init__(
        self,
        database: Database,
        *,
        pages: int = 50,
        global_pages: int = 2000,
        person_prior: float = 5.0,
        global_prior: float = 20.0,
        refresh_s: float = 30.0,
    ) -> None:
        self.database = database
        self.pages = pages
        self.global_pages = global_pages
        self.person_prior = person_prior
        self.global_prior = global_prior
        self.refresh_s = refresh_s
        self._global: Counts | None = None
        self._lock = threading.Lock()
        self._background = Refresher(
            "limelight-row-order",
            self._refresh_everyone,
            "could not refresh everyone's row engagement",
            refresh_s,
        )
        #: Per person: (read at, counts), most recent last. Read from the database on a
        #: person's first page and after their click; read again in the background when older
        #: than ``refresh_s`` (other processes' pages and clicks arrive then), while pages use
        #: what is here. This process's own pages are added as they are served.
        self._people: OrderedDict[str, tuple[float, Counts]] = OrderedDict()
        self.max_people = 100_000
        self._stale: set[str] = set()
        self._people_background = Refresher(
            "limelight-row-order-people",
            self._refresh_people,
            "could not refresh a person's row engagement",
            0.0,
        )

    def everyone(self) -> Counts:
        """Everyone's counts: read on first use, then refreshed off the request path."""
        found = self._global
        if found is None:
            self._background.run_here(lambda: self._global is None)
            assert self._global is not None
            return self._global
        self._background.kick()
        return found

    def _refresh_everyone(self) -> None:
        self._global = count(self.database, person_id=None, pages=self.global_pages)

    def wait(self, timeout_s: float = 60.0) -> None:
        """Block until the background refreshes (if any) finish (tests, tools)."""
        self._background.wait(timeout_s)
        self._people_background.wait(timeout_s)

    def close(self) -> None:
        """Start no more refreshes and let running ones finish (before the database closes)."""
        self._background.close()
        self._people_background.close()

    def invalidate(self) -> None:
        self.wait()
        self._global = None
        self._people.clear()

    def person(self, person_id: str) -> Counts:
        """The person's counts (see ``_people``): read here only when there are none."""
        now = time.monotonic()
        found = self._people.get(person_id)
        if found is None:
            counts = count(self.database, person_id=person_id, pages=self.pages)
            self._keep(person_id, now, counts, only_if_held=False)
            return counts
        if now - found[0] > self.refresh_s:
            self._stale.add(person_id)
            self._people_background.kick()
        return found[1]

    def _refresh_people(self) -> None:
        while self._stale:
            person_id = self._stale.pop()
            now = time.monotonic()
            counts = count(self.database, person_id=person_id, pages=self.pages)
            # A click meanwhile dropped the entry: the person's next page reads it.
            self._keep(person_id, now, counts, only_if_held=True)

    def _keep(self, person_id: str, now: float, counts: Counts, *, only_if_held: bool) -> None:
        with self._lock:
            if only_if_held and person_id not in self._people:
                return
            self._people[person_id] = (now, counts)
            self._people.move_to_end(person_id)
            while len(self._people) > self.max_people:
                self._people.popitem(last=False)

    def served(self, person_id: str, row_types: Sequence[str]) -> None:
        """Count a page this process just served for the person."""
        with self._lock:
            found = self._people.get(person_id)
            if found is not None:
                shown = dict(found[1].shown)
                for name in {family(kind) for kind in row_types}:
                    shown[name] = shown.get(name, 0) + 1
                self._people[person_id] = (found[0], Counts(shown, found[1].clicked))

    def on_events(self, batch: Sequence[Event]) -> None:
        """Ingest listener: a person's click or play on a served tile drops their counts, so
        the next page reads them afresh (never raises: the events are already stored)."""
        for event in batch:
            if event.decision_id is not None and event.type in ENGAGED:
                with self._lock:
                    self._people.pop(event.person_id, None)

    def scores(self, drafts: Sequence[Draft], person_id: str | None) -> dict[str, float]:
        """Each draft's score (prior x relative engagement); higher comes first."""
        everyone = self.everyone()
        total_shown = sum(everyone.shown.values())
        average = (sum(everyone.clicked.values()) + 1.0) / (total_shown + 10.0)
        mine = self.person(person_id) if person_id is not None else Counts({}, {})
        out = {}
        for draft in drafts:
            name = family(draft.type)
            overall = everyone.rate(name, average, self.global_prior)
            personal = mine.rate(name, overall, self.person_prior)
            out[draft.type] = draft.prior * (personal / average)
        return out

    def order(self, drafts: Sequence[Draft], person_id: str | None) -> list[Draft]:
        """Pinned rows first (in their given order), then the rest by score."""
        scores = self.scores(drafts, person_id)
        pinned = [d for d in drafts if d.pinned]
        rest = sorted((d for d in drafts if not d.pinned), key=lambda d: (-scores[d.type], d.type))
        return pinned + rest


__all__ = ["KIND", "POINT", "TILE_FIELDS", "Counts", "RowOrder", "count", "family"]
