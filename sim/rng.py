"""Keyed, counter-based random numbers: an account's history depends only on (seed, account).

Why not one ``numpy.random.Generator``: a world is drawn in bulk across all accounts, and the
draws of account ``i`` must not change when accounts are added or a campaign is edited. A single
sequential generator would hand every account different numbers as soon as any array length
changed. So each draw is a pure function of its *key*: the run's seed, a named stream, the account
and a counter. The root of every key is ``numpy.random.SeedSequence(seed, spawn_key=(stream,))``;
the per-draw function is SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number
generators", OOPSLA 2014; the generator Java's ``SplittableRandom`` uses and xoshiro is seeded
with), vectorised over NumPy ``uint64`` arrays. NumPy offers no keyed generator that is vectorised
across keys, which is why these few lines exist; ``tests/test_rng.py`` checks them against a plain
Python reference and the published SplitMix64 test vector.

>>> s = Streams(7)
>>> u = s.uniform("demo", np.arange(3), 0)
>>> bool(((u >= 0) & (u < 1)).all())
True
>>> bool((Streams(7).uniform("demo", np.arange(3), 0) == u).all())
True
"""

from __future__ import annotations

import hashlib

import numpy as np
from scipy import special

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 2.0**-53

__all__ = ["GOLDEN", "Streams", "fmix64", "splitmix64_reference", "to_unit"]


def fmix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64's output function (a bijective 64-bit mixer) on a copy of a uint64 array."""
    z = np.array(z, dtype=np.uint64)  # a copy; uint64 arithmetic wraps by design
    with np.errstate(over="ignore"):
        z ^= z >> _S30
        z *= _M1
        z ^= z >> _S27
        z *= _M2
        z ^= z >> _S31
    return z


def to_unit(z: np.ndarray) -> np.ndarray:
    """Map uint64 words to floats uniform on [0, 1) using their top 53 bits."""
    return (z >> _S11).astype(np.float64) * _TO_UNIT


def splitmix64_reference(state: int, n: int) -> list[int]:
    """Plain-Python SplitMix64: the first ``n`` outputs from ``state`` (the slow reference)."""
    mask = (1 << 64) - 1
    out = []
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out.append(z ^ (z >> 31))
    return out


def name_id(name: str) -> int:
    """A stable 63-bit id of a name (BLAKE2b; unlike hash(), the same in every run)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big") >> 1


class Streams:
    """Named, keyed random streams derived from one root seed.

    ``key(stream, *ids)`` is a uint64 key per row of ``ids``; ``words(keys, counter)`` is the
    ``counter``-th SplitMix64 output of the stream whose state is ``keys`` (counter is a scalar or
    an array broadcast against ``keys``). Helpers turn words into uniforms, normals, exponentials,
    categorical choices and Poisson counts. Everything is deterministic in (seed, stream, ids,
    counter) and independent of array length and order.
    """

    def __init__(self, seed: int):
        if not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed = int(seed)
        self._roots: dict[str, np.uint64] = {}

    def root(self, stream: str) -> np.uint64:
        """The stream's root key: ``SeedSequence(seed, spawn_key=(name_id(stream),))``."""
        r = self._roots.get(stream)
        if r is None:
            ss = np.random.SeedSequence(self.seed, spawn_key=(name_id(stream),))
            r = ss.generate_state(1, dtype=np.uint64)[0]
            self._roots[stream] = r
        return r

    def key(self, stream: str, *ids: np.ndarray | int) -> np.ndarray:
        """Keys for the rows of ``ids`` (each an int array or scalar, broadcast together)."""
        k = np.full(np.broadcast(*ids).shape if ids else (), self.root(stream), dtype=np.uint64)
        for part in ids:
            p = np.asarray(part).astype(np.int64).astype(np.uint64)
            with np.errstate(over="ignore"):
                k = fmix64(k ^ fmix64(p + GOLDEN))
        return k

    @staticmethod
    def words(keys: np.ndarray, counter: np.ndarray | int) -> np.ndarray:
        """The ``counter``-th (0-based) SplitMix64 output of the streams seeded with ``keys``."""
        c = np.asarray(counter).astype(np.int64).astype(np.uint64) + np.uint64(1)
        with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
            return fmix64(np.asarray(keys, dtype=np.uint64) + c * GOLDEN)

    def uniform(self, stream: str, ids: np.ndarray | int, counter: np.ndarray | int = 0):
        """Uniforms on [0, 1) keyed by (stream, ids, counter)."""
        return to_unit(self.words(self.key(stream, ids), counter))


def normal(u: np.ndarray) -> np.ndarray:
    """Standard normal variates from uniforms (inverse CDF; u = 0 maps to a large negative)."""
    return special.ndtri(np.clip(u, 2.0**-60, 1 - 2.0**-53))


def exponential(u: np.ndarray) -> np.ndarray:
    """Exponential(1) variates from uniforms."""
    return -np.log1p(-u)


def lognormal(u: np.ndarray, median: np.ndarray | float, sigma: np.ndarray | float) -> np.ndarray:
    """Lognormal variates with the given median and log-scale sigma, from uniforms."""
    return np.asarray(median) * np.exp(np.asarray(sigma) * normal(u))


def beta(u: np.ndarray, a: float, b: float) -> np.ndarray:
    """Beta(a, b) variates from uniforms (inverse CDF)."""
    return special.betaincinv(a, b, u)


def categorical(u: np.ndarray, cum: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Indices drawn from categorical distributions given by cumulative probabilities.

    ``cum`` is a 1-D cumulative vector (one distribution) or a 2-D table of them, in which case
    ``rows`` picks the distribution of each draw. The last cumulative value is treated as 1 and
    a category of zero weight is never drawn.
    """
    cum = np.asarray(cum, dtype=np.float64)
    if cum.ndim == 1:
        idx = np.searchsorted(cum, u, side="right")
        return np.minimum(idx, _last_positive(cum[None, :])[0])
    table = cum[rows]
    return np.minimum((u[:, None] >= table).sum(axis=1), _last_positive(cum)[rows])


def _last_positive(cum: np.ndarray) -> np.ndarray:
    """Per row of a cumulative table, the index of the last category with positive weight."""
    weights = np.diff(cum, axis=1, prepend=0.0) > 0
    return cum.shape[1] - 1 - np.argmax(weights[:, ::-1], axis=1)


def poisson(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Poisson(lam) counts from uniforms by exact CDF inversion, vectorised.

    Work is proportional to the number of cells plus the counts drawn. Rates above 40 must be
    split by the caller into parts of at most 40 (Poisson counts add up), which keeps exp(-lam)
    far from underflow; ``poisson_split`` does that.
    """
    u, lam = np.broadcast_arrays(np.asarray(u, np.float64), np.asarray(lam, np.float64))
    shape = u.shape
    u, lam = u.ravel(), lam.ravel()
    if lam.size and lam.max(initial=0.0) > 40.0 + 1e-9:
        raise ValueError("poisson(): rates above 40 must be split first (see poisson_split)")
    if lam.size and not (lam >= 0).all():
        raise ValueError("poisson(): rates must be finite and >= 0")
    k = np.zeros(u.shape, dtype=np.int64)
    p = np.exp(-lam)
    cdf = p.copy()
    active = np.flatnonzero(u >= cdf)
    n = 0
    while active.size:
        n += 1
        p_a = p[active] * lam[active] / n
        before = cdf[active]
        cdf_a = before + p_a
        k[active] = n
        p[active] = p_a
        cdf[active] = cdf_a
        # For u within rounding of 1 the float CDF can stall just below u: stop where adding
        # the next probability no longer changes it (the far tail, at float precision).
        keep = (u[active] >= cdf_a) & (cdf_a > before)
        active = active[keep]
    return k.reshape(shape)


MAX_PART = 40.0


def poisson_split(lam: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split rates into parts of at most ``MAX_PART``: (row index, part index, part rate)."""
    lam = np.asarray(lam, dtype=np.float64)
    parts = np.maximum(np.ceil(lam / MAX_PART).astype(np.int64), 1)
    row = np.repeat(np.arange(lam.size), parts)
    start = np.cumsum(parts) - parts
    part = np.arange(row.size) - np.repeat(start, parts)
    return row, part, lam[row] / parts[row]
