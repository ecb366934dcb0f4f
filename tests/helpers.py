"""Small builders shared by tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import count
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, inspect, select, text

from limelight import Engine

_ids = count()


def event(
    kind: str,
    *,
    user: str | None = "u1",
    anon: str | None = None,
    item: str | None = None,
    at: float | str | None = None,
    **properties: Any,
) -> dict[str, Any]:
    """A valid event dict with a fresh event id."""
    body: dict[str, Any] = {"event_id": f"t{next(_ids)}", "type": kind}
    if user is not None:
        body["user_id"] = user
    if anon is not None:
        body["anonymous_id"] = anon
    if at is not None:
        body["timestamp"] = at
    props = dict(properties)
    context = props.pop("context", None)
    if context is not None:
        body["context"] = context
    for key in ("traits", "consent", "previous_id"):
        if key in props:
            body[key] = props.pop(key)
    if item is not None:
        props["item_id"] = item
    body["properties"] = props
    return body


def all_rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (for checks that nothing anywhere mentions a value)."""
    found: dict[str, list[dict[str, Any]]] = {}
    with engine.database.read() as connection:
        for name in inspect(connection).get_table_names():
            reflected = Table(name, MetaData(), autoload_with=connection)
            found[name] = [dict(row) for row in connection.execute(select(reflected)).mappings()]
    return found


def mentions(rows: dict[str, list[dict[str, Any]]], needle: str) -> list[str]:
    """Tables and columns whose values contain ``needle`` (JSON values included)."""
    hits = []
    for table, table_rows in rows.items():
        for row in table_rows:
            for column, value in row.items():
                if needle in str(value):
                    hits.append(f"{table}.{column}")
    return sorted(set(hits))


@contextmanager
def table_away(engine: Engine, name: str) -> Iterator[None]:
    """``name`` renamed for the block (reads of it fail: a background refresh's errors),
    then renamed back."""
    with engine.database.write() as connection:
        connection.execute(text(f"ALTER TABLE {name} RENAME TO {name}_away"))
    try:
        yield
    finally:
        with engine.database.write() as connection:
            connection.execute(text(f"ALTER TABLE {name}_away RENAME TO {name}"))


def keeps_answering_while_refreshes_fail(
    engine: Engine,
    table: str,
    answer: Callable[[], Any],
    wait: Callable[[], None],
    caplog: pytest.LogCaptureFixture,
    message: str,
) -> Any:
    """Check that with ``table`` away, ``answer()`` keeps returning what it returned before
    while its background refreshes fail and log ``message``; returns that first answer."""
    first = answer()
    with table_away(engine, table):  # the refresh's reads will fail
        assert answer() is first
        wait()
        assert message in caplog.text
        assert answer() is first
        wait()
    return first
