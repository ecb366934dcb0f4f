"""Metrics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from limelight.evaluation.metrics import (
    coverage,
    genre_matrix,
    intra_list_diversity,
    novelty,
    ranking_metrics,
)


def _relevant(rows: list[list[int]], n_items: int = 10) -> sp.csr_matrix:
    data = [(r, i) for r, items in enumerate(rows) for i in items]
    return sp.csr_matrix(
        (np.ones(len(data)), ([r for r, _ in data], [i for _, i in data])),
        shape=(len(rows), n_items),
    )


def test_single_relevant_item() -> None:
    recommended = np.array([[1, 2, 3], [4, 5, 6]])
    values = ranking_metrics(recommended, _relevant([[2], [7]]), ks=(3,))
    assert values["hr@3"] == pytest.approx(0.5)
    assert values["recall@3"] == pytest.approx(0.5)
    assert values["precision@3"] == pytest.approx((1 / 3) / 2)
    assert values["ndcg@3"] == pytest.approx((1 / math.log2(3)) / 2)
    assert values["mrr"] == pytest.approx((1 / 2) / 2)


def test_several_relevant_items() -> None:
    recommended = np.array([[1, 2, 3]])
    values = ranking_metrics(recommended, _relevant([[1, 3, 9]]), ks=(1, 3))
    dcg = 1 + 1 / math.log2(4)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert values["ndcg@3"] == pytest.approx(dcg / ideal)
    assert values["ndcg@1"] == pytest.approx(1.0)
    assert values["recall@3"] == pytest.approx(2 / 3)
    assert values["precision@3"] == pytest.approx(2 / 3)
    assert values["hr@1"] == 1.0 and values["mrr"] == 1.0


def test_padding_and_people_without_relevant_items() -> None:
    recommended = np.array([[5, -1, -1], [1, 2, 3]])
    values = ranking_metrics(recommended, _relevant([[5], []]), ks=(3,))
    assert values["hr@3"] == 1.0 and values["ndcg@3"] == 1.0


def test_beyond_accuracy() -> None:
    recommended = np.array([[0, 1], [0, 2]])
    assert coverage(recommended, 4) == pytest.approx(3 / 4)
    counts = np.array([4.0, 2.0, 1.0, 0.0])
    expected = np.mean([-math.log2(4 / 4), -math.log2(2 / 4), -math.log2(4 / 4), -math.log2(1 / 4)])
    assert novelty(recommended, counts, 4) == pytest.approx(expected)
    genres = genre_matrix([("Action",), ("Action",), ("Drama",), ()])
    # list 1: two Action titles, cosine 1 -> diversity 0; list 2: Action vs Drama -> 1
    assert intra_list_diversity(recommended, genres) == pytest.approx(0.5)
