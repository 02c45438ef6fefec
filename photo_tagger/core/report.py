"""The training report: per tag and overall, before (zero-shot prior) vs after (new head).

"After" figures come from k-fold cross-validation on the user's own labelled photos (each
photo scored by a head that never saw it, and cut at thresholds chosen on the other folds'
photos, so neither the head nor its thresholds saw it: the "after" F1 is not flattered by
choosing thresholds on the photos it is measured on). AP does not depend on thresholds.
"Before" is the starting model (the shipped pretrained head and the taxonomy prior, which
never saw the user's photos) at its thresholds; a tag without one scores 0 everywhere
before (never suggested: AP = its base rate, F1 = 0).
Stored as JSON beside the head; `format_report` prints it as a table.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from photo_tagger.core.head import TagHead
from photo_tagger.core.metrics import (
    confusion_counts,
    hamming_loss,
    per_tag_average_precision,
)

if TYPE_CHECKING:
    from photo_tagger.core.training_data import TrainingData


@dataclass
class Scores:
    precision: float
    recall: float
    f1: float
    ap: float | None  # None: the tag's known labels are all one class


@dataclass
class TagReport:
    name: str
    n_pos: int
    n_neg: int
    trained: bool
    threshold: float
    note: str = ""  # e.g. "too few examples: 2 confirmed, need 3"
    before: Scores | None = None
    after: Scores | None = None


@dataclass
class Overall:
    map: float | None
    macro_f1: float | None
    hamming_loss: float | None


@dataclass
class TrainReport:
    photos: int  # photos with at least one known label
    labels: int  # known (photo, tag) labels
    cv_folds: int
    tags: list[TagReport]
    before: Overall
    after: Overall
    head_id: int | None = None
    seconds: float = 0.0
    fit_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    target_precision: float | None = None  # None: thresholds maximise F1
    activated: bool = True  # False: it scored below the model in use, so it was kept inactive

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> TrainReport:
        data: dict[str, Any] = json.loads(text)
        data["tags"] = [
            TagReport(**{**t, "before": _scores(t.get("before")), "after": _scores(t.get("after"))})
            for t in data["tags"]
        ]
        data["before"], data["after"] = Overall(**data["before"]), Overall(**data["after"])
        return cls(**data)


def _scores(value: dict[str, Any] | None) -> Scores | None:
    return None if value is None else Scores(**value)


def _num(value: float) -> float | None:
    return None if value != value else round(float(value), 4)


def build_report(
    data: TrainingData,
    head: TagHead,
    oof: np.ndarray,
    cv_folds: int,
    *,
    after_pred: np.ndarray | None = None,
    base_thresholds: np.ndarray | None = None,
    target_precision: float | None = None,
    precision_unreached: list[int] | tuple[int, ...] = (),
    kept: dict[int, str] | None = None,
) -> TrainReport:
    """`after_pred`: the out-of-fold yes/no per photo and tag (default: `oof` cut at the
    head's thresholds); `base_thresholds`: the starting model's (default 0.5);
    `precision_unreached`: tags that cannot reach `target_precision`; `kept`: tags that keep
    the starting model, with why."""
    y, mask = data.labels, data.mask
    kept = kept or {}
    before_scores = np.nan_to_num(data.base_scores, nan=0.0)
    thresholds = np.full(len(data.tag_names), 0.5, np.float32) if base_thresholds is None else base_thresholds
    before_pred = before_scores >= thresholds
    after_scores = np.where(np.isnan(oof), before_scores, oof)  # untrained: the prior, as served
    with np.errstate(invalid="ignore"):
        cut = oof >= head.thresholds_ if after_pred is None else after_pred
    after_pred = np.where(np.isnan(oof), before_pred, cut)
    n_pos = (y & mask).sum(axis=0)
    n_neg = (~y & mask).sum(axis=0)
    evaluated = (n_pos > 0) & (cv_folds >= 2)
    tags: list[TagReport] = []
    unreached = set(precision_unreached)
    ap_before = per_tag_average_precision(y, before_scores, mask)
    ap_after = per_tag_average_precision(y, after_scores, mask)
    before_tag = _per_tag(y, before_pred, mask, ap_before)
    after_tag = _per_tag(y, after_pred, mask, ap_after)
    min_pos = np.broadcast_to(head.min_positives, n_pos.shape)
    min_neg = np.broadcast_to(head.min_negatives, n_pos.shape)
    for j, name in enumerate(data.tag_names):
        if n_pos[j] + n_neg[j] == 0:
            continue
        tags.append(TagReport(
            name=name, n_pos=int(n_pos[j]), n_neg=int(n_neg[j]), trained=bool(head.trained_[j]),
            threshold=round(float(head.thresholds_[j]), 4),
            note=kept.get(j) or _note(int(n_pos[j]), int(n_neg[j]), int(min_pos[j]), int(min_neg[j]),
                                      bool(data.has_prior[j]),
                                      bool(np.any(~np.isnan(oof[:, j]) & mask[:, j])),
                                      target_precision if j in unreached else None),
            before=before_tag[j] if evaluated[j] else None,
            after=after_tag[j] if evaluated[j] else None,
        ))
    cols = evaluated
    return TrainReport(
        photos=len(data.photo_ids), labels=int(mask.sum()), cv_folds=cv_folds, tags=tags,
        before=_overall(y[:, cols], before_scores[:, cols], before_pred[:, cols], mask[:, cols]),
        after=_overall(y[:, cols], after_scores[:, cols], after_pred[:, cols], mask[:, cols]),
        notes=([] if cv_folds >= 2 else ["too few labelled photos to cross-validate"])
        + ([] if target_precision is None else [f"thresholds aim at precision {target_precision:.2f}"
                                                 " (tags that cannot reach it maximise F1)"]),
        target_precision=target_precision,
    )


def _per_tag(y: np.ndarray, pred: np.ndarray, mask: np.ndarray, ap: np.ndarray) -> list[Scores]:
    c = confusion_counts(y, pred, mask)
    out = []
    for j in range(y.shape[1]):
        tp, fp, fn = int(c.tp[j]), int(c.fp[j]), int(c.fn[j])
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
        out.append(Scores(round(precision, 4), round(recall, 4), round(f1, 4), _num(ap[j])))
    return out


def _overall(y: np.ndarray, scores: np.ndarray, pred: np.ndarray, mask: np.ndarray) -> Overall:
    if y.shape[1] == 0:
        return Overall(None, None, None)
    ap = per_tag_average_precision(y, scores, mask)
    c = confusion_counts(y, pred, mask)
    denominator = 2 * c.tp + c.fp + c.fn
    f1 = np.divide(2 * c.tp, denominator, out=np.zeros(len(c.tp)), where=denominator > 0)
    return Overall(
        map=_num(float(np.nanmean(ap))) if np.any(~np.isnan(ap)) else None,
        macro_f1=_num(float(f1.mean())),
        hamming_loss=_num(hamming_loss(y, pred, mask)),
    )


def _note(
    n_pos: int, n_neg: int, min_pos: int, min_neg: int, has_prior: bool, cross_validated: bool,
    unreached_precision: float | None = None,
) -> str:
    if n_pos >= min_pos and n_neg >= min_neg:
        if not cross_validated:
            return "trained, but too few examples to cross-validate: 'after' is the prior"
        if unreached_precision is not None:
            return f"cannot reach precision {unreached_precision:.2f} yet: threshold maximises F1"
        return ""
    outcome = "keeps the starting model" if has_prior else "not suggested yet"
    return (f"too few examples ({n_pos} confirmed, {n_neg} negative; needs {min_pos}"
            f" and {min_neg}): {outcome}")


def format_report(report: TrainReport) -> str:
    """A plain-text table: one line per tag, then the overall figures."""
    width = max([len(t.name) for t in report.tags] + [3])
    lines = [
        f"trained on {report.photos} photos ({report.labels} known labels), "
        f"{report.cv_folds}-fold cross-validation, {report.seconds:.1f} s",
        f"{'tag':<{width}}  {'pos':>5} {'neg':>5}  {'AP before':>9} {'AP after':>8}  "
        f"{'F1 before':>9} {'F1 after':>8}  {'P after':>7} {'R after':>7}  {'thresh':>6}  note",
    ]
    silent = [t for t in report.tags if t.n_pos == 0]
    for t in report.tags:
        if t.n_pos == 0:
            continue
        b, a = t.before, t.after
        lines.append(
            f"{t.name:<{width}}  {t.n_pos:>5} {t.n_neg:>5}  {_cell(b.ap if b else None, 9)} "
            f"{_cell(a.ap if a else None, 8)}  {_cell(b.f1 if b else None, 9)} {_cell(a.f1 if a else None, 8)}  "
            f"{_cell(a.precision if a else None, 7)} {_cell(a.recall if a else None, 7)}  "
            f"{t.threshold:>6.2f}  {t.note}".rstrip()
        )
    if silent:
        lines.append(f"{len(silent)} more tags have negatives but no confirmed example yet (not trained)")
    for label, overall in (("before (start)", report.before), ("after (head)", report.after)):
        lines.append(
            f"{label:<15} mAP {_cell(overall.map, 6)}  macro-F1 {_cell(overall.macro_f1, 6)}  "
            f"Hamming loss {_cell(overall.hamming_loss, 6)}"
        )
    lines.extend(report.notes)
    return "\n".join(lines)


def _cell(value: float | None, width: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.3f}"
