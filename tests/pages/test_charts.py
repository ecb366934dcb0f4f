"""Home page charts: built on first use, then refreshed in the background while pages answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from limelight import Engine
from limelight.pages.charts import ChartCache
from limelight.pages.home import attached
from tests.helpers import keeps_answering_while_refreshes_fail
from tests.pages import world


@pytest.fixture
def cache(loaded: Engine) -> Iterator[ChartCache]:
    """Charts due for a refresh on every call (each ``get`` may start one)."""
    found = ChartCache(loaded.database, refresh_s=0.0)
    yield found
    found.close()


def test_charts_are_refreshed_off_the_request_path(loaded: Engine, cache: ChartCache) -> None:
    first = cache.get()
    assert "p40" not in first.people  # nobody watched the last title yet
    loaded.ingest([world.event("play_start", f"fan{k}", "p40", world.EVENING) for k in range(3)])
    # Due for a refresh: this call starts it and answers at once with the charts it has.
    assert cache.get() is first
    cache.wait()
    fresh = cache.get()
    assert fresh is not first and fresh.people["p40"] == 3 and "p40" in dict(fresh.popular)


def test_unchanged_events_keep_the_charts(cache: ChartCache) -> None:
    first = cache.get()
    assert cache.get() is first
    cache.wait()
    assert cache.get() is first


def test_a_failed_refresh_keeps_the_charts_it_has(
    loaded: Engine, cache: ChartCache, caplog: pytest.LogCaptureFixture
) -> None:
    keeps_answering_while_refreshes_fail(
        loaded, "events", cache.get, cache.wait, caplog, "could not refresh the home page charts"
    )
    loaded.ingest([world.event("play_start", "fan", "p40", world.EVENING)])
    cache.get()
    cache.wait()
    assert cache.get().people["p40"] == 1


def test_charts_of_a_log_without_engagement_are_rebuilt_by_the_next_page(engine: Engine) -> None:
    """A server started before its data came answers with the data's charts at once."""
    charts = attached(engine).charts  # the home service listens to ingest
    assert charts.get().popular == []
    engine.ingest([world.event("play_start", "fan", "p40", world.EVENING)])
    assert charts.get().people == {"p40": 1}  # no wait: built by this call
