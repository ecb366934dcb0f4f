"""The experiment pages: the list, one experiment's report with its lift bars, SRM banner and
timeline charts, on both backends; unknown keys are HTML 404s; ingest-only keys cannot read."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from limelight import Engine
from limelight.auth import KeyInfo
from limelight.experiments.assignment import decide
from limelight.storage.schema import experiment_exposures
from limelight.web.experiments import _lift_bar, exposure_chart, lift_chart
from limelight.web.session import COOKIE, SessionSigner
from tests.web.conftest import HTML, KEYS, TestClient, engine_of, login
from tests.web.test_web_pages import Tags, page

SignIn = Callable[[str], TestClient]
DAY = 86_400.0
CLICK_RATE = {"control": 0.15, "treatment": 0.35}


def _definition(key: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": key,
        "name": "Personalized rows",
        "hypothesis": "Personalized rows get more clicks than <b>popular</b> ones.",
        "layer": "home",
        "traffic_percent": 100,
        "variants": [
            {"key": "control", "parameters": {"ranker": "popular"}},
            {"key": "treatment", "parameters": {"ranker": "personalized"}},
        ],
        "metrics": {
            "primary": ["click_through"],
            "secondary": ["clicks_per_impression"],
            "guardrails": ["skip_rate"],
        },
    }
    body.update(fields)
    return body


def _run(engine: Engine, key: str = "home-rows", units: int = 240) -> float:
    """An experiment started four days ago; units exposed over three days, then impressions
    and (more often in treatment) clicks. Returns the start."""
    origin = time.time() - 4 * DAY
    engine.experiments.create(_definition(key))
    engine.experiments.start(key, at=origin - 60)
    rng = random.Random(11)
    batch: list[dict[str, Any]] = []
    for n in range(units):
        user = f"{key}-viewer-{n}"
        at = origin + 3 * DAY * n / units
        # Engine.variant logs the exposure "now"; the service's ``at`` places it in the past so
        # that the events below fall inside the analysis window of a page rendered now.
        assignment = engine.experiments.variant(key, user, context={"device": "tv"}, at=at)
        assert assignment is not None
        for k in range(2):
            batch.append(_event(f"{user}-imp{k}", "impression", user, at + 5 + k))
        if rng.random() < CLICK_RATE[assignment.variant]:
            batch.append(_event(f"{user}-click", "click", user, at + 30))
    result = engine.ingest(batch)
    assert not result.rejected, result.rejected[:3]
    return origin


def _event(event_id: str, kind: str, user: str, at: float) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": kind,
        "user_id": user,
        "timestamp": at,
        "context": {"device": "tv"},
        "properties": {"item_id": "m01"},
    }


def _skewed(engine: Engine, key: str, units: int = 1200, drop: float = 0.4) -> None:
    """A broken exposure log: assignment as usual, but a share of treatment's rows lost."""
    experiment = engine.experiments.create(_definition(key, layer=None))
    experiment = engine.experiments.start(key, at=time.time() - 2 * DAY)
    rng = random.Random(5)
    rows = []
    for n in range(units):
        unit = f"{key}-unit-{n}"
        index = decide(experiment, unit).variant
        assert index is not None
        if index == 1 and rng.random() < drop:
            continue
        rows.append(
            {
                "experiment_key": key,
                "unit_id": unit,
                "variant": experiment.variants[index].key,
                "first_exposed_at": time.time() - DAY,
                "device": "web",
                "context": None,
            }
        )
    with engine.database.write() as connection:
        connection.execute(experiment_exposures.insert(), rows)


def test_the_list_shows_experiments_with_variants_traffic_and_exposures(
    signed_in: SignIn,
) -> None:
    client = signed_in("read")
    engine = engine_of(client)
    empty = page(client, "/ui/experiments")
    assert "No experiments yet" in empty.all_text
    assert empty.having("a", href="/ui/experiments")  # the nav link
    _run(engine, units=60)
    engine.experiments.create(_definition("draft-one", layer=None))
    assert engine.variant("home-rows", "late-viewer") is not None  # exposed now, on read

    tags = page(client, "/ui/experiments")
    text = tags.all_text
    report = engine.experiments.analyse("home-rows")
    assert sum(report.exposures.values()) == 61
    assert tags.having("a", href="/ui/experiments/home-rows")
    assert tags.having("a", href="/ui/experiments/draft-one")
    assert tags.having("tr", **{"data-experiment": "home-rows"})
    assert "running" in text and "draft" in text and "home" in text
    assert "control | 50% | · |" in text and "treatment | 50% | · |" in text
    for count in report.exposures.values():
        assert f"| {count} |" in text
    assert "| — | 61" in text and "100%" in text


def test_the_report_page_shows_metrics_lifts_and_intervals_as_analysed(
    signed_in: SignIn,
) -> None:
    client = signed_in("read")
    engine = engine_of(client)
    _run(engine)
    answer = client.get("/ui/experiments/home-rows")
    assert answer.status_code == 200
    assert "<b>popular</b>" not in answer.text and "&lt;b&gt;popular&lt;/b&gt;" in answer.text
    tags = Tags(answer.text)
    text = tags.all_text
    report = engine.experiments.analyse("home-rows")

    # metrics in role order, one row per treatment arm
    metrics = [attrs["data-metric"] for attrs in tags.having("div", **{"class": "metric"})]
    assert metrics == ["click_through", "clicks_per_impression", "skip_rate"]
    assert len(tags.having("tr", **{"data-variant": "treatment"})) == 3
    clicks = report.metric("click_through")
    (comparison,) = clicks.comparisons
    relative = comparison.relative
    assert relative.estimate > 0  # treatment clicks more
    lift = f"{relative.estimate:+.2%}"
    ci = f"[{relative.ci[0]:+.2%}, {relative.ci[1]:+.2%}]"
    sequential = f"[{comparison.sequential.ci[0]:+.2%}, {comparison.sequential.ci[1]:+.2%}]"
    assert lift in text and ci in text and sequential in text
    assert f"{comparison.adjusted_p:.3g}" in text
    assert f"{comparison.bayesian.chance_to_win:.1%}" in text
    control, treatment = clicks.variants
    assert f"{control.mean:.4g}" in text and f"{treatment.mean:.4g}" in text

    # one interval bar per row, drawn in SVG around a zero line
    bars = tags.having("svg", **{"class": "lift-bar"})
    assert len(bars) == 3
    assert len(tags.having("line", **{"class": "lift-zero"})) == 3
    assert tags.having("rect", **{"class": "lift-ci"})
    assert not tags.having("div", **{"class": "srm-banner"})
    assert "sample ratio ok" in text

    # the timeline: cumulative exposures and the lift band, and the JSON report link
    assert tags.having("svg", **{"class": "exposures-svg"})
    assert len(tags.having("polygon", **{"class": "band"})) == 1
    assert len(tags.having("polyline", **{"class": "series"})) == 3  # 2 arms + 1 lift line
    assert tags.having("a", href="/v1/experiments/home-rows/report")
    assert "Personalized rows get more clicks" in text and "home" in text
    assert not [attrs for _, attrs in tags.tags if "style" in attrs]
    assert all(attrs.get("src") for attrs in tags.having("script"))  # no inline scripts


def test_the_srm_banner_shows_on_a_skewed_log_only(signed_in: SignIn) -> None:
    client = signed_in("read")
    engine = engine_of(client)
    _skewed(engine, "broken")
    _run(engine, "healthy", units=120)
    assert engine.experiments.analyse("broken").srm.flagged
    assert not engine.experiments.analyse("healthy").srm.flagged

    broken = page(client, "/ui/experiments/broken")
    banners = broken.having("div", **{"class": "srm-banner"})
    assert len(banners) == 1 and banners[0]["role"] == "alert"
    assert "Sample ratio mismatch" in broken.all_text
    healthy = page(client, "/ui/experiments/healthy")
    assert not healthy.having("div", **{"class": "srm-banner"})
    assert "Sample ratio mismatch" not in healthy.all_text


def test_an_experiment_without_exposures_renders_without_charts(signed_in: SignIn) -> None:
    client = signed_in("read")
    engine_of(client).experiments.create(_definition("fresh"))
    text = page(client, "/ui/experiments/fresh").all_text
    assert "No exposures yet" in text and "fresh" in text and "draft" in text


def test_unknown_experiments_are_html_404s(signed_in: SignIn) -> None:
    client = signed_in("read")
    answer = client.get("/ui/experiments/no-such-test")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "No such experiment" in answer.text


def test_an_ingest_only_key_cannot_open_experiments(world_client: TestClient) -> None:
    engine_of(world_client).experiments.create(_definition("secret"))
    refused = login(world_client, "ingest", "/ui/experiments/secret")
    assert refused.status_code == 403 and "set-cookie" not in refused.headers
    for url in ("/ui/experiments", "/ui/experiments/secret"):
        header = world_client.get(url, headers={**HTML, "X-API-Key": KEYS["ingest"]})
        assert header.status_code == 403
        anonymous = world_client.get(url, headers=HTML, follow_redirects=False)
        assert anonymous.status_code == 303
        assert anonymous.headers["location"].startswith("/ui/login")
    app: Any = world_client.app
    signer: SessionSigner = app.state.ui_sessions
    world_client.cookies.set(COOKIE, signer.issue(KeyInfo("ingest", frozenset({"ingest"}))))
    cookie = world_client.get("/ui/experiments/secret", headers=HTML)
    assert cookie.status_code == 403 and "text/html" in cookie.headers["content-type"]
    assert "Personalized rows" not in cookie.text


def test_charts_and_bars_place_unknown_bounds_at_the_edges() -> None:
    # An interval a correction widened to infinity arrives as null: the bar runs to the edge
    # and the band to the chart's border, never NaN in an SVG attribute.
    points = [
        {
            "day": day,
            "exposures": [10 * day, 9 * day, 11 * day],
            "lifts": [
                {"variant": "b", "estimate": 0.1 * day, "ci": [None, 0.3 * day]},
                {"variant": "c", "estimate": None, "ci": [None, None]},
            ],
        }
        for day in (1, 2, 3)
    ]
    exposures = exposure_chart(points, ["a", "b", "c"])
    assert [series["last"] for series in exposures["series"]] == [30, 27, 33]
    assert exposures["series"][2]["points"].endswith("300.0,0.0")
    lifts = lift_chart(points)
    first, second = lifts["series"]
    assert first["line"].count(",") == 3 and second["line"] == "" and second["band"] == ""
    assert "nan" not in str(lifts).lower() and first["last"] == "+30.00%"
    bar = _lift_bar([None, 0.2], [None, None], 0.1, half=0.4)
    assert bar["x"] == 0.0 and bar["open_low"] and not bar["open_high"]
    assert bar["width"] == 75.0 and bar["seq_width"] == 100.0 and bar["estimate"] == 62.5
