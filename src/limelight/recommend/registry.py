"""Model versions on disk and the live model a server answers with.

Layout under ``<data_dir>/models/recommend/``: one folder per version (names sort by time),
and a ``current`` file holding the version in use. Publishing writes the new folder under a
temporary name, renames it into place, then replaces ``current`` with ``os.replace``; each step
is atomic on one file system, so a reader sees the old version or the new one, never half.

:class:`LiveModel` is what a serving process holds. Each request asks it for the model; at most
every ``poll_interval_s`` it looks at ``current``'s inode and mtime (one ``stat``, microseconds),
and when the pointer moved it loads the new version on a background thread while requests keep
being answered by the old one, then swaps the reference (a single assignment, atomic in Python).
So a new version is picked up without a restart and without a failed or stalled request. Only
the very first load, when nothing is loaded yet, happens in the caller (there is nothing older
to answer with).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from limelight.errors import InvalidInput, NotFound
from limelight.recommend import artifacts
from limelight.recommend.artifacts import TrainedModel

logger = logging.getLogger(__name__)
POINTER = "current"


def new_version(now: float | None = None) -> str:
    """A version name that sorts by creation time, e.g. ``20240501T120000123456Z``."""
    moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return moment.strftime("%Y%m%dT%H%M%S%fZ")


@dataclass(frozen=True)
class VersionInfo:
    """One stored version, as ``limelight train versions`` lists it."""

    version: str
    current: bool
    created_at: float | None
    metrics: dict[str, Any]
    data_window: dict[str, Any]


class ModelStore:
    """The versions of one kind of model in one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> ModelStore:
        return cls(data_dir / "models" / "recommend")

    @property
    def pointer(self) -> Path:
        return self.root / POINTER

    def current(self) -> str | None:
        """The version in use, or None before the first publish."""
        try:
            text = self.pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return text or None

    def versions(self) -> list[str]:
        """Stored versions, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and not p.name.startswith(".") and (p / "metadata.json").is_file()
        )

    def info(self) -> list[VersionInfo]:
        current = self.current()
        found = []
        for version in self.versions():
            meta = artifacts.read_json(self.root / version / "metadata.json")
            found.append(
                VersionInfo(
                    version,
                    version == current,
                    meta.get("created_at"),
                    meta.get("metrics", {}),
                    meta.get("data_window", {}),
                )
            )
        return found

    def write(self, model: TrainedModel) -> Path:
        """Store ``model`` under its version (not yet in use); returns its folder."""
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.root / model.version
        if final.exists():
            raise InvalidInput(f"version {model.version!r} already exists", field="version")
        staging = self.root / f".staging-{model.version}-{os.getpid()}"
        if staging.exists():
            shutil.rmtree(staging)
        try:
            artifacts.save(model, staging)
            os.replace(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return final

    def publish(self, version: str) -> None:
        """Make ``version`` the one in use (servers switch to it on their next check)."""
        if not (self.root / version / "metadata.json").is_file():
            raise NotFound(f"no model version {version!r}", field="version")
        temporary = self.root / f".{POINTER}-{os.getpid()}-{threading.get_ident()}"
        temporary.write_text(version + "\n", encoding="utf-8")
        os.replace(temporary, self.pointer)

    def load(self, version: str) -> TrainedModel:
        folder = self.root / version
        if not (folder / "metadata.json").is_file():
            raise NotFound(f"no model version {version!r}", field="version")
        return artifacts.load(folder)


def _for_serving(model: TrainedModel) -> TrainedModel:
    """The model with its ranker's trees compiled (:meth:`Ranker.compile_trees`): a model in
    use scores every recommendation and home page. A failure to compile is logged, and the model
    serves with LightGBM, which gives the same scores."""
    try:
        model.ranker.compile_trees()
    except Exception:
        logger.exception("could not compile the ranker of model %s; LightGBM scores", model.version)
    return model


class LiveModel:
    """The model in use in this process, swapped for a newer one without stopping requests."""

    def __init__(self, store: ModelStore, *, poll_interval_s: float = 0.5) -> None:
        self.store = store
        self.poll_interval_s = poll_interval_s
        self._model: TrainedModel | None = None
        self._seen: tuple[int, int, int] | None = None
        self._next_check = 0.0
        self._lock = threading.Lock()
        self._loader: threading.Thread | None = None
        self.last_error: str | None = None

    def get(self) -> TrainedModel | None:
        """The model to answer with now (None when no version was ever published)."""
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + self.poll_interval_s
            self._check()
        return self._model

    def set(self, model: TrainedModel) -> None:
        """Use ``model`` now (after training in this process)."""
        self._model = _for_serving(model)

    def _check(self) -> None:
        try:
            found = os.stat(self.store.pointer)
        except FileNotFoundError:
            return
        mark = (found.st_ino, found.st_mtime_ns, found.st_size)
        if mark == self._seen:
            return
        version = self.store.current()
        if version is None or (self._model is not None and self._model.version == version):
            self._seen = mark
            return
        if self._model is None:
            with self._lock:  # first load: the caller waits, nothing older can answer
                if self._model is None:
                    self._load(version, mark)
            return
        with self._lock:
            if self._loader is None or not self._loader.is_alive():
                self._loader = threading.Thread(
                    target=self._load,
                    args=(version, mark),
                    name="limelight-model-loader",
                    daemon=True,
                )
                self._loader.start()

    def _load(self, version: str, mark: tuple[int, int, int]) -> None:
        try:
            model = self.store.load(version)
        except Exception as error:  # keep answering with the old model
            self.last_error = f"{type(error).__name__}: {error}"
            logger.exception("could not load model version %s", version)
            self._seen = mark  # do not retry a broken version on every request
            return
        self._model = _for_serving(model)
        self._seen = mark
        self.last_error = None

    def wait(self, timeout_s: float = 30.0) -> None:
        """Block until a background load (if any) finishes (tests, CLI)."""
        loader = self._loader
        if loader is not None:
            loader.join(timeout_s)

    def close(self) -> None:
        self.wait()


__all__ = ["LiveModel", "ModelStore", "VersionInfo", "new_version"]
