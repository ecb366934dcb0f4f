"""``limelight evaluate``: the offline protocols on the event store's own interactions.

Each protocol (a) leave-last-out, (b) global time split, (c) random per-person 75/25 splits
the same log for every model; each model is fitted on the training part and judged on every
metric (HR, Recall, Precision, NDCG at each k, MRR, coverage, novelty, intra-list diversity) by
:func:`limelight.evaluation.protocols.evaluate`. Limelight's pipeline learns its ranker the way
the protocol's split is made (:func:`ranker_settings`), as it would be deployed for that
question; the baselines are Limelight's own single sources with their default settings. The
result is a :class:`~limelight.evaluation.report.Report` (Markdown, JSON and a PNG chart).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from limelight.candidates import ALS, EASE, CandidateSource, Interactions, ItemKNN, Popular
from limelight.errors import InvalidInput
from limelight.evaluation.protocols import PROTOCOLS, Protocol, evaluate, make_split
from limelight.evaluation.report import Report
from limelight.ranking import Ranker, default_sources
from limelight.recommend.progress import Stages
from limelight.recommend.training import library_versions

#: Short names on the command line -> protocol names.
CODES: dict[str, Protocol] = {"a": "leave_last_out", "b": "time_split", "c": "random_75_25"}
#: Features whose scale changes with the size of the training log: left out when the ranker
#: learns from sources fitted on less data than serving uses (cross-fitted random folds).
SCALE_FEATURES = (
    *(f"{name}_score" for name in default_sources()),
    "item_log_popularity",
    "item_trend",
    "user_log_history",
)
Baseline = Callable[[int], CandidateSource]
BASELINES: dict[str, Baseline] = {
    "popular": lambda seed: Popular(),
    "itemknn": lambda seed: ItemKNN(neighbours=100, shrinkage=10.0),
    "als": lambda seed: ALS(factors=64, random_state=seed),
    "ease": lambda seed: EASE(l2=500.0),
}


def protocol_of(code: str) -> Protocol:
    """``a``/``b``/``c`` or a protocol's full name."""
    if code in CODES:
        return CODES[code]
    if code in PROTOCOLS:
        return code  # type: ignore[return-value]
    raise InvalidInput(
        f"unknown protocol {code!r}: use a, b, c or one of {sorted(PROTOCOLS)}", field="protocol"
    )


def ranker_settings(protocol: Protocol) -> dict[str, Any]:
    """How the ranker learns for a protocol: its label window mirrors the protocol's test.

    (a) each person's latest title; (b) the latest 20% of the log; (c) random folds of each
    person's history, every fold labelled once by sources fitted on the other three, without
    the features whose scale depends on how much data the sources saw, boosting from EASE's
    per-person z-score (see ``benchmarks/recs_movielens.py`` for the measurements behind it).
    """
    if protocol == "leave_last_out":
        return {"split": "per_user", "label_size": 1.0}
    if protocol == "time_split":
        return {"split": "global", "label_size": 0.2}
    return {
        "split": "random",
        "folds": 4,
        "exclude_features": SCALE_FEATURES,
        "base_source": "ease",
        "base_scale": 0.3,
    }


def limelight_model(protocol: Protocol, seed: int, log: Interactions) -> Ranker:
    sources = default_sources(with_content=bool(log.metadata))
    sources["als"] = ALS(factors=64, random_state=seed)
    settings = ranker_settings(protocol)
    if "exclude_features" in settings:
        names = {f"{name}_score" for name in sources} | set(SCALE_FEATURES[-3:])
        settings["exclude_features"] = tuple(f for f in settings["exclude_features"] if f in names)
    return Ranker(sources=sources, random_state=seed, **settings)


def run(
    log: Interactions,
    protocols: Sequence[str] = ("a", "b", "c"),
    *,
    seeds: int = 1,
    ks: Sequence[int] = (10,),
    baselines: Sequence[str] = tuple(BASELINES),
    progress: bool = False,
) -> Report:
    """Evaluate Limelight and the baselines under each protocol and seed."""
    chosen = [protocol_of(code) for code in protocols]
    unknown = set(baselines) - set(BASELINES)
    if unknown:
        raise InvalidInput(f"unknown baselines {sorted(unknown)}", field="baselines")
    if seeds < 1:
        raise InvalidInput("seeds must be at least 1", field="seeds")
    depths = tuple(sorted(set(ks)))
    if not depths or depths[0] < 1:
        raise InvalidInput("k must be positive", field="k")
    report = Report("Limelight offline evaluation (every unseen title ranked)")
    report.notes.update(
        {
            "interactions": f"{len(log)} ({log.n_users} people, {log.n_items} titles)",
            "seeds": seeds,
            "libraries": library_versions(),
            "protocols": {p: PROTOCOLS[p] for p in chosen},
        }
    )
    started = time.perf_counter()
    steps = len(chosen) * seeds * (len(baselines) + 1)
    with Stages(enabled=progress) as stages, stages.stage("evaluating", steps) as step:
        for protocol in chosen:
            for seed in range(seeds):
                split = make_split(log, protocol, seed)
                if split.test_users.size == 0:
                    raise InvalidInput(f"protocol {protocol} leaves nobody to test")
                step.describe(f"{protocol} seed {seed}: limelight")
                model = limelight_model(protocol, seed, split.train).fit(split.train)
                report.add(protocol, "limelight", evaluate(model, split, depths).metrics)
                step.advance()
                for name in baselines:
                    step.describe(f"{protocol} seed {seed}: {name}")
                    baseline = BASELINES[name](seed).fit(split.train)
                    report.add(protocol, name, evaluate(baseline, split, depths).metrics)
                    step.advance()
    report.notes["run time"] = f"{time.perf_counter() - started:.1f}s"
    return report


def metric_names(ks: Sequence[int]) -> list[str]:
    """Every metric column of the report, in reading order."""
    names: list[str] = []
    for k in sorted(set(ks)):
        names += [f"ndcg@{k}", f"hr@{k}", f"recall@{k}", f"precision@{k}"]
    return [*names, "mrr", "coverage", "novelty", "diversity"]


__all__ = ["BASELINES", "CODES", "metric_names", "protocol_of", "ranker_settings", "run"]
