"""One logged decision (DESIGN §5) and the ids decisions get."""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

#: Random bits for ids: seeded from the system once (and again in a forked child, which would
#: otherwise repeat its parent's sequence); a ``getrandom`` call per id cost more than the rest
#: of making one. Ids need to be unique, not secret.
_bits = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _bits.seed(os.urandom(32)))


def new_decision_id(prefix: str = "d") -> str:
    """A unique, roughly time-ordered id (keeps the primary-key index append-mostly): the time
    in microseconds, then 48 random bits."""
    return f"{prefix}_{time.time_ns() // 1000:x}{_bits.getrandbits(48):012x}"


class Packed:
    """A field's value already serialized (JSON bytes), for records waiting in the log's buffer.

    Why: a page's records hold thousands of small lists (every tile's candidates, distribution
    and ranking); kept as Python objects until the next flush they are what the garbage
    collector walks, tens of milliseconds at a time on a busy server. As bytes they are one
    object; the table gets them as they are (``orjson.Fragment``), and a reader of the buffer
    gets them decoded (``DecisionRecord.unpacked``). Only the log packs (``record_many``):
    callers build records from plain values.
    """

    __slots__ = ("data",)

    def __init__(self, value: Any) -> None:
        # numpy arrays as they are: a batch row's columnar layout (``batch.columnar_record``)
        self.data = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)

    def value(self) -> Any:
        return orjson.loads(self.data)


#: The fields that can hold thousands of small containers (a page's tiles, a batch's members).
PACKED_FIELDS = ("candidates", "chosen", "probabilities", "extra")


def _plain(value: Any) -> Any:
    return value.value() if isinstance(value, Packed) else value


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One logged decision.

    ``chosen`` lists what was served in order; ``probabilities`` (for randomized policies) gives
    the exact probability with which each chosen action was picked, for off-policy evaluation.
    """

    decision_id: str
    kind: str
    point: str
    person_id: str | None
    chosen: list[Any]
    created_at: float
    context: dict[str, Any] = field(default_factory=dict)
    #: the candidates (a list; a batch row's packed form, see :mod:`.batch`)
    candidates: Any = field(default_factory=list)
    page_id: str | None = None
    probabilities: list[Any] | None = None
    policy: str | None = None
    model_version: str | None = None
    explored: bool | None = None
    extra: dict[str, Any] | None = None

    def as_row(self) -> dict[str, Any]:
        """The table row (``Packed`` fields as raw JSON fragments)."""
        # Shallow on purpose: dataclasses.asdict deep-copies every context and candidate, which
        # cost ~0.1 ms a record while holding the GIL in the flush thread.
        row = {name: getattr(self, name) for name in self.__slots__}
        for name, value in row.items():
            if isinstance(value, Packed):
                row[name] = orjson.Fragment(value.data)
        return row

    def packed(self) -> DecisionRecord:
        """This record as the log's buffer keeps it: its bulky fields as ``Packed`` JSON."""
        values = {name: getattr(self, name) for name in self.__slots__}
        for name in PACKED_FIELDS:
            value = values[name]
            if value is not None and not isinstance(value, Packed):
                values[name] = Packed(value)
        return DecisionRecord(**values)

    def unpacked(self) -> DecisionRecord:
        """This record with every ``Packed`` field decoded (itself when there is none)."""
        if not any(isinstance(getattr(self, name), Packed) for name in self.__slots__):
            return self
        return DecisionRecord(**{name: _plain(getattr(self, name)) for name in self.__slots__})

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> DecisionRecord:
        return cls(**{name: row[name] for name in cls.__slots__})


__all__ = ["DecisionRecord", "Packed", "new_decision_id"]
