"""Importing event files: good rows stored, bad rows named by line/row number and reason."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from limelight import Engine
from limelight.datasets.importer import ImportSummary, import_events
from limelight.errors import DatasetError

T0 = "2024-03-01T20:00:00Z"
# The engine's own wording may change; the importer only promises to pass its field along.
PROPERTIES = "properties"


def _groups(summary: ImportSummary) -> dict[tuple[str, str], list[int]]:
    return {(group.field, group.reason): group.rows for group in summary.groups}


def _fields(summary: ImportSummary) -> dict[int, str]:
    """Row number -> the first segment of the refused field."""
    found = {}
    for group in summary.groups:
        assert group.reason
        assert group.count == len(group.rows)  # small files: every row is listed
        for row in group.rows:
            found[row] = group.field.split(".")[0]
    return found


def _stored(engine: Engine, user_id: str) -> dict[str, dict[str, Any]]:
    rows = engine.export_user(user_id)["core"]["events"]
    return {row["event_id"]: row for row in rows}


def _check_good_rows(engine: Engine, traits_age: object) -> None:
    profile = engine.profile("u1")
    assert profile["counts"] == {"identify": 1, "play_start": 1, "rating": 1}
    assert profile["habits"]["devices"] == {"tv": 1}
    assert profile["traits"] == {"age": traits_age}
    assert [(item["item_id"], item["rating"]) for item in profile["items"]] == [("101", 4.0)]
    assert engine.profile("u2")["counts"] == {"play_complete": 1}
    stored = _stored(engine, "u1")
    assert stored["e1"]["properties"] == {"item_id": "101"}  # no empty cells, ids stay text
    assert profile["first_seen"] == T0


def test_jsonl(sqlite_engine: Engine, tmp_path: Path) -> None:
    lines = [
        {"event_id": "e1", "type": "play_start", "user_id": "u1", "timestamp": T0,
         "context": {"device": "tv"}, "properties": {"item_id": "101"}},
        {"event_id": "e2", "type": "rating", "user_id": "u1",
         "properties": {"item_id": "101", "rating": 4}},
        {"event_id": "e3", "type": "play_start", "user_id": "u1", "properties": {}},
        '{"event_id": "e4", "type": "click", "user_id": ',  # malformed
        "",
        {"event_id": "e5", "type": "identify", "user_id": "u1", "traits": {"age": 30}},
        {"event_id": "e6", "type": "rating", "user_id": "u2", "properties": {"item_id": "102"}},
        {"event_id": "e7", "type": "play_complete", "user_id": "u2",
         "properties": {"item_id": "102"}},
        {"event_id": "e8", "type": "bogus", "user_id": "u2"},
        {"event_id": "e9", "type": "play_start", "user_id": "u2", "properties": {"x": 1}},
        [1, 2],
    ]  # fmt: skip
    path = tmp_path / "events.jsonl"
    path.write_text(
        "\n".join(line if isinstance(line, str) else orjson.dumps(line).decode() for line in lines)
        + "\n"
    )
    summary = import_events(sqlite_engine, path, batch_size=3)
    assert (summary.format, summary.unit, summary.read) == ("jsonl", "line", 10)
    assert (summary.accepted, summary.duplicates, summary.rejected) == (4, 0, 6)
    assert _groups(summary)[("line", "is not valid JSON")] == [4]
    assert _fields(summary) == {
        3: PROPERTIES,
        4: "line",
        7: PROPERTIES,
        9: "type",
        10: PROPERTIES,
        11: "event",
    }
    counts = [group.count for group in summary.groups]
    assert counts == sorted(counts, reverse=True)  # the largest group comes first
    _check_good_rows(sqlite_engine, 30)
    again = import_events(sqlite_engine, path)
    assert (again.accepted, again.duplicates, again.rejected) == (0, 4, 6)


def test_csv(sqlite_engine: Engine, tmp_path: Path) -> None:
    header = [
        "event_id", "type", "user_id", "timestamp", "properties.item_id", "properties.rating",
        "context.device", "traits.age", "properties",
    ]  # fmt: skip
    rows = [
        ["e1", "play_start", "u1", T0, "101", "", "tv", "", ""],
        ["e2", "rating", "u1", "", "101", "4", "", "", ""],
        ["e3", "play_start", "u1", "", "", "", "", "", ""],
        ["e4", "click", "u1", "", "101", "", "", "", "", "surplus", "cells"],  # malformed
        ["e5", "identify", "u1", "", "", "", "", "30", ""],
        ["e6", "rating", "u2", "", "102", "", "", "", ""],
        ["e7", "play_complete", "u2", "", "", "", "", "", '{"item_id": "102"}'],
        ["e8", "play_start", "u2", "", "", "", "", "", "{not json"],
    ]
    path = tmp_path / "events.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    summary = import_events(sqlite_engine, path, batch_size=2)
    assert (summary.format, summary.unit, summary.read) == ("csv", "line", 8)
    assert (summary.accepted, summary.duplicates, summary.rejected) == (4, 0, 4)
    groups = _groups(summary)
    assert groups[("line", "has more fields than the header")] == [5]
    assert groups[("properties", "is not valid JSON")] == [9]
    assert _fields(summary) == {4: PROPERTIES, 5: "line", 7: PROPERTIES, 9: PROPERTIES}
    _check_good_rows(sqlite_engine, "30")  # CSV traits stay text; only properties are numbers
    rating = _stored(sqlite_engine, "u1")["e2"]["properties"]
    assert rating == {"item_id": "101", "rating": 4}


def test_parquet(sqlite_engine: Engine, tmp_path: Path) -> None:
    moment = datetime(2024, 3, 1, 20, tzinfo=UTC)
    table = pa.table(
        {
            "event_id": ["e1", "e2", "e3", "e4", "e5", "e6", "e7"],
            "type": ["play_start", "rating", "play_start", "click", "identify", "rating",
                     "play_complete"],
            "user_id": ["u1", "u1", "u1", "u1", "u1", "u2", "u2"],
            "timestamp": pa.array([moment, None, None, None, None, None, None],
                                  pa.timestamp("s", tz="UTC")),
            "properties": pa.array(
                [{"item_id": "101", "rating": None}, {"item_id": "101", "rating": 4.0},
                 None, {"item_id": "101", "rating": None}, None,
                 {"item_id": "102", "rating": None}, {"item_id": "102", "rating": None}],
                pa.struct([("item_id", pa.string()), ("rating", pa.float64())]),
            ),
            "context": [None, None, None, "{oops", None, None, None],  # a malformed value
            "context.device": ["tv", None, None, None, None, None, None],
            "traits.age": pa.array([None, None, None, None, 30, None, None], pa.int64()),
        }
    )  # fmt: skip
    path = tmp_path / "events.parquet"
    pq.write_table(table, path, row_group_size=3)
    summary = import_events(sqlite_engine, path, batch_size=2)
    assert (summary.format, summary.unit, summary.read) == ("parquet", "row", 7)
    assert (summary.accepted, summary.duplicates, summary.rejected) == (4, 0, 3)
    assert _groups(summary)[("context", "is not valid JSON")] == [4]
    assert _fields(summary) == {3: PROPERTIES, 4: "context", 6: PROPERTIES}
    _check_good_rows(sqlite_engine, 30)


def test_format_from_option_and_errors(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_text('{"event_id": "x1", "type": "click", "user_id": "u", "properties": '
                    '{"item_id": "1"}}\n')  # fmt: skip
    assert import_events(sqlite_engine, path, format="jsonl").accepted == 1
    with pytest.raises(DatasetError, match="unknown event file format 'txt'"):
        import_events(sqlite_engine, path)
    with pytest.raises(DatasetError, match="use one of jsonl, csv, parquet"):
        import_events(sqlite_engine, path, format="xml")
    with pytest.raises(DatasetError, match="no such file"):
        import_events(sqlite_engine, tmp_path / "absent.csv")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 but not really")
    with pytest.raises(DatasetError, match="not a readable Parquet file"):
        import_events(sqlite_engine, broken)


def test_large_file_streams_in_batches(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    with path.open("w") as handle:
        for number in range(12_345):
            event = {"event_id": f"m{number}", "type": "play_start", "user_id": f"u{number % 7}",
                     "properties": {"item_id": str(number % 50)}}  # fmt: skip
            handle.write(orjson.dumps(event).decode() + "\n")
    summary = import_events(sqlite_engine, path, batch_size=1000)
    assert (summary.read, summary.accepted, summary.rejected) == (12_345, 12_345, 0)
    assert sqlite_engine.event_count() == 12_345
