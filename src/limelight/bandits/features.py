"""Turn context and action feature dicts into numpy vectors, with context x action interactions.

Why a growing one-hot vocabulary rather than hashing: linear bandits keep a ``d x d`` matrix per
model, so ``d`` must stay small, and hashing into a small space makes unrelated features collide.
A vocabulary assigns each distinct term its own column the first time it is seen. A new column
is exact for ridge models (no past vector used it), so models simply grow. ``max_features``
bounds the size; terms beyond it share one overflow column.

Terms: a number ``{"age": 31}`` gives the term ``age`` with value 31; a string
``{"device": "tv"}`` gives the term ``device=tv`` with value 1. Interaction terms multiply a
context term with an action term (``device=tv*style=close-up``).

Why the caches in ``FeatureSpace``: one decision has ~10 context terms, a few candidates with a
few terms each, and every context x action pair; building those term names and looking them up
one by one cost most of a decision's time. A column never changes once a term has it (the
vocabulary only grows), so the space remembers the column of each term it has placed, the
resolved terms of each action feature dict and candidate list it has seen, and the column of
each crossed pair in a dense table indexed by (context term, action term); a vector whose terms
are all known is then assembled with a few array operations. Anything not known yet takes the
term-by-term path, which numbers new columns in the one canonical order (bias, context terms,
action terms, crossed terms context-major) and fills the caches, so both paths give the same
vectors bit for bit. The caches are derived data: they are never stored, and a space rebuilt
from its vocabulary refills them as it goes.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from math import isfinite

import numpy as np

from limelight.bandits.base import Action, Features
from limelight.errors import InvalidInput

BIAS = "__bias__"
OVERFLOW = "__overflow__"

#: Most entries (int32) of the dense crossed-pair table (context terms x action terms seen);
#: pairs beyond it go the term-by-term path (same numbers, slower).
TABLE_LIMIT = 1 << 22
#: Most cached action feature dicts and candidate lists (cleared, then refilled, beyond).
CACHE_LIMIT = 1 << 14


def keyed_terms(features: Features) -> list[tuple[Hashable, str, float]]:
    """``terms`` with a cache key per term: ``(name, text)`` for strings, ``name`` for numbers
    (whose term does not depend on the value)."""
    out: list[tuple[Hashable, str, float]] = []
    for name in sorted(features):
        value = features[name]
        if isinstance(value, str):
            out.append(((name, value), f"{name}={value}", 1.0))
        elif isinstance(value, bool | int | float):
            out.append((name, name, _number(name, value)))
        else:
            raise InvalidInput(f"feature {name!r} must be a number or a string", field=name)
    return out


def terms(features: Features) -> list[tuple[str, float]]:
    """The (term, value) pairs of a feature dict, in a stable (sorted) order.

    >>> terms({"device": "tv", "hour": 21})
    [('device=tv', 1.0), ('hour', 21.0)]
    """
    return [(term, value) for _, term, value in keyed_terms(features)]


def _number(name: str, value: float) -> float:
    number = float(value)
    if not isfinite(number):
        raise InvalidInput(f"feature {name!r} is not a finite number", field=name)
    return number


class Vocabulary:
    """Term -> column index, growing on first sight up to ``max_features`` columns.

    >>> vocabulary = Vocabulary()
    >>> vocabulary.vector([("a", 1.0), ("b", 2.0)]).tolist()
    [1.0, 2.0]
    >>> vocabulary.index("b"), len(vocabulary)
    (1, 2)
    """

    def __init__(self, max_features: int = 4096, names: Iterable[str] = ()) -> None:
        if max_features < 2:
            raise InvalidInput("max_features must be at least 2", field="max_features")
        self.max_features = max_features
        self._index: dict[str, int] = {}
        for name in names:
            self.index(name)

    def __len__(self) -> int:
        return len(self._index)

    @property
    def names(self) -> list[str]:
        """Terms in column order (what the state stores)."""
        return list(self._index)

    def index(self, term: str) -> int:
        """The column of ``term``, assigned now if new (overflow once the vocabulary is full)."""
        found = self._index.get(term)
        if found is not None:
            return found
        if len(self._index) < self.max_features - 1 or term == OVERFLOW:
            self._index[term] = len(self._index)
            return self._index[term]
        return self.index(OVERFLOW)

    def exact(self, column: int) -> bool:
        """Whether ``column`` belongs to one term only (not the shared overflow column)."""
        return self._index.get(OVERFLOW) != column

    def vector(self, pairs: Sequence[tuple[str, float]]) -> np.ndarray:
        """A dense vector over the current vocabulary (growing it first if needed)."""
        columns = [self.index(term) for term, _ in pairs]
        vector = np.zeros(len(self._index))
        np.add.at(vector, columns, [value for _, value in pairs])
        return vector


@dataclass(slots=True)
class _Resolved:
    """The terms of one feature dict: their columns, values and table slots, in term order."""

    columns: np.ndarray
    values: np.ndarray
    slots: np.ndarray


@dataclass(slots=True)
class _Candidates:
    """The action terms of a candidate list, concatenated; ``owner`` is each term's row."""

    size: int
    columns: np.ndarray
    values: np.ndarray
    slots: np.ndarray
    owner: np.ndarray
    head: tuple[np.ndarray, np.ndarray]  # bias entries: columns, values
    key: tuple[object, ...]  # the feature items of each candidate
    layouts: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]  # by (context terms, width)

    def layout(self, count: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Flat row offsets of the entries, and where each entry comes from (see the use)."""
        size, terms = self.size, self.owner.shape[0]
        rows = np.arange(size, dtype=np.intp)
        flat_rows = width * np.concatenate(
            (rows, np.repeat(rows, count), self.owner, np.tile(self.owner, count))
        )
        head, context = np.arange(size), size + np.tile(np.arange(count), size)
        rest = size + count + np.arange(terms + count * terms)
        return flat_rows, np.concatenate((head, context, rest)).astype(np.intp)


class _Columns:
    """What ``FeatureSpace`` knows about placed terms (see the module docstring)."""

    def __init__(self) -> None:
        self.context_terms: dict[Hashable, tuple[int, int]] = {}  # key -> (column, slot)
        self.action_terms: dict[Hashable, tuple[int, int]] = {}
        self.context_slots: dict[int, int] = {}  # column -> row of ``table``
        self.action_slots: dict[int, int] = {}  # column -> column of ``table``
        self.table = np.full((16, 16), -1, dtype=np.int32)  # crossed column, -1 unknown
        self.actions: dict[tuple[object, ...], _Resolved] = {}
        self.lists: dict[tuple[object, ...], _Candidates] = {}
        self.last: tuple[tuple[object, ...], _Resolved] | None = None  # the last context

    def slot(self, slots: dict[int, int], column: int, axis: int) -> int:
        """The table slot of ``column`` on ``axis`` (0: context, 1: action), -1 if none fits."""
        found = slots.get(column)
        if found is not None:
            return found
        slot = len(slots)
        shape = list(self.table.shape)
        if slot >= shape[axis]:
            shape[axis] *= 2
            if shape[0] * shape[1] > TABLE_LIMIT:
                return -1
            table = np.full(shape, -1, dtype=np.int32)
            table[: self.table.shape[0], : self.table.shape[1]] = self.table
            self.table = table
        slots[column] = slot
        return slot

    def resolve(
        self, features: Features, known: dict[Hashable, tuple[int, int]]
    ) -> _Resolved | None:
        """Columns, values and slots of ``features`` if every term is known, else None."""
        columns: list[int] = []
        values: list[float] = []
        slots: list[int] = []
        for name in sorted(features):
            value = features[name]
            if isinstance(value, str):
                found = known.get((name, value))
                number = 1.0
            elif isinstance(value, bool | int | float):
                found = known.get(name)
                number = _number(name, value)
            else:
                raise InvalidInput(f"feature {name!r} must be a number or a string", field=name)
            if found is None or found[1] < 0:
                return None
            columns.append(found[0])
            slots.append(found[1])
            values.append(number)
        return _Resolved(
            np.array(columns, dtype=np.intp),
            np.array(values, dtype=float),
            np.array(slots, dtype=np.intp),
        )

    def context(self, context: Features) -> _Resolved | None:
        key = tuple(context.items())
        last = self.last
        try:
            if last is not None and key == last[0]:  # rank, then learn_one on the same context
                return last[1]
        except (TypeError, ValueError):  # a value that does not compare (the path rejects it)
            pass
        resolved = self.resolve(context, self.context_terms)
        if resolved is not None:
            self.last = (key, resolved)
        return resolved

    def candidates(self, actions: Sequence[Action], bias: int) -> _Candidates | None:
        try:
            key = tuple(tuple(action.features.items()) for action in actions)
            found = self.lists.get(key)
        except TypeError:  # an unhashable value: the term-by-term path rejects it
            return None
        if found is not None:
            return found
        parts: list[_Resolved] = []
        for action, items in zip(actions, key, strict=True):
            resolved = self.actions.get(items)
            if resolved is None:
                resolved = self.resolve(action.features, self.action_terms)
                if resolved is None:
                    return None
                if len(self.actions) >= CACHE_LIMIT:
                    self.actions.clear()
                self.actions[items] = resolved
            parts.append(resolved)
        size = len(parts)
        counts = [part.columns.shape[0] for part in parts]
        found = _Candidates(
            size,
            np.concatenate([part.columns for part in parts]),
            np.concatenate([part.values for part in parts]),
            np.concatenate([part.slots for part in parts]),
            np.repeat(np.arange(size, dtype=np.intp), counts),
            (np.full(size, bias, dtype=np.intp), np.ones(size)),
            key,
            {},
        )
        if len(self.lists) >= CACHE_LIMIT:
            self.lists.clear()
        self.lists[key] = found
        return found


class FeatureSpace:
    """Builds the vectors a linear policy learns on.

    ``context_vector`` (for per-action models) is the bias plus the context terms.
    ``joint_vector`` (for one shared model) adds the action terms and every context x action
    interaction, so one model can learn "this style works on TV in the evening" across titles.

    >>> space = FeatureSpace()
    >>> x = space.joint_vector({"device": "tv"}, Action("a", {"style": "dark"}))
    >>> space.vocabulary.names
    ['__bias__', 'device=tv', 'style=dark', 'device=tv*style=dark']
    >>> x.tolist()
    [1.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, max_features: int = 4096, names: Iterable[str] = ()) -> None:
        self.vocabulary = Vocabulary(max_features, names)
        self._bias = self.vocabulary.index(BIAS)
        self._known = _Columns()
        self._last_design: tuple[_Resolved, tuple[object, ...], np.ndarray] | None = None

    def context_vector(self, context: Features) -> np.ndarray:
        """Bias and context terms."""
        known = self._known.context(context)
        if known is None:
            keyed = keyed_terms(context)
            built = self.vocabulary.vector([(BIAS, 1.0), *((t, v) for _, t, v in keyed)])
            self._remember(keyed, [])
            return built
        columns = np.concatenate(((self._bias,), known.columns))
        values = np.concatenate(((1.0,), known.values))
        vector: np.ndarray = np.bincount(columns, values, len(self.vocabulary))
        return vector

    def joint_vector(self, context: Features, action: Action) -> np.ndarray:
        """Bias, context terms, action terms and their pairwise context x action products."""
        last = self._last_design
        if last is not None and self._known.context(context) is last[0]:
            # ``learn_one`` after ``rank``: the row was built for the same context and action
            try:
                row: np.ndarray = last[2][last[1].index(tuple(action.features.items()))]
            except (ValueError, TypeError):
                pass
            else:
                width = len(self.vocabulary)
                if row.shape[0] == width:
                    return row.copy()
                return np.concatenate((row, np.zeros(width - row.shape[0])))
        row = self.joint_matrix(context, (action,))[0]
        return row

    def joint_matrix(self, context: Features, actions: Sequence[Action]) -> np.ndarray:
        """One ``joint_vector`` per action, stacked and padded to the final vocabulary size."""
        matrix = self._known_matrix(context, actions)
        if matrix is not None:
            return matrix
        context_terms = keyed_terms(context)
        rows = [self._joint(context_terms, action) for action in actions]
        width = len(self.vocabulary)
        matrix = np.zeros((len(rows), width))
        for i, row in enumerate(rows):
            matrix[i, : row.shape[0]] = row
        return matrix

    def _known_matrix(self, context: Features, actions: Sequence[Action]) -> np.ndarray | None:
        """``joint_matrix`` from the caches, or None when a term or pair is new."""
        known = self._known
        resolved = known.context(context) if actions else None
        if resolved is None:
            return None
        candidates = known.candidates(actions, self._bias)
        if candidates is None:
            return None
        crossed = known.table[resolved.slots[:, None], candidates.slots]
        if crossed.size and crossed.min() < 0:
            return None
        size, count, width = candidates.size, resolved.columns.shape[0], len(self.vocabulary)
        layout = candidates.layouts.get((count, width))
        if layout is None:
            layout = candidates.layouts[count, width] = candidates.layout(count, width)
        rows, order = layout
        # Entries come as [bias of each row | context | action terms | crossed] and ``order``
        # repeats the context for each row, giving each row's entries in the canonical order
        # (bias, context, action, crossed terms), the order ``bincount`` sums them in, as
        # ``np.add.at`` does on the term-by-term path.
        columns = np.concatenate(
            (candidates.head[0], resolved.columns, candidates.columns, crossed.ravel())
        )[order]
        values = np.concatenate(
            (
                candidates.head[1],
                resolved.values,
                candidates.values,
                np.multiply.outer(resolved.values, candidates.values).ravel(),
            )
        )[order]
        flat = np.bincount(rows + columns, values, size * width)
        matrix: np.ndarray = flat.reshape(size, width)
        if size > 1:
            self._last_design = (resolved, candidates.key, matrix.copy())
        return matrix

    def _joint(
        self, context_terms: list[tuple[Hashable, str, float]], action: Action
    ) -> np.ndarray:
        action_terms = keyed_terms(action.features)
        crossed = [(f"{c}*{a}", cv * av) for _, c, cv in context_terms for _, a, av in action_terms]
        pairs = [(t, v) for _, t, v in context_terms]
        vector = self.vocabulary.vector(
            [(BIAS, 1.0), *pairs, *((t, v) for _, t, v in action_terms), *crossed]
        )
        self._remember(context_terms, action_terms)
        return vector

    def _remember(
        self,
        context_terms: list[tuple[Hashable, str, float]],
        action_terms: list[tuple[Hashable, str, float]],
    ) -> None:
        """Record the columns the term-by-term path has just placed (see the module doc)."""
        known, vocabulary = self._known, self.vocabulary
        index = vocabulary._index
        context_slots: list[int] = []
        for key, term, _ in context_terms:
            column = index.get(term)
            slot = -1
            if column is not None and vocabulary.exact(column):
                slot = known.slot(known.context_slots, column, 0)
                known.context_terms[key] = (column, slot)
            context_slots.append(slot)
        for key, term, _ in action_terms:
            column = index.get(term)
            if column is None or not vocabulary.exact(column):
                continue
            a_slot = known.slot(known.action_slots, column, 1)
            known.action_terms[key] = (column, a_slot)
            if a_slot < 0:
                continue
            for (_, c_term, _), c_slot in zip(context_terms, context_slots, strict=True):
                if c_slot >= 0:
                    known.table[c_slot, a_slot] = vocabulary.index(f"{c_term}*{term}")
