"""Learning from corrections, end to end on a real catalogue file with real embeddings
(training_library.py builds it)."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest
from training_library import add_photos, replace_confirmed_tags

from photo_tagger.core import head_versions, service, training, training_data
from photo_tagger.core.backbone import classifier_weights, get_backbone_spec
from photo_tagger.core.errors import UserError
from photo_tagger.core.head import TagHead
from photo_tagger.core.library import Library
from photo_tagger.core.progress import run_to_end
from photo_tagger.core.store import settings, tags
from photo_tagger.core.suggest import base_suggestion_model
from photo_tagger.core.tag_names import find_tag
from photo_tagger.core.tagging import set_state


def suggestion(library: Library, photo_id: int, tag: str) -> tuple[str, float, float] | None:
    with library.connect() as catalogue:
        row = catalogue.query(
            "SELECT pt.state, pt.score, t.model_threshold FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id"
            " WHERE pt.photo_id = ? AND t.name = ?", (photo_id, tag))
    return None if not row else (row[0][0], row[0][1], row[0][2])


def test_a_new_tag_with_three_examples_is_suggested_on_a_near_duplicate(corrected) -> None:
    library, ids = corrected
    job = service.train(library)
    report = run_to_end(job)
    state, score, threshold = suggestion(library, ids["astronaut"][4], "Eileen")
    assert state == "suggested" and score >= threshold
    for name in ("chelsea", "coffee", "rocket"):
        row = suggestion(library, ids[name][-1], "Eileen")
        assert row is None or row[1] < row[2], name
    eileen = next(t for t in report.tags if t.name == "Eileen")
    assert eileen.trained and eileen.n_pos == 3 and eileen.n_neg == 14
    assert report.after.map is not None and report.head_id is not None


def test_training_survives_restart_and_rollback_returns_to_the_prior(corrected) -> None:
    library, ids = corrected
    report = run_to_end(service.train(library))
    reopened = Library.open(library.root)
    assert service.load_model(reopened).head_id == report.head_id
    assert service.training_report(reopened).head_id == report.head_id
    assert run_to_end(service.rollback(reopened)) is None
    assert service.load_model(reopened).head_id is None
    assert suggestion(reopened, ids["astronaut"][4], "Eileen") is None  # the prior has no Eileen
    with pytest.raises(UserError, match="no trained head"):
        run_to_end(service.rollback(reopened))


def stored_prior_head(library: Library) -> int:
    """A head stored and activated the way training does it, without the training."""
    key = service.current_backbone_key()
    with library.connect() as catalogue:
        model = base_suggestion_model(catalogue, key, classifier_weights(get_backbone_spec()))
        head_id = head_versions.store_head(catalogue, model.head)
        head_versions.activate(catalogue, head_id, key)
    return head_id


def test_rollback_returns_to_the_head_active_before(corrected) -> None:
    library, _ = corrected
    first, second = stored_prior_head(library), stored_prior_head(library)
    assert run_to_end(service.rollback(library)) == first
    third = stored_prior_head(library)
    assert third not in (first, second)
    assert run_to_end(service.rollback(library)) == first  # not the rolled-back second
    assert run_to_end(service.rollback(library)) is None


@pytest.mark.parametrize("damage", ["corrupt", "other_backbone", "other_size"])
def test_a_bad_stored_head_is_refused_and_the_previous_one_used(corrected, caplog, damage: str) -> None:
    library, _ = corrected
    first, second = stored_prior_head(library), stored_prior_head(library)
    with library.connect() as catalogue:
        blob = catalogue.scalar("SELECT weights FROM heads WHERE id = ?", (second,))
        head = TagHead.from_bytes(blob)
        if damage == "corrupt":
            blob = blob[: len(blob) // 3]
        elif damage == "other_backbone":
            head.backbone = "another-backbone:0123"
            blob = head.to_bytes()
        else:
            blob = TagHead.from_prior(head.tag_names, head.has_model_, 512, head.backbone).to_bytes()
        with catalogue.transaction() as conn:
            conn.execute("UPDATE heads SET weights = ? WHERE id = ?", (blob, second))
    with caplog.at_level(logging.WARNING):
        model = service.load_model(library)
    assert model.head_id == first
    assert f"stored head {second} refused" in caplog.text


def test_cancelling_before_the_refresh_writes_nothing(corrected) -> None:
    library, _ = corrected
    job = service.train(library)
    phases = [next(job).phase, next(job).phase]
    job.close()
    assert phases == ["loading", "cross-validating"]
    with library.connect() as catalogue:
        assert catalogue.scalar("SELECT count(*) FROM heads") == 0


def test_unknown_labels_do_not_change_the_trained_head(corrected) -> None:
    library, ids = corrected
    first = run_to_end(service.train(library))
    with library.connect() as catalogue:
        weights_before = catalogue.scalar("SELECT weights FROM heads WHERE id = ?", (first.head_id,))
        # a model suggestion on an unreviewed photo is not a label
        conn: sqlite3.Connection = catalogue.conn
        conn.execute("UPDATE photo_tags SET score = 0.99 WHERE photo_id = ? AND state = 'suggested'",
                     (ids["coffee"][-1],))
    second = run_to_end(service.train(library))
    with library.connect() as catalogue:
        weights_after = catalogue.scalar("SELECT weights FROM heads WHERE id = ?", (second.head_id,))
    assert TagHead.from_bytes(weights_before).coef_.tobytes() == TagHead.from_bytes(weights_after).coef_.tobytes()


def test_corrections_are_counted_since_the_last_training(corrected) -> None:
    library, ids = corrected
    assert service.corrections_since_last_training(library) > 15
    run_to_end(service.train(library))
    assert service.corrections_since_last_training(library) == 0
    time.sleep(0.01)
    with library.connect() as catalogue:
        set_state(catalogue, [ids["rocket"][-1]], find_tag(catalogue, "rocket"), "confirmed")
    assert service.corrections_since_last_training(library) == 2  # rocket, and its parent with it


def test_training_without_corrections_is_a_user_error(tmp_path: Path, real_embeddings) -> None:
    library = Library.open(tmp_path)
    add_photos(library, {"coffee": real_embeddings["coffee"]})
    with pytest.raises(UserError, match="^nothing to learn from yet: confirm or reject"):
        run_to_end(service.train(library))


def test_cross_validation_runs_on_a_fixed_sample_of_a_large_label_set() -> None:
    n, tags = 50, 3
    rng = np.random.default_rng(0)
    data = training_data.TrainingData(
        photo_ids=np.arange(n, dtype=np.int64),
        embeddings=rng.standard_normal((n, 8)).astype(np.float32),
        prior=np.full((n, tags), np.nan, np.float32),
        labels=rng.random((n, tags)) > 0.5,
        mask=np.ones((n, tags), bool),
        tag_names=["a", "b", "c"],
        has_prior=np.zeros(tags, bool),
        base_scores=np.full((n, tags), np.nan, np.float32),
    )
    assert training_data.cross_validation_sample(data, limit=50) is data
    sample = training_data.cross_validation_sample(data, limit=20)
    again = training_data.cross_validation_sample(data, limit=20)
    assert len(sample.photo_ids) == 20 and np.array_equal(sample.photo_ids, again.photo_ids)
    rows = sample.photo_ids
    assert np.array_equal(sample.embeddings, data.embeddings[rows])
    assert np.array_equal(sample.labels, data.labels[rows]) and np.array_equal(sample.mask, data.mask[rows])
    assert np.array_equal(sample.base_scores, data.base_scores[rows], equal_nan=True)


def test_a_refresh_cut_short_by_a_crash_is_finished_by_the_next_index(corrected) -> None:
    library, ids = corrected
    run_to_end(service.train(library))
    key = service.current_backbone_key()
    with library.connect() as catalogue:  # a crash right after activating: no photo re-scored
        head_versions.activate(catalogue, None, key, rollback=True)
        assert settings.suggestions_stale(catalogue, key)
    assert suggestion(library, ids["astronaut"][4], "Eileen") is not None  # still the old head's
    run_to_end(service.index(library))
    assert suggestion(library, ids["astronaut"][4], "Eileen") is None  # the prior has no Eileen
    with library.connect() as catalogue:
        assert not settings.suggestions_stale(catalogue, key)


def test_a_target_precision_is_remembered_and_reported(corrected) -> None:
    library, _ = corrected
    service.set_training_target_precision(library, 0.95)
    report = run_to_end(service.train(Library.open(library.root)))
    assert report.target_precision == 0.95
    assert any("precision 0.95" in note for note in report.notes)
    assert service.training_target_precision(Library.open(library.root)) == 0.95
    service.set_training_target_precision(library, None)
    assert run_to_end(service.train(library)).target_precision is None


def test_thresholds_for_a_target_precision_keep_it_on_the_out_of_fold_scores() -> None:
    rng = np.random.default_rng(0)
    n = 400
    labels = rng.random((n, 1)) < 0.3
    oof = np.clip(labels * 0.3 + rng.random((n, 1)) * 0.7, 0, 1).astype(np.float32)  # overlapping scores
    data = training_data.TrainingData(
        photo_ids=np.arange(n), embeddings=np.zeros((n, 4), np.float32), prior=np.full((n, 1), np.nan),
        labels=labels, mask=np.ones((n, 1), bool), tag_names=["t"], has_prior=np.array([False]),
        base_scores=np.full((n, 1), np.nan, np.float32),
    )
    head = TagHead(["t"], 4, "b")
    head.thresholds_, head.trained_ = np.array([0.5]), np.array([True])
    f1_threshold = training.choose_thresholds(head, data, oof)[0]
    for target in (0.6, 0.8, 0.9):
        threshold = training.choose_thresholds(head, data, oof, target_precision=target)[0]
        kept = oof[:, 0] >= threshold
        assert labels[kept, 0].mean() >= target
        assert not labels[oof[:, 0] >= threshold - 0.02, 0].mean() >= target or threshold - 0.02 < oof.min()
    oof[np.flatnonzero(~labels[:, 0])[0], 0] = 1.0  # the surest photo is wrong: 0.999 is out of reach
    f1_threshold = training.choose_thresholds(head, data, oof)[0]
    assert training.precision_unreached(head, data, oof, 0.999) == [0]  # F1 decides
    assert training.choose_thresholds(head, data, oof, target_precision=0.999)[0] == f1_threshold


def unit_data(labels: np.ndarray, base_scores: np.ndarray) -> training_data.TrainingData:
    n, tags = labels.shape
    return training_data.TrainingData(
        photo_ids=np.arange(n, dtype=np.int64), embeddings=np.zeros((n, 4), np.float32),
        prior=np.full((n, tags), np.nan, np.float32), labels=labels, mask=np.ones((n, tags), bool),
        tag_names=[f"t{j}" for j in range(tags)], has_prior=np.ones(tags, bool), base_scores=base_scores,
    )


def test_a_tag_whose_retraining_does_not_beat_the_start_keeps_what_it_had() -> None:
    rng = np.random.default_rng(0)
    labels = rng.random((60, 2)) < 0.4
    start_scores = np.where(labels, 0.8, 0.2).astype(np.float32)  # the start ranks both perfectly
    oof = np.column_stack([rng.random(60), np.where(labels[:, 1], 0.9, 0.1)]).astype(np.float32)
    head = TagHead(["t0", "t1"], 4, "b")
    head.trained_, head.thresholds_ = np.array([True, True]), np.array([0.5, 0.5], np.float32)
    kept = training.tags_not_improved(head, unit_data(labels, start_scores), oof)
    assert sorted(kept) == [0, 1] and "does not beat" in kept[0]  # t1 ties the start: not better either
    oof[:, 1] = np.where(labels[:, 1], 0.9, 0.1)
    start_scores[:, 1] = rng.random(60)
    assert list(training.tags_not_improved(head, unit_data(labels, start_scores), oof)) == [0]


def test_a_threshold_from_few_examples_is_shrunk_toward_the_start() -> None:
    labels = np.zeros((40, 4), bool)
    labels[:4, 0] = labels[:20, 1] = labels[:4, 2] = labels[:36, 3] = True  # 4, 20, 4 and 36 of 40
    names = ["a", "b", "c", "d"]
    head, start = TagHead(names, 4, "b"), TagHead(names, 4, "b")
    head.thresholds_, head.trained_ = np.full(4, 0.1, np.float32), np.ones(4, bool)
    start.thresholds_, start.has_model_ = np.full(4, 0.6, np.float32), np.array([True, True, False, True])
    shrunk = training.shrink_thresholds(head, start, unit_data(labels, np.zeros((40, 4), np.float32)))
    assert shrunk[0] == pytest.approx(0.4 * 0.1 + 0.6 * 0.6)  # 4 of TRUSTED_EXAMPLES = 10
    assert shrunk[1] == pytest.approx(0.1)  # enough examples of both kinds: its own
    assert shrunk[2] == pytest.approx(0.1)  # a new tag had no threshold to shrink toward
    assert shrunk[3] == pytest.approx(0.4 * 0.1 + 0.6 * 0.6)  # only 4 photos without it


def test_a_retraining_that_scores_below_the_head_in_use_is_not_activated_unless_forced(
    corrected, real_embeddings
) -> None:
    library, ids = corrected
    first = run_to_end(service.train(library))
    assert first.activated
    fresh = add_photos(library, {name: real_embeddings[name] for name in ("astronaut", "chelsea", "coffee")},
                       folder="later/")
    with library.connect() as catalogue:  # labelled after the head in use was trained
        eileen, cat = find_tag(catalogue, "Eileen"), find_tag(catalogue, "cat")
        for name, tags in (("astronaut", [eileen]), ("chelsea", [cat]), ("coffee", [])):
            for photo_id in fresh[name]:
                replace_confirmed_tags(catalogue, photo_id, tags)

    def barely_trained(names: list[str], dim: int, key: str) -> TagHead:
        return TagHead(names, dim, key, max_iter=0)  # a fit that never leaves its start

    classifier = classifier_weights(get_backbone_spec())
    key = service.current_backbone_key()
    with library.connect() as catalogue:
        weak = run_to_end(training.train_catalogue(catalogue, key, classifier, make_head=barely_trained))
        assert not weak.activated and any("not activated" in note for note in weak.notes)
        assert service.load_model(library).head_id == first.head_id  # still the head in use
        forced = run_to_end(training.train_catalogue(catalogue, key, classifier, make_head=barely_trained, force=True))
    assert forced.activated and service.load_model(library).head_id == forced.head_id


def test_a_tag_taught_by_a_handful_is_not_suggested_on_most_photos() -> None:
    labels = np.zeros((40, 1), bool)
    labels[:5, 0] = True  # 5 confirmed photos of 40
    oof = np.where(labels, 0.95, 0.7).astype(np.float32)  # ranks perfectly, but 0.7 is above 0.5
    head = TagHead(["t"], 4, "b")
    head.thresholds_, head.trained_ = np.array([0.5], np.float32), np.array([True])
    kept = training.tags_not_improved(head, unit_data(labels, np.zeros((40, 1), np.float32)), oof)
    assert "would be suggested on 100%" in kept[0]
    head.thresholds_[0] = 0.8  # the same ranking, cut where it should be: trained
    assert training.tags_not_improved(head, unit_data(labels, np.zeros((40, 1), np.float32)), oof) == {}


def test_an_index_after_a_new_pipeline_says_the_corrections_need_a_retrain(corrected) -> None:
    library, _ = corrected
    run_to_end(service.train(library))
    assert not run_to_end(service.index(library)).earlier_training
    with library.connect() as catalogue, catalogue.transaction() as conn:  # as trained before the views changed
        conn.execute("UPDATE heads SET backbone = 'efficientnet-lite0:0123456789abcdef'")
    summary = run_to_end(service.index(library))
    assert summary.earlier_training
    with library.connect() as catalogue:  # the user's own tags are all still there
        assert catalogue.scalar("SELECT count(*) FROM photo_tags WHERE state = 'confirmed'") > 0


def test_retraining_pulls_a_tag_toward_its_start_as_hard_as_the_start_knows(tmp_path: Path) -> None:
    library = Library.open(tmp_path)
    with library.connect() as catalogue:
        tags.ensure_path(catalogue, ("Mittens",), origin="user")
    model = service.load_model(library)
    pull = dict(zip(model.head.tag_names, training.pull_toward_start(model), strict=True))
    assert pull["animal|wild animal|giraffe"] == training.PRETRAINED_ALPHA  # the shipped head learned it
    assert pull["person"] == pull["animal|pet"] == training.PRIOR_ALPHA  # zero-shot: faces, clothing; ImageNet
    assert pull["Mittens"] == 1.0  # the user's own tag starts from nothing
    assert training.PRIOR_ALPHA < training.PRETRAINED_ALPHA
