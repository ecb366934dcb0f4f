"""Import events from JSON Lines, CSV or Parquet files through :meth:`Engine.ingest`.

Why streaming: exports from trackers and warehouses are large, so files are read batch by
batch and never held whole. A bad row never stops an import: it is counted, grouped with the
rows that failed the same way, and reported with its line (text files) or row (Parquet) number
so that the file can be fixed and imported again (event ids make that safe).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from limelight.datasets.progress import progress_bar
from limelight.datasets.tabular import FORMATS, Row, read_rows, row_total
from limelight.engine import Engine
from limelight.errors import DatasetError

__all__ = ["FORMATS", "ImportSummary", "RejectionGroup", "import_events"]

EXAMPLES = 5
ALIASES = {"json": "jsonl", "ndjson": "jsonl", "pq": "parquet"}


@dataclass(slots=True)
class RejectionGroup:
    """Rows refused for the same reason: how many, and the first few of them."""

    field: str
    reason: str
    count: int = 0
    rows: list[int] = dataclasses.field(default_factory=list)


@dataclass(slots=True)
class ImportSummary:
    """What an import did. ``unit`` says what the numbers in ``rows`` count: line or row."""

    path: Path
    format: str
    unit: str
    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    groups: list[RejectionGroup] = dataclasses.field(default_factory=list)

    def reject(self, where: int, field_name: str, reason: str) -> None:
        self.rejected += 1
        for group in self.groups:
            if group.field == field_name and group.reason == reason:
                break
        else:
            group = RejectionGroup(field_name, reason)
            self.groups.append(group)
        group.count += 1
        if len(group.rows) < EXAMPLES:
            group.rows.append(where)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "format": self.format,
            "unit": self.unit,
            "read": self.read,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "groups": [
                {"field": g.field, "reason": g.reason, "count": g.count, "rows": g.rows}
                for g in self.groups
            ],
        }


def _format_of(path: Path, given: str | None) -> str:
    name = (given or path.suffix).lower().lstrip(".")
    name = ALIASES.get(name, name)
    if name not in FORMATS:
        raise DatasetError(
            f"unknown event file format {name or '(none)'!r} for {path.name}; "
            f"use one of {', '.join(FORMATS)}"
        )
    return name


def _ingest(engine: Engine, batch: list[Row], summary: ImportSummary) -> None:
    good = [row for row in batch if row.error is None]
    for row in batch:
        if row.error is not None:
            summary.reject(row.where, *row.error)
    if not good:
        return
    result = engine.ingest([row.event for row in good])
    summary.accepted += result.accepted
    summary.duplicates += result.duplicates
    for rejection in result.rejected:
        summary.reject(good[rejection.index].where, rejection.field, rejection.reason)


def import_events(
    engine: Engine,
    path: Path,
    *,
    format: str | None = None,
    batch_size: int = 5000,
    progress: bool = False,
) -> ImportSummary:
    """Import an event file (JSON Lines, CSV or Parquet; the format from the extension)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DatasetError(f"no such file: {path}")
    if batch_size < 1:
        raise DatasetError("batch size must be at least 1")
    kind = _format_of(path, format)
    summary = ImportSummary(path=path, format=kind, unit="row" if kind == "parquet" else "line")
    total = row_total(path, kind)
    bar = progress_bar(
        f"importing {path.name}", total, enabled=progress, in_bytes=kind != "parquet"
    )
    with bar as advance:
        rows: Iterator[Row] = read_rows(path, kind)
        while batch := list(islice(rows, batch_size)):
            summary.read += len(batch)
            _ingest(engine, batch, summary)
            advance(sum(row.size for row in batch))
    summary.groups.sort(key=lambda group: (-group.count, group.field, group.reason))
    return summary
