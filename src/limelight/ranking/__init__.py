"""The learned ranker over candidate features (LightGBM LambdaRank), trained on a time split."""

from limelight.ranking.features import Candidates, FeatureBuilder
from limelight.ranking.ranker import Ranker, TrainingSet, default_sources, label_windows

__all__ = [
    "Candidates",
    "FeatureBuilder",
    "Ranker",
    "TrainingSet",
    "default_sources",
    "label_windows",
]
