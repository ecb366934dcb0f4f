"""Recommendations served: training from the event store, versioned artifacts with hot swap,
business rules, reasons, and the service behind ``Engine.recommend`` and the HTTP routes.

The models themselves live in :mod:`limelight.candidates` and :mod:`limelight.ranking`; this
package turns them into a running service (DESIGN §2: candidates -> ranking -> rules -> api).
Names are imported on first use, so ``limelight --help`` (which imports the CLI sub-apps in
:mod:`limelight.recommend.cli`) does not load numpy, scikit-learn and LightGBM.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from limelight.recommend.artifacts import TrainedModel
    from limelight.recommend.interactions import DataWindow, EventWeights, read_interactions
    from limelight.recommend.registry import LiveModel, ModelStore
    from limelight.recommend.results import (
        ContinueWatching,
        Recommendation,
        RecommendationList,
        SimilarList,
    )
    from limelight.recommend.service import RecommendationService, attach, attached
    from limelight.recommend.training import TrainingConfig, train

_WHERE = {
    "TrainedModel": "artifacts",
    "DataWindow": "interactions",
    "EventWeights": "interactions",
    "read_interactions": "interactions",
    "LiveModel": "registry",
    "ModelStore": "registry",
    "ContinueWatching": "results",
    "Recommendation": "results",
    "RecommendationList": "results",
    "SimilarList": "results",
    "RecommendationService": "service",
    "attach": "service",
    "attached": "service",
    "TrainingConfig": "training",
    "train": "training",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "ContinueWatching",
    "DataWindow",
    "EventWeights",
    "LiveModel",
    "ModelStore",
    "Recommendation",
    "RecommendationList",
    "RecommendationService",
    "SimilarList",
    "TrainedModel",
    "TrainingConfig",
    "attach",
    "attached",
    "read_interactions",
    "train",
]
