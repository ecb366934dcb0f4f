"""Many single-slot decisions that share one context, over candidates from one action table.

Why: the tiles of a home page share the person's context and draw their candidates (artwork
variants) from one catalogue, whose variants repeat a handful of feature combinations (style x
palette x focus). A shared-feature linear policy scores a candidate by its features alone, so
the page needs the estimates of each *distinct* feature combination once, then gathers them per
tile: a few dozen rows of linear algebra instead of ~800, and no per-tile Python objects.

The answers are those of :func:`limelight.bandits.batch.rank_many` for the same decisions (the
same distributions, the same floor, one uniform draw per decision from the policy's generator
in decision order, the same inverse-CDF pick and tie rule). Policies without this fast path
(per-action models, Thompson sampling, Vowpal Wabbit) go through ``rank_many`` itself.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from limelight.bandits.base import Action, Features, FeatureValue, Policy, signature
from limelight.bandits.batch import TIE_TOLERANCE, _floor_rows, _greedy, joint_design, rank_many
from limelight.bandits.policies import EpsilonGreedy, LinUCB, Softmax, UniformRandom
from limelight.errors import InvalidInput

MAX_ACTION_ID = 256


@dataclass(eq=False)
class ActionTable:
    """Candidate actions checked once and reused by many batch decisions (e.g. every artwork
    variant of the catalogue). Entries are found by a caller's ``key`` (unique); their action
    ids need only be unique within one decision (artwork ids repeat across titles). Immutable:
    ``extended`` makes a bigger copy. Per-point derived data is cached on it."""

    keys: tuple[str, ...]
    ids: tuple[str, ...]
    features: tuple[Mapping[str, FeatureValue], ...]
    index: dict[str, int]
    _derived: dict[tuple[str, int], _Derived] = field(default_factory=dict, repr=False)
    _columns: dict[tuple[str, ...], tuple[int, ...]] = field(default_factory=dict, repr=False)
    #: The table this one extends: its derived data is extended, not recomputed (a catalogue's
    #: variants arrive a few titles at a time while pages warm up).
    _parent: ActionTable | None = field(default=None, repr=False)

    @classmethod
    def build(cls, entries: Iterable[tuple[str, Action]]) -> ActionTable:
        """Check ids (1-256 characters) and features (finite numbers or strings)."""
        return cls((), (), (), {}).extended(entries)

    def extended(self, entries: Iterable[tuple[str, Action]]) -> ActionTable:
        """This table plus ``entries`` (keys already present are refused)."""
        keys, ids, features = list(self.keys), list(self.ids), list(self.features)
        index = dict(self.index)
        for key, action in entries:
            where = f"actions.{key}"
            if key in index:
                raise InvalidInput(f"action key {key!r} appears twice", field=where)
            if not isinstance(action.id, str) or not 0 < len(action.id) <= MAX_ACTION_ID:
                raise InvalidInput("an action id must be a string of 1-256 characters", field=where)
            for name, value in action.features.items():
                if not (
                    isinstance(value, str)
                    or (isinstance(value, int | float) and math.isfinite(float(value)))
                ):
                    raise InvalidInput(
                        "features must be finite numbers or strings",
                        field=f"{where}.features.{name}",
                    )
            index[key] = len(keys)
            keys.append(key)
            ids.append(action.id)
            features.append(dict(action.features))
        table = ActionTable(
            tuple(keys), tuple(ids), tuple(features), index, _parent=self if self.keys else None
        )
        known = self.__dict__.get("feature_groups")
        if known is not None:  # extend this table's numbering rather than redo it on first use
            table.__dict__["feature_groups"] = known.extended(features[len(self) :])
        return table

    def __len__(self) -> int:
        return len(self.keys)

    @cached_property
    def id_array(self) -> np.ndarray:
        """The action ids as an object array (gathered with the same indices as columns)."""
        return np.array(self.ids, dtype=object)

    @cached_property
    def feature_groups(self) -> FeatureGroups:
        """Each action's number among the distinct feature mappings, and those mappings: a
        batch row logs each distinct mapping once (see :mod:`limelight.decisions.batch`)."""
        return FeatureGroups(np.zeros(0, dtype=np.intp), [], {}).extended(self.features)

    def columns(self, keys: Sequence[str]) -> tuple[int, ...]:
        """Positions of ``keys`` (cached per key tuple: a title's variants repeat on every page).

        Raises ``KeyError`` for an unknown key and ``ValueError`` when two keys share an action
        id (a decision's candidates must have distinct ids)."""
        key = keys if isinstance(keys, tuple) else tuple(keys)
        found = self._columns.get(key)
        if found is None:
            found = tuple(self.index[k] for k in key)
            if len({self.ids[c] for c in found}) != len(found):
                raise ValueError("action ids must be unique")
            if len(self._columns) > 100_000:
                self._columns.clear()
            self._columns[key] = found
        return found

    def columns_many(self, lists: Sequence[Sequence[str]]) -> list[tuple[int, ...]]:
        """:meth:`columns` of each entry of ``lists`` (a page's tiles: mostly cached tuples,
        looked up without a call each). Raises ``ValueError`` for an empty entry too."""
        known = self._columns
        out: list[tuple[int, ...]] = []
        for keys in lists:
            found = known.get(keys) if isinstance(keys, tuple) else None
            if found is None:
                if not keys:
                    raise ValueError("at least one action is needed")
                found = self.columns(keys)
            out.append(found)
        return out

    def derived(self, key: tuple[str, int], select: Any) -> _Derived:
        """Each action's selected features and its distinct-combination number, per point
        configuration ``key`` (name, revision); ``select`` is the point's ``action_of``."""
        found = self._derived.get(key)
        if found is None:
            parent = self._parent
            base = parent._derived.get(key) if parent is not None else None
            start = 0 if base is None or parent is None else len(parent)
            selected = [] if base is None else list(base.selected)
            signature_of = {} if base is None else dict(base.signature_of)
            unique = [] if base is None else list(base.unique)
            numbers: list[int] = []
            for features in self.features[start:]:
                chosen = select(features)
                selected.append(chosen)
                mark = signature(chosen)
                number = signature_of.get(mark)
                if number is None:
                    number = signature_of[mark] = len(unique)
                    unique.append(chosen)
                numbers.append(number)
            signatures = np.asarray(numbers, dtype=np.intp)
            if base is not None:
                signatures = np.concatenate([base.signatures, signatures])
            # The design rows depend only on the distinct combinations: kept while none is new.
            same = base is not None and len(unique) == len(base.unique)
            found = _Derived(
                selected,
                signatures,
                unique,
                signature_of,
                base.designs if same and base is not None else {},
            )
            if len(self._derived) > 8:
                self._derived.clear()
            self._derived[key] = found
        if self._parent is not None and len(self._derived) == 1:
            self._parent = None  # extended from: the parent's data is no longer needed
        return found


@dataclass(frozen=True, slots=True)
class FeatureGroups:
    """Actions numbered by their distinct feature mappings (``numbers[i]`` indexes
    ``distinct``); ``number_of`` maps a mapping's sorted items to its number."""

    numbers: np.ndarray
    distinct: list[Mapping[str, FeatureValue]]
    number_of: dict[tuple[Any, ...], int]

    def extended(self, features: Sequence[Mapping[str, FeatureValue]]) -> FeatureGroups:
        """These groups with ``features`` (more actions) numbered after them."""
        distinct, number_of = list(self.distinct), dict(self.number_of)
        numbers = np.empty(len(features), dtype=np.intp)
        for position, mapping in enumerate(features):
            key = signature(mapping)
            number = number_of.get(key)
            if number is None:
                number = number_of[key] = len(distinct)
                distinct.append(mapping)
            numbers[position] = number
        return FeatureGroups(np.concatenate([self.numbers, numbers]), distinct, number_of)


@dataclass(frozen=True, slots=True)
class _Derived:
    selected: list[dict[str, FeatureValue]]
    signatures: np.ndarray
    unique: list[dict[str, FeatureValue]]
    signature_of: dict[tuple[Any, ...], int]
    #: joint design rows of every distinct combination, per context (see ``_design``)
    designs: dict[tuple[Any, ...], tuple[Any, np.ndarray]] = field(default_factory=dict)


def _design(
    policy: EpsilonGreedy | Softmax | LinUCB, context: Features, derived: _Derived
) -> np.ndarray:
    """The joint rows (context x each distinct action combination), cached per context.

    A term's column never changes once the vocabulary holds it, and columns added later belong
    to other terms, so a cached matrix stays exact when padded with zeros to a grown model.
    The cache is tied to the vocabulary object (a reset or reloaded model starts afresh).
    """
    space = policy.scorer.space
    vocabulary = space.vocabulary
    key = signature(context)
    found = derived.designs.get(key)
    if found is None or found[0] is not vocabulary:
        actions = [Action(str(k), features) for k, features in enumerate(derived.unique)]
        matrix = joint_design(space, [context], [actions])[0]
        if len(derived.designs) > 256:
            derived.designs.clear()
        derived.designs[key] = (vocabulary, matrix)
    else:
        matrix = found[1]
    width = max(len(vocabulary), policy.scorer._model("").size)
    if matrix.shape[1] < width:
        matrix = np.pad(matrix, ((0, 0), (0, width - matrix.shape[1])))
        derived.designs[key] = (vocabulary, matrix)
    return matrix


@dataclass(frozen=True, slots=True)
class SharedRanked:
    """Per decision (rows) over its candidates (columns, padded): what was chosen and why."""

    chosen: np.ndarray  # column of the served candidate
    distributions: np.ndarray  # floored; 0 beyond the row's size
    scores: np.ndarray  # mean estimates; -inf beyond the row's size
    explored: np.ndarray  # bool
    sizes: np.ndarray

    def probability(self) -> np.ndarray:
        found: np.ndarray = self.distributions[np.arange(self.chosen.shape[0]), self.chosen]
        return found

    def order(self) -> np.ndarray:
        """Columns by decreasing score, ties by position (padding last)."""
        return np.argsort(-self.scores, axis=1, kind="stable")

    def ranking(self) -> np.ndarray:
        """Columns served first, then the rest by decreasing score, ties by position (padding
        last): ``Ranked.ranking`` row by row."""
        key = -self.scores
        key[np.arange(self.chosen.shape[0]), self.chosen] = -np.inf
        return np.argsort(key, axis=1, kind="stable")


def fast_path(policy: Policy) -> bool:
    """Whether ``rank_shared`` computes this policy's answers itself (else ``rank_many``)."""
    if type(policy) is UniformRandom:
        return True
    if type(policy) in (EpsilonGreedy, Softmax, LinUCB):
        return bool(getattr(policy, "shared", False))
    return False


def rank_shared(
    policy: Policy,
    context: Features,
    table: ActionTable,
    derived: _Derived,
    columns: np.ndarray,
    sizes: np.ndarray,
) -> SharedRanked:
    """Decide every row: row ``i``'s candidates are table actions ``columns[i, :sizes[i]]``."""
    count, width = columns.shape
    mask = np.arange(width) < sizes[:, None]
    if not fast_path(policy):
        return _through_rank_many(policy, context, table, derived, columns, sizes)
    if isinstance(policy, UniformRandom):
        scores = np.where(mask, 0.0, -np.inf)
        proposed = np.where(mask, 1.0 / sizes[:, None], 0.0)
    else:
        assert isinstance(policy, EpsilonGreedy | Softmax | LinUCB)
        inverse = derived.signatures[columns[mask]]
        matrix = _design(policy, context, derived)
        model = policy.scorer._model("")
        means = model.mean(matrix)
        scores = np.full((count, width), -np.inf)
        scores[mask] = means[inverse]
        if isinstance(policy, EpsilonGreedy):
            uniform = np.where(mask, 1.0 / sizes[:, None], 0.0)
            proposed = policy.epsilon * uniform + (1.0 - policy.epsilon) * _greedy(scores, mask)
        elif isinstance(policy, Softmax):
            top = scores.max(axis=1, keepdims=True)
            weights = np.where(
                mask, np.exp((np.where(mask, scores, top) - top) / policy.temperature), 0
            )
            proposed = weights / weights.sum(axis=1, keepdims=True)
        else:
            widths = np.sqrt(np.maximum(model.variance(matrix), 0.0))
            bounds = np.full((count, width), -np.inf)
            bounds[mask] = (means + policy.alpha * widths)[inverse]
            proposed = _greedy(bounds, mask)
    distributions = _floor_rows(proposed, sizes, policy.min_probability)
    draws = policy._rng.random(count)
    cumulative = np.cumsum(distributions, axis=1)
    totals = cumulative[np.arange(count), sizes - 1]
    below = (cumulative <= (draws * totals)[:, None]) & mask
    chosen = np.minimum(below.sum(axis=1), sizes - 1)
    rows = np.arange(count)
    for i in np.flatnonzero(distributions[rows, chosen] <= 0.0):  # never a zero-mass pick
        chosen[i] = int(np.flatnonzero(distributions[i] > 0.0)[-1])
    if isinstance(policy, UniformRandom):
        explored = np.ones(count, dtype=bool)
    else:
        top = scores.max(axis=1)
        explored = scores[rows, chosen] < top - TIE_TOLERANCE * np.maximum(1.0, np.abs(top))
    return SharedRanked(chosen, distributions, scores, explored, sizes)


def _through_rank_many(
    policy: Policy,
    context: Features,
    table: ActionTable,
    derived: _Derived,
    columns: np.ndarray,
    sizes: np.ndarray,
) -> SharedRanked:
    """The general path: one ``rank_many`` over the same decisions, packed the same way."""
    count, width = columns.shape
    action_lists: list[Sequence[Action]] = [
        [Action(table.ids[int(c)], derived.selected[int(c)]) for c in columns[i, : int(sizes[i])]]
        for i in range(count)
    ]
    ranked = rank_many(policy, [context] * count, action_lists, [1] * count)
    distributions = np.zeros((count, width))
    scores = np.full((count, width), -np.inf)
    for i, one in enumerate(ranked):
        distributions[i, : int(sizes[i])] = one.distribution
        scores[i, : int(sizes[i])] = one.scores
    chosen = np.array([one.chosen[0] for one in ranked], dtype=np.intp)
    explored = np.array([one.explored for one in ranked], dtype=bool)
    return SharedRanked(chosen, distributions, scores, explored, sizes)


__all__ = ["ActionTable", "SharedRanked", "fast_path", "rank_shared"]
