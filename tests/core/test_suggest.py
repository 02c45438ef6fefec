"""The suggestion model's prior is the same whether computed at once or in blocks."""

from __future__ import annotations

import numpy as np
import pytest

from photo_tagger.core import suggest
from photo_tagger.core.head import TagHead
from photo_tagger.core.suggest import SuggestionModel
from photo_tagger.core.taxonomy import load_default_taxonomy


def test_prior_in_blocks_equals_prior_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    taxonomy = load_default_taxonomy()
    # prior, no members, unknown to the taxonomy; a head names a tag by its path
    names = ["animal|cat", "selfie", "Mittens", "animal|dog"]
    head = TagHead.from_prior(names, np.array([True, False, False, True]), 16)
    model = SuggestionModel("test", rng.standard_normal((1000, 16)).astype(np.float32),
                            rng.standard_normal(1000).astype(np.float32), taxonomy, head, [1, 2, 3, 4], None)
    embeddings = rng.standard_normal((10, 16)).astype(np.float32)
    whole = model.prior_probabilities(embeddings)
    monkeypatch.setattr(suggest, "PRIOR_BLOCK_ROWS", 3)
    blocked = model.prior_probabilities(embeddings)
    np.testing.assert_allclose(whole, blocked, rtol=1e-5)  # BLAS may round blocks differently
    assert np.isnan(whole[:, 1:3]).all() and not np.isnan(whole[:, [0, 3]]).any()
    logits = embeddings @ model.classifier_weight.T + model.classifier_bias
    expected = taxonomy.prior_probabilities(logits)[:, [taxonomy.names().index("cat"), taxonomy.names().index("dog")]]
    np.testing.assert_allclose(whole[:, [0, 3]], expected, rtol=1e-6)


def test_a_tag_implied_by_another_takes_its_score_by_noisy_or() -> None:
    from photo_tagger.core.taxonomy import parse_taxonomy

    taxonomy = parse_taxonomy('[tags.person]\nimagenet = [834]\nimplied_by = ["ski", "kite"]\n'
                              '[tags.ski]\nimagenet = [795]\n[tags.kite]\nimagenet = []\n')
    rng = np.random.default_rng(1)
    head = TagHead.from_prior(["person", "ski", "kite"], np.array([True, True, False]), 8)
    model = SuggestionModel("test", rng.standard_normal((1000, 8)).astype(np.float32),
                            np.zeros(1000, np.float32), taxonomy, head, [1, 2, 3], None)
    x = rng.standard_normal((6, 8)).astype(np.float32)
    prior = model.prior_probabilities(x)
    own = taxonomy.prior_probabilities(x @ model.classifier_weight.T)[:, 0]
    ski = model.score(x)[:, 1]  # what the head scores ski
    np.testing.assert_allclose(prior[:, 0], 1 - (1 - own) * (1 - ski), rtol=1e-5)
    assert np.all(prior[:, 0] >= own - 1e-6)  # kite has no model: it implies nothing


def test_implied_by_must_name_other_tags() -> None:
    from photo_tagger.core.taxonomy import parse_taxonomy

    with pytest.raises(ValueError, match="implied_by"):
        parse_taxonomy('[tags.person]\nimplied_by = ["unicorn"]\n')
