"""The optimiser behind `TagHead.fit`: every tag at once, as one linear layer.

Full-batch LBFGS in torch for small sets; minibatch Adam in numpy for large ones, so a
large training never imports torch (~0.5 GB resident on its own). Kept apart from head.py
so that scoring (numpy) never imports torch: the indexer process stays small. The
objective, for parameters theta = (coef, prior_coef, intercept) and the prior start theta0 = (0, 1, 0):

    ( sum over known (i, t) of w_it * BCE(z_it, y_it)
      + alpha/2 * (||coef||^2 + ||intercept||^2) + prior_alpha/2 * ||prior_coef - 1||^2 ) / n

with z = x @ coef.T + prior_logit * prior_coef + intercept and w_it = 1 for a negative,
min(n_neg_t / n_pos_t, max_positive_weight) for a positive (rare tags are not drowned).
With alpha = 1 and no weights the coef part is scikit-learn's LogisticRegression(C=1)
objective. prior_alpha is larger: the zero-shot prior was right on ImageNet-sized data,
so overturning it (prior_coef <= 0) takes many contradicting labels, not six. Measured
(benchmarks/train.py data, test mAP on the 16 prior tags after 10/25/50/200/1000 reviewed
photos): prior_alpha 100: .7192/.7957/.9232/.9916/.9991; 20: .7191/.7956/.9226/.9910/.9990;
alpha 3 or 10 instead of 1 is worse from 25 photos on (zero-shot prior: .7232).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from threadpoolctl import threadpool_limits

# Full-batch LBFGS is exact and fast up to here; above, minibatch Adam (FIELD_NOTES.md:
# same mAP at >= 10k photos, several times faster; it underfits small sets).
LBFGS_MAX_PHOTOS = 4000
# TagHead(max_iter=50): on 1k / 3k real-photo embeddings x 100 tags LBFGS converges in ~55-65
# evaluations; 50 iterations give the same test mAP as 100 (0.9973 / 0.9991) in less time.
# Adam, measured on benchmarks/train.py's 10k set (8k real + 2k jittered, 100 tags, test mAP
# on all tags / on sklearn's 10; sklearn 0.9992 / 0.99956; full LBFGS 0.99936 / 0.99963 in
# 60 s): batch 512 x 5 epochs .9984 / .9991 (CPU ~0.9 s); 128 x 5 .9991 / .9995 (~1.0 s);
# 128 x 8 .99915 / .99957 (~1.8 s); 64 x 4 .9990; lr 1e-2 or 5e-2 no better. Whitening the
# embeddings (Cholesky of their covariance) converged worse (0.989) and cost 3x per step.
ADAM_BATCH = 128
ADAM_EPOCHS = 5
ADAM_MIN_STEPS = 80  # small sets (adam forced) get more epochs
ADAM_LR = 3e-2
# One thread: on these 2-core machines, with the GUI, decoding or anything else running,
# two OpenMP threads spin against each other: an 800 x 100 fit took 137 s with 2 threads
# vs 11 s with 1 under load (quiet machine: see benchmarks/train.py).
TRAIN_THREADS = 1
BLOCK_ROWS = 8192  # rows converted to float32 at a time outside the minibatches


@contextmanager
def _threads(n: int) -> Iterator[None]:
    import torch

    was = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(was)


@contextmanager
def _deterministic(seed: int) -> Iterator[None]:
    import torch

    was = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        yield
    finally:
        torch.random.set_rng_state(state)
        torch.use_deterministic_algorithms(was)


def positive_weights(labels: np.ndarray, mask: np.ndarray, max_positive_weight: float) -> np.ndarray:
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
    alpha: float,
    prior_alpha: float,
    max_positive_weight: float,
    solver: str,
    max_iter: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimise the objective above from theta0; returns (coef, prior_coef, intercept).
    Columns without any known label keep theta0 exactly (their gradient is 0 there).
    `x` may be float16 (as stored): it is never copied whole, only converted per block."""
    columns = np.flatnonzero(mask.any(axis=0))
    coef, prior_coef, intercept = coef0.copy(), prior_coef0.copy(), intercept0.copy()
    rows = np.flatnonzero(mask[:, columns].any(axis=1)) if columns.size else np.zeros(0, int)
    if columns.size == 0 or rows.size == 0:
        return coef, prior_coef, intercept
    pos_w = positive_weights(labels[:, columns], mask[:, columns], max_positive_weight)
    use_lbfgs = solver == "lbfgs" or (solver == "auto" and len(rows) <= LBFGS_MAX_PHOTOS)
    # Centred embeddings make the problem far better conditioned (they are all >= 0);
    # the intercept is then the logit at the mean photo, and that is what is pulled to 0.
    mean = _row_mean(x, rows)
    start = (coef0[columns].astype(np.float32), prior_coef0[columns].astype(np.float32),
             (intercept0[columns] + coef0[columns] @ mean).astype(np.float32))
    batches = _Batches(x, prior_logit, labels, mask, rows, columns, mean, pos_w)
    alphas = (alpha, prior_alpha, alpha)
    if use_lbfgs:
        fitted = _run_lbfgs(batches, start, alphas, max_iter, seed)
    else:
        fitted = _run_adam(batches, start, alphas, seed)
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
    """The training rows, materialised as float32 a batch at a time: at 100k photos a
    float32 copy of the (float16) embeddings alone is 0.5 GB, and the labels, weights
    and prior logits of the trained columns another 0.2 GB."""

    def __init__(self, x, prior_logit, labels, mask, rows, columns, mean, pos_w) -> None:
        self.x, self.prior_logit, self.labels, self.mask = x, prior_logit, labels, mask
        self.rows, self.columns, self.mean, self.pos_w = rows, columns, mean, pos_w
        self.n = len(rows)
        self.all_columns = len(columns) == labels.shape[1]

    def get(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x centred, prior logit, y, weight) of training rows `index` (positions in rows)."""
        rows = self.rows[index]
        x = self.x[rows].astype(np.float32)
        x -= self.mean
        # Rows first, then columns: two cheap gathers instead of one np.ix_ (3x slower).
        y, known, prior = self.labels[rows], self.mask[rows], self.prior_logit[rows]
        if not self.all_columns:
            y, known, prior = y[:, self.columns], known[:, self.columns], prior[:, self.columns]
        weight = np.where(y, self.pos_w, np.float32(1.0))
        weight *= known
        return x, prior.astype(np.float32, copy=False), y.astype(np.float32), weight


def _run_adam(batches: _Batches, start, alphas, seed: int):
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
    epochs = max(ADAM_EPOCHS, -(-ADAM_MIN_STEPS // per_epoch))
    total = epochs * per_epoch
    step = 0
    with threadpool_limits(TRAIN_THREADS, user_api="blas"):
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
                    step_penalty *= np.float32(a / n)
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


def _run_lbfgs(batches: _Batches, start, alphas, max_iter: int, seed: int):
    """Full-batch LBFGS (strong Wolfe) in torch: small sets only (<= LBFGS_MAX_PHOTOS)."""
    import torch
    import torch.nn.functional as F

    x, prior, y, weight = batches.get(np.arange(batches.n))
    with _deterministic(seed), _threads(TRAIN_THREADS):
        tx, tp, ty, tw = (torch.from_numpy(a) for a in (x, prior, y, weight))
        t_start = [torch.from_numpy(np.ascontiguousarray(a)) for a in start]
        params = [p.clone().requires_grad_(True) for p in t_start]
        optimiser = torch.optim.LBFGS(
            params, lr=1.0, max_iter=max_iter, history_size=20,
            tolerance_grad=1e-6, tolerance_change=1e-9, line_search_fn="strong_wolfe",
        )

        def closure():
            optimiser.zero_grad()
            coef, prior_coef, intercept = params
            z = tx @ coef.T + tp * prior_coef + intercept
            data = F.binary_cross_entropy_with_logits(z, ty, weight=tw, reduction="sum")
            penalty = sum(a * ((p - p0) ** 2).sum() for a, p, p0 in zip(alphas, params, t_start, strict=True))
            value = (data + 0.5 * penalty) / batches.n
            value.backward()
            return value

        optimiser.step(closure)
    return [p.detach().numpy() for p in params]
