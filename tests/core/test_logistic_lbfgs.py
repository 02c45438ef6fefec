"""The per-tag LBFGS solver: it reaches each tag's own optimum, independently of the others."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from photo_tagger.core.logistic_lbfgs import fit_logistic_columns

D = 16


def problem(n: int, tags: int, seed: int = 0):  # type: ignore[no-untyped-def]
    """Noisy labels of random linear rules (not separable: a finite optimum exists)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n, D)).astype(np.float32)
    rules = rng.normal(0, 1.5, (tags, D))
    y = (x @ rules.T + rng.logistic(0, 1, (n, tags)) > 0).astype(np.float32)
    prior = np.zeros((n, tags), np.float32)
    return x, prior, y, np.ones((n, tags), np.float32)


def fit(x, prior, y, weight, penalty: float = 1.0, iterations: int = 100) -> np.ndarray:  # type: ignore[no-untyped-def]
    theta0 = np.zeros((y.shape[1], D + 2), np.float32)
    return fit_logistic_columns(
        x, prior, y, weight, theta0, theta0, np.full(D + 2, penalty, np.float32), iterations
    )


def test_matches_scikit_learn_logistic_regression_on_every_tag() -> None:
    # Our objective with no prior input, unit weights and penalty 1 on the intercept too is
    # LogisticRegression(C=1) up to that intercept penalty, which is negligible at n = 2000.
    x, prior, y, weight = problem(2000, 4)
    theta = fit(x, prior, y, weight)
    for t in range(4):
        reference = LogisticRegression(C=1.0, tol=1e-8, max_iter=1000).fit(x, y[:, t])
        np.testing.assert_allclose(theta[t, :D], reference.coef_[0], atol=2e-3)
        np.testing.assert_allclose(theta[t, D + 1], reference.intercept_[0], atol=2e-3)


def test_each_tag_takes_the_steps_it_would_take_alone() -> None:
    # A well-determined tag next to a rare one: per-tag steps and curvature mean neither
    # bends the other's path, so even a few iterations in (far from converged) each tag is
    # where it would be fitted alone. One LBFGS over both would mix their curvature.
    x, prior, y, weight = problem(1500, 2, seed=3)
    y[:, 1] = (np.random.default_rng(4).random(1500) < 0.03).astype(np.float32)
    together = fit(x, prior, y, weight, iterations=4)
    for t in range(2):
        alone = fit(x, prior[:, [t]], y[:, [t]], weight[:, [t]], iterations=4)
        np.testing.assert_allclose(together[t], alone[0], atol=1e-5)


def test_zero_weight_labels_are_ignored() -> None:
    x, prior, y, weight = problem(800, 2, seed=5)
    weight[:400, 0] = 0.0
    flipped = y.copy()
    flipped[:400, 0] = 1.0 - flipped[:400, 0]
    np.testing.assert_allclose(fit(x, prior, y, weight), fit(x, prior, flipped, weight), atol=1e-6)


def test_the_gradient_vanishes_at_the_result() -> None:
    x, prior, y, weight = problem(1000, 3, seed=6)
    prior = np.random.default_rng(7).normal(0, 2, prior.shape).astype(np.float32)  # a prior input in use
    theta = fit(x, prior, y, weight, penalty=0.5, iterations=200)
    z = x @ theta[:, :D].T + prior * theta[:, D] + theta[:, D + 1]
    residual = 1 / (1 + np.exp(-z.astype(np.float64))) - y
    gradient = np.concatenate(
        [residual.T @ x, (residual * prior).sum(0)[:, None], residual.sum(0)[:, None]], axis=1
    ) + 0.5 * theta
    assert np.abs(gradient / len(x)).max() < 1e-4


def test_a_tag_without_any_known_label_keeps_its_start() -> None:
    x, prior, y, weight = problem(300, 2, seed=8)
    weight[:, 1] = 0.0
    start = np.random.default_rng(9).normal(0, 1, (2, D + 2)).astype(np.float32)
    theta = fit_logistic_columns(x, prior, y, weight, start, start, np.ones(D + 2, np.float32), 50)
    np.testing.assert_array_equal(theta[1], start[1])
