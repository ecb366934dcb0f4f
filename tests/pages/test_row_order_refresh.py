"""Everyone's row engagement: read on first use, then refreshed off the request path."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from limelight import Engine
from limelight.pages.home import HomeService
from limelight.pages.order import RowOrder
from tests.helpers import table_away
from tests.pages import world


@pytest.fixture
def order(loaded: Engine) -> Iterator[RowOrder]:
    """Counts due for a refresh on every call (each ``everyone`` may start one)."""
    found = RowOrder(loaded.database, refresh_s=0.0)
    yield found
    found.close()


def test_everyones_counts_are_refreshed_in_the_background(
    loaded: Engine, home: HomeService, order: RowOrder
) -> None:
    home.home("ada", at=world.EVENING)
    loaded.decisions.flush()
    first = order.everyone()
    assert sum(first.shown.values()) > 0
    home.home("ada", at=world.EVENING)
    loaded.decisions.flush()
    # Due for a refresh: this call starts it and answers at once with the counts it has.
    assert order.everyone() is first
    order.wait()
    fresh = order.everyone()
    assert fresh is not first
    assert sum(fresh.shown.values()) > sum(first.shown.values())


def test_a_failed_refresh_keeps_the_counts_it_has(
    loaded: Engine, home: HomeService, order: RowOrder, caplog: pytest.LogCaptureFixture
) -> None:
    home.home("ada", at=world.EVENING)
    loaded.decisions.flush()
    first = order.everyone()
    with table_away(loaded, "decisions"):  # the refresh's reads will fail
        assert order.everyone() is first
        order.wait()
        assert "could not refresh everyone's row engagement" in caplog.text
        assert order.everyone() is first
        order.wait()
    order.everyone()
    order.wait()
    assert order.everyone() is not first


def test_a_closed_order_starts_no_refresh(home: HomeService, order: RowOrder) -> None:
    first = order.everyone()
    order.close()
    assert order.everyone() is first
    assert order._background.thread is None
