"""Training from the event store: read the window, validate, fit every model, describe it.

``train`` reads the events inside a data window into one interaction log (see
:mod:`.interactions`), measures the pipeline honestly on a leave-last-out validation split (each
person's latest title held out, the whole pipeline fitted on the rest), then fits every source
and the LambdaRank ranker on the whole window for serving. The returned :class:`TrainedModel`
carries the metadata an operator needs to trust or roll back a version: the data window, every
parameter, the validation metrics beside the best single source and popularity, and the
library versions.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

from limelight.candidates import CandidateSource, Interactions
from limelight.errors import InvalidInput
from limelight.evaluation.protocols import evaluate
from limelight.evaluation.splits import leave_last_out
from limelight.ranking import Ranker, default_sources
from limelight.recommend.artifacts import TrainedModel
from limelight.recommend.interactions import (
    DataWindow,
    EventWeights,
    LogStats,
    count_events,
    read_interactions,
)
from limelight.recommend.progress import Stages
from limelight.recommend.registry import new_version
from limelight.storage.database import Database

#: Sources whose validation metrics are reported beside the pipeline's.
BASELINES = ("ease", "popular")
LIBRARIES = ("limelight", "numpy", "scipy", "scikit-learn", "implicit", "lightgbm")


@dataclass(frozen=True)
class TrainingConfig:
    """What to learn from and how. ``ranker`` overrides :class:`Ranker` parameters;
    ``sources`` replaces :func:`default_sources` (content is included when the catalogue has
    metadata). ``threads`` (default: every core; training is a batch job) is what the ranker
    trains on (``Ranker.fit_threads``) and, with the default sources, what ALS fits on."""

    window: DataWindow = field(default_factory=DataWindow)
    weights: EventWeights = field(default_factory=EventWeights)
    validate: bool = True
    ranker: Mapping[str, Any] = field(default_factory=dict)
    sources: Mapping[str, CandidateSource] | None = None
    random_state: int = 0
    threads: int | None = None

    def fit_threads(self) -> int:
        """``threads``, or every core of this machine."""
        if self.threads is None:
            return max(len(os.sched_getaffinity(0)), 1)
        if not isinstance(self.threads, int) or self.threads < 1:
            raise InvalidInput("threads must be a positive integer", field="threads")
        return self.threads

    def make_ranker(self, log: Interactions) -> Ranker:
        threads = self.fit_threads()
        sources = (
            dict(self.sources)
            if self.sources is not None
            else default_sources(with_content=bool(log.metadata), threads=threads)
        )
        params: dict[str, Any] = {
            "random_state": self.random_state,
            "fit_threads": threads,
            **self.ranker,
        }
        return Ranker(sources=sources, **params)


def library_versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = package_version(name)
        except PackageNotFoundError:
            found[name] = "unknown"
    return found


def validation_metrics(
    config: TrainingConfig, log: Interactions, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """NDCG/HR/... of the pipeline (and of EASE and popularity inside it) on leave-last-out.

    A log too small to validate (nobody with two titles, no label among the candidates) gives
    ``{"skipped": reason}`` rather than failing the training.
    """
    split = leave_last_out(log)
    if split.test_users.size == 0:
        return {"skipped": "nobody has two titles to hold one out"}
    try:
        ranker = config.make_ranker(split.train).fit(split.train, progress=progress)
    except InvalidInput as error:
        return {"skipped": error.message}
    found: dict[str, Any] = {"protocol": "leave_last_out", "users": int(split.test_users.size)}
    found["limelight"] = evaluate(ranker, split, (10,)).metrics
    for name in BASELINES:
        if name in ranker.sources_:
            found[name] = evaluate(ranker.sources_[name], split, (10,)).metrics
    return found


def train(
    database: Database,
    config: TrainingConfig | None = None,
    *,
    progress: bool = False,
    now: float | None = None,
) -> TrainedModel:
    """Fit every model on the events in ``config.window``; nothing is written (see
    :class:`~limelight.recommend.registry.ModelStore`)."""
    config = config or TrainingConfig()
    started = time.perf_counter()
    created = time.time() if now is None else now
    with Stages(enabled=progress) as stages:
        total = count_events(database, config.window, config.weights)
        with stages.stage("reading events", total) as step:
            log, stats = read_interactions(
                database, config.window, config.weights, on_chunk=step.advance
            )
        if len(log) == 0:
            raise InvalidInput(
                "no interactions in the data window: ingest play events first", field="window"
            )
        metrics: dict[str, Any] = {}
        if config.validate:
            probe = config.make_ranker(log)
            with stages.stage("validating (leave-last-out)", probe.fit_steps(log)) as step:
                metrics["validation"] = validation_metrics(
                    config, log, lambda _name: step.advance()
                )
        ranker = config.make_ranker(log)
        with stages.stage("fitting sources and ranker", ranker.fit_steps(log)) as step:

            def advance(name: str) -> None:
                step.describe(f"fitting {name}")
                step.advance()

            ranker.fit(log, progress=advance)
    return TrainedModel(
        new_version(created),
        ranker,
        describe(config, ranker, stats, metrics, created, time.perf_counter() - started),
    )


def describe(
    config: TrainingConfig,
    ranker: Ranker,
    stats: LogStats,
    metrics: Mapping[str, Any],
    created: float,
    seconds: float,
) -> dict[str, Any]:
    """The metadata of a trained model (stored as ``metadata.json``)."""
    return {
        "created_at": created,
        "training_seconds": round(seconds, 3),
        "data_window": {
            "since": config.window.since,
            "until": config.window.until,
            **stats.as_dict(),
        },
        "parameters": {
            "event_weights": config.weights.as_dict(),
            "ranker": {k: v for k, v in ranker.get_params().items() if k != "sources"},
            "sources": {
                name: {"class": type(s).__name__, **s.get_params()}
                for name, s in ranker.sources_.items()
            },
            "random_state": config.random_state,
        },
        "metrics": dict(metrics),
        "libraries": library_versions(),
    }


__all__ = ["TrainingConfig", "library_versions", "train", "validation_metrics"]
