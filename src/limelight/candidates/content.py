"""Content similarity: titles like the ones a person watched, including titles nobody watched.

Each item becomes a TF-IDF vector over its metadata tokens (``genre=...``, ``tag=...``, the
release decade, and optionally words of its text), L2-normalised. A person's profile is the sum
of the vectors of what they watched; an item's score is its cosine with that profile. Because
nothing here depends on who else watched an item, a brand-new title with metadata is scored
like any other: this is the source that gets new titles in front of people.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.preprocessing import MultiLabelBinarizer, normalize

from limelight.candidates.base import CandidateSource, ScoreArray, csr_row_sum, require
from limelight.candidates.data import FloatArray, IntArray, Interactions, ItemMeta

FIELDS = ("genres", "tags", "decade")


def tokens(meta: ItemMeta | None, fields: Sequence[str]) -> list[str]:
    """The metadata tokens of one item."""
    if meta is None:
        return []
    out: list[str] = []
    if "genres" in fields:
        out += [f"genre={g.lower()}" for g in meta.genres]
    if "tags" in fields:
        out += [f"tag={t.lower()}" for t in meta.tags]
    if "decade" in fields and meta.release_year is not None:
        out.append(f"decade={meta.release_year // 10 * 10}")
    return out


class ContentSimilarity(CandidateSource):
    """TF-IDF cosine over item metadata (needs ``Interactions.metadata``).

    >>> from limelight.candidates.data import Interactions, ItemMeta
    >>> meta = {"x": ItemMeta(genres=("Drama",)), "y": ItemMeta(genres=("Drama",)),
    ...         "z": ItemMeta(genres=("Comedy",))}
    >>> log = Interactions.from_arrays(["a"], ["x"], metadata=meta)
    >>> ContentSimilarity().fit(log).recommend(["a"], n=1).ids
    [['y']]
    """

    scores_unwatched = True
    features_: sp.csr_matrix
    profiles_: sp.csr_matrix

    def __init__(
        self, fields: tuple[str, ...] = ("genres", "tags"), text_weight: float = 0.0
    ) -> None:
        self.fields = fields
        self.text_weight = text_weight

    def _validate_params(self) -> None:
        require(all(f in FIELDS for f in self.fields), f"fields must be among {FIELDS}", "fields")
        require(self.text_weight >= 0, "text_weight must be non-negative", "text_weight")

    def _fit(self, interactions: Interactions) -> None:
        meta = interactions.metadata
        if not meta:
            raise_missing()
        docs = [tokens(meta.get(item), self.fields) for item in interactions.item_ids]
        binarizer = MultiLabelBinarizer(sparse_output=True)
        counts = sp.csr_matrix(binarizer.fit_transform(docs), dtype=np.float64)
        features = TfidfTransformer().fit_transform(counts)
        if self.text_weight > 0:
            texts = [(meta[i].text if i in meta else "") for i in interactions.item_ids]
            if any(texts):
                words = TfidfVectorizer(min_df=2, stop_words="english").fit_transform(texts)
                features = sp.hstack([features, self.text_weight * words])
        self.features_ = sp.csr_matrix(normalize(features), dtype=np.float32)
        binary = interactions.matrix.copy()
        binary.data[:] = 1.0
        self.profiles_ = sp.csr_matrix(normalize(binary @ self.features_), dtype=np.float32)

    def _score_rows(self, rows: IntArray) -> ScoreArray:
        return np.asarray((self.profiles_[rows] @ self.features_.T).toarray(), dtype=np.float32)

    def _score_history(self, items: IntArray, timestamps: FloatArray) -> ScoreArray:
        profile = csr_row_sum(self.features_, np.unique(items)).astype(np.float64)
        norm = float(np.linalg.norm(profile))
        if norm > 0:
            profile /= norm
        return np.asarray(self.features_ @ profile, dtype=np.float32)

    def _similar(self, item: int) -> ScoreArray:
        return np.asarray((self.features_ @ self.features_[item].T).toarray()).ravel()


def raise_missing() -> None:
    require(False, "content similarity needs item metadata (Interactions.metadata)", "metadata")
