"""The recommendation service: the Python API behind ``Engine.recommend`` and the HTTP routes.

One request reads top to bottom:

1. the live model (:class:`~limelight.recommend.registry.LiveModel`, hot-swapped) and the
   catalogue snapshot (:class:`~limelight.recommend.catalog_view.CatalogView`);
2. the person's live history from ``profile_items`` (:mod:`.people`), so the event ingested a
   moment ago already counts;
3. candidates from every source for that history, ranked by the LambdaRank ranker with the
   request's context (time of day and week from ``at``, the device) — or, with nothing to
   personalise from, the trending and popular charts, or before any model the live chart;
4. rules and diversity (:mod:`.selection`), one title the model has never seen matched to the
   person's genres ("new for you"), a reason per title (:mod:`.reasons`);
5. the decision logged (DESIGN §5) with its id, candidates, choice, context and model version.

Nothing here raises for a cold start: no model, an unknown person and an unknown-to-the-model
title all get an answer. A person whose consent says no to profiling gets the charts, with
their history unused, labelled ``non_personalized``.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from limelight.catalog.store import CatalogStore
from limelight.config import Settings
from limelight.decisions import DecisionLog, DecisionRecord, new_decision_id
from limelight.errors import InvalidInput, UnknownItem
from limelight.events.identity import IdentityResolver
from limelight.privacy.registry import listen_erased
from limelight.profiles.state import checked_zone, hour_and_weekday
from limelight.profiles.store import ProfileStore
from limelight.ranking.features import Pool
from limelight.recommend import reasons as why
from limelight.recommend.artifacts import TrainedModel
from limelight.recommend.catalog_view import CatalogView, Snapshot
from limelight.recommend.fallback import LivePopular
from limelight.recommend.memo import Memo
from limelight.recommend.people import Person, read_person
from limelight.recommend.reasons import Explainer, Reason
from limelight.recommend.registry import LiveModel, ModelStore
from limelight.recommend.results import (
    COLD_START,
    NON_PERSONALIZED,
    PERSONALIZED,
    ContinueWatching,
    Recommendation,
    RecommendationList,
    SimilarList,
)
from limelight.recommend.rules import allowed_maturity, profile_limit
from limelight.recommend.selection import Picked, Request, genre_profile, select
from limelight.recommend.training import TrainingConfig, train
from limelight.storage.database import Database

MAX_N = 500
POINT = "recommendations"
#: A similar-titles answer: the titles, the candidates they were chosen from, and whether the
#: model knows the title asked about.
_Similar = tuple[tuple[Recommendation, ...], tuple[str, ...], bool]


@dataclass(frozen=True, slots=True)
class _Personal:
    """What one history yields whatever the moment: its candidate pool, and the seed found
    so far for each explained title (filled as titles are explained; seeds depend only on the
    history and the model)."""

    pool: Pool
    seeds: dict[int, int]


class EngineParts(Protocol):
    """What the service needs from an :class:`~limelight.engine.Engine`."""

    database: Database
    catalog: CatalogStore
    profiles: ProfileStore
    decisions: DecisionLog
    settings: Settings


def _check(n: int, diversity: float) -> None:
    if not isinstance(n, int) or not 1 <= n <= MAX_N:
        raise InvalidInput(f"n must be an integer from 1 to {MAX_N}", field="n")
    if not 0.0 <= diversity <= 1.0:
        raise InvalidInput("diversity must be between 0 and 1", field="diversity")


class RecommendationService:
    """Recommendations and similar titles for one Engine's stores (see the module docstring).

    ``diversity`` is the default MMR knob (0: the ranker's order), ``pool`` how many ranked
    candidates the rules and MMR choose from, ``poll_interval_s`` how often the live model
    checks for a new version, ``catalog_refresh_s`` how often the catalogue snapshot checks
    for changes and ``kept_pools`` how many people's candidate pools are kept between requests
    (default ``Settings.kept_people``; about 30 KB each on MovieLens-100K; 0 keeps none).
    """

    def __init__(
        self,
        database: Database,
        catalog: CatalogStore,
        profiles: ProfileStore,
        decisions: DecisionLog,
        settings: Settings,
        *,
        diversity: float = 0.0,
        pool: int = 100,
        poll_interval_s: float = 0.5,
        catalog_refresh_s: float = 2.0,
        kept_pools: int | None = None,
    ) -> None:
        self.database = database
        self.catalog = catalog
        self.profiles = profiles
        self.decisions = decisions
        self.settings = settings
        self.diversity = diversity
        self.pool = pool
        self.store = ModelStore.for_data_dir(settings.data_dir)
        self.live = LiveModel(self.store, poll_interval_s=poll_interval_s)
        self.catalog_view = CatalogView(database, refresh_s=catalog_refresh_s)
        self.popular_now = LivePopular(database)
        self.identity = IdentityResolver(database)
        self._explainers: dict[str, Explainer] = {}
        self._charts: dict[str, tuple[NDArray[np.int64], NDArray[np.float64]]] = {}
        self._unknown: dict[tuple[tuple[int, float], str], NDArray[np.int64]] = {}
        self._aligned_values: dict[tuple[tuple[int, float], str], NDArray[np.float64]] = {}
        #: The candidate pool of a history (model version, positions, times), the costly half
        #: of a request, and the seeds of its reasons: a person's next request with the same
        #: history reuses them and only the moment's features and the ranking are computed.
        self._pools: Memo[tuple[str, bytes, bytes], _Personal] = Memo(
            settings.kept_people if kept_pools is None else kept_pools
        )
        #: Similar titles by (title, n, model version, catalogue version, availability).
        self._neighbours: Memo[tuple[Any, ...], _Similar] = Memo(4096)
        #: Stops ``forget_people`` hearing of erasures (set by ``from_engine``).
        self._stop_forgetting: Callable[[], None] = lambda: None

    @classmethod
    def from_engine(cls, engine: EngineParts, **options: Any) -> RecommendationService:
        service = cls(
            engine.database,
            engine.catalog,
            engine.profiles,
            engine.decisions,
            engine.settings,
            **options,
        )
        service._stop_forgetting = listen_erased(engine, service.forget_people)
        return service

    def forget_people(self, _identity: object = None) -> None:
        """Drop the candidate pools kept between requests (after an erasure: they were built
        from people's histories; which ones were the person's is not kept, so all go)."""
        self._pools.clear()

    # ------------------------------------------------------------------ lifecycle

    def train(
        self, config: TrainingConfig | None = None, *, progress: bool = False, publish: bool = True
    ) -> TrainedModel:
        """Train on the event store, store the version and (by default) put it in use."""
        model = train(self.database, config, progress=progress)
        self.store.write(model)
        if publish:
            self.store.publish(model.version)
            self.live.set(model)
        return model

    def model_version(self) -> str | None:
        model = self.live.get()
        return None if model is None else model.version

    def close(self) -> None:
        self.live.close()
        self._stop_forgetting()

    # ------------------------------------------------------------------ recommendations

    def recommend(
        self,
        user_id: str,
        n: int = 10,
        *,
        device: str | None = None,
        at: float | None = None,
        diversity: float | None = None,
        tz: str | None = None,
        person: Person | None = None,
        log: bool = True,
    ) -> RecommendationList:
        """The list for ``user_id`` (see the module docstring); never fails for a cold start.

        ``tz`` (an IANA zone, default UTC) is where the request comes from: the ranker's hour
        and weekday are the person's own. A caller that has just read the person
        (``read_person``) may pass it; one that logs what it serves itself (a home page logs
        the page) passes ``log=False``."""
        diversity = self.diversity if diversity is None else float(diversity)
        _check(n, diversity)
        zone = None if tz is None else checked_zone(tz)
        at = time.time() if at is None else float(at)
        model = self.live.get()
        snapshot = self.catalog_view.get()
        if person is None:
            with self.database.read() as connection:
                person = read_person(connection, self.identity, user_id)
        opted_out = person.opted_out
        request = Request(
            n=n,
            at=at,
            diversity=diversity,
            maturity_limit=profile_limit(person.traits),
            seen=frozenset() if opted_out else person.seen,
            pool=max(self.pool, 3 * n),
        )
        if model is None:
            items, candidates = self._live_chart(snapshot, request)
            label, policy = (NON_PERSONALIZED if opted_out else COLD_START), "live-popular"
        else:
            index = model.interactions.item_index
            known = [] if opted_out else person.history
            keep = [p for p, item in enumerate(known) if item in index]
            if keep:
                positions = np.asarray([index[known[p]] for p in keep], dtype=np.int64)
                times = person.history_times[keep]
                items, candidates = self._personal(
                    model, snapshot, person, positions, times, request, device, zone
                )
                label, policy = PERSONALIZED, "ranker"
            else:
                items, candidates = self._chart(model, snapshot, request)
                label, policy = (NON_PERSONALIZED if opted_out else COLD_START), "charts"
        version = None if model is None else model.version
        continuing = [] if opted_out else self._continue(person, snapshot, request)
        hour, weekday = hour_and_weekday(at, zone)
        context = {
            "device": device,
            "at": at,
            "tz": zone or "UTC",
            "hour": hour,
            "day_of_week": weekday,
            "diversity": diversity,
            "n": n,
            "label": label,
        }
        answer = RecommendationList(
            decision_id=new_decision_id("rec"),
            user_id=user_id,
            model_version=version,
            personalized=label == PERSONALIZED,
            label=label,
            items=items,
            continue_watching=continuing,
            context=context,
        )
        if log:
            self._log(
                answer.decision_id,
                "recommendations",
                person.person_id,
                items,
                candidates,
                context,
                policy,
                version,
            )
        return answer

    def _explainer(self, model: TrainedModel) -> Explainer:
        found = self._explainers.get(model.version)
        if found is None:
            if len(self._explainers) > 4:
                self._explainers.clear()
            found = self._explainers[model.version] = Explainer(model.ranker)
        return found

    def _personal(
        self,
        model: TrainedModel,
        snapshot: Snapshot,
        person: Person,
        positions: NDArray[np.int64],
        times: NDArray[np.float64],
        request: Request,
        device: str | None,
        zone: str | None = None,
    ) -> tuple[list[Recommendation], list[str]]:
        ranker = model.ranker
        log = model.interactions
        kept = self._pools.get(
            (model.version, positions.tobytes(), times.tobytes()),
            lambda: _Personal(ranker.pool_for_history(positions, times), {}),
        )
        ranked = ranker.rank_pool(
            kept.pool, request.pool, at=request.at, device=device, timezone=zone
        )
        aligned = snapshot.align(model.version, log.item_ids)
        picked = select(
            log.item_ids, log.item_index, aligned, ranked.indices[0], ranked.scores[0], request
        )
        explainer = self._explainer(model)
        reasons = explainer.explain(positions, picked.positions, snapshot.title, kept.seeds)
        items = self._items(log.item_ids, picked, reasons, snapshot)
        candidates = [log.item_ids[i] for i in picked.candidates.tolist()]
        if len(items) < request.n:
            # The rules left too few of the ranked candidates (a kids' profile in a large
            # catalogue): top up from the charts, under the same rules.
            taken = frozenset(request.seen) | {item.item_id for item in items}
            more, extra = self._chart(model, snapshot, replace(request, seen=taken))
            items += more[: request.n - len(items)]
            candidates += extra
        fresh = self._new_title(model, snapshot, person, request, items)
        if fresh is not None:
            items.insert(min(2, len(items)), fresh)
            items = items[: request.n]
        return items, candidates

    def _chart_scores(self, model: TrainedModel) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Trending and popular fused by reciprocal rank: what a newcomer sees."""
        found = self._charts.get(model.version)
        if found is None:
            explainer = self._explainer(model)
            fused = 1.0 / (60.0 + explainer.trending_rank) + 1.0 / (60.0 + explainer.popular_rank)
            fused[~explainer.watched] = -np.inf
            order = np.argsort(-fused, kind="stable")[: 4 * MAX_N]
            order = order[np.isfinite(fused[order])]
            if len(self._charts) > 4:
                self._charts.clear()
            found = self._charts[model.version] = (order.astype(np.int64), fused[order])
        return found

    def _chart(
        self, model: TrainedModel, snapshot: Snapshot, request: Request
    ) -> tuple[list[Recommendation], list[str]]:
        log = model.interactions
        positions, scores = self._chart_scores(model)
        aligned = snapshot.align(model.version, log.item_ids)
        picked = select(log.item_ids, log.item_index, aligned, positions, scores, request)
        explainer = self._explainer(model)
        reasons = [explainer.chart_reason(int(i)) for i in picked.positions]
        items = self._items(log.item_ids, picked, reasons, snapshot)
        return items, [log.item_ids[i] for i in picked.candidates.tolist()]

    def _live_chart(
        self, snapshot: Snapshot, request: Request
    ) -> tuple[list[Recommendation], list[str]]:
        generation, chart = self.popular_now.chart()
        if chart:
            ids: Sequence[str] = [item for item, _ in chart]
            scores = np.asarray([float(count) for _, count in chart])
            reason = Reason(why.POPULAR, "Popular")
            key = f"live:{generation}"
        else:  # no events at all yet: the newest titles of the catalogue
            ids = snapshot.item_ids
            recency = np.nan_to_num(snapshot.release_year, nan=0.0) * 1e10 + snapshot.updated_at
            scores = recency
            reason = Reason(why.NEW, "New on the service")
            key = "catalogue"
        index = {item: position for position, item in enumerate(ids)}
        order = np.argsort(-scores, kind="stable").astype(np.int64)
        aligned = snapshot.align(key, ids)
        picked = select(ids, index, aligned, order, scores[order], request)
        items = self._items(ids, picked, [reason] * picked.positions.size, snapshot)
        return items, [ids[i] for i in picked.candidates.tolist()]

    def _unknown_titles(self, model: TrainedModel, snapshot: Snapshot) -> NDArray[np.int64]:
        """Catalogue positions of titles the model has never seen (added after training)."""
        key = (snapshot.mark, model.version)
        found = self._unknown.get(key)
        if found is None:
            index = model.interactions.item_index
            found = np.asarray(
                [p for p, item in enumerate(snapshot.item_ids) if item not in index],
                dtype=np.int64,
            )
            if len(self._unknown) > 4:
                self._unknown.clear()
            self._unknown[key] = found
        return found

    def _new_title(
        self,
        model: TrainedModel,
        snapshot: Snapshot,
        person: Person,
        request: Request,
        chosen: list[Recommendation],
    ) -> Recommendation | None:
        """The unseen-by-the-model title that best matches the person's genres, if any."""
        unknown = self._unknown_titles(model, snapshot)
        if unknown.size == 0 or request.n < 2:
            return None
        mine = np.asarray(
            [snapshot.index[i] for i in person.history if i in snapshot.index], dtype=np.int64
        )
        taste = genre_profile(snapshot.genre_matrix, mine)
        match = snapshot.genre_matrix[unknown] @ taste
        ok = (match > 0) & ~np.isin(unknown, mine)
        available = np.isnan(snapshot.available_from[unknown]) | (
            snapshot.available_from[unknown] <= request.at
        )
        available &= np.isnan(snapshot.available_until[unknown]) | (
            request.at < snapshot.available_until[unknown]
        )
        ok &= available & allowed_maturity(snapshot.maturity[unknown], request.maturity_limit)
        taken = {item.item_id for item in chosen}
        ok &= np.asarray([snapshot.item_ids[p] not in taken for p in unknown], dtype=bool)
        if not ok.any():
            return None
        best = int(np.argmax(np.where(ok, match, -np.inf)))
        position = int(unknown[best])
        return Recommendation(
            snapshot.item_ids[position],
            snapshot.titles[position],
            float(match[best]),
            why.NEW,
            "New for you",
        )

    @staticmethod
    def _items(
        ids: Sequence[str], picked: Picked, reasons: Sequence[Reason], snapshot: Snapshot
    ) -> list[Recommendation]:
        title = snapshot.title_by_id.get
        return [
            Recommendation(
                ids[position],
                title(ids[position]),
                score,
                reason.kind,
                reason.text,
                reason.seed_item_id,
            )
            for position, score, reason in zip(
                picked.positions.tolist(), picked.scores.tolist(), reasons, strict=True
            )
        ]

    def _continue(
        self, person: Person, snapshot: Snapshot, request: Request, limit: int = 20
    ) -> list[ContinueWatching]:
        """Started, unfinished titles the person may still watch now, most recent first."""
        out: list[ContinueWatching] = []
        for entry in person.in_progress:
            position = snapshot.index.get(entry.item_id)
            if position is not None:
                start = snapshot.available_from[position]
                end = snapshot.available_until[position]
                if (not np.isnan(start) and request.at < start) or (
                    not np.isnan(end) and request.at >= end
                ):
                    continue
                level = snapshot.maturity[position : position + 1]
                if not allowed_maturity(level, request.maturity_limit)[0]:
                    continue
            elif request.maturity_limit is not None:
                continue
            title = snapshot.title(entry.item_id)
            out.append(ContinueWatching(entry.item_id, title, entry.progress, entry.last_at))
            if len(out) >= limit:
                break
        return out

    # ------------------------------------------------------------------ similar titles

    def similar(
        self, item_id: str, n: int = 10, *, at: float | None = None, log: bool = True
    ) -> SimilarList:
        """Titles like ``item_id``: the item-item model's neighbours, topped up (or, for a
        title the model has not seen, replaced) by genre overlap; unavailable titles dropped.
        Raises :class:`UnknownItem` only for an id neither the model nor the catalogue knows.

        The list depends on nobody's history, only on the title, ``n``, the model, the
        catalogue and which titles are available at ``at``: it is kept under those (a home page
        asks for the neighbours of its seeds, and many people share seeds)."""
        _check(n, 0.0)
        at = time.time() if at is None else float(at)
        model = self.live.get()
        snapshot = self.catalog_view.get()
        version = None if model is None else model.version
        key = (item_id, n, version, snapshot.mark, snapshot.availability_epoch(at))
        items, candidates, known = self._neighbours.get(
            key, lambda: self._similar_titles(model, snapshot, item_id, n, at)
        )
        answer = SimilarList(new_decision_id("sim"), item_id, version, list(items))
        if not log:
            return answer
        context = {"item_id": item_id, "at": at, "n": n}
        self._log(
            answer.decision_id,
            "similar",
            None,
            answer.items,
            list(candidates),
            context,
            "item-item" if known else "genres",
            version,
        )
        return answer

    def _similar_titles(
        self, model: TrainedModel | None, snapshot: Snapshot, item_id: str, n: int, at: float
    ) -> _Similar:
        """:meth:`similar`'s titles, the candidates they were chosen from, and whether the
        model knows the title."""
        title = snapshot.title(item_id)
        request = Request(n=n, at=at, diversity=0.0, maturity_limit=None, seen=frozenset({item_id}))
        items: list[Recommendation] = []
        candidates: list[str] = []
        known = model is not None and item_id in model.interactions.item_index
        if model is not None and known:
            interactions = model.interactions
            if interactions.item_counts[interactions.item_index[item_id]] > 0:
                found = model.ranker.similar_items(item_id, n=request.pool)
                aligned = snapshot.align(model.version, interactions.item_ids)
                picked = select(
                    interactions.item_ids,
                    interactions.item_index,
                    aligned,
                    found.indices[0],
                    found.scores[0],
                    request,
                )
                name = title or item_id
                reason = Reason(why.SIMILAR, f"Similar to {name}", item_id)
                items = self._items(
                    interactions.item_ids, picked, [reason] * picked.positions.size, snapshot
                )
                candidates = [interactions.item_ids[i] for i in picked.candidates.tolist()]
        if title is None and not known:
            raise UnknownItem(f"no item {item_id!r} in the catalogue or the model", field="item_id")
        if len(items) < n and title is not None:
            extra = self._by_genre(model, snapshot, item_id, request, {i.item_id for i in items})
            items += extra[: n - len(items)]
            candidates += [i.item_id for i in extra if i.item_id not in candidates]
        return tuple(items), tuple(candidates), known

    def _by_genre(
        self,
        model: TrainedModel | None,
        snapshot: Snapshot,
        item_id: str,
        request: Request,
        taken: set[str],
    ) -> list[Recommendation]:
        """Catalogue titles sharing the most genres with ``item_id`` (popular ones first)."""
        position = snapshot.index[item_id]
        match = snapshot.genre_matrix @ snapshot.genre_matrix[position]
        popularity = self._catalogue_popularity(model, snapshot)
        scores = match + 1e-6 * np.log1p(popularity)
        order = np.argsort(-scores, kind="stable").astype(np.int64)
        order = order[match[order] > 0]
        narrowed = replace(request, seen=frozenset(request.seen) | taken)
        aligned_all = snapshot.align("catalogue", snapshot.item_ids)
        picked = select(
            snapshot.item_ids, snapshot.index, aligned_all, order, scores[order], narrowed
        )
        name = snapshot.titles[position]
        reason = Reason(why.SIMILAR, f"Similar to {name}", item_id)
        return self._items(snapshot.item_ids, picked, [reason] * picked.positions.size, snapshot)

    def _catalogue_popularity(
        self, model: TrainedModel | None, snapshot: Snapshot
    ) -> NDArray[np.float64]:
        """The model's people-per-title counts in catalogue order (zeros without a model)."""
        if model is None:
            return np.zeros(len(snapshot.item_ids))
        key = (snapshot.mark, f"popularity:{model.version}")
        found = self._aligned_values.get(key)
        if found is None:
            index = model.interactions.item_index
            counts = model.interactions.item_counts
            found = np.asarray(
                [counts[index[i]] if i in index else 0.0 for i in snapshot.item_ids],
                dtype=np.float64,
            )
            if len(self._aligned_values) > 8:
                self._aligned_values.clear()
            self._aligned_values[key] = found
        return found

    # ------------------------------------------------------------------ the decision log

    def _log(
        self,
        decision_id: str,
        kind: str,
        person_id: str | None,
        items: Sequence[Recommendation],
        candidates: Sequence[str],
        context: dict[str, Any],
        policy: str,
        version: str | None,
    ) -> None:
        self.decisions.record(
            DecisionRecord(
                decision_id=decision_id,
                kind=kind,
                point=POINT,
                person_id=person_id,
                chosen=[item.item_id for item in items],
                created_at=time.time(),
                context=context,
                candidates=list(candidates),
                policy=policy,
                model_version=version,
                extra={
                    "scores": [item.score for item in items],
                    "reasons": [item.reason for item in items],
                    "seeds": [item.seed_item_id for item in items],
                },
            )
        )


_ATTACHED: weakref.WeakKeyDictionary[Any, RecommendationService] = weakref.WeakKeyDictionary()


def attached(engine: EngineParts, **options: Any) -> RecommendationService:
    """The engine's service: ``engine.recommender`` when the Engine provides one, else one
    built on first use and kept for the engine's life."""
    provided = getattr(engine, "recommender", None)
    if isinstance(provided, RecommendationService):
        return provided
    found = _ATTACHED.get(engine)
    if found is None:
        found = _ATTACHED[engine] = RecommendationService.from_engine(engine, **options)
    return found


def attach(engine: EngineParts, service: RecommendationService) -> RecommendationService:
    """Make ``service`` the one :func:`attached` returns for ``engine``, and so the one its
    requests use (tests, custom knobs): an Engine takes it as its ``recommender``, and its
    home service's pages follow."""
    slot = getattr(type(engine), "recommender", None)
    if isinstance(slot, property) and slot.fset is not None:
        slot.fset(engine, service)
    else:
        _ATTACHED[engine] = service
    return service


__all__ = ["EngineParts", "RecommendationService", "attach", "attached"]
