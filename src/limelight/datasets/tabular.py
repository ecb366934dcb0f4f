"""Rows of JSON Lines, CSV and Parquet files as event envelopes, one at a time.

Flat formats cannot nest, so a column ``properties.item_id`` becomes ``{"properties":
{"item_id": ...}}``, and a column ``properties`` (or ``context``, ``traits``, ``consent``) may
hold a JSON object as text. CSV has no types: empty cells are absent, and numeric-looking
values inside ``properties`` become numbers, except identifiers (``*_id``) and ``query``, which
stay text (MovieLens item ids are digits, yet they are names, not quantities).
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from limelight.errors import DatasetError

FORMATS = ("jsonl", "csv", "parquet")
JSON_COLUMNS = frozenset({"properties", "context", "traits", "consent"})
_INTEGER = re.compile(r"-?(?:0|[1-9]\d*)")
_DECIMAL = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_TEXT_KEYS = frozenset({"query"})
PARQUET_BATCH = 10_000


@dataclass(slots=True)
class Row:
    """One row: where it is in the file, the event it makes or why it makes none.

    ``size`` is how far the row moves the progress bar (bytes for text files, 1 for Parquet).
    """

    where: int
    event: Any
    error: tuple[str, str] | None
    size: int


class _BadRow(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def _number(key: str, value: str) -> Any:
    if key == "id" or key.endswith("_id") or key in _TEXT_KEYS:
        return value
    if _INTEGER.fullmatch(value):
        return int(value)
    if _DECIMAL.fullmatch(value):
        return float(value)
    return value


def _plain(value: Any) -> Any:
    """Parquet values as JSON-ready data: nulls dropped inside objects, decimals as floats."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return float(value)
    return value


def envelope(cells: Iterable[tuple[str, Any]], *, typed: bool) -> dict[str, Any]:
    """Nest flat columns into an event; ``typed=False`` (CSV) also converts text to numbers."""
    present = [(name, value) for name, value in cells if value is not None and value != ""]
    event: dict[str, Any] = {}
    for name, value in present:  # whole objects first, so dotted columns can add to them
        if "." in name:
            continue
        if name in JSON_COLUMNS and isinstance(value, str):
            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError:
                raise _BadRow(name, "is not valid JSON") from None
            if not isinstance(value, dict):
                raise _BadRow(name, "must hold a JSON object")
        event[name] = _plain(value) if typed else value
    for name, value in present:
        if "." not in name:
            continue
        *parents, key = name.split(".")
        target = event
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise _BadRow(part, f"cannot hold the column {name!r}: it is not an object")
        if not typed and parents[0] == "properties" and isinstance(value, str):
            value = _number(key, value)
        target[key] = _plain(value) if typed else value
    return event


# -- JSON Lines ---------------------------------------------------------------------------


def _jsonl(path: Path) -> Iterator[Row]:
    with path.open("rb") as handle:
        pending = 0
        for number, line in enumerate(handle, start=1):
            pending += len(line)
            text = line.removeprefix(codecs.BOM_UTF8) if number == 1 else line
            if not text.strip():
                continue
            try:
                yield Row(number, orjson.loads(text), None, pending)
            except orjson.JSONDecodeError:
                yield Row(number, None, ("line", "is not valid JSON"), pending)
            pending = 0


# -- CSV ----------------------------------------------------------------------------------


class _Lines:
    """Decoded lines for ``csv.reader`` that count the bytes consumed (for the progress bar)."""

    def __init__(self, handle: Iterable[bytes]) -> None:
        self.handle = iter(handle)
        self.consumed = 0

    def __iter__(self) -> Iterator[str]:
        for number, line in enumerate(self.handle):
            self.consumed += len(line)
            yield line.decode("utf-8-sig" if number == 0 else "utf-8", errors="replace")


def _csv(path: Path) -> Iterator[Row]:
    with path.open("rb") as handle:
        lines = _Lines(handle)
        reader = csv.reader(lines)
        header: list[str] | None = None
        last_line, last_bytes = 0, 0
        while True:
            try:
                fields = next(reader)
                error: tuple[str, str] | None = None
            except StopIteration:
                return
            except csv.Error as failure:
                fields, error = [], ("line", f"is not valid CSV ({failure})")
            where = last_line + 1
            size = lines.consumed - last_bytes
            last_line, last_bytes = reader.line_num, lines.consumed
            if error is None and not any(cell.strip() for cell in fields):
                continue
            if header is None and error is None:
                header = [cell.strip() for cell in fields]
                if len(set(header)) != len(header) or "" in header:
                    raise DatasetError(f"{path.name}: the header has empty or repeated names")
                continue
            if error is None and header is not None and len(fields) > len(header):
                error = ("line", "has more fields than the header")
            if error is not None or header is None:
                yield Row(where, None, error, size)
                continue
            try:
                event = envelope(zip(header, fields, strict=False), typed=False)
                yield Row(where, event, None, size)
            except _BadRow as bad:
                yield Row(where, None, (bad.field, bad.reason), size)


# -- Parquet ------------------------------------------------------------------------------


def _parquet_file(path: Path) -> Any:
    import pyarrow.parquet as pq  # a heavy import, only for Parquet

    try:
        return pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise DatasetError(f"{path.name} is not a readable Parquet file ({error})") from None


def _parquet(path: Path) -> Iterator[Row]:
    parquet = _parquet_file(path)
    number = 0
    for batch in parquet.iter_batches(batch_size=PARQUET_BATCH):
        for record in batch.to_pylist():
            number += 1
            try:
                yield Row(number, envelope(record.items(), typed=True), None, 1)
            except _BadRow as bad:
                yield Row(number, None, (bad.field, bad.reason), 1)


def read_rows(path: Path, kind: str) -> Iterator[Row]:
    """The rows of an event file, in file order."""
    readers = {"jsonl": _jsonl, "csv": _csv, "parquet": _parquet}
    return readers[kind](path)


def row_total(path: Path, kind: str) -> int:
    """The progress bar's total: rows for Parquet, bytes for text files."""
    if kind == "parquet":
        return int(_parquet_file(path).metadata.num_rows)
    return path.stat().st_size
