"""The artwork cache under concurrent pages from two catalogue versions."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from limelight import Engine
from limelight.catalog.store import CatalogStore
from limelight.pages.artwork import ArtworkChooser
from limelight.pages.home import HomeService
from tests.pages import world


class Interleaving(CatalogStore):
    """The real catalogue store, except that its first read of artwork lets another page,
    from another catalogue version, load its own titles before this read returns."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine.database)
        self.meanwhile: threading.Thread | None = None
        self.chooser: ArtworkChooser | None = None

    def artwork(
        self, connection: Connection, item_ids: Sequence[str]
    ) -> dict[str, list[dict[str, Any]]]:
        found = super().artwork(connection, item_ids)
        if self.meanwhile is None and self.chooser is not None:
            chooser = self.chooser
            self.meanwhile = threading.Thread(
                target=lambda: chooser.variants(["p02"], "v2"), daemon=True
            )
            self.meanwhile.start()
            self.meanwhile.join(10)
        return found


def test_a_catalogue_change_during_a_read_neither_deadlocks_nor_mixes_versions(
    loaded: Engine,
) -> None:
    catalog = Interleaving(loaded)
    chooser = catalog.chooser = ArtworkChooser(loaded.database, catalog, loaded.bandits)
    answers: list[dict[str, Any]] = []
    page = threading.Thread(
        target=lambda: answers.append(chooser.variants(["p01"], "v1")), daemon=True
    )
    page.start()
    page.join(20)
    assert not page.is_alive(), "the first page is stuck (a lock taken twice)"
    assert catalog.meanwhile is not None and not catalog.meanwhile.is_alive()
    [variants] = answers
    item = loaded.item("p01")
    assert [v.artwork_id for v in variants["p01"]] == [art.artwork_id for art in item.artwork]
    assert len(variants["p01"]) >= 2


class Counting(CatalogStore):
    """The real catalogue store, counting the titles whose artwork is read."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine.database)
        self.titles_read = 0

    def artwork(
        self, connection: Connection, item_ids: Sequence[str]
    ) -> dict[str, list[dict[str, Any]]]:
        self.titles_read += len(item_ids)
        return super().artwork(connection, item_ids)


def test_a_warmed_service_reads_no_artwork_inside_a_page(loaded: Engine) -> None:
    home = HomeService(loaded)
    counting = home.artwork.catalog = Counting(loaded)
    try:
        home.warm()
        warmed = counting.titles_read
        assert warmed == len(loaded.items())
        page = home.home("ada", device="web", at=world.EVENING)
        assert sum(len(row["items"]) for row in page["rows"]) > 0
        assert all(tile["artwork"] for row in page["rows"] for tile in row["items"])
        assert counting.titles_read == warmed
    finally:
        home.close()
