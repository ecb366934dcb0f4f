"""EASE (Steck 2019): a closed-form linear item-item model.

``B = I - P / diag(P)`` with ``P = (X^T X + l2 I)^-1`` and a zero diagonal; a person's scores are
their history row times ``B``. The Gram matrix is items x items (dense, fine for catalogues of
tens of thousands of titles); nothing is users x items.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from numpy.typing import NDArray

from limelight.candidates.base import CandidateSource, ScoreArray, require
from limelight.candidates.data import FloatArray, IntArray, Interactions


class EASE(CandidateSource):
    """Embarrassingly shallow autoencoder.

    >>> from limelight.candidates.data import Interactions
    >>> log = Interactions.from_arrays(list("aabbc"), list("xyxyz"))
    >>> EASE(l2=1.0).fit(log).recommend(["a"], n=1, exclude_seen=False).ids
    [['x']]
    """

    weights_: NDArray[np.float32]

    def __init__(self, l2: float = 500.0, binary: bool = True) -> None:
        self.l2 = l2
        self.binary = binary

    def _validate_params(self) -> None:
        require(self.l2 > 0, "l2 must be positive", "l2")

    def _fit(self, interactions: Interactions) -> None:
        matrix = interactions.matrix.copy()
        if self.binary:
            matrix.data[:] = 1.0
        self.user_matrix_ = matrix
        gram = np.asarray((matrix.T @ matrix).toarray(), dtype=np.float64)
        gram[np.diag_indices_from(gram)] += self.l2
        precision = scipy.linalg.inv(gram, overwrite_a=True, check_finite=False)
        weights = -precision / np.diag(precision)
        weights[np.diag_indices_from(weights)] = 0.0
        self.weights_ = weights.astype(np.float32)

    def _score_rows(self, rows: IntArray) -> ScoreArray:
        return np.asarray(self.user_matrix_[rows] @ self.weights_, dtype=np.float32)

    def _score_history(self, items: IntArray, timestamps: FloatArray) -> ScoreArray:
        return np.asarray(self.weights_[np.unique(items)].sum(axis=0), dtype=np.float32)

    def _similar(self, item: int) -> ScoreArray:
        return np.array(self.weights_[item], dtype=np.float32)
