"""The issue's end-to-end check: a simulated experiment of personalized against popularity-only
rows, through the real assignment, exposure logging and event pipeline, shows the known lift.

The simulation is ``benchmarks/experiment_simulation.py`` at a small size (seeded).
"""

from __future__ import annotations

from benchmarks.experiment_simulation import simulate

from limelight import Engine


def test_personalized_rows_beat_popular_rows_in_the_report(engine: Engine) -> None:
    report = simulate(engine, users=300, seed=1)
    assert sum(report.exposures.values()) == 300
    assert not report.srm.flagged
    clicks = report.metric("click_through")
    popular, personalized = clicks.variants
    assert (popular.variant, personalized.variant) == ("popular", "personalized")
    (lift,) = clicks.comparisons
    assert clicks.direction(lift) == "better"
    assert lift.relative.estimate > 0 and lift.relative.ci[0] > 0
    assert lift.significant and lift.relative.p_value < 0.001
    assert report.metric("clicks_per_impression").comparisons[0].significant
