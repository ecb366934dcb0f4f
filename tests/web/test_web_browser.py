"""The home preview in a real browser: Debian's Chromium, headless, driven by Playwright.

A real server (uvicorn in a subprocess, configured only through ``LIMELIGHT_*`` variables) serves
the small world; the browser signs in through the form, opens ``/ui/home/ada``, sees rows of
tiles whose artwork images really loaded, switches the device in the context switcher, and
clicks a tile; the click is then read back from the database with its decision id.

Never a browser download (DESIGN §8): the browser is ``/usr/bin/chromium`` (``scripts/browser.sh``
installs it). Without it these tests FAIL, unless ``LIMELIGHT_SKIP_BROWSER=1`` is set.
Screenshots go to ``$LIMELIGHT_SCREENSHOTS`` when set (else the test's temporary folder).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select

from limelight import Engine, Settings
from limelight.datasets import movielens
from limelight.storage.schema import bandit_learned, bandit_rewards, events
from tests.web import world
from tests.web.conftest import KEYS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SKIP = os.environ.get("LIMELIGHT_SKIP_BROWSER") == "1"
MOVIELENS_CACHE = Path(
    os.environ.get("LIMELIGHT_TEST_CACHE", "~/.cache/limelight-test-data")
).expanduser()
pytestmark = pytest.mark.skipif(SKIP, reason="LIMELIGHT_SKIP_BROWSER=1")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serve(tmp_path: Path, data_dir: Path) -> Iterator[str]:
    """uvicorn (one worker, a subprocess) serving ``data_dir``; yields its base url."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIMELIGHT_")}
    env["LIMELIGHT_DATA_DIR"] = str(data_dir)
    env["LIMELIGHT_API_KEYS"] = orjson.dumps(
        [{"key": key, "scopes": [scope], "name": scope} for scope, key in KEYS.items()]
    ).decode()
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "limelight.api.app:app_from_env",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited on start:\n{log.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not become healthy:\n{log.read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """uvicorn serving the small world from a SQLite data dir; yields (base url, data dir)."""
    data_dir = tmp_path / "data"
    with Engine(Settings(data_dir=data_dir)) as engine:
        world.load(engine)
    with _serve(tmp_path, data_dir) as base:
        yield base, data_dir


@pytest.fixture
def movielens_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """uvicorn serving the first 60 MovieLens-100K users (and the titles they rated)."""
    data = movielens.read(movielens.fetch(MOVIELENS_CACHE))
    data_dir = tmp_path / "data"
    with Engine(Settings(data_dir=data_dir)) as engine:
        movielens.load(engine, data.for_users([str(n) for n in range(1, 61)]))
    with _serve(tmp_path, data_dir) as base:
        yield base, data_dir


@pytest.fixture
def page() -> Iterator[Any]:
    """A Chromium page (1440x900) from Debian's browser; fails when the browser is missing."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/browser.sh (installs Debian's chromium), "
            "or set LIMELIGHT_SKIP_BROWSER=1 to skip the browser tests"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            opened = context.new_page()
            opened.set_default_timeout(20_000)
            yield opened
        finally:
            browser.close()


def _screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("LIMELIGHT_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _loaded_artwork(page: Any) -> int:
    """How many tile images in the rows' first screenful have really loaded (naturalWidth > 0)."""
    loaded: int = page.evaluate(
        """() => Array.from(document.querySelectorAll('.row'))
            .map(row => row.querySelector('.tile-hit img'))
            .filter(img => img && img.complete && img.naturalWidth > 0).length"""
    )
    return loaded


def test_home_preview_in_chromium(page: Any, server: tuple[str, Path], tmp_path: Path) -> None:
    base, data_dir = server
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    svg_loaded: list[str] = []
    page.on(
        "response",
        lambda answer: (
            svg_loaded.append(answer.url)
            if answer.url.endswith(".svg") and answer.status == 200
            else None
        ),
    )

    # Not signed in: the page sends the browser to the login form, which brings it back.
    page.goto(f"{base}/ui/home/ada")
    assert "/ui/login" in page.url
    page.fill("#api-key", KEYS["admin"])
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base}/ui/home/ada")
    cookies = page.context.cookies()
    session = next(cookie for cookie in cookies if cookie["name"] == "limelight_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict"

    # Rows with titles and reasons, and every row's first tile image really loaded.
    rows = page.locator("section.row")
    assert rows.count() >= 4
    for index in range(rows.count()):
        row = rows.nth(index)
        row.scroll_into_view_if_needed()
        assert row.locator("h2").inner_text().strip()
        assert row.locator(".row-why summary").inner_text().strip() == "Why this?"
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('.row')).every(row => {
               const img = row.querySelector('.tile-hit img');
               return img && img.complete && img.naturalWidth > 0; })""",
        timeout=20_000,
    )
    assert _loaded_artwork(page) == rows.count()
    assert any("/ui/artwork/" in url for url in svg_loaded)
    row_types = page.eval_on_selector_all("section.row", "rows => rows.map(r => r.dataset.rowType)")
    assert row_types[0] == "continue_watching" and "top_picks" in row_types
    web_popular = page.locator("section.row[data-row-type=popular] .tile").count()
    first_page_id = page.locator("[data-home]").get_attribute("data-page-id")

    # "Why this?" opens the row's reason.
    page.locator("section.row .row-why summary").first.click()
    assert "started" in page.locator("section.row .row-why p").first.inner_text()
    page.screenshot(path=str(_screenshots(tmp_path) / "limelight-home.png"), full_page=True)

    # Switching the device reloads the page for that context: a TV row holds fewer tiles.
    page.select_option("select[name=device]", "tv")
    page.wait_for_url("**/ui/home/ada?device=tv**")
    home = page.locator("[data-home]")
    assert home.get_attribute("data-device") == "tv"
    assert home.get_attribute("data-page-id") != first_page_id
    tv_popular = page.locator("section.row[data-row-type=popular] .tile").count()
    assert tv_popular < web_popular and tv_popular <= 8

    # A click on a tile is a real click event, stored with what served it.
    tile = page.locator("section.row[data-row-type=popular] .tile-hit").first
    decision_id = tile.get_attribute("data-decision-id")
    item_id = tile.get_attribute("data-item-id")
    artwork_id = tile.get_attribute("data-artwork-id")
    page_id = home.get_attribute("data-page-id")
    assert decision_id and item_id and artwork_id and page_id
    tile.click()
    page.wait_for_selector("section.row[data-row-type=popular] .tile-hit[data-clicked=sent]")
    assert "Click sent" in page.locator("#toast").inner_text()
    with Engine(Settings(data_dir=data_dir)) as engine, engine.database.read() as connection:
        stored = [
            dict(row)
            for row in connection.execute(
                select(events).where(events.c.decision_id == decision_id)
            ).mappings()
        ]
    assert len(stored) == 1
    click = stored[0]
    assert (click["type"], click["user_id"], click["item_id"]) == ("click", "ada", item_id)
    assert click["context"]["device"] == "tv"
    assert click["properties"]["page_id"] == page_id
    assert click["properties"]["position"] == 0
    assert click["properties"]["artwork_id"] == artwork_id

    # The user picker suggests users as one types.
    page.fill("#user-picker", "bo")
    page.wait_for_selector("#user-options option[value=bob]", state="attached")

    # The profile page, for the screenshot and its charts.
    page.goto(f"{base}/ui/users/ada")
    assert page.locator(".chart svg rect.bar").count() == 24 + 7
    assert "Paper Moons" in page.inner_text("main") or "Laugh Track" in page.inner_text("main")
    page.screenshot(path=str(_screenshots(tmp_path) / "limelight-profile.png"), full_page=True)

    # Signing out ends the session: the next page asks to sign in again.
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/ui/login")
    page.goto(f"{base}/ui/")
    assert "/ui/login" in page.url
    assert errors == []


def test_movielens_home_in_chromium(
    page: Any, movielens_server: tuple[str, Path], tmp_path: Path
) -> None:
    """Issue 5's Done-when: a MovieLens user's home with >= 6 rows of artwork and reasons; the
    device switch changes the page; a tile click is stored with its decision id and the
    ``artwork`` decision point receives (and learns) the reward."""
    base, data_dir = movielens_server
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base}/ui/home/1")
    page.fill("#api-key", KEYS["admin"])
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base}/ui/home/1")

    rows = page.locator("section.row")
    assert rows.count() >= 6
    for index in range(rows.count()):
        row = rows.nth(index)
        row.scroll_into_view_if_needed()
        assert row.locator("h2").inner_text().strip()
        assert row.locator(".row-why summary").inner_text().strip() == "Why this?"
        assert row.locator(".tile-hit img").count() >= 1
        assert row.locator(".tile .why").count() == row.locator(".tile").count()
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('.row')).every(row => {
               const img = row.querySelector('.tile-hit img');
               return img && img.complete && img.naturalWidth > 0; })""",
        timeout=20_000,
    )
    home = page.locator("[data-home]")
    first_page_id = home.get_attribute("data-page-id")
    web_tiles = page.locator(".tile").count()
    row_types = page.eval_on_selector_all("section.row", "rows => rows.map(r => r.dataset.rowType)")
    assert "top_picks" in row_types and any(t.startswith("because:") for t in row_types)
    page.screenshot(
        path=str(_screenshots(tmp_path) / "limelight-home-movielens.png"), full_page=True
    )

    page.select_option("select[name=device]", "tv")
    page.wait_for_url("**/ui/home/1?device=tv**")
    assert home.get_attribute("data-device") == "tv"
    assert home.get_attribute("data-page-id") != first_page_id
    assert page.locator(".tile").count() < web_tiles  # TV rows hold fewer, larger tiles

    tile = page.locator("section.row .tile-hit").nth(1)
    decision_id = tile.get_attribute("data-decision-id")
    item_id = tile.get_attribute("data-item-id")
    artwork_id = tile.get_attribute("data-artwork-id")
    assert decision_id and item_id and artwork_id
    tile.click()
    page.wait_for_selector(".tile-hit[data-clicked=sent]")
    with Engine(Settings(data_dir=data_dir)) as engine, engine.database.read() as connection:
        clicks = connection.execute(
            select(events.c.type, events.c.user_id, events.c.item_id).where(
                events.c.decision_id == decision_id
            )
        ).all()
        rewards = connection.execute(
            select(
                bandit_rewards.c.point, bandit_rewards.c.action_id, bandit_rewards.c.value
            ).where(bandit_rewards.c.decision_id == decision_id)
        ).all()
        learned = connection.execute(
            select(
                bandit_learned.c.point, bandit_learned.c.action_id, bandit_learned.c.value
            ).where(bandit_learned.c.decision_id == decision_id)
        ).all()
    assert [tuple(row) for row in clicks] == [("click", "1", item_id)]
    assert [tuple(row) for row in rewards] == [("artwork", artwork_id, 1.0)]
    assert [tuple(row) for row in learned] == [("artwork", artwork_id, 1.0)]
    assert errors == []
