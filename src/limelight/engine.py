"""The Python API. The HTTP API, the CLI and the dashboard are thin layers over ``Engine``."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import Connection, func, select

from limelight.bandits.rewards import RewardOutcome
from limelight.bandits.service import DecisionResult, DecisionService
from limelight.catalog.model import Item
from limelight.catalog.store import CatalogStore, ItemFilter
from limelight.config import Settings
from limelight.decisions import DecisionLog
from limelight.errors import UnknownItem, UnknownUser
from limelight.events.identity import IdentityResolver
from limelight.events.ingest import Ingestor
from limelight.events.model import ANONYMOUS_PREFIX, IngestResult, Rejection, now_utc
from limelight.experiments.attach import profile_lookup
from limelight.experiments.model import Assignment
from limelight.experiments.service import Experiments
from limelight.privacy.core import CORE_HOOK
from limelight.privacy.core import identify as identify_person
from limelight.privacy.registry import Identity, PersonalData, PersonalDataHook
from limelight.profiles.decay import DAY_S
from limelight.profiles.state import FoldConfig, ItemMeta
from limelight.profiles.store import ProfileStore
from limelight.profiles.view import profile_view
from limelight.storage import Database, migrate
from limelight.storage.schema import events

if TYPE_CHECKING:
    from limelight.recommend.artifacts import TrainedModel
    from limelight.recommend.results import RecommendationList, SimilarList
    from limelight.recommend.service import RecommendationService
    from limelight.recommend.training import TrainingConfig


class _MetaCache:
    """Item genres and tags for profile folding, cached; dropped for items that change."""

    def __init__(self, catalog: CatalogStore, capacity: int = 200_000) -> None:
        self.catalog = catalog
        self.capacity = capacity
        self._cache: dict[str, ItemMeta] = {}
        self._lock = threading.Lock()

    def __call__(self, connection: Connection, item_ids: Sequence[str]) -> Mapping[str, ItemMeta]:
        with self._lock:
            found = {
                item_id: self._cache[item_id] for item_id in item_ids if item_id in self._cache
            }
        missing = [item_id for item_id in set(item_ids) if item_id not in found]
        if missing:
            loaded = self.catalog.meta(connection, missing)
            found.update(loaded)
            with self._lock:
                if len(self._cache) + len(loaded) > self.capacity:
                    self._cache.clear()
                self._cache.update(loaded)
        return found

    def invalidate(self, item_ids: Iterable[str]) -> None:
        with self._lock:
            for item_id in item_ids:
                self._cache.pop(item_id, None)


def _has_data(value: Any) -> bool:
    """Whether an export section holds anything (a non-empty list or dict anywhere inside)."""
    if isinstance(value, dict):
        return any(_has_data(inner) for inner in value.values())
    if isinstance(value, list):
        return bool(value)
    return value is not None


class Engine:
    """Limelight in one object: storage, events, profiles, catalogue and personal data.

    >>> import tempfile
    >>> engine = Engine(Settings(data_dir=tempfile.mkdtemp()))
    >>> engine.ingest([{"event_id": "e1", "type": "play_start", "user_id": "ada",
    ...                 "properties": {"item_id": "m1"}}]).accepted
    1
    >>> engine.profile("ada")["counts"]
    {'play_start': 1}
    >>> engine.close()
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.database = Database(
            self.settings.resolved_database_url, sqlite_synchronous=self.settings.sqlite_synchronous
        )
        migrate(self.database)
        self.fold_config = FoldConfig(
            half_life_s=self.settings.affinity_half_life_days * DAY_S,
            weights=dict(self.settings.affinity_weights),
            rating_midpoint=self.settings.rating_midpoint,
        )
        self.catalog = CatalogStore(self.database)
        self.profiles = ProfileStore(self.database, self.fold_config)
        self.profiles.upgrade()
        self._meta = _MetaCache(self.catalog)
        self.ingestor = Ingestor(
            self.database,
            self.profiles,
            self._meta,
            max_future_skew_s=self.settings.max_future_skew_s,
        )
        self.identity = IdentityResolver(self.database)
        self.personal_data = PersonalData(self.database, identify_person)
        self.personal_data.register(
            PersonalDataHook(name="core", export=CORE_HOOK.export, erase=self._erase_core)
        )
        retention_s = self.settings.decision_retention_days * 86_400.0  # 0 keeps everything
        self.decisions = DecisionLog(self.database, retention_s=retention_s)
        self.personal_data.register(self.decisions.personal_data_hook())
        self.experiments = Experiments(
            self.database, self.settings, self.personal_data, profile_lookup=profile_lookup(self)
        )
        self.bandits = DecisionService(
            self.database, self.settings, self.decisions, self.personal_data, self.settings.data_dir
        )
        self.ingestor.listeners.append(self.bandits.on_events)
        self._recommender: RecommendationService | None = None

    def _erase_core(self, connection: Connection, identity: Identity) -> int:
        removed = CORE_HOOK.erase(connection, identity)
        # Inside the transaction, under the write lock; other processes learn of it too.
        self.profiles.forget(identity.person_ids, connection)
        return removed

    # -- events and profiles ---------------------------------------------------------------

    def ingest(self, batch: Sequence[Any]) -> IngestResult:
        """Validate and store events; good ones are committed even when others are refused."""
        return self.ingestor.ingest(batch)

    def profile(self, user_id: str, *, at: float | None = None, items: int = 50) -> dict[str, Any]:
        """The live profile of a user (or ``anon:<anonymous_id>`` for a device not signed in)."""
        with self.database.read() as connection:
            person_id = user_id
            if user_id.startswith(ANONYMOUS_PREFIX):
                linked = self.identity.links(connection, [user_id.removeprefix(ANONYMOUS_PREFIX)])
                person_id = next(iter(linked.values()), user_id)
            state = self.profiles.state(connection, person_id)
            if state is None:
                raise UnknownUser(f"no profile for user {user_id!r}", field="user_id")
            stats = self.profiles.item_stats(connection, person_id, limit=items)
            devices = (
                []
                if person_id.startswith(ANONYMOUS_PREFIX)
                else self.identity.devices(connection, person_id)
            )
        return profile_view(
            person_id,
            state,
            stats,
            at=now_utc() if at is None else at,
            half_life_s=self.fold_config.half_life_s,
            devices=devices,
        )

    # -- recommendations and pages --------------------------------------------------------

    @property
    def recommender(self) -> RecommendationService:
        """Recommendations and similar titles; built on first use (it loads the models)."""
        if self._recommender is None:
            from limelight.recommend.service import RecommendationService

            self._recommender = RecommendationService.from_engine(self)
        return self._recommender

    @recommender.setter
    def recommender(self, service: RecommendationService) -> None:
        """Serve with ``service`` from now on (custom settings, tests); the one it replaces is
        closed (its model poller stops)."""
        previous, self._recommender = self._recommender, service
        if previous is not None and previous is not service:
            previous.close()

    def recommend(
        self,
        user_id: str,
        n: int = 10,
        *,
        device: str | None = None,
        at: float | None = None,
        diversity: float | None = None,
        tz: str | None = None,
    ) -> RecommendationList:
        """A ranked list for one person in context (``tz``: the request's IANA time zone),
        with reasons and a logged decision id."""
        return self.recommender.recommend(
            user_id, n, device=device, at=at, diversity=diversity, tz=tz
        )

    def similar(self, item_id: str, n: int = 10, *, at: float | None = None) -> SimilarList:
        """Titles like this one, with a logged decision id."""
        return self.recommender.similar(item_id, n, at=at)

    def train(
        self, config: TrainingConfig | None = None, *, progress: bool = False, publish: bool = True
    ) -> TrainedModel:
        """Train every recommendation model from the event store and publish a new version."""
        return self.recommender.train(config, progress=progress, publish=publish)

    def home(self, user_id: str, **options: Any) -> dict[str, Any]:
        """The home page in context (``limelight.pages.home.HomeService.home``)."""
        from limelight.pages.home import attached as home_service

        return home_service(self).home(user_id, **options)

    def queue(self, user_id: str, **options: Any) -> dict[str, Any]:
        """A mood or activity queue (``limelight.pages.home.HomeService.queue``)."""
        from limelight.pages.home import attached as home_service

        return home_service(self).queue(user_id, **options)

    # -- decisions (contextual bandits) -----------------------------------------------------

    def decide(
        self, point: str, context: Mapping[str, Any], actions: Sequence[Any], **options: Any
    ) -> DecisionResult:
        """Choose among actions at a decision point and log it (``DecisionService.decide``)."""
        return self.bandits.decide(point, context, actions, **options)

    def reward(self, decision_id: str, value: float, **options: Any) -> RewardOutcome:
        """Report a reward for a logged decision (``DecisionService.reward``)."""
        return self.bandits.reward(decision_id, value, **options)

    # -- experiments -------------------------------------------------------------------------

    def variant(
        self,
        experiment_key: str,
        unit_id: str,
        *,
        context: Mapping[str, Any] | None = None,
        profile: Mapping[str, Any] | None = None,
    ) -> Assignment | None:
        """The unit's variant in an experiment; reading it logs the unit's first exposure."""
        return self.experiments.variant(experiment_key, unit_id, context=context, profile=profile)

    def event_count(self) -> int:
        with self.database.read() as connection:
            return int(connection.execute(select(func.count()).select_from(events)).scalar_one())

    # -- catalogue -------------------------------------------------------------------------

    def upsert_items(self, batch: Sequence[Any]) -> tuple[int, list[Rejection]]:
        """Insert or replace catalogue items; returns how many were stored and what was refused."""
        good: list[Item] = []
        rejected: list[Rejection] = []
        for index, raw in enumerate(batch):
            if isinstance(raw, Item):
                good.append(raw)
                continue
            try:
                good.append(Item.model_validate(raw))
            except ValidationError as error:
                first = error.errors(include_url=False)[0]
                field = ".".join(str(part) for part in first.get("loc", ())) or "item"
                item_id = raw.get("item_id") if isinstance(raw, dict) else None
                rejected.append(
                    Rejection(
                        index,
                        field,
                        str(first.get("msg")),
                        item_id if isinstance(item_id, str) else None,
                    )
                )
        if good:
            with self.database.write() as connection:
                self.catalog.upsert(connection, good, now_utc())
            self._meta.invalidate(item.item_id for item in good)
            if self._recommender is not None:
                self._recommender.catalog_view.invalidate()
        return len(good), rejected

    def item(self, item_id: str) -> Item:
        with self.database.read() as connection:
            found = self.catalog.get(connection, item_id)
        if found is None:
            raise UnknownItem(f"no item {item_id!r} in the catalogue", field="item_id")
        return found

    def items(self, where: ItemFilter | None = None) -> list[Item]:
        with self.database.read() as connection:
            return self.catalog.list(connection, where or ItemFilter())

    # -- personal data ---------------------------------------------------------------------

    def export_user(self, user_id: str) -> dict[str, Any]:
        """Everything Limelight keeps about a user, as JSON-ready data."""
        exported = self.personal_data.export(user_id)
        found = [value for key, value in exported.items() if key not in ("user_id", "devices")]
        if not any(_has_data(value) for value in found):
            raise UnknownUser(f"nothing is stored about user {user_id!r}", field="user_id")
        return exported

    def erase_user(self, user_id: str) -> dict[str, int]:
        """Erase a user everywhere (events, links, profiles and every registered store)."""
        return self.personal_data.erase(user_id)

    def close(self) -> None:
        from limelight.pages.home import close as close_home

        close_home(self)
        if self._recommender is not None:
            self._recommender.close()
        self.bandits.close()
        self.decisions.close()
        self.database.dispose()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
