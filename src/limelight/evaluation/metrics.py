"""Offline ranking metrics, computed over whole batches of top-k lists at once.

Lists are rows of item indices (-1 pads a short list); what each person actually did next is a
sparse ``people x items`` matrix of relevant items. Relevance is binary.

* HR@K: share of people with at least one relevant item in their top K.
* Recall@K: relevant items found in the top K over all of that person's relevant items.
* Precision@K: relevant items found in the top K over K.
* NDCG@K: DCG with gain 1 and discount ``log2(rank + 1)``, over the DCG of the ideal list
  (``min(K, relevant)`` hits first).
* MRR: mean of ``1 / rank`` of the first relevant item in the list given (0 when none).
* Coverage: share of the catalogue that appears in anyone's list.
* Novelty: mean self-information ``-log2(share of training users who watched the item)``.
* Intra-list diversity: mean pairwise ``1 - cosine`` of the items' genre vectors within a list.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.preprocessing import normalize

from limelight.candidates.data import FloatArray, IntArray

MetricValues = dict[str, float]


def hits(recommended: IntArray, relevant: sp.csr_matrix) -> NDArray[np.bool_]:
    """Boolean matrix: whether each recommended item is relevant to that row's person."""
    recommended = np.atleast_2d(recommended)
    n_items = relevant.shape[1]
    rows = np.repeat(np.arange(relevant.shape[0]), np.diff(relevant.indptr))
    truth = rows.astype(np.int64) * n_items + relevant.indices
    keys = np.arange(recommended.shape[0])[:, None] * n_items + recommended
    found = np.isin(keys, truth)
    found &= recommended >= 0
    return found


def ranking_metrics(
    recommended: IntArray, relevant: sp.csr_matrix, ks: tuple[int, ...] = (10,)
) -> MetricValues:
    """HR, Recall, Precision and NDCG at each K, and MRR over the whole list, averaged over
    the people (rows) with at least one relevant item."""
    relevant = sp.csr_matrix(relevant)
    counts = np.diff(relevant.indptr)
    rows = counts > 0
    found = hits(recommended, relevant)[rows]
    counts = counts[rows]
    out: MetricValues = {}
    discount = 1.0 / np.log2(np.arange(found.shape[1]) + 2.0)
    for k in ks:
        top = found[:, :k]
        n_hits = top.sum(axis=1)
        ideal = np.cumsum(1.0 / np.log2(np.arange(k) + 2.0))[np.minimum(counts, k) - 1]
        out[f"hr@{k}"] = float(np.mean(n_hits > 0))
        out[f"recall@{k}"] = float(np.mean(n_hits / counts))
        out[f"precision@{k}"] = float(np.mean(n_hits / k))
        out[f"ndcg@{k}"] = float(np.mean((top * discount[: top.shape[1]]).sum(axis=1) / ideal))
    first = np.where(found.any(axis=1), found.argmax(axis=1) + 1.0, np.inf)
    out["mrr"] = float(np.mean(1.0 / first))
    return out


def coverage(recommended: IntArray, n_catalogue: int) -> float:
    """Share of the catalogue recommended to anyone."""
    shown = np.unique(recommended[recommended >= 0])
    return float(shown.size / n_catalogue) if n_catalogue else 0.0


def novelty(recommended: IntArray, item_counts: FloatArray, n_users: int) -> float:
    """Mean self-information of recommended items (higher: less obvious titles)."""
    chosen = recommended[recommended >= 0]
    if chosen.size == 0:
        return 0.0
    share = np.maximum(item_counts[chosen], 1.0) / max(n_users, 1)
    return float(np.mean(-np.log2(share)))


def intra_list_diversity(recommended: IntArray, item_genres: sp.csr_matrix) -> float:
    """Mean pairwise ``1 - cosine`` of genre vectors within each list (items without genres
    count as unlike everything)."""
    vectors = sp.csr_matrix(normalize(item_genres), dtype=np.float64)
    scores: list[float] = []
    for row in np.atleast_2d(recommended):
        items = row[row >= 0]
        k = items.size
        if k < 2:
            continue
        chosen = vectors[items]
        total = np.asarray(chosen.sum(axis=0)).ravel()
        self_sim = float(chosen.multiply(chosen).sum())
        mean_cos = (float(total @ total) - self_sim) / (k * (k - 1))
        scores.append(1.0 - mean_cos)
    return float(np.mean(scores)) if scores else 0.0


def genre_matrix(genres: list[tuple[str, ...]]) -> sp.csr_matrix:
    """Items x genres one-hot matrix from each item's genres."""
    names = sorted({g for item in genres for g in item})
    column = {g: j for j, g in enumerate(names)}
    rows = [i for i, item in enumerate(genres) for _ in item]
    cols = [column[g] for item in genres for g in item]
    return sp.csr_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(len(genres), max(len(names), 1))
    )
