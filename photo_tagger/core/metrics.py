"""Multi-label metrics with a mask: only (photo, tag) pairs whose label is known count.

numpy only. Names and definitions follow scikit-learn (`*_score`, `*_loss`; average
precision without interpolation; zero_division=0) and tests compare against it. Arrays
are (n_photos, n_tags); `mask` True = the label is known. A column without a positive
or without a negative has no average precision (NaN) and is left out of means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _as_1d(y_true: np.ndarray, y_score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true).astype(bool).ravel()
    s = np.asarray(y_score, np.float64).ravel()
    if t.shape != s.shape:
        raise ValueError(f"y_true has {t.size} values but y_score has {s.size}")
    return t, s


def average_precision_score(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Area under the precision-recall curve as a step function (scikit-learn's
    definition: sum over thresholds of (R_n - R_{n-1}) * P_n). NaN without positives."""
    t, s = _as_1d(y_true, y_score)
    n_pos = int(t.sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-s, kind="mergesort")
    s, t = s[order], t[order]
    # One point per distinct score: ties are cut together.
    last_of_run = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    tp = np.cumsum(t)[last_of_run]
    predicted = last_of_run + 1
    precision = tp / predicted
    recall_step = np.diff(np.r_[0, tp]) / n_pos
    return float(np.sum(recall_step * precision))


def per_tag_average_precision(
    y_true: np.ndarray, y_score: np.ndarray, mask: np.ndarray | None = None
) -> np.ndarray:
    """(n_tags,) AP of each column over its known rows; NaN where a column has no
    positive or no negative, or no score."""
    y_true, y_score, mask = _check_2d(y_true, y_score, mask)
    out = np.full(y_true.shape[1], np.nan)
    for j in range(y_true.shape[1]):
        known = mask[:, j] & ~np.isnan(y_score[:, j])
        t = y_true[known, j]
        if t.any() and not t.all():
            out[j] = average_precision_score(t, y_score[known, j])
    return out


def mean_average_precision_score(
    y_true: np.ndarray, y_score: np.ndarray, mask: np.ndarray | None = None
) -> float:
    """Mean of the per-tag APs that exist (scikit-learn's average='macro' when every
    column has both classes and there is no mask)."""
    ap = per_tag_average_precision(y_true, y_score, mask)
    return float(np.nanmean(ap)) if np.any(~np.isnan(ap)) else float("nan")


@dataclass(frozen=True)
class Counts:
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    tn: np.ndarray


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray, mask: np.ndarray | None = None) -> Counts:
    y_true, y_pred, mask = _check_2d(y_true, y_pred, mask)
    t, p = y_true.astype(bool), y_pred.astype(bool)
    return Counts(
        tp=np.sum(t & p & mask, axis=0),
        fp=np.sum(~t & p & mask, axis=0),
        fn=np.sum(t & ~p & mask, axis=0),
        tn=np.sum(~t & ~p & mask, axis=0),
    )


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.divide(a, b, out=np.zeros_like(a), where=b > 0)


def precision_score(y_true: np.ndarray, y_pred: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """(n_tags,) tp / (tp + fp), 0 where nothing was predicted."""
    c = confusion_counts(y_true, y_pred, mask)
    return _divide(c.tp, c.tp + c.fp)


def recall_score(y_true: np.ndarray, y_pred: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """(n_tags,) tp / (tp + fn), 0 where there is no positive."""
    c = confusion_counts(y_true, y_pred, mask)
    return _divide(c.tp, c.tp + c.fn)


def f1_score(
    y_true: np.ndarray, y_pred: np.ndarray, mask: np.ndarray | None = None, average: str | None = None
) -> np.ndarray | float:
    """Per tag 2tp / (2tp + fp + fn) (0 when that is 0/0); average='macro' gives the mean."""
    c = confusion_counts(y_true, y_pred, mask)
    f1 = _divide(2 * c.tp, 2 * c.tp + c.fp + c.fn)
    if average is None:
        return f1
    if average == "macro":
        return float(f1.mean()) if f1.size else float("nan")
    raise ValueError(f"average must be None or 'macro', not {average!r}")


def hamming_loss(y_true: np.ndarray, y_pred: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Fraction of the known labels predicted wrong."""
    y_true, y_pred, mask = _check_2d(y_true, y_pred, mask)
    known = int(mask.sum())
    if known == 0:
        return float("nan")
    wrong = (y_true.astype(bool) != y_pred.astype(bool)) & mask
    return float(wrong.sum() / known)


def _threshold_sweep(
    y_true: np.ndarray, y_score: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int] | None:
    """Every distinct cut of `score >= threshold`, from the highest score down: (scores
    sorted descending, index of the last photo of each run of equal scores, true positives
    kept by each cut, positives). None without positives or scores."""
    t, s = _as_1d(y_true, y_score)
    n_pos = int(t.sum())
    if n_pos == 0 or s.size == 0:
        return None
    order = np.argsort(-s, kind="mergesort")
    s, t = s[order], t[order]
    last_of_run = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    return s, last_of_run, np.cumsum(t)[last_of_run], n_pos


def _halfway_below(s: np.ndarray, cut: int) -> float:
    """Halfway between the lowest score kept and the next one down: a threshold that
    generalises a little better than the score itself."""
    below = s[cut + 1] if cut + 1 < s.size else s[cut] - 1e-3
    return float((s[cut] + below) / 2)


def best_f1_threshold(y_true: np.ndarray, y_score: np.ndarray, default: float = 0.5) -> tuple[float, float]:
    """(threshold, F1) maximising F1 of `score >= threshold`, cut halfway to the next score
    down. `default` (F1 0) without positives or scores."""
    sweep = _threshold_sweep(y_true, y_score)
    if sweep is None:
        return default, 0.0
    s, last_of_run, tp, n_pos = sweep
    f1 = 2 * tp / (last_of_run + 1 + n_pos)
    best = int(np.argmax(f1))
    return _halfway_below(s, last_of_run[best]), float(f1[best])


def precision_threshold(
    y_true: np.ndarray, y_score: np.ndarray, target: float
) -> tuple[float, float, float] | None:
    """(threshold, precision, recall) of the lowest threshold whose `score >= threshold`
    keeps precision at or above `target` (the most recall at that precision); None when
    no threshold reaches it. Cut halfway to the next score down, as in best_f1_threshold."""
    sweep = _threshold_sweep(y_true, y_score)
    if sweep is None:
        return None
    s, last_of_run, tp, n_pos = sweep
    precision = tp / (last_of_run + 1)
    reaching = np.flatnonzero(precision >= target)
    if reaching.size == 0:
        return None
    best = int(reaching[-1])
    return _halfway_below(s, last_of_run[best]), float(precision[best]), float(tp[best] / n_pos)


def _check_2d(
    y_true: np.ndarray, y_other: np.ndarray, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true)
    y_other = np.asarray(y_other)
    if y_true.ndim == 1:
        y_true, y_other = y_true[:, None], y_other[:, None]
        mask = None if mask is None else np.asarray(mask)[:, None]
    if y_true.shape != y_other.shape or y_true.ndim != 2:
        raise ValueError(f"y_true {y_true.shape} and predictions {y_other.shape} must be the same 2-d shape")
    mask = np.ones(y_true.shape, bool) if mask is None else np.asarray(mask, bool)
    if mask.shape != y_true.shape:
        raise ValueError(f"mask has shape {mask.shape}, labels {y_true.shape}")
    return y_true, y_other, mask
