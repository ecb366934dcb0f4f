"""Numbered snapshots of each decision point's policy under ``data_dir/models/bandits/<point>/``.

Layout: ``<point>/<snapshot>/`` holds ``meta.json`` (which model revision, how far into the
learning ledger it has learned, when it was saved), then ``arrays.npz`` and ``state.json`` from
:func:`limelight.bandits.state.save_state` (JSON and arrays, never pickle). ``state.json`` is
written last and atomically, so a folder without it is an interrupted save and is ignored. The
snapshot number only grows (it continues across model revisions), which is what makes the served
model version ``<snapshot>.<updates since>`` increase monotonically for a point. The newest few
snapshots are kept; older ones are pruned after each save.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from limelight.bandits.base import State
from limelight.bandits.state import load_state, save_state

KEEP = 3


@dataclass(frozen=True, slots=True)
class SnapshotMeta:
    """What a snapshot is: whose model, which revision, and how much of the ledger it holds."""

    point: str
    snapshot: int
    revision: int
    model_key: str
    last_seq: int
    learned: int
    saved_at: float


class Snapshots:
    """The snapshot folders of every decision point under one root."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, point: str, snapshot: int) -> Path:
        return self.root / point / str(snapshot)

    def numbers(self, point: str) -> list[int]:
        """Snapshot numbers of ``point`` that were completely written, newest first."""
        base = self.root / point
        if not base.is_dir():
            return []
        found = [
            int(entry.name)
            for entry in base.iterdir()
            if entry.name.isdigit() and (entry / "state.json").is_file()
        ]
        return sorted(found, reverse=True)

    def highest(self, point: str) -> int:
        """The highest snapshot number ever used (complete or not), 0 when none."""
        base = self.root / point
        if not base.is_dir():
            return 0
        return max((int(e.name) for e in base.iterdir() if e.name.isdigit()), default=0)

    def save(self, meta: SnapshotMeta, state: State) -> Path:
        folder = self.folder(meta.point, meta.snapshot)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "meta.json").write_text(json.dumps(asdict(meta), indent=1))
        save_state(state, folder)
        for old in self.numbers(meta.point)[KEEP:]:
            shutil.rmtree(self.folder(meta.point, old), ignore_errors=True)
        return folder

    def latest(self, point: str) -> tuple[SnapshotMeta, State] | None:
        """The newest complete snapshot of ``point`` and its policy state."""
        for number in self.numbers(point):
            folder = self.folder(point, number)
            try:
                meta = SnapshotMeta(**json.loads((folder / "meta.json").read_text()))
                return meta, load_state(folder)
            except (OSError, ValueError, TypeError, KeyError):
                continue  # a damaged snapshot: fall back to the one before
        return None
