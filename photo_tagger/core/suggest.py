"""From stored embeddings to tag suggestions: classifier logits -> taxonomy prior -> head.

Suggestions are materialised in `photo_tags` (state 'suggested', written by store/suggestions.py's
`write_suggestions`) for every tag whose score reaches `SUGGESTION_FLOOR`, so filters run in
SQL and a threshold change in the tag manager takes effect without re-scoring. Rows the user
set are never overwritten; only their score is refreshed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from photo_tagger.core.head import DEFAULT_THRESHOLD, HeadFormatError, TagHead, prior_logits
from photo_tagger.core.store import heads, suggestions
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.store.tags import all_paths
from photo_tagger.core.tag_tree import PATH_SEPARATOR, join_path
from photo_tagger.core.taxonomy import Taxonomy, load_default_taxonomy

log = logging.getLogger(__name__)

# Below this a score is noise: not stored, never shown. Thresholds are clamped above it.
SUGGESTION_FLOOR = 0.05
MAX_THRESHOLD = 0.99  # a threshold of 1 would suggest nothing, ever
PRIOR_BLOCK_ROWS = 4096


def encode_vector(vector: np.ndarray) -> bytes:
    return np.asarray(vector, np.float16).tobytes()


def decode_vectors(blobs: Sequence[bytes], dim: int) -> np.ndarray:
    if not blobs:
        return np.zeros((0, dim), np.float32)
    return np.frombuffer(b"".join(blobs), np.float16).reshape(len(blobs), dim).astype(np.float32)


def encode_faces(summary: np.ndarray) -> bytes:
    return np.asarray(summary, np.float32).tobytes()


def decode_faces(blobs: Sequence[bytes | None]) -> np.ndarray:
    """(n, FACE_FEATURES) float32; a photo without a stored summary (NULL) gets zeros: no face."""
    from photo_tagger.core.faces import FACE_FEATURES

    out = np.zeros((len(blobs), FACE_FEATURES), np.float32)
    for i, blob in enumerate(blobs):
        if blob is not None and len(blob) == 4 * FACE_FEATURES:
            out[i] = np.frombuffer(blob, np.float32)
    return out


@dataclass
class SuggestionModel:
    backbone_key: str
    classifier_weight: np.ndarray  # (num_classes, dim)
    classifier_bias: np.ndarray
    taxonomy: Taxonomy
    head: TagHead
    tag_ids: list[int]  # catalogue ids, aligned with head.tag_names
    head_id: int | None  # None = the starting model (pretrained head + taxonomy prior)
    # (n_tags,) bool: the tag's start is strong: fitted on real photos (the shipped pretrained
    # head) or several zero-shot signals combined (person: faces, clothing, implying tags).
    # Retraining needs more examples before it touches such a tag (training.py).
    strong_start: np.ndarray | None = None
    # (n_tags,) bool: the tag's start was fitted on real photos (the shipped pretrained head):
    # retraining pulls it back hard, and a zero-shot start lightly.
    fitted_start: np.ndarray | None = None

    def prior_probabilities(self, embeddings: np.ndarray, faces: np.ndarray | None = None) -> np.ndarray:
        """(n, n_head_tags) taxonomy prior; NaN for tags the taxonomy cannot see.

        Computed in blocks: the softmax over 1000 classes works in float64, and 100k
        photos at once would need ~2.4 GB of temporaries. `embeddings` may be float16.
        `faces`: the photos' face summaries (None: no face signal)."""
        column = {key: i for i, key in enumerate(taxonomy_keys(self.taxonomy))}
        pairs = [(j, column[name.casefold()]) for j, name in enumerate(self.head.tag_names)
                 if name.casefold() in column]
        head_columns = [j for j, _ in pairs]
        taxonomy_columns = [i for _, i in pairs]
        prior = np.full((len(embeddings), len(self.head.tag_names)), np.nan, np.float32)
        implied = self._implied_columns()
        for start in range(0, len(embeddings), PRIOR_BLOCK_ROWS):
            block = np.asarray(embeddings[start : start + PRIOR_BLOCK_ROWS], np.float32)  # float16 as stored
            logits = block @ self.classifier_weight.T + self.classifier_bias
            block_faces = None if faces is None else faces[start : start + PRIOR_BLOCK_ROWS]
            rows = slice(start, start + len(block))
            prior[rows, head_columns] = self.taxonomy.prior_probabilities(logits, block_faces)[:, taxonomy_columns]
            for target, sources in implied:
                prior[rows, target] = self._fold_implied(block, prior[rows], target, sources)
        return prior

    def _implied_columns(self) -> list[tuple[int, list[int]]]:
        """(head column, head columns of the tags implying it) for tags with `implied_by`."""
        column = {name.casefold(): j for j, name in enumerate(self.head.tag_names)}
        key = dict(zip(self.taxonomy.names(), taxonomy_keys(self.taxonomy), strict=True))
        out = []
        for tag in self.taxonomy.tags:
            target = column.get(key[tag.name])
            sources = [column[key[name]] for name in tag.implied_by if key[name] in column]
            if target is not None and sources:
                out.append((target, sources))
        return out

    def _fold_implied(self, x: np.ndarray, prior: np.ndarray, column: int, sources: list[int]) -> np.ndarray:
        """Noisy-or of `column`'s prior with the head's most probable implying tag. Those
        tags' scores do not depend on this prior, so there is no loop."""
        head = self.head
        if not head.has_model_[sources].any():
            return prior[:, column]
        z = x @ head.coef_[sources].T + prior_logits(prior[:, sources]) * head.prior_coef_[sources] \
            + head.intercept_[sources]
        z[:, ~head.has_model_[sources]] = -np.inf  # no model: implies nothing
        with np.errstate(over="ignore"):
            implied = 1.0 / (1.0 + np.exp(-z.max(axis=1)))
        own = np.nan_to_num(prior[:, column], nan=0.0)
        return 1.0 - (1.0 - own) * (1.0 - implied)

    def score(self, embeddings: np.ndarray, faces: np.ndarray | None = None) -> np.ndarray:
        """(n, n_head_tags) probabilities; NaN where a tag has no model yet."""
        embeddings = np.asarray(embeddings, np.float32)
        return self.head.predict_proba(embeddings, self.prior_probabilities(embeddings, faces))


def load_suggestion_model(
    catalogue: Catalogue,
    backbone_key: str,
    classifier: tuple[np.ndarray, np.ndarray],
    taxonomy: Taxonomy | None = None,
) -> SuggestionModel:
    """The active head for this backbone, or the starting model if none was trained. A
    stored head that is unreadable or does not fit (another backbone, other embedding
    size) is refused with a warning naming the problem; the newest older head that loads
    is used instead, else the starting model. Tags the stored head did not train take the
    starting model's parameters and thresholds (a tag added since, a newer pretrained head)."""
    base = base_suggestion_model(catalogue, backbone_key, classifier, taxonomy)
    weight = classifier[0]
    active = heads.active_head_id(catalogue, backbone_key)
    candidates = [] if active is None else heads.weights_up_to(catalogue, backbone_key, active)
    for head_id, weights in candidates:
        try:
            stored = TagHead.from_bytes(weights)
            if stored.embedding_dim != weight.shape[1]:
                raise HeadFormatError(
                    f"head is for {stored.embedding_dim}-d embeddings, backbone gives {weight.shape[1]}"
                )
            if stored.backbone and stored.backbone != backbone_key:
                raise HeadFormatError(f"head was trained for backbone {stored.backbone!r}, not {backbone_key!r}")
        except HeadFormatError as exc:
            log.warning("%s: stored head %s refused (%s); trying the previous one, else the starting model",
                        catalogue.path, head_id, exc)
            continue
        head = base.head.copy()
        _take_tags(head, stored, np.flatnonzero(stored.trained_))
        return SuggestionModel(backbone_key, weight, classifier[1], base.taxonomy, head, base.tag_ids, head_id,
                               base.strong_start, base.fitted_start)
    return base


def base_suggestion_model(
    catalogue: Catalogue,
    backbone_key: str,
    classifier: tuple[np.ndarray, np.ndarray],
    taxonomy: Taxonomy | None = None,
) -> SuggestionModel:
    """The starting model over every tag of the catalogue (training starts here, rollback
    ends here): the shipped pretrained head for the tags it covers, the taxonomy prior for
    the other tags the taxonomy knows, no model for the user's own tags."""
    from photo_tagger.core.pretrained import load_pretrained_head

    taxonomy = taxonomy or load_default_taxonomy()
    weight, bias = classifier
    paths = all_paths(catalogue)
    tag_ids = sorted(paths)
    # A head names each tag by its path (`animal|cat`): leaf names repeat across branches.
    names = [join_path(paths[tag_id]) for tag_id in tag_ids]
    keys = taxonomy_keys(taxonomy)
    known = {key for tag, key in zip(taxonomy.tags, keys, strict=True) if tag.imagenet or tag.faces}
    has_prior = np.array([name.casefold() in known for name in names], bool)
    head = TagHead.from_prior(names, has_prior, weight.shape[1], backbone_key)
    head.thresholds_ = _prior_thresholds(taxonomy, names)
    pretrained = load_pretrained_head(backbone_key, weight.shape[1], taxonomy)
    combined = {key for tag, key in zip(taxonomy.tags, keys, strict=True) if tag.implied_by}
    strong = np.array([name.casefold() in combined for name in names], bool)
    fitted = np.zeros(len(names), bool)
    if pretrained is not None:
        by_path = pretrained.copy()  # the shipped head names taxonomy tags by their own name
        by_path.tag_names = [join_path(taxonomy.path(name)) for name in pretrained.tag_names]
        columns = _take_tags(head, by_path, np.arange(len(by_path.tag_names)))
        head.trained_[:] = False  # trained_ marks the user's training only
        fitted[columns] = True
    return SuggestionModel(backbone_key, weight, bias, taxonomy, head, tag_ids, None, strong | fitted, fitted)


def taxonomy_keys(taxonomy: Taxonomy) -> list[str]:
    """What a head calls each taxonomy tag: its path, case-folded (`animal|cat`)."""
    return [join_path(path).casefold() for path in taxonomy.paths]


def _take_tags(head: TagHead, other: TagHead, rows: np.ndarray) -> np.ndarray:
    """Give `head`'s tags the parameters of `other`'s tags `rows` of the same path (case
    aside); returns the columns of `head` that took them. Tags `head` lacks are skipped.
    A head stored before tags were paths names them by leaf name: such a name means the
    oldest tag of that name (the one it had then; a later homonym came from a split)."""
    column = {name.casefold(): j for j, name in enumerate(head.tag_names)}
    for j, name in enumerate(head.tag_names):
        column.setdefault(name.rpartition(PATH_SEPARATOR)[2].casefold(), j)
    rows = np.array([i for i in rows if other.tag_names[i].casefold() in column], np.int64)
    columns = np.array([column[other.tag_names[i].casefold()] for i in rows], np.int64)
    head.copy_tags_from(other, columns, rows)
    return columns


def _prior_thresholds(taxonomy: Taxonomy, names: Sequence[str]) -> np.ndarray:
    """Zero-shot thresholds for the tags at paths `names` (0.5 where the taxonomy has none)."""
    by_key = dict(zip(taxonomy_keys(taxonomy), taxonomy.prior_thresholds(), strict=True))
    return np.array([by_key.get(name.casefold(), DEFAULT_THRESHOLD) for name in names], np.float32)


def clamp_threshold(threshold: float) -> float:
    return float(min(max(threshold, SUGGESTION_FLOOR), MAX_THRESHOLD))


def apply_model_thresholds(catalogue: Catalogue, model: SuggestionModel) -> None:
    """Store the thresholds `model`'s head learned (clamped) as the tags' model thresholds."""
    thresholds = model.head.thresholds_.tolist()
    suggestions.set_model_thresholds(
        catalogue, {tag_id: clamp_threshold(t) for tag_id, t in zip(model.tag_ids, thresholds, strict=True)})
