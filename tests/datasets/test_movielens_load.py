"""Loading MovieLens-100K through Engine.ingest: counts, idempotency, profiles, artwork."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from datetime import UTC, datetime

import pytest

from limelight import Engine
from limelight.datasets import artwork, movielens
from limelight.datasets.movielens import MovieLens100K


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def test_slice_load_counts_and_reload(engine: Engine, movielens_slice: MovieLens100K) -> None:
    ratings = len(movielens_slice.ratings)
    summary = movielens.load(engine, movielens_slice, batch_size=997)
    assert summary.users == 25
    assert summary.items == len(movielens_slice.movies)
    assert summary.events == 3 * ratings + 25
    assert (summary.accepted, summary.duplicates, summary.rejected) == (summary.events, 0, 0)
    assert engine.event_count() == summary.events
    again = movielens.load(engine, movielens_slice)
    assert (again.accepted, again.duplicates, again.rejected) == (0, summary.events, 0)
    assert engine.event_count() == summary.events


def test_profiles_reflect_ratings(engine: Engine, movielens_slice: MovieLens100K) -> None:
    movielens.load(engine, movielens_slice)
    genres = {movie.item_id: movie.genres for movie in movielens_slice.movies}
    users = {user.user_id: user for user in movielens_slice.users}
    clear_favourites = 0
    for user_id, user in users.items():
        mine = [rating for rating in movielens_slice.ratings if rating.user_id == user_id]
        profile = engine.profile(user_id, items=1000)
        n = len(mine)
        assert profile["counts"] == {
            "identify": 1,
            "play_complete": n,
            "play_start": n,
            "rating": n,
        }
        assert profile["traits"] == {
            "age": user.age,
            "gender": user.gender,
            "occupation": user.occupation,
            "zip_code": user.zip_code,
        }
        assert profile["first_seen"] == _iso(min(rating.ts for rating in mine))
        assert profile["last_seen"] == _iso(max(rating.ts for rating in mine))
        stored = {item["item_id"]: item for item in profile["items"]}
        assert {rating.item_id: rating.rating for rating in mine} == {
            item_id: item["rating"] for item_id, item in stored.items()
        }
        assert all(item["finished"] and item["plays"] == 1 for item in stored.values())
        # Each rating weighs its stars in every genre of the title (play 1 + finish 2 +
        # (stars - 3)); where one genre clearly leads, the profile must rank it first.
        weight: dict[str, float] = defaultdict(float)
        for rating in mine:
            for genre in genres[rating.item_id]:
                weight[genre] += rating.rating
        (first, top), (_, second) = sorted(weight.items(), key=lambda kv: -kv[1])[:2]
        if top >= 1.25 * second:
            clear_favourites += 1
            assert profile["affinities"]["genres"][0]["name"] == first, user_id
    assert clear_favourites >= 10


def test_catalogue_and_artwork(engine: Engine, movielens_slice: MovieLens100K) -> None:
    movielens.load(engine, movielens_slice, seed=11)
    toy_story = engine.item("1")
    assert toy_story.title == "Toy Story"
    assert toy_story.kind == "movie"
    assert toy_story.release_year == 1995
    assert toy_story.genres == ["Animation", "Children's", "Comedy"]
    for movie in movielens_slice.movies[:50]:
        item = engine.item(movie.item_id)
        variants = item.artwork or []
        assert 3 <= len(variants) <= 5
        assert [variant.is_default for variant in variants] == [True] + [False] * (
            len(variants) - 1
        )
        assert variants == artwork.variants(movie.item_id, movie.genres, seed=11)
        for variant in variants:
            assert variant.url == f"/ui/artwork/{movie.item_id}/{variant.artwork_id}.svg"
            assert set(variant.attributes) == {"style", "palette", "focus"}


@pytest.mark.slow
def test_full_load_on_sqlite(sqlite_engine: Engine, movielens_data: MovieLens100K) -> None:
    started = time.perf_counter()
    summary = movielens.load(sqlite_engine, movielens_data)
    loaded_s = time.perf_counter() - started
    assert summary.items == 1682
    assert summary.users == 943
    assert summary.artwork == sum(
        len(artwork.variants(movie.item_id, movie.genres)) for movie in movielens_data.movies
    )
    assert (summary.accepted, summary.duplicates, summary.rejected) == (300_000 + 943, 0, 0)
    assert sqlite_engine.event_count() == 300_943
    again = movielens.load(sqlite_engine, movielens_data)
    assert (again.accepted, again.duplicates) == (0, 300_943)
    assert sqlite_engine.event_count() == 300_943
    busiest = Counter(rating.user_id for rating in movielens_data.ratings).most_common(1)[0]
    assert sqlite_engine.profile(busiest[0])["counts"]["rating"] == busiest[1] == 737
    print(f"full MovieLens-100K load: {loaded_s:.1f} s")
