"""MovieLens-100K: fetch it with our own code, read it into typed records, load it as events.

The data is never committed (its licence forbids redistribution). :func:`fetch` gets it from
the wheel of ``recbole==1.2.1`` (``pip download``) or from the official ``ml-100k.zip`` that a
user already has, and writes one normalized copy; :func:`read` gives the same records whichever
source it came from; :func:`load` turns it into a catalogue and an event log through
:meth:`Engine.ingest`, so profiles are built exactly as live traffic would build them.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from limelight.datasets import movielens_files as files
from limelight.datasets.movielens_events import catalogue, event_count, events
from limelight.datasets.movielens_records import Movie, MovieLens100K, Rating, User
from limelight.datasets.progress import progress_bar, status
from limelight.datasets.wheels import download_wheel
from limelight.engine import Engine
from limelight.errors import DatasetError

__all__ = [
    "NAME",
    "LoadSummary",
    "Movie",
    "MovieLens100K",
    "Rating",
    "User",
    "fetch",
    "load",
    "read",
]

NAME = "movielens-100k"
FOLDER = "ml-100k"
RECBOLE = "recbole==1.2.1"
WHEEL_FOLDER = "recbole/dataset_example/ml-100k/"
# The atomic files inside that wheel; a mismatch means the download is not what we expect.
WHEEL_SHA256 = {
    "ml-100k.inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
    "ml-100k.item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
    "ml-100k.user": "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
}
PIP_TIMEOUT_S = 900


@dataclass(frozen=True, slots=True)
class LoadSummary:
    """What :func:`load` did: catalogue size and what happened to the events it sent."""

    items: int
    artwork: int
    users: int
    events: int
    accepted: int
    duplicates: int
    rejected: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- fetch -----------------------------------------------------------------------------------


def _download_wheel(workdir: Path) -> Path:
    return download_wheel(
        RECBOLE,
        workdir,
        "recbole-*.whl",
        timeout_s=PIP_TIMEOUT_S,
        hint="check the network or the index, or pass the official ml-100k.zip with --from",
    )


def _from_wheel(wheel: Path) -> MovieLens100K:
    try:
        with zipfile.ZipFile(wheel) as archive:
            open_file = files.archive_opener(archive, WHEEL_FOLDER)
            for name, expected in WHEEL_SHA256.items():
                content = open_file(name)
                if content is None:
                    raise DatasetError(f"{wheel.name} has no {WHEEL_FOLDER}{name}")
                if hashlib.sha256(content).hexdigest() != expected:
                    raise DatasetError(f"{wheel.name}: {name} is not the expected MovieLens file")
            return files.parse(open_file, wheel.name)
    except zipfile.BadZipFile:
        raise DatasetError(f"{wheel} is not a valid wheel (zip) file") from None


def _from_source(source: Path) -> MovieLens100K:
    if source.is_dir():
        return files.parse(files.folder_opener(source), str(source))
    if not source.is_file():
        raise DatasetError(f"no such file or folder: {source}")
    if source.suffix == ".whl":
        return _from_wheel(source)
    try:
        with zipfile.ZipFile(source) as archive:
            return files.parse(files.archive_opener(archive), source.name)
    except zipfile.BadZipFile:
        raise DatasetError(f"{source} is not a zip file (expected ml-100k.zip)") from None


def _complete(folder: Path) -> bool:
    names = (*files.NORMALIZED, files.MARKER)
    return all((folder / name).is_file() for name in names)


def fetch(dest: Path, source: Path | None = None, *, progress: bool = False) -> Path:
    """Put a normalized copy of MovieLens-100K in ``dest/ml-100k`` and return that folder.

    ``source`` may be the official ``ml-100k.zip``, its unpacked folder, a RecBole wheel or a
    folder of RecBole atomic files; by default the RecBole wheel is downloaded with pip. When
    the copy is already there, nothing is done (delete the folder to fetch again).
    """
    folder = Path(dest).expanduser() / FOLDER
    if _complete(folder):
        return folder
    if source is not None:
        source = Path(source).expanduser()
        with status(f"reading {source}", enabled=progress):
            data = _from_source(source)
        origin = f"{source.name} (local)"
    else:
        with tempfile.TemporaryDirectory(prefix="limelight-recbole-") as workdir:
            with status(f"downloading {RECBOLE} with pip", enabled=progress):
                wheel = _download_wheel(Path(workdir))
            data = _from_wheel(wheel)
        origin = f"{RECBOLE} wheel, {WHEEL_FOLDER}"
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{FOLDER}-", dir=folder.parent))
    staging.chmod(0o755)
    try:
        files.write_normalized(data, staging, origin)
        if folder.exists() and not _complete(folder):
            shutil.rmtree(folder)  # an incomplete copy from an interrupted fetch
        try:
            staging.replace(folder)
        except OSError:
            if not _complete(folder):  # not another process finishing the same fetch first
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


# -- read and load ------------------------------------------------------------------------


def read(folder: Path) -> MovieLens100K:
    """The records of a folder written by :func:`fetch` (or of official / RecBole files)."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DatasetError(f"no MovieLens-100K folder at {folder}; run fetch first")
    return files.parse(files.folder_opener(folder), str(folder))


def load(
    engine: Engine,
    data: MovieLens100K,
    *,
    seed: int = 7,
    batch_size: int = 5000,
    progress: bool = False,
) -> LoadSummary:
    """Upsert the catalogue (with artwork variants), then ingest the events in time order."""
    if batch_size < 1:
        raise DatasetError("batch_size must be at least 1")
    items = catalogue(data, seed=seed)
    for start in range(0, len(items), 500):
        _stored, refused = engine.upsert_items(items[start : start + 500])
        if refused:
            first = refused[0]
            raise DatasetError(f"catalogue item refused: {first.field}: {first.reason}")
    total = event_count(data)
    accepted = duplicates = rejected = 0
    stream = events(data)
    with progress_bar("loading MovieLens-100K events", total, enabled=progress) as advance:
        while batch := list(islice(stream, batch_size)):
            result = engine.ingest(batch)
            accepted += result.accepted
            duplicates += result.duplicates
            rejected += len(result.rejected)
            advance(len(batch))
    return LoadSummary(
        items=len(items),
        artwork=sum(len(item.artwork or []) for item in items),
        users=len({rating.user_id for rating in data.ratings}),
        events=total,
        accepted=accepted,
        duplicates=duplicates,
        rejected=rejected,
    )
