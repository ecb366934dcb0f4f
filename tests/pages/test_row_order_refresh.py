"""Everyone's row engagement: read on first use, then refreshed off the request path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from limelight import Engine
from limelight.pages.home import HomeService
from limelight.pages.order import RowOrder, count, family
from limelight.recommend.people import read_person
from tests.helpers import keeps_answering_while_refreshes_fail
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
    first = keeps_answering_while_refreshes_fail(
        loaded,
        "decisions",
        order.everyone,
        order.wait,
        caplog,
        "could not refresh everyone's row engagement",
    )
    order.everyone()
    order.wait()
    assert order.everyone() is not first


def test_a_closed_order_starts_no_refresh(home: HomeService, order: RowOrder) -> None:
    first = order.everyone()
    order.close()
    assert order.everyone() is first
    assert order._background.thread is None


def _person_id(loaded: Engine, home: HomeService, user_id: str) -> str:
    with loaded.database.read() as connection:
        found = read_person(connection, home.recommender.identity, user_id).person_id
    assert found is not None
    return found


def test_a_persons_stale_counts_are_read_again_in_the_background(
    loaded: Engine, home: HomeService, order: RowOrder
) -> None:
    """Pages another process served reach this one's counts without a read on the page's path;
    a person it has no counts for is read at once (a first page, or after a click)."""
    home.home("ada", at=world.EVENING)
    loaded.decisions.flush()
    person = _person_id(loaded, home, "ada")
    first = order.person(person)  # none held: read now
    assert sum(first.shown.values()) > 0
    home.home("ada", at=world.EVENING)  # served by "another process": ``order`` did not see it
    loaded.decisions.flush()
    assert order.person(person) is first  # stale (refresh_s 0): answered with what it has
    order.wait()
    fresh = order.person(person)
    assert fresh is not first
    assert sum(fresh.shown.values()) > sum(first.shown.values())


def test_a_click_drops_a_persons_counts_and_the_next_page_reads_them(
    loaded: Engine, home: HomeService, order: RowOrder
) -> None:
    page = home.home("ada", at=world.EVENING)
    loaded.decisions.flush()
    person = _person_id(loaded, home, "ada")
    order.refresh_s = 3600.0  # held counts stay fresh: only the click makes a read
    before = order.person(person)
    assert order.person(person) is before
    loaded.ingestor.listeners.append(order.on_events)
    tile = page["rows"][0]["items"][0]
    loaded.ingest(
        [
            world.event(
                "click", "ada", tile["item_id"], world.EVENING, decision_id=tile["decision_id"]
            )
        ]
    )
    after = order.person(person)  # dropped by the click: read now, with it
    assert sum(after.clicked.values()) == sum(before.clicked.values()) + 1


def _families(pages: list[dict[str, Any]]) -> dict[str, int]:
    """Per row family, how many of ``pages`` showed at least one row of it."""
    found: dict[str, int] = {}
    for page in pages:
        for name in {family(row["type"]) for row in page["rows"]}:
            found[name] = found.get(name, 0) + 1
    return found


def test_a_persons_counts_are_the_pages_that_showed_each_row_family(
    loaded: Engine, home: HomeService
) -> None:
    """Shown: per family, the person's pages with at least one row of it, read back from the
    log: pages of other moments and devices (other rows) and repeats of the same rows."""
    moments = [(0, "tv", 3), (0, "tv", 10), (9, "mobile", 10), (0, "tv", 3), (14, None, 3)]
    pages = [
        home.home("ada", at=world.EVENING + hours * 3600.0, device=device, rows=rows)
        for hours, device, rows in moments
    ]
    loaded.decisions.flush()
    shown = [tuple(row["type"] for row in page["rows"]) for page in pages]
    assert 1 < len(set(shown)) < len(shown)
    found = count(loaded.database, person_id="ada", pages=50)
    assert found.shown == _families(pages)
    assert found.clicked == {}
    assert count(loaded.database, person_id="ada", pages=2).shown == _families(pages[-2:])
