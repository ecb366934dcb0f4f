"""Seeded artwork variants: stable, well-formed, and leaning on genres."""

from __future__ import annotations

from limelight import Item
from limelight.datasets.artwork import FOCI, PALETTES, STYLES, variants


def test_variants_are_well_formed_and_stable() -> None:
    for number in range(1, 300):
        item_id = str(number)
        found = variants(item_id, ["Drama"], seed=3)
        assert 3 <= len(found) <= 5
        assert found[0].is_default and not any(variant.is_default for variant in found[1:])
        styles = [variant.attributes["style"] for variant in found]
        assert len(set(styles)) == len(styles)
        for variant in found:
            assert variant.attributes["style"] in STYLES
            assert variant.attributes["palette"] in PALETTES
            assert variant.attributes["focus"] in FOCI
            assert variant.url == f"/ui/artwork/{item_id}/{variant.artwork_id}.svg"
        assert found == variants(item_id, ["Drama"], seed=3)
        Item(item_id=item_id, title="t", artwork=found)  # the catalogue accepts them


def test_seed_changes_variants() -> None:
    first = [variants(str(n), seed=1) for n in range(50)]
    second = [variants(str(n), seed=2) for n in range(50)]
    assert first != second


def test_palette_leans_on_genres() -> None:
    def dark_share(genres: list[str]) -> float:
        found = [v for n in range(400) for v in variants(str(n), genres)]
        return sum(v.attributes["palette"] == "dark" for v in found) / len(found)

    assert dark_share(["Horror", "Thriller"]) > 0.4 > 0.25 > dark_share(["Children's", "Comedy"])
