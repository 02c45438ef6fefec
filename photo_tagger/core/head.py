"""The multi-label sigmoid head that turns an embedding into one probability per tag.

    logit[t] = coef_[t] . embedding + prior_coef_[t] * prior_logit[t] + intercept_[t]

`prior_logit` is the taxonomy's zero-shot prior (from the ImageNet classes a tag maps
to). `TagHead.from_prior` sets coef_ = 0, prior_coef_ = 1, intercept_ = 0, so with no
corrections the head reproduces the prior exactly; training moves away from that start.
A tag with neither a prior nor training data has no model (`has_model_` False) and gets
no score at all rather than a meaningless 0.5.

`fit` trains all tags at once (in numpy, head_fit.py) on the photos whose labels are
known: masked, class-weighted binary cross-entropy plus an L2 penalty that pulls every
parameter back toward that prior start, so a handful of corrections cannot wreck a tag
that works. Per-tag LBFGS up to 16k photos (warm-started by Adam above 4000), minibatch
Adam alone above.
A tag with too few known positives or negatives is not trained: it keeps its prior (or
stays without a model).

The API follows scikit-learn: learned state ends in `_`, `predict_proba` always returns
(n_photos, n_tags). Serialisation is safetensors (cannot execute code) + JSON metadata.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

FORMAT_VERSION = 1
DEFAULT_THRESHOLD = 0.5
SOLVERS = ("auto", "lbfgs", "adam")
PRIOR_EPS = 1e-4
LOGIT_BLOCK_ROWS = 8192
LEARNED = ("coef_", "prior_coef_", "intercept_", "thresholds_", "has_model_", "trained_")


class NotFittedError(ValueError):
    """predict_proba was called on a head that has neither been fitted nor initialised."""


class HeadFormatError(ValueError):
    """A stored head is corrupt or does not fit this catalogue / backbone."""


def prior_logits(prior_probabilities: np.ndarray) -> np.ndarray:
    """Probabilities (NaN = no prior) -> float32 logits, clipped so 0 and 1 stay finite.
    In blocks of rows: at 100k photos x 150 tags each whole-array temporary is 60 MB."""
    prior = np.asarray(prior_probabilities)
    out = np.empty(prior.shape, np.float32)
    for begin in range(0, len(prior), LOGIT_BLOCK_ROWS):
        p = np.clip(np.nan_to_num(prior[begin : begin + LOGIT_BLOCK_ROWS].astype(np.float32), nan=0.5),
                    PRIOR_EPS, 1 - PRIOR_EPS)
        out[begin : begin + LOGIT_BLOCK_ROWS] = np.log(p / (1 - p))
    return out


class TagHead:
    # Learned state (scikit-learn style: set by from_prior / fit, absent before).
    coef_: np.ndarray  # (n_tags, embedding_dim)
    prior_coef_: np.ndarray  # (n_tags,)
    intercept_: np.ndarray  # (n_tags,)
    thresholds_: np.ndarray  # (n_tags,) decision threshold on the probability
    has_model_: np.ndarray  # (n_tags,) bool: False = no prior and no training yet
    trained_: np.ndarray  # (n_tags,) bool: fitted on the user's labels (else the prior start)

    def __init__(
        self,
        tag_names: Sequence[str],
        embedding_dim: int,
        backbone: str = "",
        *,
        alpha: float | np.ndarray = 1.0,
        prior_alpha: float = 100.0,
        min_positives: int | np.ndarray = 3,
        min_negatives: int | np.ndarray = 3,
        max_positive_weight: float | np.ndarray = 10.0,
        solver: str = "auto",
        max_iter: int = 50,
        random_state: int = 0,
    ) -> None:
        self.tag_names = list(tag_names)
        self.embedding_dim = embedding_dim
        self.backbone = backbone
        # Hyperparameters, stored as given (scikit-learn style); see fit_linear_head. alpha and
        # max_positive_weight, min_positives and min_negatives may be one value per tag.
        self.alpha = alpha
        self.prior_alpha = prior_alpha
        self.min_positives = min_positives
        self.min_negatives = min_negatives
        self.max_positive_weight = max_positive_weight
        self.solver = solver
        self.max_iter = max_iter
        self.random_state = random_state

    @classmethod
    def from_prior(
        cls, tag_names: Sequence[str], has_prior: np.ndarray, embedding_dim: int, backbone: str = ""
    ) -> TagHead:
        head = cls(tag_names, embedding_dim, backbone)
        n = len(head.tag_names)
        head.coef_ = np.zeros((n, embedding_dim), np.float32)
        head.prior_coef_ = np.ones(n, np.float32)
        head.intercept_ = np.zeros(n, np.float32)
        head.thresholds_ = np.full(n, DEFAULT_THRESHOLD, np.float32)
        head.has_model_ = np.asarray(has_prior, bool).copy()
        head.trained_ = np.zeros(n, bool)
        return head

    def fit(
        self,
        embeddings: np.ndarray,
        prior_probabilities: np.ndarray,
        labels: np.ndarray,
        mask: np.ndarray,
        has_prior: np.ndarray | None = None,
        start: TagHead | None = None,
    ) -> TagHead:
        """Train on (n_photos, n_tags) `labels` where `mask` is True (known); the rest is
        ignored. `has_prior` (n_tags,) says which tags have a zero-shot prior (default: a
        column of `prior_probabilities` that is not all NaN). `start` is the head training
        begins from and is pulled back to (default: the prior, `from_prior`); a tag it has no
        model for and that is not trained keeps no model. Thresholds are `start`'s (0.5 from
        the prior); the caller sets them (training.py chooses them by cross-validation)."""
        from photo_tagger.core.head_fit import fit_linear_head

        x = np.asarray(embeddings)
        if x.dtype not in (np.float16, np.float32):
            x = x.astype(np.float32)  # float16 (as stored) is kept: the fit converts per batch
        n_tags = len(self.tag_names)
        if x.ndim != 2 or x.shape[1] != self.embedding_dim:
            raise ValueError(f"embeddings must be (n, {self.embedding_dim}), got {x.shape}")
        shape = (len(x), n_tags)
        for name, array in (("prior_probabilities", prior_probabilities), ("labels", labels), ("mask", mask)):
            if np.shape(array) != shape:
                raise ValueError(f"{name} must have shape {shape} (photos x tags), got {np.shape(array)}")
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {SOLVERS}, not {self.solver!r}")
        if not np.all(np.asarray(self.alpha) > 0):
            raise ValueError(f"alpha (L2 strength toward the start) must be > 0, not {self.alpha}")
        prior = np.asarray(prior_probabilities)
        if has_prior is None:
            has_prior = ~np.all(np.isnan(prior), axis=0) if len(prior) else np.zeros(n_tags, bool)
        y = np.asarray(labels, bool)
        known = np.asarray(mask, bool)
        n_pos = (y & known).sum(axis=0)
        n_neg = (~y & known).sum(axis=0)
        trainable = (n_pos >= self.min_positives) & (n_neg >= self.min_negatives)
        if start is None:
            start = TagHead.from_prior(self.tag_names, np.asarray(has_prior, bool), self.embedding_dim)
        elif start.tag_names != self.tag_names or start.embedding_dim != self.embedding_dim:
            raise ValueError("the start head must have the same tags and embedding size as this head")
        coef, prior_coef, intercept = fit_linear_head(
            x, prior_logits(prior), y, known & trainable, start.coef_, start.prior_coef_, start.intercept_,
            alpha=self.alpha, prior_alpha=self.prior_alpha, max_positive_weight=self.max_positive_weight,
            solver=self.solver, max_iter=self.max_iter, seed=self.random_state,
        )
        self.coef_, self.prior_coef_, self.intercept_ = coef, prior_coef, intercept
        self.has_model_ = start.has_model_ | trainable
        self.trained_ = trainable
        self.thresholds_ = start.thresholds_.copy()
        return self

    def copy(self) -> TagHead:
        """An independent copy (hyperparameters and learned state)."""
        out = TagHead(self.tag_names, self.embedding_dim, self.backbone, alpha=self.alpha,
                      prior_alpha=self.prior_alpha, min_positives=self.min_positives,
                      min_negatives=self.min_negatives, max_positive_weight=self.max_positive_weight,
                      solver=self.solver, max_iter=self.max_iter, random_state=self.random_state)
        for name in LEARNED:
            setattr(out, name, getattr(self, name).copy())
        return out

    def copy_tags_from(self, other: TagHead, columns: np.ndarray, other_columns: np.ndarray | None = None) -> None:
        """Give tags `columns` the parameters, threshold and model flags of `other`'s tags
        `other_columns` (default: the same columns): how a tag keeps what it had when
        retraining it did not help, or takes the shipped head's."""
        source = columns if other_columns is None else other_columns
        for name in LEARNED:
            getattr(self, name)[columns] = getattr(other, name)[source]

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError("this TagHead is not initialised; call from_prior() or fit() first")

    def decision_function(self, embeddings: np.ndarray, prior_probabilities: np.ndarray) -> np.ndarray:
        self._check_fitted()
        x = np.asarray(embeddings, np.float32)
        if x.ndim != 2 or x.shape[1] != self.embedding_dim:
            raise ValueError(f"embeddings must be (n, {self.embedding_dim}), got {x.shape}")
        z = x @ self.coef_.T + prior_logits(prior_probabilities) * self.prior_coef_ + self.intercept_
        z[:, ~self.has_model_] = np.nan
        return z

    def predict_proba(self, embeddings: np.ndarray, prior_probabilities: np.ndarray) -> np.ndarray:
        """(n_photos, n_tags) probabilities; NaN for tags that have no model yet."""
        z = self.decision_function(embeddings, prior_probabilities)
        with np.errstate(over="ignore"):
            return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)

    # -- serialisation -------------------------------------------------------------
    def to_bytes(self) -> bytes:
        from safetensors.numpy import save

        self._check_fitted()
        metadata = {
            "format_version": str(FORMAT_VERSION),
            "tag_names": json.dumps(self.tag_names, ensure_ascii=False),
            "embedding_dim": str(self.embedding_dim),
            "backbone": self.backbone,
        }
        tensors = {
            "coef": self.coef_,
            "prior_coef": self.prior_coef_,
            "intercept": self.intercept_,
            "thresholds": self.thresholds_,
            "has_model": self.has_model_.astype(np.uint8),
            "trained": self.trained_.astype(np.uint8),
        }
        return _canonical(save(tensors, metadata=metadata))

    @classmethod
    def from_bytes(cls, data: bytes) -> TagHead:
        from safetensors import safe_open  # noqa: F401  (import check: safetensors present)
        from safetensors.numpy import load

        try:
            tensors = load(data)
            metadata = _safetensors_metadata(data)
            version = int(metadata.get("format_version", "0"))
            if version != FORMAT_VERSION:
                raise HeadFormatError(f"head format {version} is not {FORMAT_VERSION}")
            head = cls(
                json.loads(metadata["tag_names"]),
                int(metadata["embedding_dim"]),
                metadata.get("backbone", ""),
            )
            n, dim = len(head.tag_names), head.embedding_dim
            head.coef_ = _expect(tensors, "coef", (n, dim))
            head.prior_coef_ = _expect(tensors, "prior_coef", (n,))
            head.intercept_ = _expect(tensors, "intercept", (n,))
            head.thresholds_ = _expect(tensors, "thresholds", (n,))
            head.has_model_ = _expect(tensors, "has_model", (n,)).astype(bool)
            # Optional: heads saved before training existed have no 'trained' tensor.
            trained = tensors.get("trained")
            head.trained_ = np.zeros(n, bool) if trained is None else _expect(tensors, "trained", (n,)).astype(bool)
        except HeadFormatError:
            raise
        except Exception as exc:
            raise HeadFormatError(f"unreadable head ({exc})") from exc
        return head


def _expect(tensors: dict[str, np.ndarray], name: str, shape: tuple[int, ...]) -> np.ndarray:
    if name not in tensors:
        raise HeadFormatError(f"head has no '{name}' tensor")
    array = tensors[name]
    if array.shape != shape:
        raise HeadFormatError(f"head tensor '{name}' has shape {array.shape}, expected {shape}")
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise HeadFormatError(f"head tensor '{name}' has non-finite values")
    return array


def _canonical(data: bytes) -> bytes:
    """The same file with its JSON header's keys sorted: safetensors writes them in hash
    order, so equal heads would otherwise differ in bytes (and a rebuild would not be
    reproducible). The header keeps its length (padded with spaces, as safetensors does)."""
    header_len = int.from_bytes(data[:8], "little")
    header = json.dumps(json.loads(data[8 : 8 + header_len]), sort_keys=True, separators=(",", ":")).encode()
    if len(header) > header_len:  # not the compact form safetensors writes: leave it
        return data
    return data[:8] + header.ljust(header_len, b" ") + data[8 + header_len :]


def _safetensors_metadata(data: bytes) -> dict[str, Any]:
    header_len = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + header_len])
    return dict(header.get("__metadata__", {}))
