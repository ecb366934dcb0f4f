"""A simulated A/B test of personalized against popularity-only home rows, end to end.

    .venv/bin/python benchmarks/experiment_simulation.py [--users 2000] [--seed 0] [--plots DIR]

Everything is simulated and seeded, and runs through the real pipeline: the catalogue and a
week of viewing history go in through ``Engine.ingest`` (so live profiles are folded as in
production), each simulated visit reads its variant through ``Experiments.variant`` (so the
exposure is logged by the real code), the row shown is ranked by the variant's ranker, and
the impressions, clicks and plays the simulated users make go back through ``Engine.ingest``.
The report is then computed by ``Experiments.analyse`` from the events table.

Simulated users have a favourite genre; a tile's click probability grows with the user's taste
for its genre. The ``popular`` ranker shows the most played titles to everyone; the
``personalized`` ranker orders titles by the genre shares of the user's live profile. The known
direction is therefore "personalized clicks more"; the script exits with status 1 if the report
does not show a significant lift in that direction.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from limelight import Engine, Settings
from limelight.experiments.attach import attached
from limelight.experiments.report import Report, render_text

DAY = 86_400.0
GENRES = ("drama", "comedy", "thriller", "documentary", "animation", "horror", "romance", "scifi")
PER_GENRE = 12
ROW = 10
START = 1_760_000_000.0


def _catalogue() -> list[dict[str, Any]]:
    return [
        {"item_id": f"{genre}-{n}", "title": f"{genre.title()} {n}", "genres": [genre]}
        for genre in GENRES
        for n in range(PER_GENRE)
    ]


def _taste(rng: random.Random) -> dict[str, float]:
    favourite = rng.choice(GENRES)
    return {genre: 0.7 if genre == favourite else 0.3 / (len(GENRES) - 1) for genre in GENRES}


def _event(
    event_id: str, kind: str, user: str, item: str, at: float, **props: Any
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": kind,
        "user_id": user,
        "timestamp": at,
        "properties": {"item_id": item, **props},
    }


def simulate(engine: Engine, *, users: int = 2000, seed: int = 0) -> Report:
    """Run the simulated experiment on ``engine`` and return its report."""
    rng = random.Random(seed)
    engine.upsert_items(_catalogue())
    items = [item["item_id"] for item in _catalogue()]
    genre_of = {item: item.split("-")[0] for item in items}
    tastes = {f"viewer-{n}": _taste(rng) for n in range(users)}

    # a week of history: what makes profiles (and popularity) before the test
    history = []
    plays: Counter[str] = Counter()
    for user, taste in tastes.items():
        for k in range(4):
            genre = rng.choices(GENRES, weights=[taste[g] for g in GENRES])[0]
            item = f"{genre}-{min(int(rng.expovariate(0.4)), PER_GENRE - 1)}"
            plays[item] += 1
            at = START - 7 * DAY + rng.random() * 6 * DAY
            history.append(_event(f"{user}-h{k}", "play_start", user, item, at))
    engine.ingest(history)
    popular = sorted(items, key=lambda item: (-plays[item], item))[:ROW]

    experiments = attached(engine)
    experiments.create(
        {
            "key": "home-ranker",
            "hypothesis": "Rows ordered by the viewer's genres get more clicks than popular rows.",
            "variants": [
                {"key": "popular", "parameters": {"ranker": "popular"}},
                {"key": "personalized", "parameters": {"ranker": "genre-affinity"}},
            ],
            "metrics": {
                "primary": ["click_through"],
                "secondary": ["clicks_per_impression", "plays_per_user"],
            },
        }
    )
    experiments.start("home-ranker", at=START - 1)

    visits = []
    for user, taste in tastes.items():
        at = START + rng.random() * 3 * DAY
        device = rng.choice(["tv", "mobile", "web"])
        assignment = experiments.variant("home-ranker", user, context={"device": device}, at=at)
        if assignment is None:
            continue
        if assignment.variant == "popular":
            row = popular
        else:
            profile = engine.profile(user, at=at)
            shares = {entry["name"]: entry["share"] for entry in profile["affinities"]["genres"]}
            row = sorted(items, key=lambda item: (-shares.get(genre_of[item], 0.0), -plays[item]))
            row = row[:ROW]
        for position, item in enumerate(row):
            moment = at + position
            visits.append(_event(f"{user}-i{position}", "impression", user, item, moment))
            if rng.random() < 0.01 + 0.12 * taste[genre_of[item]]:
                visits.append(_event(f"{user}-c{position}", "click", user, item, moment + 5))
                if rng.random() < 0.7:
                    visits.append(
                        _event(f"{user}-p{position}", "play_start", user, item, moment + 9)
                    )
    for start in range(0, len(visits), 5000):
        engine.ingest(visits[start : start + 5000])
    return experiments.analyse("home-ranker", at=START + 4 * DAY)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plots", type=Path, default=None, help="Write PNG plots here.")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder, Engine(Settings(data_dir=folder)) as engine:
        report = simulate(engine, users=args.users, seed=args.seed)
    print("SIMULATED data (seeded); personalized is known to click more than popular.\n")
    print(render_text(report))
    if args.plots is not None:
        from limelight.experiments.plots import write_plots

        for path in write_plots(report, args.plots):
            print(f"wrote {path}")
    lift = report.metric("click_through").comparisons[0]
    found = lift.significant and lift.relative.estimate > 0
    print(
        f"{'ok' if found else 'FAILED'}: lift {lift.relative.estimate:+.1%} in the known direction"
    )
    print(f"({args.users} simulated users in {time.perf_counter() - began:.1f}s)")
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())
