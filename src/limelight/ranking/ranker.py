"""The learned ranker: LightGBM LambdaRank over the candidates of every source.

Training never sees the future. ``fit(log)`` splits the log by time into an earlier *feature
window* and a later *label window* (:func:`label_windows`), fits clones of the sources on the
feature window only, builds each person's candidates and features from those fitted sources and
that window, and labels a candidate 1 when the person interacted with it in the label window.
Only then are the sources refitted on the whole log for serving. With ``split="global"`` every
feature comes from interactions strictly before one cutoff time and every label from at or after
it; with ``split="per_user"`` the cutoff is each person's own (their latest interactions are the
labels), which keeps every person in the training set but lets a person's features use other
people's interactions that happened after that person's labels. ``split="random"`` exists only to
mirror the random-split evaluation protocol (see :class:`Ranker`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, Self

import numpy as np
from numpy.typing import NDArray

from limelight.candidates.base import (
    CandidateSource,
    Recommendations,
    Recommender,
    Users,
    batches,
    check_n,
    top_n,
)
from limelight.candidates.content import ContentSimilarity
from limelight.candidates.data import FloatArray, IntArray, Interactions
from limelight.candidates.ease import EASE
from limelight.candidates.factorization import ALS
from limelight.candidates.itemknn import ItemKNN
from limelight.candidates.popular import Popular, Trending
from limelight.candidates.sequential import SequentialNextItem
from limelight.errors import InvalidInput
from limelight.evaluation.splits import (
    global_time_split,
    leave_last_out,
    per_user_time_split,
    random_split,
)
from limelight.profiles.state import checked_zone, utc_offset
from limelight.ranking.features import Candidates, FeatureBuilder, Pool, labels_for

Split = Literal["per_user", "global", "random"]
Progress = Callable[[str], None]


def default_sources(with_content: bool = True, threads: int = 1) -> dict[str, CandidateSource]:
    """Every source with settings that work on MovieLens-sized catalogues; ALS fits on
    ``threads`` threads (the same factors on any number)."""
    sources: dict[str, CandidateSource] = {
        "popular": Popular(),
        "trending": Trending(half_life_days=7.0),
        "itemknn": ItemKNN(neighbours=100, shrinkage=10.0),
        "als": ALS(factors=64, num_threads=threads, random_state=0),
        # DLAE (EASE with dropout): validation chose it in every leave-last-out run of
        # benchmarks/recs_movielens.py (pipeline NDCG@10 0.1105, with EASE l2 500: 0.1073).
        "ease": EASE(l2=300.0, dropout=0.67),
        "sequential": SequentialNextItem(),
    }
    if with_content:
        sources["content"] = ContentSimilarity()
    return sources


def label_windows(
    interactions: Interactions, split: Split, label_size: float, random_state: int | None = None
) -> tuple[Interactions, Interactions]:
    """The feature window and the label window of a log (see the module docstring).

    ``label_size`` >= 1 is a count of latest interactions per person (``per_user`` only); below
    1 it is the share of each person's history (``per_user``) or of the whole log (``global``).
    """
    if split == "global":
        if not 0 < label_size < 1:
            raise InvalidInput("a global label window needs 0 < label_size < 1", field="label_size")
        parts = global_time_split(interactions, label_size)
    elif split == "random":
        if not 0 < label_size < 1:
            raise InvalidInput("a random label window needs 0 < label_size < 1", field="label_size")
        parts = random_split(interactions, label_size, random_state)
    elif split == "per_user":
        if label_size >= 1:
            parts = leave_last_out(interactions, int(label_size))
        else:
            parts = per_user_time_split(interactions, label_size)
    else:
        raise InvalidInput(f"unknown split {split!r}", field="split")
    return parts.train, parts.test


@dataclass(frozen=True, eq=False)
class TrainingSet:
    """What the ranker learns from: the windows, the candidates with features, the labels,
    and ``label_count``: the labelled titles of ``people`` (among their candidates or not;
    ``labels.sum() / label_count`` is the candidates' recall)."""

    feature_window: Interactions
    label_window: Interactions
    people: IntArray
    candidates: Candidates
    labels: NDArray[np.float32]
    label_count: int


class Ranker(Recommender):
    """Candidate sources + LightGBM LambdaRank, under the common contract.

    ``sources`` maps a name to an unfitted source (default :func:`default_sources`, content
    included when the log has metadata). ``per_source`` candidates come from each source.
    ``max_people`` caps the people in the ranker's training set (sampled with ``random_state``).
    ``fit_threads`` (default ``num_threads``) is for training: the training candidates are built
    that many batches at a time (numpy and BLAS release the interpreter lock for most of it) and
    LightGBM learns on as many threads; ``num_threads`` is for scoring, where one person's few
    hundred rows gain nothing from more (``limelight train`` trains on every core and scores on
    one). Other thread counts give the same candidates and labels, but not always the same last
    bits: BLAS rounds a product by the shape of its batch, and LightGBM sums in another order.
    ``recommend`` and ``recommend_for_history`` also take the request's context: ``at`` (epoch
    seconds; default the person's latest activity), ``device`` and ``timezone`` (an IANA name:
    hour of day and day of week are the person's own, as they were in training, where each
    label's UTC offset comes from its event's ``context.timezone``).

    The trees are small by default (7 leaves, 150 rounds, 100 rows a leaf): with a per-person
    time split there are few positives per person (often one), and bigger trees overfit them and
    lose to the best single source on MovieLens-100K.

    ``split="random"`` labels a random share of each person's history instead of their latest
    interactions. It does not respect time and is not for serving: it exists to train the
    ranker for the random-split offline protocol, whose "future" is random too.
    """

    def __init__(
        self,
        sources: Mapping[str, CandidateSource] | None = None,
        split: Split = "per_user",
        label_size: float = 1.0,
        per_source: int = 50,
        rank_depth: int = 200,
        n_estimators: int = 150,
        learning_rate: float = 0.05,
        num_leaves: int = 7,
        min_child_samples: int = 100,
        max_people: int | None = None,
        folds: int = 1,
        exclude_features: tuple[str, ...] = (),
        base_source: str | None = None,
        base_scale: float = 1.0,
        num_threads: int = 1,
        fit_threads: int | None = None,
        random_state: int | None = None,
    ) -> None:
        self.sources = sources
        self.split = split
        self.label_size = label_size
        self.per_source = per_source
        self.rank_depth = rank_depth
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.max_people = max_people
        self.folds = folds
        self.exclude_features = exclude_features
        self.base_source = base_source
        self.base_scale = base_scale
        self.num_threads = num_threads
        self.fit_threads = fit_threads
        self.random_state = random_state

    interactions_: Interactions
    sources_: dict[str, CandidateSource]
    builder_: FeatureBuilder
    booster_: Any
    feature_names_: list[str]
    columns_: NDArray[np.bool_]
    base_column_: int
    training_summary_: dict[str, float]

    # ---------------------------------------------------------------- training

    def _prototypes(self, interactions: Interactions) -> dict[str, CandidateSource]:
        if self.sources is None:
            return default_sources(with_content=bool(interactions.metadata))
        if not self.sources or not all(
            isinstance(s, CandidateSource) for s in self.sources.values()
        ):
            raise InvalidInput("sources must map names to candidate sources", field="sources")
        return dict(self.sources)

    def _builder(
        self, sources: Mapping[str, CandidateSource], window: Interactions, devices: Sequence[str]
    ) -> FeatureBuilder:
        return FeatureBuilder(
            sources,
            window,
            per_source=self.per_source,
            rank_depth=self.rank_depth,
            devices=devices,
        )

    @staticmethod
    def _devices(interactions: Interactions) -> list[str]:
        if interactions.devices is None:
            return []
        return sorted({d for d in interactions.devices if d is not None})

    def training_set(
        self, interactions: Interactions, progress: Progress | None = None
    ) -> TrainingSet:
        """The ranker's training data for ``interactions`` (what ``fit`` learns from).

        With ``folds > 1`` (random split only) every interaction is a label once: the log is cut
        into ``folds`` random parts per person and each part is labelled by sources fitted on the
        others; ``feature_window``/``label_window`` then describe the first fold.
        """
        prototypes = self._prototypes(interactions)
        if self.folds > 1:
            if self.split != "random":
                raise InvalidInput("folds > 1 needs split='random'", field="folds")
            windows = _random_folds(interactions, self.folds, self.random_state)
        else:
            windows = [label_windows(interactions, self.split, self.label_size, self.random_state)]
        people_parts: list[IntArray] = []
        candidate_parts: list[Candidates] = []
        label_parts: list[NDArray[np.float32]] = []
        label_count = 0
        for window, labels in windows:
            if len(window) == 0 or len(labels) == 0:
                raise InvalidInput("too little history to split into feature and label windows")
            people, candidates, found, count = self._training_part(
                prototypes, interactions, window, labels, progress
            )
            people_parts.append(people)
            candidate_parts.append(candidates)
            label_parts.append(found)
            label_count += count
        return TrainingSet(
            windows[0][0],
            windows[0][1],
            np.concatenate(people_parts),
            _concat(candidate_parts),
            np.concatenate(label_parts),
            label_count,
        )

    def _training_part(
        self,
        prototypes: Mapping[str, CandidateSource],
        interactions: Interactions,
        window: Interactions,
        labels: Interactions,
        progress: Progress | None,
    ) -> tuple[IntArray, Candidates, NDArray[np.float32], int]:
        fitted: dict[str, CandidateSource] = {}
        for name, source in prototypes.items():
            fitted[name] = source.clone().fit(window)
            if progress is not None:
                progress(f"{name} (feature window)")
        builder = self._builder(fitted, window, self._devices(interactions))
        fresh = labels.matrix - labels.matrix.multiply(window.matrix > 0)
        fresh.eliminate_zeros()
        people = np.flatnonzero((np.diff(fresh.indptr) > 0) & (window.user_counts > 0))
        if self.max_people is not None and people.size > self.max_people:
            rng = np.random.default_rng(self.random_state)
            people = np.sort(rng.choice(people, self.max_people, replace=False))
        # The request's time: when the person came back (a time split), or, with random labels
        # that have no "next", their latest activity, which is what serving defaults to.
        if self.split == "random":
            first_label = interactions.user_last_seen
        else:
            first_label = np.full(interactions.n_users, np.inf)
            np.minimum.at(first_label, labels.users, labels.timestamps)
        label_device = _first_devices(labels)
        label_offset = _zone_offsets(labels, first=True)

        def labelled(part: slice) -> tuple[Candidates, NDArray[np.float32]]:
            rows = people[part]
            block = builder.candidates(
                builder.people_from_rows(rows),
                first_label[rows],
                [label_device[r] for r in rows],
                offsets=label_offset[rows],
            )
            positives = [fresh.indices[fresh.indptr[r] : fresh.indptr[r + 1]] for r in rows]
            return block, labels_for(block, positives)

        threads = self._fit_threads()
        # As many dense blocks in flight as threads, each that much smaller: the same memory.
        work = batches(people.size, window.n_items * max(len(fitted), 1) * threads)
        # The first batch alone: it fills the logs' lazily computed arrays, which the threads
        # then only read.
        done = [labelled(part) for part in work[:1]]
        if threads > 1 and len(work) > 2:
            with ThreadPoolExecutor(threads, thread_name_prefix="limelight-candidates") as pool:
                done += pool.map(labelled, work[1:])
        else:
            done += [labelled(part) for part in work[1:]]
        if progress is not None:
            progress("candidates")
        count = int(np.diff(fresh.indptr)[people].sum())
        label_parts = [np.zeros(0, dtype=np.float32), *(labels for _, labels in done)]
        return people, _concat([block for block, _ in done]), np.concatenate(label_parts), count

    def _fit_threads(self) -> int:
        threads = self.num_threads if self.fit_threads is None else self.fit_threads
        if not isinstance(threads, int) or threads < 1:
            raise InvalidInput("fit_threads must be a positive integer", field="fit_threads")
        return threads

    def fit_steps(self, interactions: Interactions) -> int:
        """How many times ``fit`` calls its ``progress`` hook (for a progress bar's total)."""
        sources = len(self._prototypes(interactions))
        return max(self.folds, 1) * (sources + 1) + sources + 1

    def fit(self, interactions: Interactions, *, progress: Progress | None = None) -> Self:
        """Build the training set, learn the trees, refit the sources on the whole log.

        ``progress`` (optional) hears the name of each step as it finishes
        (:meth:`fit_steps` of them).
        """
        import lightgbm

        if not isinstance(interactions, Interactions) or len(interactions) == 0:
            raise InvalidInput("fit expects a non-empty Interactions log", field="interactions")
        self._fit_threads()
        for name in [n for n in vars(self) if n.endswith("_")]:
            delattr(self, name)
        data = self.training_set(interactions, progress)
        candidates, labels = data.candidates, data.labels
        sizes = candidates.group_sizes()
        group_of = np.repeat(np.arange(sizes.size), sizes)
        has_positive = np.bincount(group_of, weights=labels, minlength=sizes.size) > 0
        keep = has_positive[group_of]
        if not keep.any():
            raise InvalidInput("no labelled item is among the candidates; nothing to learn")
        params = {
            "objective": "lambdarank",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "feature_fraction": 0.8,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambdarank_truncation_level": 20,
            "num_threads": self._fit_threads(),
            "seed": 0 if self.random_state is None else self.random_state,
            "deterministic": True,
            "force_row_wise": True,
            "verbose": -1,
        }
        prototypes = self._prototypes(interactions)
        self.sources_ = {}
        for name, source in prototypes.items():
            self.sources_[name] = source.clone().fit(interactions)
            if progress is not None:
                progress(name)
        self.builder_ = self._builder(self.sources_, interactions, self._devices(interactions))
        names = self.builder_.names()
        unknown = set(self.exclude_features) - set(names)
        if unknown:
            raise InvalidInput(f"unknown features {sorted(unknown)}", field="exclude_features")
        self.columns_ = np.array([n not in self.exclude_features for n in names])
        self.feature_names_ = [n for n in names if n not in self.exclude_features]
        if self.base_source is not None and f"{self.base_source}_z" not in names:
            raise InvalidInput(f"unknown base source {self.base_source!r}", field="base_source")
        self.base_column_ = -1 if self.base_source is None else names.index(f"{self.base_source}_z")
        dataset = lightgbm.Dataset(
            candidates.features[keep][:, self.columns_],
            labels[keep],
            group=sizes[has_positive],
            init_score=None if self.base_column_ < 0 else self.base(candidates.features[keep]),
        )
        self.booster_ = lightgbm.train(params, dataset, num_boost_round=self.n_estimators)
        if progress is not None:
            progress("lambdarank")
        self.training_summary_ = {
            "people": float(has_positive.sum()),
            "rows": float(keep.sum()),
            # Of the sampled people's labels (``max_people``), not of everyone's.
            "candidate_recall": float(labels.sum() / max(data.label_count, 1)),
            "feature_window_end": data.feature_window.last_timestamp,
        }
        self.interactions_ = interactions
        return self

    # ---------------------------------------------------------------- serving

    def _cold(self, n: int, seen: IntArray | None = None) -> tuple[IntArray, NDArray[np.float32]]:
        scores = self.interactions_.item_counts.astype(np.float32).copy()
        scores[scores <= 0] = -np.inf
        if seen is not None:
            scores[seen] = -np.inf
        return top_n(scores[None, :], n)

    def base(self, features: NDArray[np.float32]) -> NDArray[np.float64]:
        """The score boosting starts from: the base source's within-person z-score, scaled
        (zero without a base source). LightGBM's predictions are added to it."""
        if getattr(self, "base_column_", -1) < 0:
            return np.zeros(features.shape[0])
        column = features[:, self.base_column_].astype(np.float64)
        return np.nan_to_num(column, nan=0.0) * self.base_scale

    def compile_trees(self) -> bool:
        """Compile the trees to native code with ``lleaves`` (when installed), for serving.

        Why: LightGBM's predict has a high cost per call for the couple of hundred rows of one
        person (on MovieLens-100K, 187 rows: LightGBM 0.47 ms, compiled 0.12 ms = 0.25x, scores
        equal to 3e-15; ``python benchmarks/recs_latency.py`` prints it). Compiling takes about
        half a second, so the model in use is compiled once when it is loaded
        (:class:`~limelight.recommend.registry.LiveModel`) and a ranker that is only evaluated
        is not. Returns whether the trees are compiled now; without ``lleaves``, or if
        compiling fails, LightGBM keeps scoring.
        """
        self._check_fitted()
        if getattr(self, "compiled_", None) is not None:
            return True
        try:
            import lleaves
        except ImportError:
            return False
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory(prefix="limelight-trees-") as folder:
            path = Path(folder) / "ranker.txt"
            path.write_text(self.booster_.model_to_string(), encoding="utf-8")
            compiled = lleaves.Model(model_file=str(path))
            compiled.compile()
        self.compiled_ = compiled
        return True

    def score(self, candidates: Candidates) -> NDArray[np.float32]:
        """The ranker's score of every candidate row (higher is better)."""
        features = candidates.features
        chosen = features[:, self.columns_]
        compiled = getattr(self, "compiled_", None)
        if compiled is not None:
            raw = compiled.predict(chosen.astype(np.float64), n_jobs=self.num_threads)
        else:
            raw = self.booster_.predict(chosen, num_threads=self.num_threads)
        return np.asarray(raw + self.base(features), dtype=np.float32)

    def _rank(self, candidates: Candidates, n: int) -> tuple[IntArray, NDArray[np.float32]]:
        sizes = candidates.group_sizes()
        people = sizes.size
        indices = np.full((people, n), -1, dtype=np.int64)
        scores = np.full((people, n), -np.inf, dtype=np.float32)
        if candidates.items.size == 0:
            return indices, scores
        predicted = self.score(candidates)
        group = np.repeat(np.arange(people), sizes)
        order = np.lexsort((candidates.items, -predicted, group))
        position = np.arange(order.size) - np.repeat(candidates.offsets[:-1], sizes)
        take = position < n
        indices[group[order][take], position[take]] = candidates.items[order][take]
        scores[group[order][take], position[take]] = predicted[order][take]
        return indices, scores

    def recommend(
        self,
        users: Users,
        n: int = 10,
        *,
        exclude_seen: bool = True,
        at: float | None = None,
        device: str | None = None,
        timezone: str | None = None,
    ) -> Recommendations:
        """Top ``n`` per person at ``at`` (default each person's latest activity) on ``device``;
        hour and weekday read in ``timezone`` (default: each person's zone at their latest
        interaction, UTC when the log has none)."""
        check_n(n)
        interactions = self._check_fitted()
        rows = self._user_rows(users)
        warm = (rows >= 0) & (interactions.user_counts[np.maximum(rows, 0)] > 0)
        indices = np.full((rows.size, n), -1, dtype=np.int64)
        scores = np.full((rows.size, n), -np.inf, dtype=np.float32)
        cold_idx, cold_scores = self._cold(n)
        indices[~warm], scores[~warm] = cold_idx, cold_scores
        positions = np.flatnonzero(warm)
        width = interactions.n_items * len(self.sources_)
        latest = _zone_offsets(interactions, first=False) if timezone is None else None
        for part in batches(positions.size, width):
            chosen = rows[positions[part]]
            people = self.builder_.people_from_rows(chosen)
            when = people.last_seen if at is None else np.full(chosen.size, float(at))
            if latest is None:
                offsets = np.array([_offset(float(t), str(timezone)) for t in when])
            else:
                offsets = latest[chosen]
            block = self.builder_.candidates(
                people, when, [device] * chosen.size, exclude_seen=exclude_seen, offsets=offsets
            )
            indices[positions[part]], scores[positions[part]] = self._rank(block, n)
        return Recommendations(indices, scores, interactions.item_ids)

    def recommend_for_history(
        self,
        items: Sequence[str],
        timestamps: Sequence[float] | None = None,
        n: int = 10,
        *,
        exclude_seen: bool = True,
        at: float | None = None,
        device: str | None = None,
        timezone: str | None = None,
    ) -> Recommendations:
        check_n(n)
        positions, times = self._history_positions(items, timestamps)
        return self.recommend_positions(
            positions,
            times,
            n,
            exclude_seen=exclude_seen,
            at=at,
            device=device,
            timezone=timezone,
        )

    def recommend_positions(
        self,
        positions: IntArray,
        times: FloatArray,
        n: int = 10,
        *,
        exclude_seen: bool = True,
        at: float | None = None,
        device: str | None = None,
        timezone: str | None = None,
    ) -> Recommendations:
        """:meth:`recommend_for_history` for a history already given as item positions in
        time order (the serving path, which has them at hand)."""
        check_n(n)
        interactions = self._check_fitted()
        if positions.size == 0:
            return Recommendations(*self._cold(n), interactions.item_ids)
        pool = self.pool_for_history(positions, times, exclude_seen=exclude_seen)
        return self.rank_pool(pool, n, at=at, device=device, timezone=timezone)

    def pool_for_history(
        self, positions: IntArray, times: FloatArray, *, exclude_seen: bool = True
    ) -> Pool:
        """The candidates of one history (item positions in time order, at least one) with
        every feature but the moment's: the costly half of :meth:`recommend_positions`, the
        same for every request while the history stays the same."""
        self._check_fitted()
        people = self.builder_.people_from_history(positions, times)
        return self.builder_.pool(people, exclude_seen=exclude_seen)

    def rank_pool(
        self,
        pool: Pool,
        n: int = 10,
        *,
        at: float | None = None,
        device: str | None = None,
        timezone: str | None = None,
    ) -> Recommendations:
        """The top ``n`` of a :meth:`pool_for_history` at the moment ``at`` (default: the
        person's last activity) on ``device``, hour and weekday read in ``timezone`` (an IANA
        name; default UTC)."""
        check_n(n)
        interactions = self._check_fitted()
        when = pool.last_seen if at is None else np.array([float(at)])
        offsets = None if timezone is None else np.array([_offset(float(when[0]), timezone)])
        block = self.builder_.at_moment(pool, when, [device], offsets)
        indices, scores = self._rank(block, n)
        return Recommendations(indices, scores, interactions.item_ids)

    def similar_items(self, item_id: str, n: int = 10) -> Recommendations:
        """Delegated to the item-item source (``itemknn``, else ``ease``, else the first)."""
        self._check_fitted()
        for name in ("itemknn", "ease", *self.sources_):
            if name in self.sources_:
                return self.sources_[name].similar_items(item_id, n)
        raise InvalidInput("no sources")  # pragma: no cover - sources_ is never empty

    def feature_importance(self) -> dict[str, float]:
        """Total gain per feature: what the ranker leans on."""
        self._check_fitted()
        gains = self.booster_.feature_importance(importance_type="gain")
        return dict(zip(self.feature_names_, (float(g) for g in gains), strict=True))


def _random_folds(
    interactions: Interactions, folds: int, random_state: int | None
) -> list[tuple[Interactions, Interactions]]:
    """``folds`` (feature window, label window) pairs: each person's interactions are shuffled
    and dealt round-robin into folds, and each fold is labelled once."""
    rng = np.random.default_rng(random_state)
    shuffled = np.lexsort((rng.random(len(interactions)), interactions.users))
    counts = np.bincount(interactions.users, minlength=interactions.n_users)
    starts = np.concatenate([[0], np.cumsum(counts)])[:-1]
    position = np.arange(shuffled.size) - np.repeat(starts, counts)
    offset = rng.integers(0, folds, size=interactions.n_users)
    fold = np.empty(len(interactions), dtype=np.int64)
    fold[shuffled] = (position + np.repeat(offset, counts)) % folds
    return [(interactions.subset(fold != f), interactions.subset(fold == f)) for f in range(folds)]


def _offset(at: float, timezone: str) -> float:
    """Seconds east of UTC in ``timezone`` at ``at``; an unknown zone is the caller's error."""
    return utc_offset(at, checked_zone(timezone, "timezone"))


def _ends(log: Interactions, *, first: bool) -> tuple[IntArray, IntArray]:
    """The people with interactions in ``log`` and the position of each one's first (or
    latest) interaction (``order`` runs by person, then time)."""
    starts = log.user_starts
    people = np.flatnonzero(np.diff(starts) > 0)
    at = starts[people] if first else starts[people + 1] - 1
    return people, log.order[at]


def _first_devices(labels: Interactions) -> list[str | None]:
    """Device of each person's first label interaction (None when unknown)."""
    out: list[str | None] = [None] * labels.n_users
    if labels.devices is not None:
        people, positions = _ends(labels, first=True)
        for person, position in zip(people.tolist(), positions.tolist(), strict=True):
            out[person] = labels.devices[position]
    return out


def _zone_offsets(log: Interactions, *, first: bool) -> FloatArray:
    """UTC offset of each person's first (or latest) interaction in ``log`` (0 when unknown).
    The latest is their zone when last seen, which a request without one is assumed to be in."""
    out = np.zeros(log.n_users)
    if log.offsets is not None:
        people, positions = _ends(log, first=first)
        out[people] = log.offsets[positions]
    return out


def _concat(parts: list[Candidates]) -> Candidates:
    if not parts:
        return Candidates(
            np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
        )
    offsets = [parts[0].offsets]
    for part in parts[1:]:
        offsets.append(part.offsets[1:] + offsets[-1][-1])
    return Candidates(
        np.concatenate(offsets),
        np.concatenate([p.items for p in parts]),
        np.concatenate([p.features for p in parts]),
    )


__all__ = ["Ranker", "TrainingSet", "default_sources", "label_windows"]
