"""Small statistics for calibrating: maximum likelihood with standard errors, shares, Beta
moments."""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from sim.real.calibration.estimates import Estimate


def mle(nll, x0, bounds) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ``nll``; standard errors from the inverse of a finite-difference Hessian (NaN
    for a parameter at a bound or when the Hessian is not positive definite)."""
    res = optimize.minimize(nll, np.asarray(x0, float), method="L-BFGS-B", bounds=bounds)
    x = res.x
    k = x.size
    h = np.array([1e-4 * max(abs(v), 1e-2) for v in x])
    hess = np.empty((k, k))
    f0 = nll(x)
    for i in range(k):
        for j in range(i, k):
            ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
            if i == j:
                val = (nll(x + ei) - 2 * f0 + nll(x - ei)) / h[i] ** 2
            else:
                val = (
                    nll(x + ei + ej) - nll(x + ei - ej) - nll(x - ei + ej) + nll(x - ei - ej)
                ) / (4 * h[i] * h[j])
            hess[i, j] = hess[j, i] = val
    se = np.full(k, np.nan)
    try:
        cov = np.linalg.inv(hess)
        ok = np.diag(cov) > 0
        se[ok] = np.sqrt(np.diag(cov)[ok])
    except np.linalg.LinAlgError:
        pass
    for i, (lo, hi) in enumerate(bounds):
        if (lo is not None and x[i] - lo < 2 * h[i]) or (hi is not None and hi - x[i] < 2 * h[i]):
            se[i] = np.nan
    return x, se


def share(k: float, n: int) -> Estimate:
    p = k / n if n else math.nan
    return Estimate(p, math.sqrt(p * (1 - p) / n) if n else math.nan, int(n))


def beta_moments(x: np.ndarray, rng: np.random.Generator) -> tuple[Estimate, Estimate]:
    def mom(v):
        m, var = v.mean(), v.var()
        c = m * (1 - m) / max(var, 1e-12) - 1
        return m * c, (1 - m) * c

    a, b = mom(x)
    boot = np.array([mom(x[rng.integers(0, x.size, x.size)]) for _ in range(100)])
    sa, sb = boot.std(axis=0)
    return Estimate(round(a, 4), sa, x.size), Estimate(round(b, 4), sb, x.size)
