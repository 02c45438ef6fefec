"""TagHead.fit: what it learns, what it must ignore, and how it is stored."""

from __future__ import annotations

import numpy as np
import pytest

from photo_tagger.core.head import HeadFormatError, NotFittedError, TagHead
from photo_tagger.core.metrics import mean_average_precision_score

DIM = 24


def separable(n: int, seed: int = 0, tags: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative embeddings (like real ones) and labels a linear rule separates."""
    rng = np.random.default_rng(seed)
    x = np.abs(rng.normal(0, 1, (n, DIM))).astype(np.float32)
    directions = np.random.default_rng(99).normal(0, 1, (tags, DIM))
    centred = x - np.abs(np.random.default_rng(98).normal(0, 1, (4000, DIM))).mean(axis=0)
    return x, centred @ directions.T > 0


def no_prior(n: int, tags: int = 3) -> np.ndarray:
    return np.full((n, tags), np.nan, np.float32)


def head(tags: int = 3, **options) -> TagHead:
    return TagHead([f"tag{i}" for i in range(tags)], DIM, "test-backbone", **options)


@pytest.mark.parametrize("solver, n", [("lbfgs", 400), ("adam", 4000)])  # adam is for large sets
def test_fitting_a_separable_set_recovers_it(solver: str, n: int) -> None:
    x, y = separable(n)
    fitted = head(alpha=0.01, solver=solver).fit(x, no_prior(n), y, np.ones_like(y))
    x_new, y_new = separable(500, seed=1)
    proba = fitted.predict_proba(x_new, no_prior(500))
    assert fitted.trained_.all() and fitted.has_model_.all()
    assert mean_average_precision_score(y_new, proba) > 0.98
    # Adam stops after a fixed budget of epochs, short of the separating margin.
    assert ((proba >= 0.5) == y_new).mean() > (0.95 if solver == "lbfgs" else 0.9)


def test_unknown_labels_are_ignored() -> None:
    x, y = separable(150)
    mask = np.random.default_rng(3).random(y.shape) < 0.5
    changed = np.where(mask, y, ~y)  # flip every unknown label
    a = head().fit(x, no_prior(150), y, mask)
    b = head().fit(x, no_prior(150), changed, mask)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)


def test_fitting_is_deterministic() -> None:
    x, y = separable(120)
    a = head().fit(x, no_prior(120), y, np.ones_like(y))
    b = head().fit(x, no_prior(120), y, np.ones_like(y))
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_a_tag_with_too_few_examples_keeps_its_prior_exactly() -> None:
    x, y = separable(60)
    y[:, 1] = False
    y[:2, 1] = True  # two positives: below min_positives=3
    prior = np.full((60, 3), 0.3, np.float32)
    prior[:, 2] = np.nan  # tag2: no prior, and no labels below
    mask = np.ones_like(y)
    mask[:, 2] = False
    fitted = head().fit(x, prior, y, mask)
    assert fitted.trained_.tolist() == [True, False, False]
    assert fitted.has_model_.tolist() == [True, True, False]
    assert not fitted.coef_[1].any() and fitted.prior_coef_[1] == 1 and fitted.intercept_[1] == 0
    proba = fitted.predict_proba(x, prior)
    np.testing.assert_allclose(proba[:, 1], 0.3, rtol=1e-5)
    assert np.isnan(proba[:, 2]).all()


def test_a_few_wrong_corrections_cannot_wreck_a_working_prior() -> None:
    rng = np.random.default_rng(5)
    x = np.abs(rng.normal(0, 1, (300, DIM))).astype(np.float32)
    truth = rng.random(300) < 0.3
    prior = np.where(truth, 0.9, 0.1)[:, None].astype(np.float32)  # a prior that is right
    mask = np.zeros((300, 1), bool)
    mask[:6] = True
    wrong = ~truth[:, None]  # six corrections that contradict it
    fitted = TagHead(["cat"], DIM).fit(x, prior, wrong, mask)
    assert fitted.trained_[0]
    # Unregularised toward the prior, this fit flips the tag: AP 0.15.
    assert mean_average_precision_score(truth[6:, None], fitted.predict_proba(x[6:], prior[6:])) > 0.9


def test_empty_and_single_class_tags_do_not_crash() -> None:
    empty = head().fit(np.zeros((0, DIM), np.float32), no_prior(0), np.zeros((0, 3), bool), np.zeros((0, 3), bool))
    assert not empty.trained_.any() and empty.predict_proba(np.zeros((2, DIM)), no_prior(2)).shape == (2, 3)
    x, y = separable(50)
    y[:, 0] = True
    y[:, 1] = False
    fitted = head().fit(x, no_prior(50), y, np.ones_like(y))
    assert fitted.trained_.tolist() == [False, False, True]
    assert np.isnan(fitted.predict_proba(x, no_prior(50))[:, :2]).all()


def test_fit_names_a_bad_argument() -> None:
    x, y = separable(10)
    with pytest.raises(ValueError, match="labels must have shape"):
        head().fit(x, no_prior(10), y[:, :2], np.ones_like(y))
    with pytest.raises(ValueError, match="solver"):
        head(solver="sgd").fit(x, no_prior(10), y, np.ones_like(y))
    with pytest.raises(NotFittedError):
        head().predict_proba(x, no_prior(10))


def test_a_saved_head_round_trips() -> None:
    x, y = separable(80)
    fitted = head().fit(x, no_prior(80), y, np.ones_like(y))
    fitted.thresholds_ = np.array([0.2, 0.5, 0.7], np.float32)
    loaded = TagHead.from_bytes(fitted.to_bytes())
    assert loaded.tag_names == fitted.tag_names and loaded.backbone == "test-backbone"
    for name in ("coef_", "prior_coef_", "intercept_", "thresholds_", "has_model_", "trained_"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(fitted, name))
    np.testing.assert_array_equal(loaded.predict_proba(x, no_prior(80)), fitted.predict_proba(x, no_prior(80)))


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda b: b[: len(b) // 2], "unreadable head"),
        (lambda b: b"\x00" * 8 + b[8:], "unreadable head"),
        (lambda b: b"", "unreadable head"),
    ],
)
def test_a_corrupt_head_is_refused_with_a_clear_message(damage, message: str) -> None:
    data = TagHead.from_prior(["a", "b"], np.array([True, False]), DIM).to_bytes()
    with pytest.raises(HeadFormatError, match=message):
        TagHead.from_bytes(damage(data))


def test_a_head_with_a_wrong_shape_is_refused() -> None:
    from safetensors.numpy import save

    good = TagHead.from_prior(["a", "b"], np.array([True, False]), DIM)
    tensors = {"coef": np.zeros((3, DIM), np.float32), "prior_coef": good.prior_coef_,
               "intercept": good.intercept_, "thresholds": good.thresholds_, "has_model": np.ones(2, np.uint8)}
    metadata = {"format_version": "1", "tag_names": '["a", "b"]', "embedding_dim": str(DIM), "backbone": ""}
    with pytest.raises(HeadFormatError, match="'coef' has shape"):
        TagHead.from_bytes(save(tensors, metadata=metadata))


@pytest.mark.parametrize("solver, n", [("lbfgs", 200), ("adam", 2000)])
def test_float16_embeddings_as_stored_fit_like_their_float32_values(solver: str, n: int) -> None:
    x, y = separable(n)
    half = x.astype(np.float16)
    a = head(solver=solver).fit(half, no_prior(n), y, np.ones_like(y))
    b = head(solver=solver).fit(half.astype(np.float32), no_prior(n), y, np.ones_like(y))
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)
