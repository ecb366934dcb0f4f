"""Row builders: each turns one source of titles into a draft row with a reason per title.

Why drafts: a builder only proposes (more titles than a row shows, best first); the page
(:mod:`limelight.pages.home`) orders the rows, removes repeats and cuts them to length, so the
"no title twice in the first three rows" rule is enforced in one place, after ordering.

Sources: the recommendation service (top picks, continue watching, "because you watched"
through ``similar``), the population charts (:mod:`limelight.pages.charts`: trending, popular,
by device and daypart) and the catalogue snapshot (new releases, back catalogue, genres).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from limelight.pages.charts import Charts
from limelight.pages.context import PageContext
from limelight.recommend.catalog_view import Snapshot
from limelight.recommend.people import Person
from limelight.recommend.service import RecommendationService

#: Titles released at least this many years before the page's year are back catalogue.
REDISCOVER_YEARS = 15
#: Genre rows on a page (the person's strongest genres first).
GENRE_ROWS = 4
#: Seeds for "Because you watched" rows (most recent first).
SEEDS = 2
#: Moods and activities, and the genres (MovieLens names) that fit each until items carry
#: mood tags; tags with the same names count too.
MOODS: dict[str, tuple[str, ...]] = {
    "light": ("Comedy", "Animation", "Children's", "Musical"),
    "intense": ("Action", "Thriller", "Horror", "Crime", "War"),
    "thoughtful": ("Drama", "Documentary", "Film-Noir", "Mystery"),
    "romantic": ("Romance",),
    "adventurous": ("Adventure", "Sci-Fi", "Fantasy", "Western"),
}
ACTIVITIES: dict[str, tuple[str, ...]] = {
    "workout": ("Action", "Adventure", "Sci-Fi"),
    "cooking": ("Comedy", "Documentary", "Musical"),
    "winding-down": ("Drama", "Romance", "Animation"),
    "family-night": ("Children's", "Animation", "Comedy", "Adventure"),
    "date-night": ("Romance", "Comedy", "Drama"),
}


@dataclass
class Draft:
    """A proposed row: its type, title and reason, and titles with their own reasons."""

    type: str
    title: str
    reason: str
    items: list[tuple[str, str]]
    prior: float
    pinned: bool = False
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Inputs:
    """What every builder may read for one page."""

    snapshot: Snapshot
    charts: Charts
    person: Person
    taste: dict[str, float]
    context: PageContext
    personal: bool
    pool: int

    @cached_property
    def available(self) -> NDArray[np.bool_]:
        """Catalogue titles that may be shown at the page's moment."""
        snap, at = self.snapshot, self.context.at
        ok: NDArray[np.bool_] = (np.isnan(snap.available_from) | (snap.available_from <= at)) & (
            np.isnan(snap.available_until) | (at < snap.available_until)
        )
        return ok

    @cached_property
    def eligible(self) -> NDArray[np.bool_]:
        """Catalogue titles a row may show: available now and, for a personalised page, not
        seen by the person."""
        ok = self.available.copy()
        if self.personal and self.person.seen:
            index = self.snapshot.index
            seen = [index[i] for i in self.person.seen if i in index]
            ok[seen] = False
        return ok

    @property
    def people(self) -> NDArray[np.float32]:
        """People per catalogue title (catalogue order)."""
        return positions(self.charts, self.snapshot).people

    @property
    def charted(self) -> ChartPositions:
        return positions(self.charts, self.snapshot)


@dataclass(frozen=True, eq=False)
class ChartPositions:
    """The charts in catalogue positions (titles not in the catalogue left out), computed once
    per charts x catalogue version: rows then filter arrays instead of walking id lists."""

    popular: NDArray[np.intp]
    trending: NDArray[np.intp]
    by_device: dict[str, NDArray[np.intp]]
    by_daypart: dict[str, NDArray[np.intp]]
    people: NDArray[np.float32]
    newest: NDArray[np.intp]  # by release year, then by when available (with a year only)
    by_genre: dict[str, NDArray[np.intp]]  # most watched first, then the unwatched in order
    #: Tile reasons per catalogue position, written once per version rather than per tile.
    watched: tuple[str, ...]  # "12 people have watched this"
    released: tuple[str, ...]  # "Released 1995" ("" without a year)
    back_catalogue: tuple[str, ...]  # "A 1975 title that fits your taste" ("" without a year)


def positions(charts: Charts, snap: Snapshot) -> ChartPositions:
    """``ChartPositions`` of these charts over this catalogue snapshot (cached)."""
    key = ("positions", snap.mark)
    found: ChartPositions | None = charts.derived.get(key)
    if found is not None:
        return found
    index = snap.index

    def where(ranked: Sequence[tuple[str, float]]) -> NDArray[np.intp]:
        return np.fromiter((index[i] for i, _ in ranked if i in index), dtype=np.intp, count=-1)

    people = np.asarray([charts.people.get(i, 0) for i in snap.item_ids], dtype=np.float32)
    popular = where(charts.popular)
    years = snap.release_year.tolist()
    year = np.nan_to_num(snap.release_year, nan=-1.0)
    since = np.nan_to_num(snap.available_from, nan=0.0)
    newest = np.lexsort((-since, -year))
    newest = newest[year[newest] > 0].astype(np.intp)
    rank = np.full(len(snap.item_ids), len(popular), dtype=np.int64) + np.arange(len(snap.item_ids))
    rank[popular] = np.arange(len(popular))
    by_rank = np.argsort(rank, kind="stable").astype(np.intp)
    genre_names = snap.genre_names
    column = {g: j for j, g in enumerate(genre_names)}
    has = snap.genre_matrix[by_rank] > 0
    by_genre = {g: by_rank[has[:, column[g]]] for g in genre_names}
    built = ChartPositions(
        popular=popular,
        trending=where(charts.trending),
        by_device={k: where(v) for k, v in charts.by_device.items()},
        by_daypart={k: where(v) for k, v in charts.by_daypart.items()},
        people=people,
        newest=newest,
        by_genre=by_genre,
        watched=tuple(_watched(int(count)) for count in people.tolist()),
        released=tuple("" if math.isnan(y) else f"Released {int(y)}" for y in years),
        back_catalogue=tuple(
            "" if math.isnan(y) else f"A {int(y)} title that fits your taste" for y in years
        ),
    )
    if len(charts.derived) > 4:  # old catalogue versions
        charts.derived.clear()
    charts.derived[key] = built
    return built


def _take(inputs: Inputs, ranked: NDArray[np.intp]) -> list[str]:
    """The first ``pool`` eligible titles of catalogue positions in rank order."""
    kept = ranked[inputs.eligible[ranked]][: inputs.pool]
    ids = inputs.snapshot.item_ids
    return [ids[p] for p in kept.tolist()]


def _tiles(
    inputs: Inputs, ranked: NDArray[np.intp], reasons: Sequence[str], prefix: str = ""
) -> list[tuple[str, str]]:
    """:func:`_take`'s titles, each with its reason (``prefix`` + the reason at its catalogue
    position in ``reasons``)."""
    kept = ranked[inputs.eligible[ranked]][: inputs.pool].tolist()
    ids = inputs.snapshot.item_ids
    if prefix:
        return [(ids[p], prefix + reasons[p]) for p in kept]
    return [(ids[p], reasons[p]) for p in kept]


def _fresh(inputs: Inputs, ids: Iterable[str]) -> list[str]:
    """Ids in the catalogue, available now and not seen by a personalised person."""
    index = inputs.snapshot.index
    ok = inputs.eligible
    out = []
    for item in ids:
        position = index.get(item)
        if position is not None and ok[position]:
            out.append(item)
            if len(out) >= inputs.pool:
                break
    return out


def _watched(count: int) -> str:
    """The reason text for a title ``count`` people watched."""
    return f"{count} {'person has' if count == 1 else 'people have'} watched this"


def continue_watching(inputs: Inputs, rec: RecommendationService) -> Draft | None:
    """Started, unfinished titles (the recommendation service applies the rules)."""
    if not inputs.personal:
        return None
    going = [entry for entry in inputs.person.in_progress if entry.item_id in inputs.snapshot.index]
    if not going:
        return None
    return Draft(
        "continue_watching",
        "Continue watching",
        "Titles you started and have not finished, most recent first.",
        [(e.item_id, f"You are {e.progress:.0%} through") for e in going[: inputs.pool]],
        prior=1.0,
        pinned=True,
    )


def top_picks(inputs: Inputs, rec: RecommendationService) -> Draft | None:
    """The ranked recommendations, with the service's reasons (they name seed titles)."""
    if not inputs.personal or not inputs.person.history:
        return None
    answer = rec.recommend(  # the page logs what it serves: no list of its own in the log
        inputs.person.user_id,
        n=min(inputs.pool, 500),
        device=inputs.context.device,
        at=inputs.context.at,
        tz=inputs.context.tz,
        person=inputs.person,
        log=False,
    )
    items = [(r.item_id, r.reason_text) for r in answer.items]
    if not items:
        return None
    return Draft(
        "top_picks",
        "Top picks for you",
        "Ranked for you from everything you watched, by the recommendation model.",
        items,
        prior=0.9,
    )


def because_you_watched(inputs: Inputs, rec: RecommendationService) -> list[Draft]:
    """One row per recent seed: titles like it (``similar``), minus what was seen."""
    if not inputs.personal:
        return []
    drafts: list[Draft] = []
    for seed in list(reversed(inputs.person.history))[:SEEDS]:
        name = inputs.snapshot.title(seed)
        if name is None:
            continue
        similar = rec.similar(seed, n=min(inputs.pool, 500), at=inputs.context.at, log=False)
        keep = set(_fresh(inputs, similar.item_ids))
        items = [
            (r.item_id, f"Because you watched {name}") for r in similar.items if r.item_id in keep
        ]
        if items:
            drafts.append(
                Draft(
                    f"because:{seed}",
                    f"Because you watched {name}",
                    f"Titles people who watched {name} also watched, or that share its genres.",
                    items,
                    prior=0.85 - 0.02 * len(drafts),
                )
            )
    return drafts


def trending(inputs: Inputs) -> Draft | None:
    charted = inputs.charted
    tiles = _tiles(inputs, charted.trending, charted.watched, "Trending: ")
    if not tiles:
        return None
    return Draft(
        "trending",
        "Trending now",
        "Titles with the most recent activity (plays and ratings, halving weekly).",
        tiles,
        prior=0.7,
    )


def popular(inputs: Inputs) -> Draft | None:
    charted = inputs.charted
    tiles = _tiles(inputs, charted.popular, charted.watched)
    if not tiles:  # nothing watched anywhere yet: the catalogue in its own order
        ids = _fresh(inputs, inputs.snapshot.item_ids)
        return (
            Draft(
                "popular",
                "From the catalogue",
                "Nothing has been watched yet.",
                [(i, "In the catalogue") for i in ids],
                prior=0.4,
            )
            if ids
            else None
        )
    return Draft(
        "popular",
        "Popular on Limelight",
        "The titles watched by the most people.",
        tiles,
        prior=0.5,
    )


def new_releases(inputs: Inputs) -> Draft | None:
    """Newest by release year, then by when they became available."""
    charted = inputs.charted
    tiles = _tiles(inputs, charted.newest, charted.released)
    if not tiles:
        return None
    return Draft(
        "new_releases",
        "New releases",
        "The most recently released titles in the catalogue.",
        tiles,
        prior=0.6,
    )


def _genre_match(inputs: Inputs) -> np.ndarray:
    """Each catalogue title's fit with the person's genre taste (cosine-like, 0 without)."""
    snap = inputs.snapshot
    names = snap.genre_names
    weights = np.asarray([inputs.taste.get(g, 0.0) for g in names], dtype=np.float32)
    if not weights.any():
        return np.zeros(len(snap.item_ids), dtype=np.float32)
    match: np.ndarray = snap.genre_matrix @ weights
    return match


def rediscover(inputs: Inputs) -> Draft | None:
    """Back-catalogue titles (older than ``REDISCOVER_YEARS``) that fit the person's genres."""
    if not inputs.personal or not inputs.taste:
        return None
    snap = inputs.snapshot
    year = snap.release_year
    newest = float(np.nanmax(year)) if np.isfinite(year).any() else math.nan
    if math.isnan(newest):
        return None
    old = np.isfinite(year) & (year <= newest - REDISCOVER_YEARS)
    score = _genre_match(inputs) * np.log1p(inputs.people)
    score = np.where(old & (score > 0), score, -np.inf)
    order = np.argsort(-score, kind="stable")
    tiles = _tiles(inputs, order[np.isfinite(score[order])], inputs.charted.back_catalogue)
    if not tiles:
        return None
    return Draft(
        "rediscover",
        "Rediscover",
        f"Titles from over {REDISCOVER_YEARS} years ago in the genres you watch most.",
        tiles,
        prior=0.45,
    )


def _by_genre(inputs: Inputs, genre: str) -> list[str]:
    """The genre's most watched titles, then the ones nobody watched yet in catalogue order."""
    ranked = inputs.charted.by_genre.get(genre)
    return [] if ranked is None else _take(inputs, ranked)


def genre_rows(inputs: Inputs) -> list[Draft]:
    """The person's strongest genres (or, without taste, the most watched genres)."""
    if inputs.personal and inputs.taste:
        ranked = sorted(inputs.taste.items(), key=lambda kv: (-kv[1], kv[0]))
        genres = [(g, f"{g} makes up {share:.0%} of what you watch") for g, share in ranked]
    else:
        counts: dict[str, float] = {}
        snap = inputs.snapshot
        for item, people in inputs.charts.popular[:500]:
            position = snap.index.get(item)
            for g in () if position is None else snap.genre_lists[position]:
                counts[g] = counts.get(g, 0.0) + people
        genres = [
            (g, f"{g} is among the most watched genres")
            for g in sorted(counts, key=lambda name: (-counts[name], name))
        ]
    drafts = []
    charted = inputs.charted
    for rank, (genre, why) in enumerate(genres[:GENRE_ROWS]):
        in_genre = charted.by_genre.get(genre)
        tiles = [] if in_genre is None else _tiles(inputs, in_genre, charted.watched)
        if tiles:
            drafts.append(
                Draft(
                    f"genre:{genre}",
                    f"Popular in {genre}",
                    why + "; its most watched titles.",
                    tiles,
                    prior=0.55 - 0.03 * rank,
                )
            )
    return drafts


def context_rows(inputs: Inputs) -> list[Draft]:
    """What people watch on this device and at this time of day, where the data supports it."""
    drafts = []
    ctx = inputs.context
    device = inputs.charted.by_device.get(ctx.device)
    if device is not None and device.size:
        ids = _take(inputs, device)
        if ids:
            drafts.append(
                Draft(
                    f"context:device:{ctx.device}",
                    f"Popular on {ctx.device.upper() if ctx.device == 'tv' else ctx.device}",
                    f"Titles watched more on {ctx.device} than elsewhere (learned from events).",
                    [(i, f"Watched more than usual on {ctx.device}") for i in ids],
                    prior=0.72,
                )
            )
    part = inputs.charted.by_daypart.get(ctx.daypart)
    if part is not None and part.size:
        ids = _take(inputs, part)
        if ids:
            drafts.append(
                Draft(
                    f"context:daypart:{ctx.daypart}",
                    f"Popular in the {ctx.daypart}",
                    f"Titles people watch more in the {ctx.daypart} than at other times "
                    "(learned from events by local hour).",
                    [(i, f"Watched more than usual in the {ctx.daypart}") for i in ids],
                    prior=0.68,
                )
            )
    return drafts


def mood_row(inputs: Inputs, mood: str | None) -> Draft | None:
    """Popular titles in genres that fit a chosen mood, matched to taste when personal."""
    if mood is None or mood not in MOODS:
        return None
    fits = set(MOODS[mood])
    snap = inputs.snapshot
    match = _genre_match(inputs)
    ranked = [
        i
        for i in _take(inputs, inputs.charted.popular)
        if fits & set(snap.genre_lists[snap.index[i]])
    ]
    ranked.sort(key=lambda i: -float(match[snap.index[i]]))  # stable: popularity breaks ties
    if not ranked:
        return None
    a_mood = f"{'an' if mood[0] in 'aeiou' else 'a'} {mood} mood"
    return Draft(
        "mood",
        f"For {a_mood}",
        f"Titles in genres that fit {a_mood}: {', '.join(sorted(fits))}.",
        [
            (i, f"{', '.join(sorted(fits & set(snap.genre_lists[snap.index[i]])))} fits {a_mood}")
            for i in ranked
        ],
        prior=0.95,
        pinned=True,
    )


def onboarding(inputs: Inputs) -> Draft | None:
    """For a newcomer: one tile per genre (its most watched title) to pick what they like."""
    snap = inputs.snapshot
    tiles: list[tuple[str, str]] = []
    used: set[str] = set()
    for genre in snap.genre_names:
        for item in _by_genre(inputs, genre):
            if item not in used:
                used.add(item)
                tiles.append((item, f"Pick {genre} if you like it"))
                break
    if not tiles:
        return None
    return Draft(
        "onboarding",
        "Tell us what you like",
        "You are new here: choose a few genres (one title each) and the page learns from it.",
        tiles,
        prior=0.8,
    )


def session_boost(inputs: Inputs, drafts: Sequence[Draft]) -> None:
    """Lift rows whose titles share genres with what was played in this session (in place)."""
    genres = inputs.context.session.genres
    if not genres:
        return
    snap = inputs.snapshot
    for draft in drafts:
        head = [snap.index[i] for i, _ in draft.items[:10] if i in snap.index]
        if head:
            fit = np.mean([sum(genres.get(g, 0.0) for g in snap.genre_lists[p]) for p in head])
            draft.prior *= 1.0 + min(0.3, 0.3 * float(fit))


__all__ = [
    "ACTIVITIES",
    "MOODS",
    "Draft",
    "Inputs",
    "because_you_watched",
    "context_rows",
    "continue_watching",
    "genre_rows",
    "mood_row",
    "new_releases",
    "onboarding",
    "popular",
    "rediscover",
    "top_picks",
    "trending",
]
