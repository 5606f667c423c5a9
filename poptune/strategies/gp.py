"""A Gaussian process with a time-varying kernel, for PB2 (numpy and scipy only).

The kernel of the time-varying GP-UCB of Bogunovic et al. (2016), as PB2 uses it:

    k((t, z), (t', z')) = s2 * exp(-|z - z'|^2 / l) * (1 - eps)^(|t - t'| / 2)

``z`` are the features (the score a segment started from and the hyperparameters, scaled to
[0, 1]); ``t`` is time in rounds; ``eps`` in (0, 0.5) says how fast old points stop counting.
A noise variance is learned too (the rewards PB2 fits are noisy changes of a score). The four
parameters maximise the log marginal likelihood (L-BFGS-B on unconstrained parameters, with
exact gradients).

Examples:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> t, z = np.repeat(np.arange(10.0), 3), rng.random((30, 1))
    >>> y = np.sin(6 * z[:, 0]) + 0.05 * rng.normal(size=30)
    >>> gp = TimeVaryingGP.fit(t, z, (y - y.mean()) / y.std())
    >>> mean, std = gp.predict(np.array([10.0]), np.array([[0.25]]))
    >>> bool(mean[0] > 0.5), bool(0 < std[0] < 1)
    (True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# unconstrained parameters: log s2, log l, u (eps = 0.5 * sigmoid(u)), log noise
_BOUNDS = [(math.log(1e-2), math.log(1e2)), (math.log(1e-2), math.log(1e2)), (-8.0, 8.0),
           (math.log(1e-4), math.log(2.0))]
_STARTS = ([0.0, 0.0, 0.0, math.log(0.1)],)  # a second start cost twice as much and changed nothing measured
_JITTER = 1e-8


@dataclass(frozen=True)
class Params:
    """Kernel parameters: signal variance, lengthscale, forgetting rate, noise variance."""

    variance: float
    lengthscale: float
    epsilon: float
    noise: float

    @classmethod
    def from_vector(cls, theta) -> Params:
        log_s2, log_l, u, log_noise = theta
        return cls(math.exp(log_s2), math.exp(log_l), 0.5 / (1.0 + math.exp(-u)), math.exp(log_noise))

    def as_dict(self) -> dict:
        return {"variance": round(self.variance, 6), "lengthscale": round(self.lengthscale, 6),
                "epsilon": round(self.epsilon, 6), "noise": round(self.noise, 6)}


def _sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


class TimeVaryingGP:
    """A fitted GP: :meth:`fit` it on ``(t, z, y)``, :meth:`predict` at new points."""

    def __init__(self, t: np.ndarray, z: np.ndarray, y: np.ndarray, params: Params):
        from scipy.linalg import cho_factor, cho_solve  # (scipy loads when a GP is first fitted)

        self.t, self.z, self.y, self.params = t, z, y, params
        self._factor = cho_factor(self._k(t, z, t, z) + (params.noise + _JITTER) * np.eye(len(y)), lower=True)
        self._alpha = cho_solve(self._factor, y)

    def _k(self, t1, z1, t2, z2) -> np.ndarray:
        p = self.params
        dt = np.abs(t1[:, None] - t2[None, :])
        return p.variance * np.exp(-_sq_dist(z1, z2) / p.lengthscale) * (1.0 - p.epsilon) ** (dt / 2.0)

    @classmethod
    def fit(cls, t: np.ndarray, z: np.ndarray, y: np.ndarray) -> TimeVaryingGP:
        """Fit the kernel parameters by maximum marginal likelihood, then condition on the data."""
        from scipy.linalg import cho_factor, cho_solve
        from scipy.optimize import minimize

        sq, dt = _sq_dist(z, z), np.abs(t[:, None] - t[None, :])

        def negative_log_likelihood(theta):
            p = Params.from_vector(theta)
            decay = (1.0 - p.epsilon) ** (dt / 2.0)
            shape = np.exp(-sq / p.lengthscale)
            signal = p.variance * shape * decay
            k = signal + (p.noise + _JITTER) * np.eye(len(y))
            try:
                factor = cho_factor(k, lower=True)
            except np.linalg.LinAlgError:
                return 1e10, np.zeros(4)
            alpha = cho_solve(factor, y)
            log_det = 2.0 * np.log(np.diag(factor[0])).sum()
            value = 0.5 * y @ alpha + 0.5 * log_det + 0.5 * len(y) * math.log(2 * math.pi)
            inner = np.outer(alpha, alpha) - cho_solve(factor, np.eye(len(y)))  # d/dK of the log likelihood x 2
            s = 1.0 / (1.0 + math.exp(-theta[2]))
            grads = (
                signal,  # d k / d log s2
                signal * sq / p.lengthscale,  # d k / d log l
                signal * (-(dt / 2.0) / (1.0 - p.epsilon)) * 0.5 * s * (1.0 - s),  # d k / d u
                p.noise * np.eye(len(y)),  # d k / d log noise
            )
            gradient = np.array([-0.5 * np.sum(inner * g) for g in grads])
            return value, gradient

        best = None
        for start in _STARTS:
            found = minimize(negative_log_likelihood, np.array(start), jac=True, method="L-BFGS-B", bounds=_BOUNDS,
                             options={"maxiter": 60})
            if best is None or found.fun < best.fun:
                best = found
        return cls(t, z, y, Params.from_vector(best.x))

    def with_points(self, t: np.ndarray, z: np.ndarray, y: np.ndarray) -> TimeVaryingGP:
        """The same kernel, conditioned on more points (batch GP-UCB's pending members)."""
        if len(t) == 0:
            return self
        return TimeVaryingGP(np.concatenate([self.t, t]), np.vstack([self.z, z]), np.concatenate([self.y, y]),
                             self.params)

    def predict(self, t: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation at ``(t, z)``."""
        k_star = self._k(t, z, self.t, self.z)
        mean = k_star @ self._alpha
        from scipy.linalg import cho_solve

        v = cho_solve(self._factor, k_star.T)
        var = np.maximum(self.params.variance - np.sum(k_star * v.T, axis=1), 1e-12)
        return mean, np.sqrt(var)
