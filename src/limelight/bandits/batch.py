"""Rank many decisions of one policy at once, with the same numbers and draws as one at a time.

Why: a homepage decides the artwork of ~200 tiles per page view. ``Policy.rank`` spends most of
its ~100-200 microseconds per call in Python overhead around tiny matrix products; here the
feature rows of every candidate of every decision are built into one matrix, the reward
estimates and confidence widths come from one matrix product each, and the distributions,
the propensity floor and the draws are computed row-wise on padded arrays.

The contract with ``Policy.rank``: for the same state, ``rank_many`` consumes the policy's random
generator in the same order (decision by decision, slot by slot; Thompson sampling's Monte Carlo
draws before each decision's own draw), grows the feature vocabulary in the same order, applies
the same floor and the same inverse-CDF draw, so the chosen actions are the same and the
probabilities agree to the last few bits (the matrix products are blocked differently). Policies
without a fast path (Vowpal Wabbit, subclasses) go through their own ``_propose`` one decision at
a time, which is exactly what ``rank`` does.

Several slots: slot 1 is drawn from the floored distribution ``p``; each next slot from ``p``
restricted to the actions not yet chosen and renormalized. The probability logged for slot ``k``
is that conditional probability, ``p_a / (1 - sum of p over the slots above)``: exact for the
draw that was made, and never below the floor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from weakref import WeakKeyDictionary

import numpy as np

from limelight.bandits.base import Action, Features, Policy, apply_floor
from limelight.bandits.features import BIAS, FeatureSpace, Vocabulary, terms
from limelight.bandits.linear import LinearScorer
from limelight.bandits.policies import EpsilonGreedy, LinearThompson, LinUCB, Softmax, UniformRandom
from limelight.bandits.policies.thompson import (
    difference_factor,
    to_differences,
    without_draws,
)

#: Below this many decisions, feature rows are built term by term (array set-up would cost more
#: than it saves); the numbers are the same either way.
BATCH_FROM = 8
#: Scores this close to the best (relative to max(1, |best|)) tie with it and share the greedy
#: mass. ``Policy.rank`` compares exactly, so among truly equal candidates (an untrained model,
#: identical features in other columns) the last bit of rounding picks a winner, and it picks
#: differently when the same numbers are summed in another order (a batch); here it does not.
TIE_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Ranked:
    """One decision: candidate indices served (slot order) and how likely each pick was."""

    chosen: tuple[int, ...]
    probabilities: tuple[float, ...]
    distribution: np.ndarray  # the floored distribution slot 1 was drawn from
    scores: np.ndarray
    ranking: tuple[int, ...]
    explored: bool


def rank_many(
    policy: Policy,
    contexts: Sequence[Features],
    action_lists: Sequence[Sequence[Action]],
    slots: Sequence[int],
) -> list[Ranked]:
    """``rank`` for each (context, actions), filling ``slots[i]`` slots (see the module doc)."""
    if not contexts:
        return []
    sizes = np.array([len(actions) for actions in action_lists])
    kind = type(policy)
    if kind in (EpsilonGreedy, Softmax, LinUCB, UniformRandom):
        scores, proposed = _vectorized(policy, contexts, action_lists, sizes)
        distributions = _floor_rows(proposed, sizes, policy.min_probability)
        draws = policy._rng.random(int(sum(slots)))
        return _assemble(policy, scores, distributions, sizes, slots, draws)
    ranked: list[Ranked] = []
    if kind is LinearThompson:
        assert isinstance(policy, LinearThompson)
        return _thompson(policy, contexts, action_lists, sizes, slots)
    for context, actions, count in zip(contexts, action_lists, slots, strict=True):
        row, proposal = policy._propose(context, tuple(actions))
        ranked.append(_one(policy, row, proposal, int(count)))
    return ranked


# -- reward estimates for every candidate at once ------------------------------------------


@dataclass(slots=True)
class _Design:
    """Candidate rows of all decisions: ``matrix[offsets[i]:offsets[i+1]]`` is decision ``i``."""

    matrix: np.ndarray
    offsets: np.ndarray


def joint_design(
    space: FeatureSpace, contexts: Sequence[Features], action_lists: Sequence[Sequence[Action]]
) -> tuple[np.ndarray, np.ndarray]:
    """``space.joint_matrix`` of every decision, stacked, growing the vocabulary in the same
    order; rows ``offsets[i]:offsets[i+1]`` belong to decision ``i``."""
    design = _joint_design(space, contexts, action_lists)
    return design.matrix, design.offsets


class _Crossed:
    """Column of ``context term * action term`` by the pair of the two terms' columns.

    The crossed names are the costliest strings to build; a vocabulary only ever grows, so a
    pair's column never changes once known. ``keys``/``columns`` are the same map as sorted
    arrays, for looking up every pair of a batch with one ``searchsorted``.
    """

    def __init__(self) -> None:
        self.map: dict[int, int] = {}
        self.keys = np.zeros(0, dtype=np.int64)
        self.columns = np.zeros(0, dtype=np.intp)
        self.stale = False

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if self.stale:
            keys = np.fromiter(self.map.keys(), dtype=np.int64, count=len(self.map))
            columns = np.fromiter(self.map.values(), dtype=np.intp, count=len(self.map))
            order = np.argsort(keys)
            self.keys, self.columns, self.stale = keys[order], columns[order], False
        return self.keys, self.columns


_CROSSED: WeakKeyDictionary[Vocabulary, _Crossed] = WeakKeyDictionary()


def _joint_design(
    space: FeatureSpace, contexts: Sequence[Features], action_lists: Sequence[Sequence[Action]]
) -> _Design:
    """Two paths with one result. Decisions whose every term and crossed pair the vocabulary
    already knows are built with array operations; the others (new terms) one by one in
    decision order, calling ``Vocabulary.index`` exactly as ``FeatureSpace.joint_vector``
    would, so that new columns are numbered as the sequential path numbers them."""
    vocabulary = space.vocabulary
    known = vocabulary._index  # read-only lookups; new terms go through ``index`` below
    crossed = _CROSSED.get(vocabulary)
    if crossed is None:
        crossed = _CROSSED[vocabulary] = _Crossed()
    bias = vocabulary.index(BIAS)
    sizes = [len(actions) for actions in action_lists]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.intp)
    # Phase 1: terms of every decision, and whether all of them are known.
    context_terms = [terms(context) for context in contexts]
    action_terms = [[terms(a.features) for a in actions] for actions in action_lists]
    fast: list[int] = []
    slow: list[int] = []
    for i, (found, per_action) in enumerate(zip(context_terms, action_terms, strict=True)):
        names = [name for name, _ in found]
        names.extend(name for pairs in per_action for name, _ in pairs)
        few = len(contexts) < BATCH_FROM
        (fast if not few and all(name in known for name in names) else slow).append(i)
    rows_out: list[np.ndarray] = []
    columns_out: list[np.ndarray] = []
    values_out: list[np.ndarray] = []
    if fast:
        fast, late = _fast_rows(
            fast,
            offsets,
            context_terms,
            action_terms,
            known,
            crossed,
            bias,
            rows_out,
            columns_out,
            values_out,
        )
        slow = sorted(slow + late)
    for i in slow:
        _slow_rows(
            int(offsets[i]),
            context_terms[i],
            action_terms[i],
            vocabulary,
            crossed,
            bias,
            rows_out,
            columns_out,
            values_out,
        )
    width = len(vocabulary)
    total = int(offsets[-1])
    matrix: np.ndarray = np.zeros((total, width))
    if rows_out:  # bincount sums repeated (row, column) entries as ``np.add.at`` would
        flat = np.concatenate(rows_out) * width + np.concatenate(columns_out)
        summed = np.bincount(flat, weights=np.concatenate(values_out), minlength=total * width)
        matrix = summed.reshape(total, width)
    return _Design(matrix, offsets)


def _fast_rows(
    chosen: list[int],
    offsets: np.ndarray,
    context_terms: list[list[tuple[str, float]]],
    action_terms: list[list[list[tuple[str, float]]]],
    known: dict[str, int],
    crossed: _Crossed,
    bias: int,
    rows_out: list[np.ndarray],
    columns_out: list[np.ndarray],
    values_out: list[np.ndarray],
) -> tuple[list[int], list[int]]:
    """Entries of the decisions whose terms are all known, with array operations. Decisions
    with a context x action pair not cached yet are handed back (to the ordered path)."""
    c_columns: list[int] = []
    c_values: list[float] = []
    c_start: list[int] = []
    c_count: list[int] = []
    a_columns: list[int] = []
    a_values: list[float] = []
    row_ids: list[int] = []
    row_decision: list[int] = []
    a_start: list[int] = []
    a_count: list[int] = []
    for position, i in enumerate(chosen):
        start = len(c_columns)
        for name, value in context_terms[i]:
            c_columns.append(known[name])
            c_values.append(value)
        for j, action_pairs in enumerate(action_terms[i]):
            row_ids.append(int(offsets[i]) + j)
            row_decision.append(position)
            c_start.append(start)
            c_count.append(len(context_terms[i]))
            a_start.append(len(a_columns))
            a_count.append(len(action_pairs))
            for name, value in action_pairs:
                a_columns.append(known[name])
                a_values.append(value)
    rows = np.array(row_ids, dtype=np.intp)
    owner = np.array(row_decision, dtype=np.intp)
    cs, cn = np.array(c_start, dtype=np.intp), np.array(c_count, dtype=np.intp)
    as_, an = np.array(a_start, dtype=np.intp), np.array(a_count, dtype=np.intp)
    cc, cv = np.array(c_columns, dtype=np.int64), np.array(c_values)
    ac, av = np.array(a_columns, dtype=np.int64), np.array(a_values)
    # Every (context term, action term) pair of every row, context-major as in the sequence.
    pair_counts = cn * an
    pair_row = np.repeat(np.arange(rows.shape[0]), pair_counts)
    local = np.arange(pair_row.shape[0]) - np.repeat(
        np.cumsum(pair_counts) - pair_counts, pair_counts
    )
    c_index = cs[pair_row] + local // np.maximum(an[pair_row], 1)
    a_index = as_[pair_row] + local % np.maximum(an[pair_row], 1)
    keys = (cc[c_index] << 32) | ac[a_index]
    table_keys, table_columns = crossed.arrays()
    where = np.searchsorted(table_keys, keys)
    where = np.minimum(where, max(table_keys.shape[0] - 1, 0))
    hit = (table_keys[where] == keys) if table_keys.shape[0] else np.zeros(keys.shape, dtype=bool)
    missing = np.unique(owner[pair_row[~hit]])
    late = [chosen[int(k)] for k in missing]
    if late:
        keep_row = ~np.isin(owner, missing)
        keep_pair = keep_row[pair_row]
    else:
        keep_row = np.ones(rows.shape[0], dtype=bool)
        keep_pair = np.ones(pair_row.shape[0], dtype=bool)
    kept_rows = rows[keep_row]
    # bias, context terms, action terms, crossed terms of each kept row
    rows_out.append(kept_rows)
    columns_out.append(np.full(kept_rows.shape[0], bias, dtype=np.int64))
    values_out.append(np.ones(kept_rows.shape[0]))
    for first_of_row, count, source_columns, source_values in (
        (cs, cn, cc, cv),
        (as_, an, ac, av),
    ):
        counts = count[keep_row]
        entry_row = np.repeat(kept_rows, counts)
        first = np.repeat(first_of_row[keep_row], counts)
        step = np.arange(entry_row.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
        rows_out.append(entry_row)
        columns_out.append(source_columns[first + step])
        values_out.append(source_values[first + step])
    rows_out.append(rows[pair_row[keep_pair]])
    columns_out.append(table_columns[where[keep_pair]].astype(np.int64))
    values_out.append(cv[c_index[keep_pair]] * av[a_index[keep_pair]])
    dropped = set(missing.tolist())
    kept = [chosen[k] for k in range(len(chosen)) if k not in dropped]
    return kept, late


def _slow_rows(
    first_row: int,
    context_terms: list[tuple[str, float]],
    action_terms: list[list[tuple[str, float]]],
    vocabulary: Vocabulary,
    crossed: _Crossed,
    bias: int,
    rows_out: list[np.ndarray],
    columns_out: list[np.ndarray],
    values_out: list[np.ndarray],
) -> None:
    """One decision's entries in ``FeatureSpace._joint``'s exact order of ``index`` calls."""
    index = vocabulary.index
    context_columns = [index(name) for name, _ in context_terms]
    for j, pairs in enumerate(action_terms):
        action_columns = [index(name) for name, _ in pairs]
        row_columns = [bias, *context_columns, *action_columns]
        row_values = [1.0, *(v for _, v in context_terms), *(v for _, v in pairs)]
        for (c_name, c_value), c_column in zip(context_terms, context_columns, strict=True):
            for (a_name, a_value), a_column in zip(pairs, action_columns, strict=True):
                key = (c_column << 32) | a_column
                column = crossed.map.get(key)
                if column is None:
                    column = crossed.map[key] = index(f"{c_name}*{a_name}")
                    crossed.stale = True
                row_columns.append(column)
                row_values.append(c_value * a_value)
        rows_out.append(np.full(len(row_columns), first_row + j, dtype=np.intp))
        columns_out.append(np.array(row_columns, dtype=np.int64))
        values_out.append(np.array(row_values))


def _context_design(scorer: LinearScorer, contexts: Sequence[Features]) -> np.ndarray:
    """``FeatureSpace.context_vector`` of each decision, one row each."""
    vocabulary = scorer.space.vocabulary
    entries = []
    for context in contexts:
        pairs = [(BIAS, 1.0), *terms(context)]
        entries.append(([vocabulary.index(name) for name, _ in pairs], [v for _, v in pairs]))
    matrix = np.zeros((len(contexts), len(vocabulary)))
    for i, (columns, values) in enumerate(entries):
        np.add.at(matrix[i], columns, values)
    return matrix


def _padded(values: np.ndarray, sizes: np.ndarray, fill: float) -> np.ndarray:
    """Flat per-candidate values to a (decisions x most candidates) array."""
    width = int(sizes.max())
    mask = np.arange(width) < sizes[:, None]
    padded = np.full((sizes.shape[0], width), fill)
    padded[mask] = values
    return padded


def _linear_estimates(
    scorer: LinearScorer,
    contexts: Sequence[Features],
    action_lists: Sequence[Sequence[Action]],
    sizes: np.ndarray,
    *,
    variances: bool,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Mean estimates (and ``x' A^-1 x``) of every candidate, flat in decision order."""
    if scorer.shared:
        design = _joint_design(scorer.space, contexts, action_lists)
        model = scorer._model("")
        return model.mean(design.matrix), (model.variance(design.matrix) if variances else None)
    context_rows = _context_design(scorer, contexts)
    owner = np.repeat(np.arange(len(contexts)), sizes)
    keys = [action.id for actions in action_lists for action in actions]
    groups: dict[str, list[int]] = {}
    for position, key in enumerate(keys):
        groups.setdefault(key, []).append(position)
    means = np.empty(len(keys))
    widths = np.empty(len(keys)) if variances else None
    for key, positions in groups.items():
        model = scorer._model(key)
        rows = context_rows[owner[positions]]
        means[positions] = model.mean(rows)
        if widths is not None:
            widths[positions] = model.variance(rows)
    return means, widths


def _vectorized(
    policy: Policy,
    contexts: Sequence[Features],
    action_lists: Sequence[Sequence[Action]],
    sizes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Scores and pre-floor distributions, padded (-inf scores, 0 probability beyond K)."""
    width = int(sizes.max())
    mask = np.arange(width) < sizes[:, None]
    if isinstance(policy, UniformRandom):
        scores = np.where(mask, 0.0, -np.inf)
        return scores, np.where(mask, 1.0 / sizes[:, None], 0.0)
    assert isinstance(policy, EpsilonGreedy | Softmax | LinUCB)
    linucb = isinstance(policy, LinUCB)
    flat_means, flat_variances = _linear_estimates(
        policy.scorer, contexts, action_lists, sizes, variances=linucb
    )
    scores = _padded(flat_means, sizes, -np.inf)
    if isinstance(policy, EpsilonGreedy):
        uniform = np.where(mask, 1.0 / sizes[:, None], 0.0)
        return scores, policy.epsilon * uniform + (1.0 - policy.epsilon) * _greedy(scores, mask)
    if isinstance(policy, Softmax):
        top = scores.max(axis=1, keepdims=True)
        weights = np.where(
            mask, np.exp((np.where(mask, scores, top) - top) / policy.temperature), 0
        )
        return scores, weights / weights.sum(axis=1, keepdims=True)
    assert flat_variances is not None
    widths = np.sqrt(np.maximum(flat_variances, 0.0))
    bounds = _padded(flat_means + policy.alpha * widths, sizes, -np.inf)
    return scores, _greedy(bounds, mask)


def _greedy(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``greedy_distribution`` row by row: the mass split evenly among the (nearly) tied best."""
    top = scores.max(axis=1, keepdims=True)
    best = (scores >= top - TIE_TOLERANCE * np.maximum(1.0, np.abs(top))) & mask
    distribution: np.ndarray = best / best.sum(axis=1, keepdims=True)
    return distribution


def _thompson_inputs(
    policy: LinearThompson,
    contexts: Sequence[Features],
    action_lists: Sequence[Sequence[Action]],
    sizes: np.ndarray,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Means (padded) and each decision's joint covariance ``X A^-1 X'`` (no noise scale)."""
    scorer = policy.scorer
    if not scorer.shared:
        means, variances = _linear_estimates(scorer, contexts, action_lists, sizes, variances=True)
        assert variances is not None
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        return _padded(means, sizes, -np.inf), [
            np.diag(variances[bounds[i] : bounds[i + 1]]) for i in range(len(contexts))
        ]
    design = _joint_design(scorer.space, contexts, action_lists)
    model = scorer._model("")
    flat_means = model.mean(design.matrix)
    projected = design.matrix @ model.inverse
    blocks = [
        projected[start:stop] @ design.matrix[start:stop].T
        for start, stop in zip(design.offsets[:-1], design.offsets[1:], strict=True)
    ]
    return _padded(flat_means, sizes, -np.inf), blocks


def _thompson(
    policy: LinearThompson,
    contexts: Sequence[Features],
    action_lists: Sequence[Sequence[Action]],
    sizes: np.ndarray,
    slots: Sequence[int],
) -> list[Ranked]:
    """Thompson sampling's probability of being best, for many decisions.

    The generator is read decision by decision exactly as ``rank`` reads it (the Monte Carlo
    normals of a decision with more than two candidates, then its slot draws), and kept; the
    arithmetic on those numbers (the factors of ``difference_factor``, sampled scores, argmax
    counts) is then done for all decisions at once. Two candidates (or two contenders) use the
    closed form and a clear winner its shortcut (``without_draws``), as ``best_of_differences``
    does, and read nothing from the generator.
    """
    means, covariances = _thompson_inputs(policy, contexts, action_lists, sizes)
    width = int(sizes.max())
    proposals = np.zeros((sizes.shape[0], width))
    sampled: list[tuple[int, list[int], np.ndarray, np.ndarray, np.ndarray]] = []
    draws: list[np.ndarray] = []
    scale = policy.scale**2
    for i, k in enumerate(sizes.tolist()):
        if k == 1:
            proposals[i, 0] = 1.0
        else:
            members, gaps, spread = policy.reduced(
                *to_differences(means[i, :k], scale * covariances[i])
            )
            settled = without_draws(k, members, gaps, spread)
            if settled is not None:
                proposals[i, :k] = settled
            else:
                sampled.append((i, members, gaps, spread, policy.normals(len(members) - 1)))
        draws.append(policy._rng.random(int(slots[i])))
    if sampled:
        rows = np.array([i for i, *_ in sampled])
        mixings = np.zeros((rows.shape[0], width - 1, width))
        shifts = np.full((rows.shape[0], width), -np.inf)  # padding never wins the argmax
        normals = np.zeros((rows.shape[0], policy.n_draws, width - 1))
        for j, (_, _, gaps, spread, noise) in enumerate(sampled):
            k = gaps.shape[0] + 1
            mixings[j, : k - 1, 1:k] = difference_factor(spread)
            shifts[j, 0] = 0.0
            shifts[j, 1:k] = gaps
            normals[j, :, : k - 1] = noise.T
        scores = normals @ mixings
        scores += shifts[:, None, :]
        best = scores.argmax(axis=2) + (np.arange(rows.shape[0]) * width)[:, None]
        counts = np.bincount(best.ravel(), minlength=rows.shape[0] * width)
        counted = counts.reshape(rows.shape[0], width) / policy.n_draws
        for j, (i, members, *_) in enumerate(sampled):
            proposals[i, members] = counted[j, : len(members)]
    distributions = _floor_rows(proposals, sizes, policy.min_probability)
    return _assemble(policy, means, distributions, sizes, slots, np.concatenate(draws))


# -- floor, draws and the result ------------------------------------------------------------


def _floor_rows(proposed: np.ndarray, sizes: np.ndarray, floor: float) -> np.ndarray:
    """``apply_floor`` row by row (the same operations, so the same bits)."""
    mask = np.arange(proposed.shape[1]) < sizes[:, None]
    uniform = 1.0 / sizes
    target = np.minimum(floor, uniform)
    smallest = np.where(mask, proposed, np.inf).min(axis=1)
    lift = smallest < target
    if not lift.any():
        return proposed
    gamma = np.where(lift, (target - smallest) / np.where(lift, uniform - smallest, 1.0), 0.0)
    mixed = (1.0 - gamma[:, None]) * proposed + (gamma / sizes)[:, None]
    return np.where(lift[:, None] & mask, mixed, proposed)


def _explored(policy: Policy, scores: np.ndarray, index: int) -> bool:
    """``Policy._explored`` (the pick is not the best estimate), with the same tolerance for
    ties as the greedy distributions; policies with their own rule keep it."""
    if type(policy)._explored is not Policy._explored:
        return policy._explored(scores, index)
    top = float(scores.max())
    return bool(scores[index] < top - TIE_TOLERANCE * max(1.0, abs(top)))


def _pick(distribution: np.ndarray, draw: float) -> int:
    """``Policy._draw``'s inverse-CDF pick (never an action of probability 0)."""
    cumulative = np.cumsum(distribution)
    position = int(np.searchsorted(cumulative, draw * cumulative[-1], "right"))
    if position >= distribution.shape[0] or distribution[position] <= 0.0:
        position = int(np.flatnonzero(distribution > 0.0)[-1])
    return position


def _slots(
    policy: Policy, scores: np.ndarray, distribution: np.ndarray, count: int, draws: np.ndarray
) -> Ranked:
    remaining = distribution.copy()
    chosen: list[int] = []
    probabilities: list[float] = []
    explored = False
    for k in range(count):
        total = remaining.sum() if k else 1.0
        index = _pick(remaining, float(draws[k]))
        probabilities.append(
            float(distribution[index]) if k == 0 else float(remaining[index] / total)
        )
        left = [i for i in range(scores.shape[0]) if i not in chosen]
        explored = explored or _explored(policy, scores[left], left.index(index))
        chosen.append(index)
        remaining[index] = 0.0
    rest = sorted(
        (i for i in range(scores.shape[0]) if i not in chosen), key=lambda i: (-scores[i], i)
    )
    return Ranked(
        tuple(chosen), tuple(probabilities), distribution, scores, (*chosen, *rest), explored
    )


def _one(policy: Policy, scores: np.ndarray, proposal: np.ndarray, count: int) -> Ranked:
    distribution = apply_floor(proposal, policy.min_probability)
    return _slots(policy, scores, distribution, count, policy._rng.random(count))


def _assemble(
    policy: Policy,
    scores: np.ndarray,
    distributions: np.ndarray,
    sizes: np.ndarray,
    slots: Sequence[int],
    draws: np.ndarray,
) -> list[Ranked]:
    """Single-slot decisions vectorized; several slots one by one (same draws either way)."""
    counts = np.asarray(slots)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    width = distributions.shape[1]
    cumulative = np.cumsum(distributions, axis=1)
    totals = cumulative[np.arange(sizes.shape[0]), sizes - 1]
    below = (cumulative <= (draws[starts] * totals)[:, None]) & (np.arange(width) < sizes[:, None])
    picks = np.minimum(below.sum(axis=1), sizes - 1)
    ranked: list[Ranked] = []
    for i, k in enumerate(sizes.tolist()):
        row_scores = scores[i, :k]
        row = distributions[i, :k]
        index = int(picks[i])
        if counts[i] != 1 or row[index] <= 0.0:
            ranked.append(_slots(policy, row_scores, row, int(counts[i]), draws[starts[i] :]))
            continue
        order = np.lexsort((np.arange(k), -row_scores))
        rest = tuple(int(j) for j in order if j != index)
        ranked.append(
            Ranked(
                (index,),
                (float(row[index]),),
                row,
                row_scores,
                (index, *rest),
                _explored(policy, row_scores, index),
            )
        )
    return ranked
