"""Matrix factorisation on implicit feedback with the ``implicit`` library (CPU): ALS and BPR.

``implicit`` learns user and item factors; scores are their dot products. A person outside the
training data is folded in: their factor solves the same weighted least-squares problem ALS
solves for a training user, with the item factors held fixed (for BPR this is an approximation,
since BPR's objective is pairwise, but it ranks their history's neighbours first as it should).

Training runs single-threaded BLAS (``implicit`` warns, rightly, that a threaded OpenBLAS inside
its own thread pool is slow) and ``num_threads`` is the model's own knob (1 keeps BPR exactly
reproducible for a fixed ``random_state``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from limelight.candidates.base import CandidateSource, ScoreArray, require
from limelight.candidates.data import FloatArray, IntArray, Interactions


class _Factorization(CandidateSource):
    """Shared scoring, fold-in and similarity for factor models."""

    user_factors_: NDArray[np.float32]
    item_factors_: NDArray[np.float32]
    gram_: NDArray[np.float64]

    factors: int
    regularization: float
    binary: bool
    num_threads: int
    random_state: int | None

    def _validate_params(self) -> None:
        require(self.factors >= 1, "factors must be at least 1", "factors")
        require(self.regularization >= 0, "regularization must be non-negative", "regularization")
        require(self.num_threads >= 0, "num_threads must be non-negative", "num_threads")

    def _model(self) -> Any:
        raise NotImplementedError

    def _confidence(self) -> float:
        return 1.0

    def _fit(self, interactions: Interactions) -> None:
        matrix = interactions.matrix.astype(np.float32)
        if self.binary:
            matrix.data[:] = 1.0
        with threadpool_limits(1, "blas"):  # implicit checks the BLAS threads when built
            model = self._model()
            model.fit(sp.csr_matrix(matrix), show_progress=False)
        self.user_factors_ = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        items = self.item_factors_.astype(np.float64)
        self.gram_ = items.T @ items
        norms = np.linalg.norm(self.item_factors_, axis=1)
        self.item_norms_ = np.where(norms > 0, norms, 1.0).astype(np.float32)

    def _score_rows(self, rows: IntArray) -> ScoreArray:
        return self.user_factors_[rows] @ self.item_factors_.T

    def fold_in(self, items: IntArray) -> NDArray[np.float64]:
        """The factor of a person with history ``items`` (repeats add confidence)."""
        unique, counts = np.unique(items, return_counts=True)
        weights = 1.0 + self._confidence() * (
            np.ones_like(counts, dtype=np.float64) if self.binary else counts.astype(np.float64)
        )
        chosen = self.item_factors_[unique].astype(np.float64)
        dim = chosen.shape[1]
        system = self.gram_ + (chosen.T * (weights - 1.0)) @ chosen
        system += max(self.regularization, 1e-6) * np.eye(dim)
        result = np.linalg.solve(system, chosen.T @ weights)
        return np.asarray(result, dtype=np.float64)

    def _score_history(self, items: IntArray, timestamps: FloatArray) -> ScoreArray:
        return (self.item_factors_ @ self.fold_in(items).astype(np.float32)).astype(np.float32)

    def _similar(self, item: int) -> ScoreArray:
        vector = self.item_factors_[item] / self.item_norms_[item]
        return np.asarray((self.item_factors_ @ vector) / self.item_norms_, dtype=np.float32)


class ALS(_Factorization):
    """Implicit-feedback ALS (Hu, Koren and Volinsky 2008) via ``implicit``; confidence of an
    observed pair is ``1 + alpha * weight``."""

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 2.0,
        iterations: int = 15,
        binary: bool = True,
        num_threads: int = 1,
        random_state: int | None = None,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.binary = binary
        self.num_threads = num_threads
        self.random_state = random_state

    def _validate_params(self) -> None:
        super()._validate_params()
        require(self.alpha > 0, "alpha must be positive", "alpha")
        require(self.iterations >= 1, "iterations must be at least 1", "iterations")

    def _confidence(self) -> float:
        return float(self.alpha)

    def _model(self) -> Any:
        from implicit.cpu.als import AlternatingLeastSquares

        return AlternatingLeastSquares(
            factors=self.factors,
            regularization=self.regularization,
            alpha=self.alpha,
            iterations=self.iterations,
            num_threads=self.num_threads,
            random_state=self.random_state,
        )


class BPR(_Factorization):
    """Bayesian personalised ranking (Rendle et al. 2009) via ``implicit``; item factors carry
    a bias column."""

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.05,
        regularization: float = 0.01,
        iterations: int = 100,
        binary: bool = True,
        num_threads: int = 1,
        random_state: int | None = None,
    ) -> None:
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.binary = binary
        self.num_threads = num_threads
        self.random_state = random_state

    def _validate_params(self) -> None:
        super()._validate_params()
        require(self.learning_rate > 0, "learning_rate must be positive", "learning_rate")
        require(self.iterations >= 1, "iterations must be at least 1", "iterations")

    def _model(self) -> Any:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        return BayesianPersonalizedRanking(
            factors=self.factors,
            learning_rate=self.learning_rate,
            regularization=self.regularization,
            iterations=self.iterations,
            num_threads=self.num_threads,
            random_state=self.random_state,
        )
