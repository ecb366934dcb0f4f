"""Item-item neighbours: "people who watched this also watched".

Similarities come from the item x item co-occurrence ``X^T X`` of the (binarised) user x item
matrix, computed in blocks of items so that no dense items x items array is ever built; each
item keeps only its ``neighbours`` most similar items (a sparse matrix ``W``). A person's score
for item ``i`` is the sum of ``W[j, i]`` over the items ``j`` in their history.

``shrinkage`` damps similarities supported by few co-watchers (a pair seen together twice is
not evidence of much): cosine uses ``c_ij / (sqrt(n_i n_j) + shrinkage)``, co-occurrence uses the
conditional probability ``c_ij / (n_i + shrinkage)``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.sparse as sp

from limelight.candidates.base import (
    BLOCK_CELLS,
    CandidateSource,
    ScoreArray,
    csr_row_sum,
    require,
)
from limelight.candidates.data import FloatArray, IntArray, Interactions

Similarity = Literal["cosine", "cooccurrence"]


def neighbour_matrix(
    matrix: sp.csr_matrix, similarity: Similarity, neighbours: int, shrinkage: float
) -> sp.csr_matrix:
    """Sparse items x items matrix of each item's top ``neighbours`` similarities."""
    n_items = matrix.shape[1]
    by_item = matrix.T.tocsr()
    norms = np.asarray(matrix.multiply(matrix).sum(axis=0), dtype=np.float64).ravel()
    k = min(neighbours, max(n_items - 1, 1))
    size = max(1, BLOCK_CELLS // max(n_items, 1))
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []
    for start in range(0, n_items, size):
        stop = min(start + size, n_items)
        block = np.asarray((by_item[start:stop] @ matrix).toarray(), dtype=np.float64)
        if similarity == "cosine":
            block /= np.sqrt(np.outer(norms[start:stop], norms)) + shrinkage + 1e-12
        else:
            block /= norms[start:stop, None] + shrinkage + 1e-12
        local = np.arange(stop - start)
        block[local, local + start] = 0.0
        top = np.argpartition(-block, k - 1, axis=1)[:, :k] if k < n_items else None
        if top is None:
            top = np.broadcast_to(np.arange(n_items), block.shape)
        values = np.take_along_axis(block, top, axis=1)
        keep = values > 0
        rows.append(np.repeat(local + start, keep.sum(axis=1)))
        cols.append(top[keep])
        vals.append(values[keep])
    weights = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_items, n_items),
        dtype=np.float32,
    )
    weights.sort_indices()
    return weights


class ItemKNN(CandidateSource):
    """Item-based nearest neighbours with shrinkage.

    >>> from limelight.candidates.data import Interactions
    >>> log = Interactions.from_arrays(list("aabbc"), list("xyxyz"))
    >>> ItemKNN(neighbours=5).fit(log).similar_items("x", n=1).ids
    [['y']]
    """

    weights_: sp.csr_matrix

    def __init__(
        self,
        similarity: Similarity = "cosine",
        neighbours: int = 100,
        shrinkage: float = 10.0,
        binary: bool = True,
    ) -> None:
        self.similarity = similarity
        self.neighbours = neighbours
        self.shrinkage = shrinkage
        self.binary = binary

    def _validate_params(self) -> None:
        require(self.similarity in ("cosine", "cooccurrence"), "unknown similarity", "similarity")
        require(self.neighbours >= 1, "neighbours must be at least 1", "neighbours")
        require(self.shrinkage >= 0, "shrinkage must be non-negative", "shrinkage")

    def _input(self, interactions: Interactions) -> sp.csr_matrix:
        matrix = interactions.matrix.copy()
        if self.binary:
            matrix.data[:] = 1.0
        return matrix

    def _fit(self, interactions: Interactions) -> None:
        self.user_matrix_ = self._input(interactions)
        self.weights_ = neighbour_matrix(
            self.user_matrix_, self.similarity, self.neighbours, self.shrinkage
        )

    def _score_rows(self, rows: IntArray) -> ScoreArray:
        return np.asarray((self.user_matrix_[rows] @ self.weights_).toarray(), dtype=np.float32)

    def _score_history(self, items: IntArray, timestamps: FloatArray) -> ScoreArray:
        return csr_row_sum(self.weights_, np.unique(items))

    def _similar(self, item: int) -> ScoreArray:
        # The row from its slices: scipy's row indexing builds a matrix first (~10x the time).
        weights = self.weights_
        start, stop = weights.indptr[item], weights.indptr[item + 1]
        row = np.zeros(weights.shape[1], dtype=np.float32)
        row[weights.indices[start:stop]] = weights.data[start:stop]
        return row
