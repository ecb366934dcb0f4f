"""Typed MovieLens-100K records, the same whichever source they were read from."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rating:
    """One rating: a MovieLens user id, a MovieLens item id, 1-5 stars, epoch seconds."""

    user_id: str
    item_id: str
    rating: float
    ts: float


@dataclass(frozen=True, slots=True)
class Movie:
    """A title without its "(1995)" suffix, the year from that suffix, MovieLens genres."""

    item_id: str
    title: str
    release_year: int | None
    genres: list[str]


@dataclass(frozen=True, slots=True)
class User:
    """The demographic fields MovieLens ships (zip codes stay text: some are Canadian)."""

    user_id: str
    age: int
    gender: str
    occupation: str
    zip_code: str


@dataclass(frozen=True, slots=True)
class MovieLens100K:
    """The whole data set, in file order (ratings are not sorted by time)."""

    ratings: list[Rating]
    movies: list[Movie]
    users: list[User]

    def for_users(self, user_ids: Collection[str]) -> MovieLens100K:
        """The ratings and users of some users, with the movies they rated (for quick tests)."""
        wanted = set(user_ids)
        ratings = [rating for rating in self.ratings if rating.user_id in wanted]
        rated = {rating.item_id for rating in ratings}
        return MovieLens100K(
            ratings=ratings,
            movies=[movie for movie in self.movies if movie.item_id in rated],
            users=[user for user in self.users if user.user_id in wanted],
        )
