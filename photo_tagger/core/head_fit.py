"""The optimiser behind `TagHead.fit`: every tag at once, as one linear layer in torch.

Kept apart from head.py so that scoring (numpy) never imports torch: the indexer process
stays small. The objective, for parameters theta = (coef, prior_coef, intercept) and the
prior start theta0 = (0, 1, 0):

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

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

# Full-batch LBFGS is exact and fast up to here; above, minibatch Adam (FIELD_NOTES.md:
# same mAP at >= 10k photos, several times faster; it underfits small sets).
LBFGS_MAX_PHOTOS = 4000
# TagHead(max_iter=50): on 1k / 3k real-photo embeddings x 100 tags LBFGS converges in ~55-65
# evaluations; 50 iterations give the same test mAP as 100 (0.9973 / 0.9991) in less time.
# Measured on 8k real-photo embeddings x 100 tags (1 thread, loaded machine): 5 epochs at
# lr 3e-2 gave test mAP 0.9983 in ~1 s; 8 epochs at 1e-2, 0.9981 in 1.8 s; LBFGS 0.9994 in 18 s.
ADAM_BATCH = 512
ADAM_EPOCHS = 5
ADAM_MIN_STEPS = 80  # small sets (adam forced) get more epochs
ADAM_LR = 3e-2
# One thread: on these 2-core machines, with the GUI, decoding or anything else running,
# two OpenMP threads spin against each other: an 800 x 100 fit took 137 s with 2 threads
# vs 11 s with 1 under load (quiet machine: see benchmarks/train.py).
TRAIN_THREADS = 1


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
    Columns without any known label keep theta0 exactly (their gradient is 0 there)."""
    columns = np.flatnonzero(mask.any(axis=0))
    coef, prior_coef, intercept = coef0.copy(), prior_coef0.copy(), intercept0.copy()
    rows = np.flatnonzero(mask[:, columns].any(axis=1)) if columns.size else np.zeros(0, int)
    if columns.size == 0 or rows.size == 0:
        return coef, prior_coef, intercept
    import torch

    pos_w = positive_weights(labels[:, columns], mask[:, columns], max_positive_weight)
    y = labels[np.ix_(rows, columns)].astype(np.float32)
    weight = np.where(y > 0, pos_w, 1.0).astype(np.float32) * mask[np.ix_(rows, columns)]
    use_lbfgs = solver == "lbfgs" or (solver == "auto" and len(rows) <= LBFGS_MAX_PHOTOS)
    # Centred embeddings make the problem far better conditioned (they are all >= 0);
    # the intercept is then the logit at the mean photo, and that is what is pulled to 0.
    # One copy of the embeddings, centred in place (x[rows] then xr - mean held two: 1 GB
    # extra at 100k photos).
    xr = x[rows] if rows.size < len(x) else x.copy()
    mean = xr.mean(axis=0)
    xr -= mean
    centred_intercept0 = intercept0[columns] + coef0[columns] @ mean
    with _deterministic(seed), _threads(TRAIN_THREADS):
        tx = torch.from_numpy(np.ascontiguousarray(xr))
        tp = torch.from_numpy(np.ascontiguousarray(prior_logit[np.ix_(rows, columns)]))
        ty, tw = torch.from_numpy(y), torch.from_numpy(weight)
        start = [torch.from_numpy(np.ascontiguousarray(a)) for a in
                 (coef0[columns], prior_coef0[columns], centred_intercept0)]
        params = [p.clone().requires_grad_(True) for p in start]
        problem = _Problem(tx, tp, ty, tw, start, params, (alpha, prior_alpha, alpha), float(len(rows)))
        if use_lbfgs:
            problem.run_lbfgs(max_iter)
        else:
            problem.run_adam(seed)
    fitted_coef, fitted_prior_coef, fitted_intercept = (p.detach().numpy() for p in params)
    coef[columns], prior_coef[columns] = fitted_coef, fitted_prior_coef
    intercept[columns] = fitted_intercept - fitted_coef @ mean
    return coef, prior_coef, intercept


class _Problem:
    def __init__(self, x, prior, y, weight, start, params, alphas: tuple[float, ...], n: float) -> None:
        self.x, self.prior, self.y, self.weight = x, prior, y, weight
        self.start, self.params, self.alphas, self.n = start, params, alphas, n

    def loss(self, index=None):
        import torch.nn.functional as F

        coef, prior_coef, intercept = self.params
        x, prior, y, w = self.x, self.prior, self.y, self.weight
        scale = 1.0
        if index is not None:
            x, prior, y, w = x[index], prior[index], y[index], w[index]
            scale = self.n / len(index)  # the batch stands for the whole set
        z = x @ coef.T + prior * prior_coef + intercept
        data = F.binary_cross_entropy_with_logits(z, y, weight=w, reduction="sum") * scale
        penalty = sum(a * ((p - p0) ** 2).sum() for a, p, p0 in zip(self.alphas, self.params, self.start, strict=True))
        return (data + 0.5 * penalty) / self.n

    def run_lbfgs(self, max_iter: int) -> None:
        import torch

        optimiser = torch.optim.LBFGS(
            self.params, lr=1.0, max_iter=max_iter, history_size=20,
            tolerance_grad=1e-6, tolerance_change=1e-9, line_search_fn="strong_wolfe",
        )

        def closure():
            optimiser.zero_grad()
            value = self.loss()
            value.backward()
            return value

        optimiser.step(closure)

    def run_adam(self, seed: int) -> None:
        import torch

        optimiser = torch.optim.Adam(self.params, lr=ADAM_LR)
        generator = torch.Generator().manual_seed(seed)
        n = len(self.x)
        batches = (n + ADAM_BATCH - 1) // ADAM_BATCH
        epochs = max(ADAM_EPOCHS, -(-ADAM_MIN_STEPS // batches))
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, epochs * batches)
        for _ in range(epochs):
            order = torch.randperm(n, generator=generator)
            for begin in range(0, n, ADAM_BATCH):
                optimiser.zero_grad()
                self.loss(order[begin : begin + ADAM_BATCH]).backward()
                optimiser.step()
                schedule.step()
