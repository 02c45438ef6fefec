"""The training set: labelled photos from the catalogue as arrays.

Labels: a confirmed tag is 1, a rejected tag 0, and a photo whose whole tag set was
reviewed (`photos.reviewed_at`) is 0 for every tag not confirmed on it. A confirmed tag
linked to a built-in tag is 1 for the built-in tag too, unless the user said otherwise. Everything else,
unreviewed suggestions included, is unknown and masked out of the loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from photo_tagger.core.store import opinions, tags
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.suggest import SuggestionModel, decode_faces

CV_MAX_PHOTOS = 20_000  # cross-validate on at most this many labelled photos


@dataclass
class TrainingData:
    photo_ids: np.ndarray  # (n,) photos with at least one known label
    embeddings: np.ndarray  # (n, dim) float16 as stored: TagHead.fit converts per batch
    prior: np.ndarray  # (n, n_tags) zero-shot prior probabilities, NaN = none
    labels: np.ndarray  # (n, n_tags) bool
    mask: np.ndarray  # (n, n_tags) bool: label known
    tag_names: list[str]
    has_prior: np.ndarray  # (n_tags,) bool
    # (n, n_tags) what the starting model (pretrained head + prior) scores, NaN = no model:
    # it never saw the user's photos, so it is the honest "before" of every tag.
    base_scores: np.ndarray
    faces: np.ndarray | None = None  # (n, FACE_FEATURES) face summaries; None: not known

    def rows(self, index: np.ndarray) -> TrainingData:
        return TrainingData(self.photo_ids[index], self.embeddings[index], self.prior[index], self.labels[index],
                            self.mask[index], self.tag_names, self.has_prior, self.base_scores[index],
                            None if self.faces is None else self.faces[index])


def cross_validation_sample(data: TrainingData, limit: int = CV_MAX_PHOTOS, seed: int = 0) -> TrainingData:
    """The photos cross-validation runs on: all of them, or a fixed random `limit` of them.
    Above ~20k labelled photos the thresholds and the report are as good from a sample, and
    five folds over everything cost minutes and gigabytes (100k photos: 346 s, 3.8 GB)."""
    if len(data.photo_ids) <= limit:
        return data
    index = np.sort(np.random.default_rng(seed).choice(len(data.photo_ids), limit, replace=False))
    return data.rows(index)


def load_training_data(catalogue: Catalogue, model: SuggestionModel) -> TrainingData:
    """Every photo with an embedding for the model's backbone and at least one known label.

    Embeddings stay float16, read straight into one preallocated array: at 100k photos a
    float32 copy is 0.5 GB, and growing a buffer (or joining blobs) holds two copies."""
    names = model.head.tag_names
    dim = model.head.embedding_dim
    column = {tag_id: j for j, tag_id in enumerate(model.tag_ids)}
    expected = opinions.labelled_count(catalogue, model.backbone_key)
    embeddings = np.empty((expected, dim), np.float16)
    ids: list[int] = []
    reviewed: list[bool] = []
    face_blobs: list[bytes | None] = []
    for photo_id, is_reviewed, vector, faces in opinions.labelled_embeddings(catalogue, model.backbone_key):
        if len(ids) == len(embeddings):  # labelled between the count and now: grow (rare)
            embeddings = np.concatenate([embeddings, np.empty((max(1024, len(ids) // 8), dim), np.float16)])
        embeddings[len(ids)] = np.frombuffer(vector, np.float16)
        ids.append(photo_id)
        reviewed.append(is_reviewed)
        face_blobs.append(faces)
    n, n_tags = len(ids), len(names)
    embeddings = embeddings[:n]
    faces_array = decode_faces(face_blobs)
    index = {photo_id: i for i, photo_id in enumerate(ids)}
    labels = np.zeros((n, n_tags), bool)
    mask = np.zeros((n, n_tags), bool)
    mask[np.array(reviewed, bool)] = True
    said = np.zeros((n, n_tags), bool)  # the user's own word on the tag
    for photo_id, tag_id, confirmed in opinions.user_labels(catalogue):
        row_index, col_index = index.get(photo_id), column.get(tag_id)
        if row_index is None or col_index is None:
            continue
        said[row_index, col_index] = mask[row_index, col_index] = True
        labels[row_index, col_index] = confirmed
    _teach_linked(catalogue, column, labels, mask, said)
    prior = model.prior_probabilities(embeddings, faces_array)
    return TrainingData(
        photo_ids=np.array(ids, np.int64),
        embeddings=embeddings,
        prior=prior,
        labels=labels,
        mask=mask,
        tag_names=list(names),
        has_prior=model.head.has_model_.copy(),
        base_scores=model.head.predict_proba(embeddings, prior),
        faces=faces_array,
    )


def _teach_linked(
    catalogue: Catalogue, column: dict[int, int], labels: np.ndarray, mask: np.ndarray, said: np.ndarray
) -> None:
    """A tag linked to a built-in one (a sidecar's `Winter` -> snow, tag_tree.py) confirmed
    on a photo is a positive of the built-in tag there too, unless the user said otherwise
    of that tag on that photo. Only confirmations: rejecting `Winter` need not mean no snow."""
    for tag_id, builtin in tags.links(catalogue).items():
        own, target = column.get(tag_id), column.get(builtin)
        if own is None or target is None:
            continue
        taught = labels[:, own] & mask[:, own] & ~said[:, target]
        labels[taught, target] = mask[taught, target] = True
