"""Candidate sources: every way Limelight proposes titles for a person, under one contract.

The contract is documented once, on :class:`limelight.candidates.base.Recommender`.
"""

from limelight.candidates.base import CandidateSource, Recommendations, Recommender, top_n
from limelight.candidates.content import ContentSimilarity
from limelight.candidates.data import Interactions, ItemMeta
from limelight.candidates.ease import EASE
from limelight.candidates.factorization import ALS, BPR
from limelight.candidates.itemknn import ItemKNN
from limelight.candidates.popular import Popular, Trending
from limelight.candidates.sequential import SequentialNextItem

__all__ = [
    "ALS",
    "BPR",
    "EASE",
    "CandidateSource",
    "ContentSimilarity",
    "Interactions",
    "ItemKNN",
    "ItemMeta",
    "Popular",
    "Recommendations",
    "Recommender",
    "SequentialNextItem",
    "Trending",
    "top_n",
]
