"""The optimiser behind `TagHead.fit`: every tag at once, in numpy.

Per-tag LBFGS (logistic_lbfgs.py) for small and mid-sized sets, warm-started by a few epochs
of minibatch Adam above LBFGS_MAX_PHOTOS; minibatch Adam alone for large ones, whose float32
copy would not fit the memory budget. torch is never imported (~0.5 GB resident on its own),
and head.py imports this only to fit: the indexer process stays small. The objective, for
parameters theta = (coef, prior_coef, intercept) and the prior start theta0 = (0, 1, 0):

    ( sum over known (i, t) of w_it * BCE(z_it, y_it)
      + alpha/2 * (||coef||^2 + ||intercept||^2) + prior_alpha/2 * ||prior_coef - 1||^2 ) / n

with z = x @ coef.T + prior_logit * prior_coef + intercept and w_it = 1 for a negative,
min(n_neg_t / n_pos_t, max_positive_weight) for a positive (rare tags are not drowned).
With alpha = 1 and no weights the coef part is scikit-learn's LogisticRegression(C=1)
objective. prior_alpha is larger: the zero-shot prior was right on ImageNet-sized data,
so overturning it (prior_coef <= 0) takes many contradicting labels, not six. The values
are the best of those tried on benchmarks/train.py's learning curve (its docstring has them).
"""

from __future__ import annotations

import math

import numpy as np
from threadpoolctl import threadpool_limits

from photo_tagger.core.logistic_lbfgs import fit_logistic_columns

# Solver settings: the fastest that matched scikit-learn's test mAP in benchmarks/train.py
# (the measurements behind each are in its docstring).
# Up to here LBFGS alone from the prior start converges within TagHead.max_iter iterations.
LBFGS_MAX_PHOTOS = 4000
# Up to here a few Adam epochs, then LBFGS to polish. Above, each LBFGS iteration's two
# products with the whole float32 x cost too much, and Adam alone converges (more steps per epoch).
POLISH_MAX_PHOTOS = 16384
POLISH_ADAM_EPOCHS = 3
POLISH_ITERATIONS = 10
ADAM_BATCH = 128
ADAM_EPOCHS = 5
ADAM_MIN_STEPS = 80  # small sets (adam forced) get more epochs
ADAM_LR = 3e-2
# One thread: with the GUI or decoding running, BLAS threads spin against each other and a
# fit slows down tenfold (benchmarks/train.py's default-threads baseline shows the effect).
TRAIN_THREADS = 1
BLOCK_ROWS = 8192  # rows converted to float32 at a time outside the minibatches


def positive_weights(labels: np.ndarray, mask: np.ndarray, max_positive_weight: float | np.ndarray) -> np.ndarray:
    """(n_tags,) weight of a positive example: n_neg / n_pos, at least 1, capped."""
    n_pos = (labels & mask).sum(axis=0)
    n_neg = (~labels & mask).sum(axis=0)
    ratio = np.divide(n_neg, n_pos, out=np.ones(len(n_pos)), where=n_pos > 0)
    return np.clip(ratio, 1.0, max_positive_weight).astype(np.float32)


def fit_linear_head(
    x: np.ndarray,
    prior_logit: np.ndarray,
    labels: np.ndarray,
    mask: np.ndarray,
    coef0: np.ndarray,
    prior_coef0: np.ndarray,
    intercept0: np.ndarray,
    *,
    alpha: float | np.ndarray,
    prior_alpha: float | np.ndarray,
    max_positive_weight: float | np.ndarray,
    solver: str,
    max_iter: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimise the objective above from theta0; returns (coef, prior_coef, intercept).
    Columns without any known label keep theta0 exactly (their gradient is 0 there).
    `alpha`, `prior_alpha` and `max_positive_weight` are one value or one per tag.
    `x` may be float16 (as stored): it is never copied whole, only converted per block."""
    columns = np.flatnonzero(mask.any(axis=0))
    coef, prior_coef, intercept = coef0.copy(), prior_coef0.copy(), intercept0.copy()
    rows = np.flatnonzero(mask[:, columns].any(axis=1)) if columns.size else np.zeros(0, int)
    if columns.size == 0 or rows.size == 0:
        return coef, prior_coef, intercept
    n_tags = labels.shape[1]
    per_tag = [np.broadcast_to(np.asarray(v, np.float32), (n_tags,))[columns]
               for v in (alpha, prior_alpha, max_positive_weight)]
    pos_w = positive_weights(labels[:, columns], mask[:, columns], per_tag[2])
    lbfgs = solver == "lbfgs" or (solver == "auto" and len(rows) <= LBFGS_MAX_PHOTOS)
    polish = solver == "auto" and LBFGS_MAX_PHOTOS < len(rows) <= POLISH_MAX_PHOTOS
    # Centred embeddings make the problem far better conditioned (they are all >= 0);
    # the intercept is then the logit at the mean photo, and that is what is pulled to 0.
    batches = _Batches(x, prior_logit, labels, mask, rows, columns, pos_w, dense=lbfgs or polish)
    mean = batches.mean
    start = (coef0[columns].astype(np.float32), prior_coef0[columns].astype(np.float32),
             (intercept0[columns] + coef0[columns] @ mean).astype(np.float32))
    alphas = (per_tag[0][:, None], per_tag[1], per_tag[0])  # shaped like (coef, prior_coef, intercept)
    with threadpool_limits(TRAIN_THREADS, user_api="blas"):
        if lbfgs:
            fitted = _run_lbfgs(batches, start, start, alphas, max_iter)
        elif polish:
            warm = _run_adam(batches, start, alphas, seed, POLISH_ADAM_EPOCHS)
            fitted = _run_lbfgs(batches, warm, start, alphas, POLISH_ITERATIONS)
        else:
            fitted = _run_adam(batches, start, alphas, seed, ADAM_EPOCHS)
    fitted_coef, fitted_prior_coef, fitted_intercept = fitted
    coef[columns], prior_coef[columns] = fitted_coef, fitted_prior_coef
    intercept[columns] = fitted_intercept - fitted_coef @ mean
    return coef, prior_coef, intercept


def _row_mean(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    total = np.zeros(x.shape[1], np.float64)
    for begin in range(0, len(rows), BLOCK_ROWS):
        total += x[rows[begin : begin + BLOCK_ROWS]].sum(axis=0, dtype=np.float64)
    return (total / len(rows)).astype(np.float32)


class _Batches:
    """The training rows as float32, centred. Up to POLISH_MAX_PHOTOS rows they are
    materialised once (LBFGS needs them whole, Adam then only slices); above, a batch at a
    time: at 100k photos a float32 copy of the (float16) embeddings alone is 0.5 GB, and
    the labels, weights and prior logits of the trained columns another 0.2 GB."""

    def __init__(self, x, prior_logit, labels, mask, rows, columns, pos_w, dense: bool) -> None:
        self.x, self.prior_logit, self.labels, self.mask = x, prior_logit, labels, mask
        self.rows, self.columns, self.pos_w = rows, columns, pos_w
        self.n = len(rows)
        self.all_columns = len(columns) == labels.shape[1]
        self._whole = None
        if dense:
            whole_x, prior, y, weight = self._gather(np.arange(self.n))
            self.mean = whole_x.mean(axis=0, dtype=np.float64).astype(np.float32)
            whole_x -= self.mean
            self._whole = (whole_x, prior, y, weight)
        else:
            self.mean = _row_mean(x, rows)

    def get(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x centred, prior logit, y, weight) of training rows `index` (positions in rows)."""
        if self._whole is not None:
            x, prior, y, weight = self._whole
            return x[index], prior[index], y[index], weight[index]
        x, prior, y, weight = self._gather(index)
        x -= self.mean
        return x, prior, y, weight

    def whole(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """All training rows as `get` gives them, without a copy (dense only)."""
        if self._whole is None:
            raise ValueError("the training rows were not materialised (dense=False)")
        return self._whole

    def _gather(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Rows `index` as new float32 arrays, x not yet centred."""
        rows = self.rows[index]
        x = self.x[rows].astype(np.float32, copy=False)  # the gather already copied
        # Rows first, then columns: two cheap gathers instead of one np.ix_ (3x slower).
        y, known, prior = self.labels[rows], self.mask[rows], self.prior_logit[rows]
        if not self.all_columns:
            y, known, prior = y[:, self.columns], known[:, self.columns], prior[:, self.columns]
        weight = np.where(y, self.pos_w, np.float32(1.0))
        weight *= known
        return x, prior.astype(np.float32, copy=False), y.astype(np.float32), weight


def _run_adam(batches: _Batches, start, alphas, seed: int, epochs: int):
    """Minibatch Adam (torch.optim.Adam's update, cosine-annealed step) in numpy: the
    gradient of a linear layer is two matrix products, and torch is not imported (it costs
    ~0.5 GB resident on its own, half the memory budget at 100k photos)."""
    params = [p.copy() for p in start]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    rng = np.random.default_rng(seed)
    n = batches.n
    per_epoch = (n + ADAM_BATCH - 1) // ADAM_BATCH
    epochs = max(epochs, -(-ADAM_MIN_STEPS // per_epoch))
    total = epochs * per_epoch
    step = 0
    for _ in range(epochs):
        order = rng.permutation(n)
        for begin in range(0, n, ADAM_BATCH):
            index = np.sort(order[begin : begin + ADAM_BATCH])  # sorted: reads x in order
            x, prior, y, weight = batches.get(index)
            coef, prior_coef, intercept = params
            z = x @ coef.T
            z += prior * prior_coef
            z += intercept
            # d(weighted BCE)/dz = w * (sigmoid(z) - y); the batch stands for the whole set.
            g = 0.5 * (1.0 + np.tanh(0.5 * z))
            g -= y
            g *= weight
            g *= np.float32(1.0 / len(index))
            grads = [g.T @ x, (g * prior).sum(axis=0), g.sum(axis=0)]
            lr = ADAM_LR * 0.5 * (1.0 + math.cos(math.pi * step / total))
            step += 1
            bias1, bias2 = 1.0 - beta1**step, 1.0 - beta2**step
            for p, p0, a, grad, m_p, v_p in zip(params, start, alphas, grads, m, v, strict=True):
                # In place: a temporary per operation made the update as slow as the batch.
                step_penalty = p - p0
                step_penalty *= (a / np.float32(n)).astype(np.float32)
                grad += step_penalty
                m_p *= np.float32(beta1)
                m_p += np.float32(1 - beta1) * grad
                grad *= grad
                v_p *= np.float32(beta2)
                grad *= np.float32(1 - beta2)
                v_p += grad
                denominator = np.sqrt(v_p, out=grad)
                denominator *= np.float32(1 / math.sqrt(bias2))
                denominator += np.float32(eps)
                update = np.divide(m_p, denominator, out=denominator)
                update *= np.float32(lr / bias1)
                p -= update
    return params


def _run_lbfgs(batches: _Batches, params, start, alphas, iterations: int):
    """Per-tag LBFGS from `params` on the whole training set as float32."""
    x, prior, y, weight = batches.whole()
    alpha, prior_alpha, intercept_alpha = alphas
    d = x.shape[1]
    penalty = np.empty((len(prior_alpha), d + 2), np.float32)  # per tag and parameter
    penalty[:, :d] = alpha
    penalty[:, d], penalty[:, d + 1] = prior_alpha, intercept_alpha
    theta = fit_logistic_columns(x, prior, y, weight, _pack(params), _pack(start), penalty, iterations)
    return [theta[:, :d], theta[:, d], theta[:, d + 1]]


def _pack(params: list[np.ndarray] | tuple[np.ndarray, ...]) -> np.ndarray:
    coef, prior_coef, intercept = params
    return np.concatenate([coef, prior_coef[:, None], intercept[:, None]], axis=1).astype(np.float32)
