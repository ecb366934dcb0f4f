"""Reading and writing the catalogue."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, Connection, and_, delete, exists, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from limelight.catalog.model import Item
from limelight.profiles.state import ItemMeta
from limelight.storage.database import Database, chunked, rows
from limelight.storage.schema import artwork, items


@dataclass(frozen=True, slots=True)
class ItemFilter:
    """Filters for listing the catalogue."""

    kind: str | None = None
    genre: str | None = None
    tag: str | None = None
    available_at: float | None = None
    query: str | None = None
    after: str | None = None  # keyset pagination: item ids greater than this
    limit: int = 50


class CatalogStore:
    """Items and artwork on one database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def upsert(self, connection: Connection, batch: Sequence[Item], now: float) -> None:
        """Insert or replace items; an item's artwork set is replaced when it is given."""
        if not batch:
            return
        connection.execute(self.database.upsert(items), [item.to_row(now) for item in batch])
        with_artwork = [item for item in batch if item.artwork is not None]
        for chunk in chunked([item.item_id for item in with_artwork]):
            connection.execute(delete(artwork).where(artwork.c.item_id.in_(chunk)))
        art_rows = [
            {
                "item_id": item.item_id,
                "artwork_id": art.artwork_id,
                "url": art.url,
                "attributes": art.attributes,
                "is_default": art.is_default,
                "position": position,
            }
            for item in with_artwork
            for position, art in enumerate(item.artwork or [])
        ]
        if art_rows:
            connection.execute(artwork.insert(), art_rows)

    def get(self, connection: Connection, item_id: str) -> Item | None:
        row = connection.execute(select(items).where(items.c.item_id == item_id)).mappings().first()
        if row is None:
            return None
        return Item.from_row(dict(row), self.artwork(connection, [item_id]).get(item_id, []))

    def artwork(
        self, connection: Connection, item_ids: Sequence[str]
    ) -> dict[str, list[dict[str, Any]]]:
        """Artwork variants per item, in their stored order."""
        found: dict[str, list[dict[str, Any]]] = {}
        for chunk in chunked(list(item_ids)):
            query = (
                select(artwork)
                .where(artwork.c.item_id.in_(chunk))
                .order_by(artwork.c.item_id, artwork.c.position)
            )
            for row in rows(connection.execute(query)):
                found.setdefault(row["item_id"], []).append(row)
        return found

    def list(self, connection: Connection, where: ItemFilter) -> list[Item]:
        conditions: list[ColumnElement[bool]] = []
        if where.kind:
            conditions.append(items.c.kind == where.kind)
        if where.genre:
            conditions.append(self._contains(items.c.genres, where.genre))
        if where.tag:
            conditions.append(self._contains(items.c.tags, where.tag))
        if where.available_at is not None:
            at = where.available_at
            conditions.append(or_(items.c.available_from.is_(None), items.c.available_from <= at))
            conditions.append(or_(items.c.available_until.is_(None), items.c.available_until > at))
        if where.query:
            conditions.append(
                func.lower(items.c.title).contains(where.query.lower(), autoescape=True)
            )
        if where.after:
            conditions.append(items.c.item_id > where.after)
        query = (
            select(items)
            .where(and_(literal(True), *conditions))
            .order_by(items.c.item_id)
            .limit(where.limit)
        )
        found = rows(connection.execute(query))
        art = self.artwork(connection, [row["item_id"] for row in found])
        return [Item.from_row(row, art.get(row["item_id"], [])) for row in found]

    def _contains(self, column: Any, value: str) -> ColumnElement[bool]:
        if self.database.is_sqlite:
            each = func.json_each(column).table_valued("value")
            return exists(select(literal(1)).select_from(each).where(each.c.value == value))
        contains: ColumnElement[bool] = column.op("@>", return_type=Boolean)(
            func.jsonb_build_array(value)
        )
        return contains

    def meta(self, connection: Connection, item_ids: Iterable[str]) -> dict[str, ItemMeta]:
        """Genres and tags for folding events into profiles."""
        found: dict[str, ItemMeta] = {}
        for chunk in chunked(list(set(item_ids))):
            query = select(items.c.item_id, items.c.genres, items.c.tags).where(
                items.c.item_id.in_(chunk)
            )
            for item_id, genres, tags in connection.execute(query):
                found[item_id] = ItemMeta(tuple(genres), tuple(tags))
        return found

    def count(self, connection: Connection) -> int:
        return int(connection.execute(select(func.count()).select_from(items)).scalar_one())
