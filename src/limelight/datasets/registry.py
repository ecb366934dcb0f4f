"""Data sets by name, for the CLI and the dashboard: where they live, how to fetch and load them.

Why a registry: commands take a name (``limelight data load movielens-100k``); an unknown name
should list the known ones, and adding a data set should not touch the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from limelight.config import Settings
from limelight.engine import Engine
from limelight.errors import DatasetError


@dataclass(frozen=True, slots=True)
class Dataset:
    """A named data set: ``fetch(dest, source, progress) -> folder`` and a loader into an Engine."""

    name: str
    description: str
    fetch: Callable[[Path, Path | None, bool], Path]
    load: Callable[[Engine, Path, int, bool], dict[str, Any]]


def _movielens_fetch(dest: Path, source: Path | None, progress: bool) -> Path:
    from limelight.datasets import movielens

    return movielens.fetch(dest, source, progress=progress)


def _movielens_load(
    engine: Engine, folder: Path, batch_size: int, progress: bool
) -> dict[str, Any]:
    from limelight.datasets import movielens

    data = movielens.read(folder)
    return movielens.load(engine, data, batch_size=batch_size, progress=progress).as_dict()


DATASETS: dict[str, Dataset] = {
    "movielens-100k": Dataset(
        "movielens-100k",
        "100,000 ratings of 1,682 movies by 943 users (GroupLens), as plays and ratings",
        _movielens_fetch,
        _movielens_load,
    ),
}


def dataset(name: str) -> Dataset:
    """The data set called ``name``; an unknown name is an error that lists the known ones."""
    found = DATASETS.get(name.strip().lower())
    if found is None:
        raise DatasetError(f"unknown data set {name!r}; known: {', '.join(sorted(DATASETS))}")
    return found


def datasets_dir(settings: Settings) -> Path:
    """Where fetched data sets live: ``<data_dir>/datasets`` (never committed)."""
    return settings.data_dir / "datasets"


def describe(folder: Path) -> dict[str, Any]:
    """What a fetched folder holds, from the marker that :func:`fetch` writes last."""
    marker = folder / "source.json"
    facts: dict[str, Any] = orjson.loads(marker.read_bytes()) if marker.is_file() else {}
    return {"folder": str(folder), **facts}


def fetch(
    name: str, settings: Settings, source: Path | None = None, *, progress: bool = False
) -> dict[str, Any]:
    """Fetch a data set into the data directory (a no-op when it is there); describe it."""
    return describe(dataset(name).fetch(datasets_dir(settings), source, progress))


def load(
    name: str,
    engine: Engine,
    source: Path | None = None,
    *,
    batch_size: int = 5000,
    progress: bool = False,
) -> dict[str, Any]:
    """Fetch a data set if needed, then load it into ``engine``; returns the load summary."""
    chosen = dataset(name)
    folder = chosen.fetch(datasets_dir(engine.settings), source, progress)
    return chosen.load(engine, folder, batch_size, progress)
