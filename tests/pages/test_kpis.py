"""Page KPIs from events joined to logged pages."""

from __future__ import annotations

import time

from limelight import Engine
from limelight.pages.home import HomeService
from limelight.pages.kpis import page_kpis
from tests.pages import world


def test_page_ctr_play_starts_and_time_to_first_play(loaded: Engine, home: HomeService) -> None:
    started = time.time()
    pages = [home.home("ada", per_row=4) for _ in range(4)]
    tile = pages[0]["rows"][1]["items"][2]
    other = pages[1]["rows"][0]["items"][0]
    now = time.time()
    loaded.ingest(
        [
            world.event("click", "ada", tile["item_id"], now, decision_id=tile["decision_id"]),
            world.event(
                "play_start", "ada", tile["item_id"], now + 30, decision_id=tile["decision_id"]
            ),
            world.event("click", "ada", other["item_id"], now, decision_id=other["decision_id"]),
            world.event("click", "ada", "p40", now, decision_id="d_not_from_a_page"),
        ]
    )
    loaded.decisions.flush()
    kpis = page_kpis(loaded.database, since=started - 1)
    assert kpis.pages == 4 and kpis.clicks == 2 and kpis.pages_clicked == 2
    assert kpis.page_ctr == 0.5
    assert kpis.tiles == sum(len(r["items"]) for p in pages for r in p["rows"])
    assert kpis.play_starts == 1 and kpis.pages_played == 1
    served_at = loaded.decisions.get(pages[0]["page_id"])
    assert served_at is not None and kpis.time_to_first_play_median_s is not None
    assert abs(kpis.time_to_first_play_median_s - (now + 30 - served_at.created_at)) < 1e-6
    assert "page CTR 0.500" in kpis.report()
