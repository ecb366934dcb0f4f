"""The home page: rows in context, artwork per tile, a reason for everything, all logged.

One page reads top to bottom:

1. the context (:mod:`.context`): device, local hour, daypart and weekday from ``at`` and
   ``tz``, and the session so far (titles played and skipped in the last three hours);
2. the person (live history and profile, as the recommendation service reads them); a person
   who opted out of profiling is treated as unknown and the page is labelled
   ``non_personalized``; a person with no history gets a ``cold_start`` page (popular,
   trending and an onboarding row);
3. draft rows from every builder (:mod:`.rows`), lifted by the session's genres;
4. row order by learned row-level engagement (:mod:`.order`), pinned rows first;
5. tiles: no title twice in the first three rows (the later rows prefer unplaced titles
   and repeat only to fill), ``per_row`` each, ``rows`` rows at most;
6. artwork per tile through the ``artwork`` decision point, one ``decide_many`` for the page
   (:mod:`.artwork`); each tile carries its decision id and position;
7. the page logged in the decision log (kind ``page``, point ``home``, decision id = page id;
   candidates: every row type drafted; chosen: the row order; extra: the tiles), and every
   artwork decision carries the page id, so impressions, clicks and plays join back.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Sequence
from dataclasses import replace
from itertools import islice
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, select

from limelight.bandits.service import DecisionService
from limelight.catalog.store import CatalogStore
from limelight.config import Settings
from limelight.decisions import DecisionLog, DecisionRecord, new_decision_id
from limelight.errors import InvalidInput
from limelight.pages import rows as build
from limelight.pages.artwork import ArtworkChooser
from limelight.pages.charts import ChartCache
from limelight.pages.context import SESSION_S, PageContext, Session, page_context
from limelight.pages.order import KIND, POINT, TILE_FIELDS, RowOrder
from limelight.privacy.registry import listen_erased
from limelight.profiles.decay import shares
from limelight.profiles.store import ProfileStore
from limelight.recommend import service as recommend
from limelight.recommend.memo import Memo
from limelight.recommend.people import Person, read_person
from limelight.recommend.results import COLD_START, NON_PERSONALIZED, PERSONALIZED
from limelight.storage.database import Database
from limelight.storage.schema import events

MAX_ROWS = 40
MAX_PER_ROW = 50
#: Rows in which no title may repeat (issue 5).
UNIQUE_ROWS = 3
#: Where the charts' derived views keep the pages' steady rows.
STEADY_ROWS = "home: steady rows"

_SESSION = (
    select(events.c.type, events.c.item_id)
    .where(
        events.c.person_id == bindparam("person"),
        events.c.ts >= bindparam("since"),
        events.c.ts <= bindparam("until"),
        events.c.item_id.is_not(None),
        events.c.type.in_(("play_start", "play_complete", "skip")),
    )
    .order_by(events.c.ts.desc())
    .limit(200)
)


class EngineParts(Protocol):
    """What the home service needs from an :class:`~limelight.engine.Engine`."""

    database: Database
    catalog: CatalogStore
    profiles: ProfileStore
    decisions: DecisionLog
    settings: Settings
    bandits: DecisionService


def _check(rows: int, per_row: int) -> None:
    if not isinstance(rows, int) or not 1 <= rows <= MAX_ROWS:
        raise InvalidInput(f"rows must be an integer from 1 to {MAX_ROWS}", field="rows")
    if not isinstance(per_row, int) or not 1 <= per_row <= MAX_PER_ROW:
        raise InvalidInput(f"per_row must be an integer from 1 to {MAX_PER_ROW}", field="per_row")


def read_session(
    connection: Connection, person_id: str, at: float, genres_of: dict[str, tuple[str, ...]]
) -> Session:
    """Titles played and skipped in the ``SESSION_S`` before ``at``; genre shares of plays."""
    found = connection.execute(
        _SESSION, {"person": person_id, "since": at - SESSION_S, "until": at}
    ).all()
    played = tuple(dict.fromkeys(str(i) for kind, i in found if kind != "skip"))
    skipped = tuple(dict.fromkeys(str(i) for kind, i in found if kind == "skip"))
    counts: dict[str, float] = {}
    for item in played:
        for genre in genres_of.get(item, ()):
            counts[genre] = counts.get(genre, 0.0) + 1.0
    total = sum(counts.values())
    shares = {g: c / total for g, c in counts.items()} if total else {}
    return Session(played, skipped, shares)


def taste(person: Person) -> dict[str, float]:
    """Genre shares of the person's decayed affinities, positive ones only (empty when there
    are none). Shares do not depend on the time read: decay scales every genre alike."""
    if person.state is None:
        return {}
    return {genre: part for genre, part in shares(person.state.genres).items() if part > 0}


class HomeService:
    """Home pages for one Engine (see the module docstring)."""

    def __init__(
        self, engine: EngineParts, *, pool_factor: int = 3, kept_pages: int | None = None
    ) -> None:
        self.database = engine.database
        self.decisions = engine.decisions
        self.settings = engine.settings
        # Weak: the engine keeps this service (``attached``), which must not keep the engine.
        self._engine = weakref.ref(engine)
        self._recommender = recommend.attached(engine)
        self.charts = ChartCache(engine.database)
        self.artwork = ArtworkChooser(engine.database, engine.catalog, engine.bandits)
        self.order = RowOrder(engine.database)
        listeners = getattr(getattr(engine, "ingestor", None), "listeners", None)
        if isinstance(listeners, list):
            listeners.append(self.order.on_events)
            listeners.append(self.charts.on_events)
        self.pool_factor = pool_factor
        #: People whose steady rows (``_steady``) are kept per charts version (0 keeps none).
        self.kept_pages = engine.settings.kept_people if kept_pages is None else kept_pages
        self._stop_forgetting = listen_erased(engine, self.forget_people)

    @property
    def recommender(self) -> recommend.RecommendationService:
        """The engine's recommendation service now (``recommend.attach`` or a new
        ``Engine.recommender`` replaces it, and pages follow), or the one this service was
        built with once the engine is gone."""
        engine = self._engine()
        if engine is not None:
            self._recommender = recommend.attached(engine)
        return self._recommender

    def home(
        self,
        user_id: str,
        *,
        device: str | None = None,
        at: float | None = None,
        tz: str | None = None,
        rows: int = 10,
        per_row: int = 20,
        mood: str | None = None,
        daypart: str | None = None,
    ) -> dict[str, Any]:
        """The page model: ``{page_id, user_id, context, label, rows: [{type, title, reason,
        items: [{item_id, title, artwork, decision_id, position, reason}]}]}``."""
        _check(rows, per_row)
        if mood is not None and mood not in build.MOODS:
            raise InvalidInput(f"mood must be one of {', '.join(build.MOODS)}", field="mood")
        context = page_context(device, at, tz, daypart_override=daypart)
        snapshot = self.recommender.catalog_view.get()
        with self.database.read() as connection:
            person = read_person(connection, self.recommender.identity, user_id)
            opted_out = person.opted_out
            if not opted_out and person.state is not None:
                session = read_session(connection, person.person_id, context.at, snapshot.genres_of)
                context = PageContext(**{**context.__dict__, "session": session})
        personal = not opted_out and bool(person.history)
        label = PERSONALIZED if personal else NON_PERSONALIZED if opted_out else COLD_START
        inputs = build.Inputs(
            snapshot=snapshot,
            charts=self.charts.get(),
            person=person,
            taste={} if opted_out else taste(person),
            context=context,
            personal=personal,
            pool=per_row * self.pool_factor,
        )
        drafts = self._drafts(inputs, mood)
        build.session_boost(inputs, drafts)
        ordered = self.order.order(drafts, None if opted_out else person.person_id)
        page_id = new_decision_id("page")
        page_rows = self._fill(ordered, rows, per_row, inputs, skipped=context.session.skipped)
        tiles = self._decorate(page_rows, context, person, opted_out, page_id, snapshot)
        self._log(page_id, person, opted_out, context, drafts, page_rows, tiles, label, mood)
        if not opted_out:
            self.order.served(person.person_id, [row["type"] for row in page_rows])
        return {
            "page_id": page_id,
            "user_id": user_id,
            "context": {**context.as_dict(), "mood": mood},
            "label": label,
            "personalized": label == PERSONALIZED,
            "row_order_policy": RowOrder.policy,
            "rows": page_rows,
        }

    def warm(self) -> None:
        """Build what the first page would otherwise build: the catalogue snapshot, the
        charts, the model in use and every title's artwork (a server calls this before it
        accepts requests: on MovieLens-100K the charts take 1.7-1.8 s and the model 0.4-0.6 s
        to load with its trees compiled, and pages queue behind the one that builds them). A
        version published later is picked up as before, in the background."""
        snapshot = self.recommender.catalog_view.get()
        self.charts.get()
        self.recommender.live.get()
        self.artwork.warm(snapshot.item_ids, snapshot.mark)

    def close(self) -> None:
        """Stop background work (the charts' and row counts' refreshes) before the engine's
        database closes."""
        self.charts.close()
        self.order.close()
        self._stop_forgetting()

    def forget_people(self, _identity: object = None) -> None:
        """Drop the steady rows kept between pages (after an erasure: they were built from
        people's histories and tastes; which ones were the person's is not kept, so all go)."""
        charts = self.charts.current()
        if charts is not None:
            charts.derived.pop(STEADY_ROWS, None)

    def queue(
        self,
        user_id: str,
        *,
        mood: str | None = None,
        activity: str | None = None,
        n: int = 20,
        at: float | None = None,
    ) -> dict[str, Any]:
        """A mood or activity queue (:mod:`limelight.pages.queue`), as JSON-ready data."""
        from limelight.pages import queue as queues

        found = queues.build_queue(self, user_id, mood=mood, activity=activity, n=n, at=at)
        return queues.as_dict(found)

    def _drafts(self, inputs: build.Inputs, mood: str | None) -> list[build.Draft]:
        rec = self.recommender
        found: list[build.Draft | None] = [
            build.mood_row(inputs, mood),
            build.continue_watching(inputs, rec),
            build.top_picks(inputs, rec),
        ]
        drafts = [d for d in found if d is not None]
        # Copies: the page lifts their priors (the session); titles are shared, never changed.
        drafts += [replace(d) for d in self._steady(inputs)]
        return drafts

    def _steady(self, inputs: build.Inputs) -> tuple[build.Draft, ...]:
        """The rows that do not change from one moment to the next: every one but the mood,
        continue watching and top picks (ranked with the moment's features).

        They are a function of the charts, the catalogue and the model versions, which titles
        are available (``availability_epoch``), the person's seen titles, latest seeds and
        taste, the device and the daypart, so they are kept under exactly those, in the charts'
        derived views (new charts start afresh): a person's next page with nothing new reuses
        them."""
        person, snapshot, context = inputs.person, inputs.snapshot, inputs.context
        personal = inputs.personal
        key = (
            snapshot.mark,
            snapshot.availability_epoch(context.at),
            self.recommender.model_version(),
            personal,
            person.opted_out,
            person.seen if personal else None,
            tuple(person.history[-build.SEEDS :]) if personal else None,
            tuple(sorted(inputs.taste.items())),
            inputs.pool,
            context.device,
            context.daypart,
        )
        kept: Memo[tuple[Any, ...], tuple[build.Draft, ...]] | None
        kept = inputs.charts.derived.get(STEADY_ROWS)
        if kept is None:
            kept = inputs.charts.derived.setdefault(STEADY_ROWS, Memo(self.kept_pages))
        return kept.get(key, lambda: tuple(self._build_steady(inputs)))

    def _build_steady(self, inputs: build.Inputs) -> list[build.Draft]:
        drafts = build.because_you_watched(inputs, self.recommender)
        drafts += build.context_rows(inputs)
        for maker in (build.trending, build.new_releases, build.rediscover, build.popular):
            made = maker(inputs)
            if made is not None:
                drafts.append(made)
        drafts += build.genre_rows(inputs)
        if not inputs.personal and not inputs.person.opted_out:
            made = build.onboarding(inputs)
            if made is not None:
                drafts.append(made)
        return drafts

    @staticmethod
    def _fill(
        ordered: Sequence[build.Draft],
        rows: int,
        per_row: int,
        inputs: build.Inputs,
        *,
        skipped: Sequence[str],
    ) -> list[dict[str, Any]]:
        """Cut drafts to rows of tiles: unique in the first rows, skipped titles dropped."""
        placed: set[str] = set()
        avoid = set(skipped)
        out: list[dict[str, Any]] = []
        for draft in ordered:
            if len(out) >= rows:
                break
            tiles = list(
                islice(
                    (t for t in draft.items if t[0] not in placed and t[0] not in avoid), per_row
                )
            )
            if len(tiles) < per_row and len(out) >= UNIQUE_ROWS:  # later rows repeat to fill
                again = (t for t in draft.items if t[0] in placed and t[0] not in avoid)
                tiles += islice(again, per_row - len(tiles))
            if not tiles:
                continue
            placed.update(i for i, _ in tiles)
            out.append(
                {
                    "type": draft.type,
                    "title": draft.title,
                    "reason": draft.reason,
                    "items": [
                        {"item_id": i, "reason": r, "position": p} for p, (i, r) in enumerate(tiles)
                    ],
                }
            )
        return out

    def _decorate(
        self,
        page_rows: list[dict[str, Any]],
        context: PageContext,
        person: Person,
        opted_out: bool,
        page_id: str,
        snapshot: Any,
    ) -> list[list[Any]]:
        """Titles and artwork on every tile, one ``decide_many`` for the page; returns the
        tiles as the page's log row lists them (``TILE_FIELDS``)."""
        item_ids: list[str] = []
        row_types: list[str] = []
        for row in page_rows:
            kind = row["type"]
            for tile in row["items"]:
                item_ids.append(tile["item_id"])
                row_types.append(kind)
        if not item_ids:
            return []
        chosen = self.artwork.choose(
            item_ids,
            row_types,
            context,
            person_id=None if opted_out else person.person_id,
            page_id=page_id,
            mark=snapshot.mark,
        )
        title = snapshot.title_by_id.get
        decision_ids, artwork_ids, urls = chosen.decision_ids, chosen.artwork_ids, chosen.urls
        logged: list[list[Any]] = []
        k = 0
        for row in page_rows:
            kind = row["type"]
            for tile in row["items"]:
                item, decision_id, artwork_id = item_ids[k], decision_ids[k], artwork_ids[k]
                tile["title"] = title(item)
                tile["decision_id"] = decision_id
                tile["artwork"] = (
                    None if artwork_id is None else {"artwork_id": artwork_id, "url": urls[k]}
                )
                logged.append([kind, item, decision_id, tile["position"], artwork_id])
                k += 1
        return logged

    def _log(
        self,
        page_id: str,
        person: Person,
        opted_out: bool,
        context: PageContext,
        drafts: Sequence[build.Draft],
        page_rows: Sequence[dict[str, Any]],
        tiles: list[list[Any]],
        label: str,
        mood: str | None,
    ) -> None:
        self.decisions.record(
            DecisionRecord(
                decision_id=page_id,
                kind=KIND,
                point=POINT,
                person_id=None if opted_out else person.person_id,
                chosen=[row["type"] for row in page_rows],
                created_at=time.time(),
                context={**context.as_dict(), "mood": mood, "label": label},
                candidates=[d.type for d in drafts],
                page_id=page_id,
                policy=RowOrder.policy,
                extra={"tile_fields": list(TILE_FIELDS), "tiles": tiles},
            )
        )


_ATTACHED: weakref.WeakKeyDictionary[Any, HomeService] = weakref.WeakKeyDictionary()


def attached(engine: EngineParts) -> HomeService:
    """The engine's home service: ``engine.home_service`` when provided, else one built on
    first use and kept for the engine's life."""
    provided = getattr(engine, "home_service", None)
    if isinstance(provided, HomeService):
        return provided
    found = _ATTACHED.get(engine)
    if found is None:
        found = _ATTACHED[engine] = HomeService(engine)
    return found


def close(engine: EngineParts) -> None:
    """Close the home service attached to ``engine``, if one was built (``Engine.close``)."""
    found = _ATTACHED.pop(engine, None)
    if found is not None:
        found.close()


__all__ = ["EngineParts", "HomeService", "attached", "close", "read_session", "taste"]
