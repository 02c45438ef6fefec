"""Many independent logistic regressions over one design matrix, solved side by side.

Each tag t is its own problem: features (x_i, prior_logit_it, 1), parameters row t of
`theta` = (coef_t, prior_coef_t, intercept_t), objective

    ( sum_i w_it * BCE(z_it, y_it) + 1/2 * sum_k penalty_k (theta_tk - theta0_tk)^2 ) / n.

LBFGS runs per tag (own curvature history, own step), vectorised over tags so that each
iteration costs two matrix products with x for all tags. One joint LBFGS over all tags (what
torch.optim.LBFGS does) mixes the curvature of a tag seen on 5 photos with one seen on 5 000
and needed several times more iterations for the same test mAP (benchmarks/train.py).

The line search needs no further product with x: along a direction d the logits move by
u = x . d, so the loss, slope and curvature at any step are elementwise work on (n, tags).
The step is the 1-D Newton step (exact line search on the local quadratic) and is cut back
by regula falsi on the slope while it overshoots the minimum along d (the 1-D objective is
convex, so its slope is increasing).
"""

from __future__ import annotations

import numpy as np

HISTORY = 10  # curvature pairs kept per tag
MAX_STEP = 4.0  # at most 4x the LBFGS step (which is ~1 near the optimum)
OVERSHOOT = 0.5  # cut a step back while the slope after it exceeds this share of the slope before
CUTBACKS = 4


def _sigmoid(z: np.ndarray) -> np.ndarray:
    s = np.tanh(z * np.float32(0.5))  # overflow-free, float32 throughout
    s += np.float32(1.0)
    s *= np.float32(0.5)
    return s


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b)


class _Problem:
    def __init__(
        self, x: np.ndarray, prior: np.ndarray, y: np.ndarray, weight: np.ndarray,
        theta0: np.ndarray, penalty: np.ndarray,
    ) -> None:
        self.x, self.prior, self.y, self.weight = x, prior, y, weight
        self.theta0, self.penalty = theta0, penalty
        self.d = x.shape[1]
        self.inv_n = np.float32(1.0 / len(x))

    def logits(self, theta: np.ndarray, tags: np.ndarray | slice = slice(None)) -> np.ndarray:
        """(n, tags) logits for parameters (tags, d + 2) of `tags`; linear in theta, so also
        the change of the logits along a direction."""
        z = self.x @ theta[:, : self.d].T
        z += self.prior[:, tags] * theta[:, self.d]
        z += theta[:, self.d + 1]
        return z

    def gradient(self, z: np.ndarray, theta: np.ndarray, s: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(gradient (tags, d + 2), sigmoid(z)); `s` is sigmoid(z) if already known."""
        if s is None:
            s = _sigmoid(z)
        residual = s - self.y
        residual *= self.weight
        grad = (theta - self.theta0) * self.penalty
        grad[:, : self.d] += residual.T @ self.x
        grad[:, self.d] += np.einsum("ij,ij->j", residual, self.prior)
        grad[:, self.d + 1] += residual.sum(axis=0)
        grad *= self.inv_n
        return grad, s

    def slope(self, s: np.ndarray, u: np.ndarray, theta: np.ndarray, direction: np.ndarray) -> np.ndarray:
        """Per tag, the derivative along `direction` where the sigmoid of the logits is `s`."""
        residual = s - self.y
        residual *= self.weight
        data = np.einsum("ij,ij->j", residual, u)
        return (data + _rowdot((theta - self.theta0) * self.penalty, direction)) * self.inv_n

    def curvature(self, s: np.ndarray, u: np.ndarray, direction: np.ndarray) -> np.ndarray:
        """Per tag, the second derivative along `direction` where the sigmoid is `s`."""
        spread = s * (np.float32(1.0) - s)
        spread *= self.weight
        data = np.einsum("ij,ij,ij->j", spread, u, u)
        return (data + _rowdot(direction * self.penalty, direction)) * self.inv_n


def fit_logistic_columns(
    x: np.ndarray,
    prior: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    theta: np.ndarray,
    theta0: np.ndarray,
    penalty: np.ndarray,
    iterations: int,
    tolerance: float = 1e-5,
) -> np.ndarray:
    """Minimise the objective above from `theta` (tags, d + 2) for at most `iterations`
    LBFGS steps, or until every tag's largest gradient entry is below `tolerance`.
    x (n, d), prior/y/weight (n, tags) float32; weight 0 = label unknown; penalty (d + 2,) or per tag (tags, d + 2)."""
    problem = _Problem(x, prior, y, weight, theta0, penalty)
    theta = theta.astype(np.float32, copy=True)
    z = problem.logits(theta)
    grad, s = problem.gradient(z, theta)
    history: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (move, gradient change, rho)
    for _ in range(iterations):
        if np.abs(grad).max() < tolerance:
            break
        direction = -_two_loop(grad, history)
        u = problem.logits(direction)  # linear: the change of the logits along direction
        slope = problem.slope(s, u, theta, direction)
        uphill = slope > 0
        if uphill.any():  # a stale curvature estimate: steepest descent for those tags
            direction[uphill] = -grad[uphill]
            u[:, uphill] = problem.logits(direction[uphill], uphill)
            slope = problem.slope(s, u, theta, direction)
        step, s_after = _line_search(problem, z, s, u, theta, direction, slope)
        move = direction * step[:, None]
        theta += move
        z += u * step
        new_grad, s = problem.gradient(z, theta, s_after)
        change = new_grad - grad
        curvature = _rowdot(move, change)
        # A tag that did not move has no curvature pair; rho 0 makes the pair a no-op.
        rho = np.where(curvature > 1e-12, 1.0 / np.maximum(curvature, 1e-12), 0.0).astype(np.float32)
        history.append((move, change, rho))
        if len(history) > HISTORY:
            del history[0]
        grad = new_grad
    return theta


def _line_search(
    problem: _Problem, z: np.ndarray, s: np.ndarray, u: np.ndarray, theta: np.ndarray,
    direction: np.ndarray, slope: np.ndarray,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per tag, the step along `direction`: the 1-D Newton step from 0, cut back by regula
    falsi on the slope while the slope after it is positive and large (an overshoot).
    Returns (step, the sigmoid of the logits after it, or None if the last cut is unchecked)."""
    step = (-slope / np.maximum(problem.curvature(s, u, direction), 1e-30)).astype(np.float32)
    np.clip(step, 0.0, MAX_STEP, out=step)
    for _ in range(CUTBACKS):
        s_after = _sigmoid(z + u * step)
        after = problem.slope(s_after, u, theta + direction * step[:, None], direction)
        # A zero step (a tag whose slope rounds to >= 0) cannot overshoot: cutting it back
        # would divide 0 by 0 and turn the tag's parameters into NaN.
        overshoot = (after > -OVERSHOOT * slope) & (step > 0)
        if not overshoot.any():
            return step, s_after
        # slope < 0 at 0 and > 0 at step: the zero of the line through both
        gap = np.where(overshoot, slope - after, np.float32(-1.0))  # < 0 where overshot
        step = np.where(overshoot, step * slope / gap, step).astype(np.float32)
    return step, None


def _two_loop(grad: np.ndarray, history: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
    """Per tag, the LBFGS inverse-Hessian estimate applied to the gradient."""
    q = grad.copy()
    coefficients = []
    for move, change, rho in reversed(history):
        a = rho * _rowdot(move, q)
        q -= a[:, None] * change
        coefficients.append(a)
    scale = np.ones(len(q), np.float32)  # per tag, from its newest pair with curvature
    found = np.zeros(len(q), bool)
    for _, change, rho in reversed(history):
        fresh = (rho > 0) & ~found
        scale[fresh] = (1.0 / rho[fresh]) / np.maximum(_rowdot(change[fresh], change[fresh]), 1e-30)
        found |= fresh
    q *= scale[:, None]
    for (move, change, rho), a in zip(history, reversed(coefficients), strict=True):
        b = rho * _rowdot(change, q)
        q += move * (a - b)[:, None]
    return q
