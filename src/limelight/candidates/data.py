"""The interaction log every model trains on: id maps, a sparse user x item matrix, timestamps.

Models never see raw ids: ``Interactions`` maps user and item ids to dense indices once, keeps
each interaction's user, item, weight, timestamp (and device, when known) as parallel arrays in
the order given, and builds a CSR user x item matrix of summed weights. Nothing here is ever a
dense users x items array, so the same code holds 100k users x 20k items.

Splits (:meth:`Interactions.subset`) keep the id maps of the whole, so a model trained on one
part scores the items of another with the same indices. Item metadata (genres, tags, release
year, text) travels with the log because content similarity, the ranker's genre affinities and
item age all need it and it has to match the item index.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from limelight.errors import InvalidInput, UnknownItem

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ItemMeta:
    """What models may know about an item besides who watched it."""

    genres: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    release_year: int | None = None
    text: str = ""


def _ids(values: Iterable[Any]) -> list[str]:
    return [str(value) for value in values]


def _index(ids: Sequence[str], what: str) -> dict[str, int]:
    index: dict[str, int] = {}
    for position, key in enumerate(ids):
        if key in index:
            raise InvalidInput(f"duplicate {what} id {key!r}", field=f"{what}_ids")
        index[key] = position
    return index


@dataclass(frozen=True, eq=False)
class Interactions:
    """An interaction log with its id maps. Build it with :meth:`from_arrays` or
    :meth:`from_records`.

    ``users``, ``items``, ``weights``, ``timestamps`` (and ``devices``, ``offsets``) are parallel
    arrays, one entry per interaction, in the order given. ``matrix`` sums the weights of
    repeats. ``offsets`` are seconds east of UTC where the person was (their time zone at that
    moment; None: all UTC), so that "hour of day" means the person's own hour.

    >>> log = Interactions.from_arrays(["a", "a", "b"], ["x", "y", "x"], timestamps=[1, 2, 3])
    >>> log.n_users, log.n_items, log.matrix.nnz
    (2, 2, 3)
    >>> log.history("a")
    ['x', 'y']
    """

    user_ids: tuple[str, ...]
    item_ids: tuple[str, ...]
    users: IntArray
    items: IntArray
    weights: FloatArray
    timestamps: FloatArray
    devices: tuple[str | None, ...] | None = None
    metadata: Mapping[str, ItemMeta] = field(default_factory=dict)
    offsets: FloatArray | None = None

    # ---------------------------------------------------------------- constructors

    @classmethod
    def from_arrays(
        cls,
        users: Sequence[Any],
        items: Sequence[Any],
        *,
        timestamps: Sequence[float] | FloatArray | None = None,
        weights: Sequence[float] | FloatArray | None = None,
        devices: Sequence[str | None] | None = None,
        offsets: Sequence[float] | FloatArray | None = None,
        user_ids: Sequence[Any] | None = None,
        item_ids: Sequence[Any] | None = None,
        metadata: Mapping[str, ItemMeta] | None = None,
    ) -> Interactions:
        """A log from parallel sequences of user ids and item ids.

        ``user_ids`` / ``item_ids`` fix the universes (and their order); items listed there
        but never interacted with are part of the catalogue, which content similarity can still
        recommend. Items described in ``metadata`` join the catalogue too. Missing timestamps
        are the position in the log; missing weights are 1.
        """
        user_list, item_list = _ids(users), _ids(items)
        count = len(user_list)
        if len(item_list) != count:
            raise InvalidInput("users and items differ in length", field="items")
        meta = dict(metadata or {})
        u_ids = _ids(user_ids) if user_ids is not None else list(dict.fromkeys(user_list))
        if item_ids is not None:
            i_ids = _ids(item_ids)
        else:
            i_ids = list(dict.fromkeys([*item_list, *sorted(meta)]))
        u_index, i_index = _index(u_ids, "user"), _index(i_ids, "item")
        try:
            u = np.fromiter((u_index[key] for key in user_list), dtype=np.int64, count=count)
        except KeyError as error:
            raise InvalidInput(f"user {error.args[0]!r} not in user_ids", field="users") from None
        try:
            i = np.fromiter((i_index[key] for key in item_list), dtype=np.int64, count=count)
        except KeyError as error:
            raise UnknownItem(f"item {error.args[0]!r} not in item_ids", field="items") from None
        ts = (
            np.arange(count, dtype=np.float64)
            if timestamps is None
            else np.asarray(timestamps, dtype=np.float64)
        )
        w = np.ones(count) if weights is None else np.asarray(weights, dtype=np.float64)
        for name, array in (("timestamps", ts), ("weights", w)):
            if array.shape != (count,):
                raise InvalidInput(f"{name} must have one entry per interaction", field=name)
            if not np.all(np.isfinite(array)):
                raise InvalidInput(f"{name} must be finite", field=name)
        dev = None if devices is None else tuple(devices)
        if dev is not None and len(dev) != count:
            raise InvalidInput("devices must have one entry per interaction", field="devices")
        zones = None if offsets is None else np.asarray(offsets, dtype=np.float64)
        if zones is not None and (zones.shape != (count,) or not np.all(np.isfinite(zones))):
            raise InvalidInput(
                "offsets must be one finite number of seconds per interaction", field="offsets"
            )
        unknown = set(meta) - set(i_index)
        if unknown:
            raise UnknownItem(f"metadata for items not in item_ids: {sorted(unknown)[:5]}")
        return cls(tuple(u_ids), tuple(i_ids), u, i, w, ts, dev, meta, zones)

    @classmethod
    def from_records(
        cls,
        records: Iterable[Any],
        *,
        weight: str | None = None,
        item_ids: Sequence[Any] | None = None,
        metadata: Mapping[str, ItemMeta] | None = None,
    ) -> Interactions:
        """A log from objects with ``user_id``, ``item_id`` and ``ts`` attributes (for example
        MovieLens ratings). ``weight`` names an attribute to use as the weight (default 1)."""
        users: list[str] = []
        items: list[str] = []
        stamps: list[float] = []
        weights: list[float] = []
        for record in records:
            users.append(str(record.user_id))
            items.append(str(record.item_id))
            stamps.append(float(record.ts))
            weights.append(1.0 if weight is None else float(getattr(record, weight)))
        return cls.from_arrays(
            users, items, timestamps=stamps, weights=weights, item_ids=item_ids, metadata=metadata
        )

    # ---------------------------------------------------------------- sizes and maps

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def __len__(self) -> int:
        return int(self.users.shape[0])

    @cached_property
    def user_index(self) -> dict[str, int]:
        """User id -> row of :attr:`matrix`."""
        return {key: position for position, key in enumerate(self.user_ids)}

    @cached_property
    def item_index(self) -> dict[str, int]:
        """Item id -> column of :attr:`matrix`."""
        return {key: position for position, key in enumerate(self.item_ids)}

    def item_positions(self, item_ids: Iterable[str]) -> IntArray:
        """Column indices of item ids; raises :class:`UnknownItem` for any id not known."""
        index = self.item_index
        out: list[int] = []
        for key in item_ids:
            position = index.get(str(key))
            if position is None:
                raise UnknownItem(f"unknown item {key!r}", field="item_id")
            out.append(position)
        return np.asarray(out, dtype=np.int64)

    # ---------------------------------------------------------------- derived views

    @cached_property
    def matrix(self) -> sp.csr_matrix:
        """Users x items CSR matrix of summed weights (float32, canonical form)."""
        built = sp.csr_matrix(
            (self.weights.astype(np.float32), (self.users, self.items)),
            shape=(self.n_users, self.n_items),
            dtype=np.float32,
        )
        built.sum_duplicates()
        built.sort_indices()
        return built

    @cached_property
    def order(self) -> IntArray:
        """Positions of the interactions sorted by user, then time, then position in the log
        (a stable sort, so ties in time keep the order they were given in)."""
        by_time = np.argsort(self.timestamps, kind="stable")
        return by_time[np.argsort(self.users[by_time], kind="stable")]

    @cached_property
    def user_starts(self) -> IntArray:
        """``order[user_starts[u]:user_starts[u + 1]]`` are user ``u``'s interactions in time."""
        counts = np.bincount(self.users, minlength=self.n_users)
        return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    @cached_property
    def item_counts(self) -> FloatArray:
        """Number of distinct users per item."""
        binary = self.matrix.copy()
        binary.data[:] = 1.0
        return np.asarray(binary.sum(axis=0), dtype=np.float64).ravel()

    @cached_property
    def user_counts(self) -> IntArray:
        """Number of distinct items per user."""
        counts: IntArray = np.diff(self.matrix.indptr).astype(np.int64)
        return counts

    @cached_property
    def last_timestamp(self) -> float:
        """Time of the latest interaction (0 for an empty log)."""
        return float(self.timestamps.max()) if len(self) else 0.0

    @cached_property
    def user_last_seen(self) -> FloatArray:
        """Latest interaction time per user (-inf for users without one)."""
        out = np.full(self.n_users, -np.inf)
        np.maximum.at(out, self.users, self.timestamps)
        return out

    @cached_property
    def item_first_seen(self) -> FloatArray:
        """Earliest interaction time per item (+inf for items nobody has touched)."""
        out = np.full(self.n_items, np.inf)
        np.minimum.at(out, self.items, self.timestamps)
        return out

    @property
    def local_timestamps(self) -> FloatArray:
        """Each interaction's time on the person's own clock (``timestamps`` + ``offsets``):
        what hour-of-day and day-of-week features read."""
        if self.offsets is None:
            return self.timestamps
        local: FloatArray = self.timestamps + self.offsets
        return local

    def user_sequence(self, user: int) -> tuple[IntArray, FloatArray]:
        """User ``user``'s items and timestamps in time order (repeats kept)."""
        positions = self.order[self.user_starts[user] : self.user_starts[user + 1]]
        return self.items[positions], self.timestamps[positions]

    def history(self, user_id: str) -> list[str]:
        """A user's item ids in time order (empty for an unknown user)."""
        user = self.user_index.get(user_id)
        if user is None:
            return []
        items, _ = self.user_sequence(user)
        return [self.item_ids[item] for item in items]

    # ---------------------------------------------------------------- subsets

    def subset(self, mask: NDArray[np.bool_]) -> Interactions:
        """The interactions where ``mask`` is true, with the same id maps and metadata."""
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (len(self),):
            raise InvalidInput("mask must have one entry per interaction", field="mask")
        devices = None
        if self.devices is not None:
            devices = tuple(d for d, keep in zip(self.devices, mask, strict=True) if keep)
        return Interactions(
            self.user_ids,
            self.item_ids,
            self.users[mask],
            self.items[mask],
            self.weights[mask],
            self.timestamps[mask],
            devices,
            self.metadata,
            None if self.offsets is None else self.offsets[mask],
        )

    def before(self, cutoff: float) -> Interactions:
        """Interactions strictly before ``cutoff``."""
        return self.subset(self.timestamps < cutoff)

    def since(self, cutoff: float) -> Interactions:
        """Interactions at or after ``cutoff``."""
        return self.subset(self.timestamps >= cutoff)

    def binary(self) -> Interactions:
        """The same log with every weight 1 (implicit feedback)."""
        return Interactions(
            self.user_ids,
            self.item_ids,
            self.users,
            self.items,
            np.ones(len(self)),
            self.timestamps,
            self.devices,
            self.metadata,
            self.offsets,
        )
