"""Statistics for A/B tests, on sufficient statistics, agreeing with GrowthBook's gbstats.

Summarize each variant (:class:`MeanSummary`, :class:`ProportionSummary`,
:class:`RatioSummary`, :class:`CupedSummary`), then compare two variants with
:func:`welch_t_test`, :func:`z_test`, :func:`sequential_test` or :func:`bayesian_test`; check
the split with :func:`srm_test`, adjust families with :func:`correct`, plan with
:func:`sample_size`.

>>> control = ProportionSummary(n=10_000, sum=1_000)
>>> treatment = ProportionSummary(n=10_000, sum=1_100)
>>> result = welch_t_test(control, treatment)
>>> round(result.estimate, 3), result.significant
(0.1, True)
"""

from limelight.experiments.stats.bayesian import BayesianResult, GaussianPrior, bayesian_test
from limelight.experiments.stats.corrections import (
    AdjustedResult,
    Correction,
    adjust_p_values,
    adjusted_interval,
    benjamini_hochberg,
    correct,
    holm,
)
from limelight.experiments.stats.cuped import AdjustedStatistic, variance_reduction
from limelight.experiments.stats.effects import Difference, Interval
from limelight.experiments.stats.frequentist import FrequentistResult, welch_t_test, z_test
from limelight.experiments.stats.power import (
    Design,
    Plan,
    achieved_power,
    duration_days,
    sample_size,
)
from limelight.experiments.stats.sequential import DEFAULT_TUNING, sequential_test
from limelight.experiments.stats.srm import SRM_THRESHOLD, SrmResult, srm_test
from limelight.experiments.stats.summaries import (
    BaseSummary,
    CupedSummary,
    MeanSummary,
    ProportionSummary,
    RatioSummary,
    Summary,
)
from limelight.experiments.stats.winsorization import Caps, caps, winsorize

__all__ = [
    "DEFAULT_TUNING",
    "SRM_THRESHOLD",
    "AdjustedResult",
    "AdjustedStatistic",
    "BaseSummary",
    "BayesianResult",
    "Caps",
    "Correction",
    "CupedSummary",
    "Design",
    "Difference",
    "FrequentistResult",
    "GaussianPrior",
    "Interval",
    "MeanSummary",
    "Plan",
    "ProportionSummary",
    "RatioSummary",
    "SrmResult",
    "Summary",
    "achieved_power",
    "adjust_p_values",
    "adjusted_interval",
    "bayesian_test",
    "benjamini_hochberg",
    "caps",
    "correct",
    "duration_days",
    "holm",
    "sample_size",
    "sequential_test",
    "srm_test",
    "variance_reduction",
    "welch_t_test",
    "winsorize",
    "z_test",
]
