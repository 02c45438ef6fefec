"""Our numpy metrics agree with scikit-learn's and honour the mask of known labels."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk

from photo_tagger.core.metrics import (
    average_precision_score,
    best_f1_threshold,
    f1_score,
    hamming_loss,
    mean_average_precision_score,
    per_tag_average_precision,
    precision_score,
    precision_threshold,
    recall_score,
)


def random_problem(seed: int, n: int = 200, tags: int = 7, ties: bool = False):
    rng = np.random.default_rng(seed)
    y = rng.random((n, tags)) < rng.uniform(0.05, 0.6, tags)
    y[0], y[1] = True, False  # every column has both classes
    score = y * rng.uniform(0.2, 1.0, tags) + rng.normal(0, 0.4, (n, tags))
    if ties:
        score = np.round(score, 1)
    return y, score


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("ties", [False, True])
def test_average_precision_matches_scikit_learn_with_and_without_ties(seed: int, ties: bool) -> None:
    y, score = random_problem(seed, ties=ties)
    for j in range(y.shape[1]):
        assert average_precision_score(y[:, j], score[:, j]) == pytest.approx(
            sk.average_precision_score(y[:, j], score[:, j]), abs=1e-12
        )
    assert mean_average_precision_score(y, score) == pytest.approx(
        sk.average_precision_score(y, score, average="macro"), abs=1e-12
    )


@pytest.mark.parametrize("seed", range(4))
def test_f1_precision_recall_and_hamming_match_scikit_learn(seed: int) -> None:
    y, score = random_problem(seed)
    pred = score > 0.5
    pred[:, 3] = False  # a tag never predicted: zero_division gives 0
    np.testing.assert_allclose(f1_score(y, pred), sk.f1_score(y, pred, average=None, zero_division=0))
    assert f1_score(y, pred, average="macro") == pytest.approx(sk.f1_score(y, pred, average="macro", zero_division=0))
    np.testing.assert_allclose(precision_score(y, pred), sk.precision_score(y, pred, average=None, zero_division=0))
    np.testing.assert_allclose(recall_score(y, pred), sk.recall_score(y, pred, average=None, zero_division=0))
    assert hamming_loss(y, pred) == pytest.approx(sk.hamming_loss(y, pred))


def test_masked_labels_do_not_count() -> None:
    y, score = random_problem(7)
    mask = np.random.default_rng(1).random(y.shape) < 0.6
    mask[:2] = True
    flipped = np.where(mask, y, ~y)  # change only the unknown labels
    assert mean_average_precision_score(y, score, mask) == mean_average_precision_score(flipped, score, mask)
    pred = score > 0.5
    assert hamming_loss(y, pred, mask) == hamming_loss(flipped, pred, mask)
    np.testing.assert_array_equal(f1_score(y, pred, mask), f1_score(flipped, pred, mask))
    # and a masked column equals scikit-learn on the known rows
    j = 2
    known = mask[:, j]
    assert per_tag_average_precision(y, score, mask)[j] == pytest.approx(
        sk.average_precision_score(y[known, j], score[known, j])
    )


def test_a_column_with_one_class_or_no_scores_has_no_average_precision() -> None:
    y = np.array([[1, 0, 1], [1, 0, 0], [1, 0, 1]], bool)
    score = np.array([[0.9, 0.1, np.nan], [0.8, 0.2, np.nan], [0.7, 0.3, np.nan]])
    assert np.isnan(per_tag_average_precision(y, score)).all()
    assert np.isnan(mean_average_precision_score(y, score))
    assert np.isnan(average_precision_score(np.zeros(3), np.ones(3)))


def test_best_f1_threshold_separates_a_separable_column() -> None:
    y = np.array([0, 0, 1, 0, 1, 1], bool)
    score = np.array([0.1, 0.2, 0.6, 0.3, 0.7, 0.9])
    threshold, f1 = best_f1_threshold(y, score)
    assert f1 == 1.0
    assert 0.3 < threshold < 0.6
    assert best_f1_threshold(np.zeros(3, bool), score[:3]) == (0.5, 0.0)


def test_precision_threshold_keeps_the_most_recall_at_the_target_precision() -> None:
    y = np.array([1, 1, 0, 1, 0, 1, 0, 0])
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    threshold, precision, recall = precision_threshold(y, s, 0.75)
    kept = s >= threshold
    assert precision >= 0.75 and (y[kept].mean()) == precision
    assert recall == y[kept].sum() / y.sum() == 0.75  # top 4: 3 of 4 right; top 6 would be 4/6
    assert 0.5 < threshold < 0.6


def test_precision_threshold_is_none_when_no_cut_reaches_the_target() -> None:
    assert precision_threshold(np.array([0, 1]), np.array([0.9, 0.1]), 0.9) is None
    assert precision_threshold(np.array([0, 0]), np.array([0.9, 0.1]), 0.5) is None
