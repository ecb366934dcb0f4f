"""Offline evaluation of recommenders: splits, metrics, protocols and reports."""

from limelight.evaluation.metrics import ranking_metrics
from limelight.evaluation.protocols import PROTOCOLS, Evaluation, evaluate, make_split
from limelight.evaluation.splits import (
    Split,
    global_time_split,
    leave_last_out,
    per_user_time_split,
    random_split,
)

__all__ = [
    "PROTOCOLS",
    "Evaluation",
    "Split",
    "evaluate",
    "global_time_split",
    "leave_last_out",
    "make_split",
    "per_user_time_split",
    "random_split",
    "ranking_metrics",
]
