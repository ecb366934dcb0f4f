"""MovieLens-100K file formats: the official ``u.*`` files, RecBole atomic files, our own copy.

Why three: the licence forbids redistribution, so we read whatever the user can get (the RecBole
wheel's atomic files, or the official zip) and write one normalized copy that every later step
reads. Both sources are parsed into the same records; the quirks of RecBole's conversion (it
took the last parenthesis of a title as the year, and spelled "unknown" as "unkonwn") are undone
here so that both give identical results.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

from limelight.datasets.movielens_records import Movie, MovieLens100K, Rating, User
from limelight.errors import DatasetError

#: Genre flags of ``u.item``, in column order. "unknown" marks a missing genre; we drop it.
GENRES = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)
_GENRE_ORDER = {name: index for index, name in enumerate(GENRES)}
NORMALIZED = ("ratings.tsv", "movies.tsv", "users.tsv")
MARKER = "source.json"
OFFICIAL = ("u.data", "u.item", "u.user")
ATOMIC = ("ml-100k.inter", "ml-100k.item", "ml-100k.user")
FORMAT_VERSION = 1

# A title ends with "(1995)", sometimes followed by notes such as "(V)" (straight to video).
_TITLE = re.compile(
    r"^(?P<title>.*\S)\s*\((?P<year>\d{4})\)(?P<notes>(?:\s*\((?!\d{4}\))[^()]*\))*)\s*$"
)

Opener = Callable[[str], bytes | None]
"""Returns the bytes of a file of the data set by its base name, or None when it is absent."""


def split_title(raw: str) -> tuple[str, int | None]:
    """ "Toy Story (1995)" -> ("Toy Story", 1995); a title without a year keeps its text."""
    text = " ".join(raw.split())
    match = _TITLE.match(text)
    if match is None:
        return text, None
    return match["title"], int(match["year"])


def _genres(names: list[str]) -> list[str]:
    known = sorted({name for name in names if name in _GENRE_ORDER}, key=_GENRE_ORDER.__getitem__)
    return [name for name in known if name != "unknown"]


def _rows(
    content: bytes, name: str, encoding: str, sep: str, width: int, *, header: bool = False
) -> Iterator[list[str]]:
    """Split a file into rows of exactly ``width`` fields, naming the file and line on error."""
    text = content.decode(encoding)
    for number, line in enumerate(text.splitlines(), start=1):
        if (header and number == 1) or not line.strip():
            continue
        fields = line.split(sep)
        if len(fields) != width:
            raise DatasetError(
                f"{name} line {number}: expected {width} fields separated by {sep!r}, "
                f"found {len(fields)}"
            )
        yield fields


def _number(value: str, name: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise DatasetError(f"{name}: {value!r} is not a number") from None


def _integer(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise DatasetError(f"{name}: {value!r} is not a whole number") from None


# -- the official files (u.data, u.item, u.user; latin-1, "|" and tab separated) ------------


def _official_year(title: str, date: str) -> tuple[str, int | None]:
    name, year = split_title(title)
    if year is None and len(date) >= 4 and date[-4:].isdigit():
        year = int(date[-4:])
    return name, year


def parse_official(data: bytes, item: bytes, user: bytes) -> MovieLens100K:
    """Records from the files of the official ``ml-100k.zip``."""
    ratings = [
        Rating(u, i, _number(r, "u.data"), _number(t, "u.data"))
        for u, i, r, t in _rows(data, "u.data", "latin-1", "\t", 4)
    ]
    movies = []
    for fields in _rows(item, "u.item", "latin-1", "|", 5 + len(GENRES)):
        title, year = _official_year(fields[1], fields[2].strip())
        flags = fields[5:]
        names = [GENRES[index] for index, flag in enumerate(flags) if flag.strip() == "1"]
        movies.append(Movie(fields[0].strip(), title, year, _genres(names)))
    users = [
        User(u.strip(), _integer(a, "u.user"), g, o, z.strip())
        for u, a, g, o, z in _rows(user, "u.user", "latin-1", "|", 5)
    ]
    return _checked(MovieLens100K(ratings, movies, users), "the official files")


# -- RecBole atomic files (tab separated, a typed header such as "item_id:token") -----------


def _atomic(content: bytes, name: str, columns: tuple[str, ...]) -> Iterator[list[str]]:
    """Rows of an atomic file, reordered to ``columns`` by the header's field names."""
    lines = content.decode("utf-8").splitlines()
    if not lines:
        raise DatasetError(f"{name} is empty")
    header = [field.split(":", 1)[0] for field in lines[0].split("\t")]
    missing = [column for column in columns if column not in header]
    if missing:
        raise DatasetError(f"{name} lacks the column(s) {', '.join(missing)}")
    positions = [header.index(column) for column in columns]
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != len(header):
            raise DatasetError(f"{name} line {number}: expected {len(header)} fields")
        yield [fields[position] for position in positions]


def _atomic_title(title: str, year: str) -> tuple[str, int | None]:
    text = " ".join(title.split())
    if text == "unkonwn":  # RecBole's spelling of the official "unknown" (item 267)
        text = "unknown"
    if len(year) == 4 and year.isdigit():
        return text, int(year)
    # RecBole took the last parenthesis as the year: "... (1995) (V)" became "... (1995)", "V".
    return split_title(text)


def parse_atomic(inter: bytes, item: bytes, user: bytes) -> MovieLens100K:
    """Records from RecBole's ``ml-100k.inter``, ``.item`` and ``.user``."""
    ratings = [
        Rating(u, i, _number(r, "ml-100k.inter"), _number(t, "ml-100k.inter"))
        for u, i, r, t in _atomic(
            inter, "ml-100k.inter", ("user_id", "item_id", "rating", "timestamp")
        )
    ]
    movies = []
    for item_id, title, year, genres in _atomic(
        item, "ml-100k.item", ("item_id", "movie_title", "release_year", "class")
    ):
        name, release_year = _atomic_title(title, year)
        movies.append(Movie(item_id, name, release_year, _genres(genres.split())))
    users = [
        User(u, _integer(a, "ml-100k.user"), g, o, z)
        for u, a, g, o, z in _atomic(
            user, "ml-100k.user", ("user_id", "age", "gender", "occupation", "zip_code")
        )
    ]
    return _checked(MovieLens100K(ratings, movies, users), "the RecBole atomic files")


# -- our normalized copy ----------------------------------------------------------------------


def _text(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def write_normalized(data: MovieLens100K, folder: Path, source: str) -> None:
    """Write the records as UTF-8 TSV files, then the marker that says the copy is complete."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "ratings.tsv": ["user_id\titem_id\trating\tts"]
        + [f"{r.user_id}\t{r.item_id}\t{_text(r.rating)}\t{_text(r.ts)}" for r in data.ratings],
        "movies.tsv": ["item_id\ttitle\trelease_year\tgenres"]
        + [
            f"{m.item_id}\t{m.title}\t{'' if m.release_year is None else m.release_year}"
            f"\t{'|'.join(m.genres)}"
            for m in data.movies
        ],
        "users.tsv": ["user_id\tage\tgender\toccupation\tzip_code"]
        + [f"{u.user_id}\t{u.age}\t{u.gender}\t{u.occupation}\t{u.zip_code}" for u in data.users],
    }
    for name, lines in tables.items():
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    marker = {
        "dataset": "movielens-100k",
        "format": FORMAT_VERSION,
        "source": source,
        "ratings": len(data.ratings),
        "movies": len(data.movies),
        "users": len(data.users),
        "licence": "MovieLens data (GroupLens): use under its licence; never redistribute.",
    }
    (folder / MARKER).write_bytes(orjson.dumps(marker, option=orjson.OPT_INDENT_2))


def parse_normalized(ratings: bytes, movies: bytes, users: bytes) -> MovieLens100K:
    """Records from the copy written by :func:`write_normalized`."""
    return MovieLens100K(
        ratings=[
            Rating(u, i, float(r), float(t))
            for u, i, r, t in _rows(ratings, "ratings.tsv", "utf-8", "\t", 4, header=True)
        ],
        movies=[
            Movie(i, title, int(year) if year else None, genres.split("|") if genres else [])
            for i, title, year, genres in _rows(movies, "movies.tsv", "utf-8", "\t", 4, header=True)
        ],
        users=[
            User(u, int(a), g, o, z)
            for u, a, g, o, z in _rows(users, "users.tsv", "utf-8", "\t", 5, header=True)
        ],
    )


# -- finding the files --------------------------------------------------------------------


def _checked(data: MovieLens100K, where: str) -> MovieLens100K:
    if not data.ratings or not data.movies or not data.users:
        raise DatasetError(f"{where} hold no ratings, movies or users")
    users = {user.user_id for user in data.users}
    items = {movie.item_id for movie in data.movies}
    for rating in data.ratings:
        if rating.user_id not in users or rating.item_id not in items:
            raise DatasetError(
                f"{where}: a rating names user {rating.user_id!r} / item {rating.item_id!r}, "
                "which the user or item file lacks"
            )
    return data


def parse(open_file: Opener, where: str) -> MovieLens100K:
    """Detect the format by its file names and parse it."""
    for names, parser in (
        (NORMALIZED, parse_normalized),
        (ATOMIC, parse_atomic),
        (OFFICIAL, parse_official),
    ):
        first = open_file(names[0])
        if first is None:
            continue
        rest = [open_file(name) for name in names[1:]]
        missing = [name for name, content in zip(names[1:], rest, strict=True) if content is None]
        if missing:
            raise DatasetError(f"{where} has {names[0]} but lacks {', '.join(missing)}")
        return parser(first, *[content for content in rest if content is not None])
    raise DatasetError(
        f"{where} holds no MovieLens-100K files (expected {', '.join(OFFICIAL)} "
        f"or {', '.join(ATOMIC)})"
    )


def folder_opener(folder: Path) -> Opener:
    """Files of a folder (or of its ``ml-100k`` subfolder, as the official zip unpacks)."""
    inner = folder / "ml-100k"
    roots = [folder, inner] if inner.is_dir() else [folder]

    def open_file(name: str) -> bytes | None:
        for root in roots:
            path = root / name
            if path.is_file():
                return path.read_bytes()
        return None

    return open_file


def archive_opener(archive: zipfile.ZipFile, under: str = "") -> Opener:
    """Files of a zip (the official zip, or a wheel when ``under`` names its data folder)."""
    members = {
        member.rsplit("/", 1)[-1]: member
        for member in archive.namelist()
        if member.startswith(under) and not member.endswith("/")
    }

    def open_file(name: str) -> bytes | None:
        member = members.get(name)
        return None if member is None else archive.read(member)

    return open_file
