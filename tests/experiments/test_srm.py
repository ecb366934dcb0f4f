"""Sample ratio mismatch against scipy's chi-square goodness of fit."""

from __future__ import annotations

import pytest
from scipy import stats as scipy_stats

from limelight.experiments.stats import SRM_THRESHOLD, srm_test


@pytest.mark.parametrize(
    ("counts", "weights"),
    [([5000, 5100], [0.5, 0.5]), ([3300, 3350, 3200], [1, 1, 1]), ([900, 2100], [0.3, 0.7])],
)
def test_matches_scipy_chisquare(counts: list[int], weights: list[float]) -> None:
    total = sum(counts)
    expected = [w / sum(weights) * total for w in weights]
    statistic, p = scipy_stats.chisquare(counts, expected)
    result = srm_test(counts, weights)
    assert result.statistic == pytest.approx(statistic)
    assert result.p_value == pytest.approx(p)
    assert result.expected == pytest.approx(tuple(expected))


def test_mismatch_is_flagged_below_one_in_a_thousand() -> None:
    assert SRM_THRESHOLD == 0.001
    healthy = srm_test([50_000, 50_300], [0.5, 0.5])
    broken = srm_test([50_000, 49_000], [0.5, 0.5])  # chi-square 10.1, p = 0.0015: not yet
    worse = srm_test([50_000, 48_800], [0.5, 0.5])
    assert not healthy.flagged
    assert not broken.flagged
    assert worse.flagged and worse.p_value < 0.001


def test_edge_cases() -> None:
    assert srm_test([0, 0], [0.5, 0.5]).p_value == 1.0
    assert srm_test([10, 0, 10], [1, 0, 1]).p_value == pytest.approx(1.0)
    assert srm_test([10, 3, 10], [1, 0, 1]).flagged
    with pytest.raises(ValueError):
        srm_test([10], [1])
    with pytest.raises(ValueError):
        srm_test([10, 10], [0, 0])
