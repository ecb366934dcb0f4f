"""MovieLens-100K as read from the RecBole wheel and from the official file layout."""

from __future__ import annotations

import os
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from limelight.datasets import movielens
from limelight.datasets.movielens import Movie, MovieLens100K, Rating, User
from limelight.datasets.movielens_files import GENRES
from limelight.errors import DatasetError

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def test_known_sizes(movielens_data: MovieLens100K) -> None:
    assert len(movielens_data.ratings) == 100_000
    assert len(movielens_data.users) == 943
    assert len(movielens_data.movies) == 1682
    assert {user.user_id for user in movielens_data.users} == {str(n) for n in range(1, 944)}
    assert {movie.item_id for movie in movielens_data.movies} == {str(n) for n in range(1, 1683)}
    per_user = Counter(rating.user_id for rating in movielens_data.ratings)
    assert len(per_user) == 943
    assert min(per_user.values()) >= 20
    assert len({(r.user_id, r.item_id) for r in movielens_data.ratings}) == 100_000


def test_known_ratings(movielens_data: MovieLens100K) -> None:
    stars = Counter(rating.rating for rating in movielens_data.ratings)
    assert stars == {1.0: 6110, 2.0: 11370, 3.0: 27145, 4.0: 34174, 5.0: 21201}
    assert movielens_data.ratings[0] == Rating("196", "242", 3.0, 881250949.0)
    times = [rating.ts for rating in movielens_data.ratings]
    assert (min(times), max(times)) == (874724710.0, 893286638.0)  # Sep 1997 to Apr 1998


def test_known_titles_and_users(movielens_data: MovieLens100K) -> None:
    movies = {movie.item_id: movie for movie in movielens_data.movies}
    assert movies["1"] == Movie("1", "Toy Story", 1995, ["Animation", "Children's", "Comedy"])
    assert movies["50"] == Movie(
        "50", "Star Wars", 1977, ["Action", "Adventure", "Romance", "Sci-Fi", "War"]
    )
    assert movies["127"].title == "Godfather, The"
    # Titles keep inner parentheses; only the year suffix goes.
    assert movies["6"].title == "Shanghai Triad (Yao a yao yao dao waipo qiao)"
    assert movies["1633"] == Movie("1633", "Á köldum klaka (Cold Fever)", 1994, ["Comedy", "Drama"])
    # The official "(1995) (V)" title, which RecBole split at the wrong parenthesis.
    assert movies["1412"].title == "Land Before Time III: The Time of the Great Giving"
    assert movies["1412"].release_year == 1995
    # Item 267 is "unknown" in the official files ("unkonwn" in RecBole's), with no year.
    assert movies["267"] == Movie("267", "unknown", None, [])
    assert movies["1373"] == Movie("1373", "Good Morning", 1971, [])  # only the "unknown" genre
    users = {user.user_id: user for user in movielens_data.users}
    assert users["1"] == User("1", 24, "M", "technician", "85711")
    assert users["74"].zip_code == "T8H1N"  # Canadian postal codes stay text


def test_fetch_twice_does_nothing(movielens_folder: Path) -> None:
    before = {path.name: path.stat().st_mtime_ns for path in movielens_folder.iterdir()}
    assert movielens.fetch(movielens_folder.parent) == movielens_folder
    after = {path.name: path.stat().st_mtime_ns for path in movielens_folder.iterdir()}
    assert after == before
    assert set(before) == {"ratings.tsv", "movies.tsv", "users.tsv", "source.json"}


# -- the official layout ------------------------------------------------------------------


def _official_title(movie: Movie) -> str:
    if movie.item_id == "267":
        return "unknown"
    if movie.item_id == "1412":
        return f"{movie.title} ({movie.release_year}) (V)"
    return f"{movie.title} ({movie.release_year})"


def _write_official(data: MovieLens100K, folder: Path) -> None:
    """Write u.data, u.item and u.user as GroupLens ships them (latin-1, '|' and tabs)."""
    folder.mkdir(parents=True)
    (folder / "u.data").write_text(
        "".join(f"{r.user_id}\t{r.item_id}\t{r.rating:.0f}\t{r.ts:.0f}\n" for r in data.ratings),
        encoding="latin-1",
    )
    lines = []
    for movie in data.movies:
        flags = [int(name in movie.genres) for name in GENRES]
        flags[0] = int(not movie.genres)
        date = "" if movie.release_year is None else f"01-{MONTHS[int(movie.item_id) % 12]}-"
        date += "" if movie.release_year is None else str(movie.release_year)
        url = "" if movie.item_id == "267" else f"http://us.imdb.com/M/title-exact?{movie.item_id}"
        cells = [movie.item_id, _official_title(movie), date, "", url, *map(str, flags)]
        lines.append("|".join(cells) + "\n")
    (folder / "u.item").write_text("".join(lines), encoding="latin-1")
    (folder / "u.user").write_text(
        "".join(
            f"{u.user_id}|{u.age}|{u.gender}|{u.occupation}|{u.zip_code}\n" for u in data.users
        ),
        encoding="latin-1",
    )


def _official_slice(data: MovieLens100K) -> MovieLens100K:
    """The ratings and users of 40 users, with the whole catalogue (every title round-trips)."""
    part = data.for_users([str(number) for number in range(100, 140)])
    return MovieLens100K(part.ratings, data.movies, part.users)


@pytest.mark.parametrize("layout", ["zip", "folder"])
def test_official_files_read_like_recbole(
    movielens_data: MovieLens100K, tmp_path: Path, layout: str
) -> None:
    expected = _official_slice(movielens_data)
    unpacked = tmp_path / "unpacked"
    _write_official(expected, unpacked / "ml-100k")
    source = unpacked
    if layout == "zip":
        source = tmp_path / "ml-100k.zip"
        with zipfile.ZipFile(source, "w") as archive:
            for name in ("u.data", "u.item", "u.user"):
                archive.write(unpacked / "ml-100k" / name, f"ml-100k/{name}")
    folder = movielens.fetch(tmp_path / "data", source)
    assert folder == tmp_path / "data" / "ml-100k"
    got = movielens.read(folder)
    assert got == expected
    assert movielens.read(unpacked) == expected  # read() also takes the official folder


def test_official_latin1_titles(movielens_data: MovieLens100K, tmp_path: Path) -> None:
    _write_official(_official_slice(movielens_data), tmp_path / "ml")
    raw = (tmp_path / "ml" / "u.item").read_bytes()
    assert "Á köldum klaka".encode("latin-1") in raw  # really latin-1, as GroupLens ships it
    titles = {movie.item_id: movie.title for movie in movielens.read(tmp_path / "ml").movies}
    assert titles["1633"] == "Á köldum klaka (Cold Fever)"


# -- clear errors -------------------------------------------------------------------------


def test_missing_files_are_named(movielens_data: MovieLens100K, tmp_path: Path) -> None:
    folder = tmp_path / "partial"
    _write_official(movielens_data.for_users(["1"]), folder)
    (folder / "u.item").unlink()
    with pytest.raises(DatasetError, match=r"has u\.data but lacks u\.item"):
        movielens.fetch(tmp_path / "data", folder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="holds no MovieLens-100K files"):
        movielens.fetch(tmp_path / "data", tmp_path / "empty")
    with pytest.raises(DatasetError, match="no such file or folder"):
        movielens.fetch(tmp_path / "data", tmp_path / "absent.zip")
    (tmp_path / "fake.zip").write_text("not a zip")
    with pytest.raises(DatasetError, match="not a zip file"):
        movielens.fetch(tmp_path / "data", tmp_path / "fake.zip")
    with pytest.raises(DatasetError, match="run fetch first"):
        movielens.read(tmp_path / "nowhere")
    assert not (tmp_path / "data" / "ml-100k").exists()


def test_inconsistent_files_are_refused(movielens_data: MovieLens100K, tmp_path: Path) -> None:
    folder = tmp_path / "ml"
    _write_official(movielens_data.for_users(["1"]), folder)
    with (folder / "u.data").open("a", encoding="latin-1") as handle:
        handle.write("999\t1\t5\t881250949\n")
    with pytest.raises(DatasetError, match="user '999'"):
        movielens.read(folder)


def test_pip_failure_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A real pip run that cannot find the wheel: no index, and an empty folder of wheels.
    (tmp_path / "wheels").mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "wheels"))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    with pytest.raises(DatasetError, match=r"could not download recbole==1\.2\.1 with pip"):
        movielens.fetch(tmp_path / "data")
    assert not (tmp_path / "data" / "ml-100k").exists()
