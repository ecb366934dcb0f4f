"""Generated artwork: valid SVG, a drawing that follows the attributes, escaping, the route."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from typing import Any

import pytest

from limelight.datasets.artwork import FOCI, PALETTES, STYLES
from limelight.web.artwork import PALETTES as COLOURS
from limelight.web.artwork import render_svg
from tests.web.conftest import TestClient

SVG = "{http://www.w3.org/2000/svg}"


def parse(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg"
    return root


def shapes(root: ET.Element) -> Counter[str]:
    """How many of each drawing element (defs excluded)."""
    found: Counter[str] = Counter()
    for child in root.iter():
        tag = child.tag.removeprefix(SVG)
        if tag in ("rect", "circle", "ellipse", "path", "polygon", "line", "text"):
            found[tag] += 1
    return found


def draw(style: str, palette: str = "warm", focus: str = "face", **extra: Any) -> str:
    attributes = {"style": style, "palette": palette, "focus": focus, **extra}
    return render_svg("m1", f"{style}-{palette}", "Paper Moons", attributes)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("palette", PALETTES)
def test_every_variant_is_a_valid_svg_poster_with_its_title(style: str, palette: str) -> None:
    for focus in FOCI:
        root = parse(draw(style, palette, focus))
        assert (root.get("width"), root.get("height")) == ("320", "180")
        assert root.findtext(f"{SVG}title") == "Paper Moons"
        words = " ".join(text.text or "" for text in root.iter(f"{SVG}text"))
        assert "PAPER" in words.upper()


def test_the_style_sets_the_composition() -> None:
    close_up = shapes(parse(draw("close-up", focus="action")))
    ensemble = parse(draw("ensemble", focus="action"))
    landscape = shapes(parse(draw("landscape", focus="action")))
    text_forward = parse(draw("text-forward", focus="action"))
    minimal = parse(draw("minimal", focus="action"))
    assert close_up["ellipse"] == 3  # a head and two eyes
    heads = [c for c in ensemble.iter(f"{SVG}circle") if float(c.get("r", 0)) >= 14]
    assert 3 <= len(heads) <= 5  # several figures
    assert landscape["polygon"] == 2 and landscape["circle"] == 1  # ridges and a sun
    big = [t for t in text_forward.iter(f"{SVG}text") if int(t.get("font-size", 0)) >= 26]
    assert big and big[0].text == "PAPER"  # the title is the picture
    backgrounds = [r for r in minimal.iter(f"{SVG}rect") if r.get("width") == "320"]
    assert backgrounds[0].get("fill") == COLOURS["warm"].bottom  # a flat field, no gradient
    drawn = shapes(minimal)
    assert drawn["circle"] + drawn["polygon"] + drawn["rect"] - 2 == 1  # one shape
    layouts = {str(sorted(shapes(parse(draw(style, focus="action"))).items())) for style in STYLES}
    assert len(layouts) == len(STYLES)


def test_the_palette_sets_the_colours_and_the_focus_adds_a_motif() -> None:
    for palette, colours in COLOURS.items():
        text = draw("landscape", palette)
        assert colours.top in text and colours.accent in text
        others = [c.accent for name, c in COLOURS.items() if name != palette]
        assert not any(accent in text for accent in others)
    plain = shapes(parse(draw("minimal", focus="none")))
    assert shapes(parse(draw("minimal", focus="action")))["line"] == plain["line"] + 5
    assert shapes(parse(draw("minimal", focus="scenery")))["circle"] >= plain["circle"] + 9
    assert shapes(parse(draw("minimal", focus="face")))["circle"] == plain["circle"] + 2


def test_the_drawing_is_deterministic_per_variant() -> None:
    assert draw("ensemble") == draw("ensemble")
    one = render_svg("m1", "ensemble-warm", "T", {"style": "ensemble", "palette": "warm"})
    two = render_svg("m2", "ensemble-warm", "T", {"style": "ensemble", "palette": "warm"})
    assert one != two  # another title, another cast


def test_titles_are_escaped_and_control_characters_dropped() -> None:
    title = '<script>alert("x")</script> & Tom\'s "Cut"\x01'
    for style in STYLES:
        text = render_svg("m1", "a", title, {"style": style})
        root = parse(text)
        assert not list(root.iter(f"{SVG}script")) and "<script" not in text
        assert root.findtext(f"{SVG}title") == title.replace("\x01", "")
        assert root.get("aria-label") == title.replace("\x01", "")
    unknown = parse(render_svg("m1", "a", "T", {"style": "<x>", "palette": '"'}))
    assert unknown.get("data-style") == "<x>"  # unknown values draw a plain poster


def test_the_route_serves_cached_svg_without_a_key(app_client: TestClient) -> None:
    engine = app_client.app.state.engine
    engine.upsert_items(
        [
            {
                "item_id": "show/1",
                "title": "A <b>bold</b> & bright show",
                "artwork": [
                    {
                        "artwork_id": "close-up-dark",
                        "url": "/ui/artwork/show/1/close-up-dark.svg",
                        "attributes": {"style": "close-up", "palette": "dark", "focus": "face"},
                        "is_default": True,
                    }
                ],
            }
        ]
    )
    answer = app_client.get("/ui/artwork/show/1/close-up-dark.svg")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/svg+xml"
    assert answer.headers["cache-control"] == "public, max-age=3600"
    assert answer.headers["content-security-policy"] == "default-src 'none'"
    etag = answer.headers["etag"]
    root = parse(answer.text)
    assert root.findtext(f"{SVG}title") == "A <b>bold</b> & bright show"
    assert root.get("data-style") == "close-up"
    again = app_client.get("/ui/artwork/show/1/close-up-dark.svg", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and not again.content
    stale = app_client.get("/ui/artwork/show/1/close-up-dark.svg", headers={"If-None-Match": '"x"'})
    assert stale.status_code == 200


def test_unknown_items_and_variants_are_404_problems(app_client: TestClient, problem) -> None:
    engine = app_client.app.state.engine
    engine.upsert_items([{"item_id": "m1", "title": "T", "artwork": []}])
    problem(app_client.get("/ui/artwork/nope/close-up-dark.svg"), 404, "item_id")
    problem(app_client.get("/ui/artwork/m1/close-up-dark.svg"), 404, "artwork_id")
    problem(app_client.get("/ui/static/routes.py"), 404, "name")
    assert app_client.get("/ui/static/app.css").headers["content-type"].startswith("text/css")
