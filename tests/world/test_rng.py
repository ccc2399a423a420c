"""Tests for sim.rng: SplitMix64 against its published test vector and a plain-Python port,
keyed ``Streams`` (determinism, keying, independence from array layout), the inverse-CDF helpers
against slow references and scipy, and statistical checks of the drawn distributions.

Statistical tests use fixed seeds; their tolerances come from sampling error (5 standard
errors, or a chi-square / KS test at ALPHA), not from the observed values.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from sim import rng
from sim.rng import GOLDEN, Streams, fmix64, splitmix64_reference, to_unit

MASK = (1 << 64) - 1
ALPHA = 0.001  # significance level of every goodness-of-fit test below
Z = 5.0  # standard errors allowed for moment checks (two-sided p ~ 6e-7)
N_STAT = 20_000

U64 = st.integers(0, MASK)
UNIT = st.floats(0.0, 1.0, exclude_max=True, allow_nan=False)
LAST_UNIT = 1.0 - 2.0**-53  # largest value to_unit can produce
HYP = settings(deadline=None, max_examples=100)

# Published SplitMix64 test vector (Vigna's splitmix64.c, seed 1234567).
SPLITMIX_VECTOR_1234567 = [
    6457827717110365317,
    3203168211198807973,
    9817491932198370423,
    4593380528125082431,
    16408922859458223821,
]


# --- plain-Python references (written from the algorithm descriptions, not from sim.rng) ---


def fmix64_py(z: int) -> int:
    """SplitMix64's finaliser (Stafford's Mix13 variant) on a Python int."""
    z ^= z >> 30
    z = (z * 0xBF58476D1CE4E5B9) & MASK
    z ^= z >> 27
    z = (z * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def splitmix64_py(state: int, n: int) -> list[int]:
    """SplitMix64 built from ``fmix64_py``: state += golden gamma, output mix(state)."""
    out = []
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        out.append(fmix64_py(state))
    return out


def poisson_ref(u: float, lam: float) -> int:
    """Scalar CDF inversion: the smallest k with u < F(k), summing the pmf term by term.

    Stops if the pmf term underflows to 0 (F can no longer grow, so the loop would never end).
    exp is NumPy's: math.exp and NumPy's (SIMD) exp may differ by an ulp, which would move the
    first CDF step and make the comparison about libm rather than the inversion.
    """
    k = 0
    p = float(np.exp(-lam))
    f = p
    while u >= f:
        k += 1
        p *= lam / k
        f += p
        if p == 0.0:
            break
    return k


def categorical_ref(u: float, cum) -> int:
    """Linear scan: category i covers [cum[i-1], cum[i]); the last one covers [cum[-2], 1)."""
    cum = list(cum)
    for i, c in enumerate(cum[:-1]):
        if u < c:
            return i
    return len(cum) - 1


def chisquare_pooled(observed_values: np.ndarray, pmf, cdf, sf, min_expected: float = 5.0):
    """Chi-square GOF p-value of integer samples vs a discrete law on 0, 1, 2, ...

    Cells with expected count >= min_expected are kept; the tails are pooled into the first
    and last cell so the expected counts sum to the sample size.
    """
    n = observed_values.size
    ks = np.arange(0, int(observed_values.max()) + 200)
    expected = n * pmf(ks)
    good = np.flatnonzero(expected >= min_expected)
    lo, hi = good[0], good[-1]
    exp_cells = np.concatenate([[n * cdf(lo)], expected[lo + 1 : hi], [n * sf(hi - 1)]])
    counts = np.bincount(observed_values, minlength=ks.size)
    obs_cells = np.concatenate([[counts[: lo + 1].sum()], counts[lo + 1 : hi], [counts[hi:].sum()]])
    assert obs_cells.sum() == n
    exp_cells = exp_cells * (n / exp_cells.sum())  # remove float drift in cdf+pmf+sf
    return stats.chisquare(obs_cells, exp_cells).pvalue


def fixed_uniforms(seed: int, n: int = N_STAT) -> np.ndarray:
    return np.random.default_rng(seed).random(n)


# --- 1. SplitMix64 reference vs the published vector ---


def test_splitmix64_reference_matches_published_vector():
    assert splitmix64_reference(1234567, 5) == SPLITMIX_VECTOR_1234567


def test_python_port_matches_published_vector():
    # Validates the test's own fmix64_py before it is used as a reference below.
    assert splitmix64_py(1234567, 5) == SPLITMIX_VECTOR_1234567


@HYP
@given(U64, st.integers(0, 50))
def test_splitmix64_reference_matches_port(state, n):
    assert splitmix64_reference(state, n) == splitmix64_py(state, n)


# --- 2. vectorised words / fmix64 vs references ---


@HYP
@given(st.lists(st.tuples(U64, st.integers(0, 1000)), min_size=1, max_size=30))
def test_words_equal_reference(pairs):
    keys = np.array([k for k, _ in pairs], dtype=np.uint64)
    counters = np.array([c for _, c in pairs], dtype=np.int64)
    got = Streams.words(keys, counters)
    assert got.dtype == np.uint64
    want = [splitmix64_reference(k, c + 1)[-1] for k, c in pairs]
    assert [int(w) for w in got] == want


@HYP
@given(st.lists(U64, min_size=1, max_size=20), st.integers(0, 1000))
def test_words_scalar_counter_broadcasts(keys, counter):
    got = Streams.words(np.array(keys, dtype=np.uint64), counter)
    assert [int(w) for w in got] == [splitmix64_reference(k, counter + 1)[-1] for k in keys]


@HYP
@given(
    st.lists(U64, min_size=1, max_size=8), st.lists(st.integers(0, 1000), min_size=1, max_size=8)
)
def test_words_2d_broadcast(keys, counters):
    k = np.array(keys, dtype=np.uint64)
    c = np.array(counters, dtype=np.int64)
    got = Streams.words(k[:, None], c[None, :])
    assert got.shape == (len(keys), len(counters))
    for i, key in enumerate(keys):
        for j, ctr in enumerate(counters):
            assert int(got[i, j]) == splitmix64_reference(key, ctr + 1)[-1]


def test_words_counter_sequence_is_the_splitmix_sequence():
    key = 0xDEADBEEFCAFEF00D
    got = Streams.words(np.uint64(key), np.arange(64))
    assert [int(w) for w in got] == splitmix64_py(key, 64)


@HYP
@given(st.lists(U64, min_size=1, max_size=50))
def test_fmix64_equals_python_port(values):
    arr = np.array(values, dtype=np.uint64)
    before = arr.copy()
    got = fmix64(arr)
    assert [int(x) for x in got] == [fmix64_py(v) for v in values]
    np.testing.assert_array_equal(arr, before)  # documented to work on a copy


@HYP
@given(st.lists(U64, min_size=1, max_size=50))
def test_to_unit_uses_top_53_bits(values):
    got = to_unit(np.array(values, dtype=np.uint64))
    # (v >> 11) < 2**53, so the float product below is exact.
    assert got.tolist() == [(v >> 11) * 2.0**-53 for v in values]
    assert ((got >= 0.0) & (got < 1.0)).all()


def test_to_unit_extremes():
    got = to_unit(np.array([0, MASK, (1 << 11) - 1, 1 << 11], dtype=np.uint64))
    assert got.tolist() == [0.0, LAST_UNIT, 0.0, 2.0**-53]


# --- 3. Streams determinism and keying ---

PROJECT_STREAMS = ["account", "contact", "journey", "join", "noise", "touch"]
IDS = st.integers(-(2**63), 2**63 - 1)


def test_streams_rejects_bad_seed():
    for bad in (-1, 1.5, "3", None):
        with pytest.raises(ValueError):
            Streams(bad)
    assert Streams(np.int64(5)).seed == 5


def test_root_follows_documented_derivation():
    # Contract from the docstring: SeedSequence(seed, spawn_key=(name_id(stream),)), where
    # name_id is the top 63 bits of an 8-byte BLAKE2b digest of the name.
    import hashlib

    for seed in (0, 1, 2**40 + 3):
        for name in PROJECT_STREAMS:
            digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
            ss = np.random.SeedSequence(seed, spawn_key=(int.from_bytes(digest, "big") >> 1,))
            assert Streams(seed).root(name) == ss.generate_state(1, dtype=np.uint64)[0]


@HYP
@given(
    st.integers(0, 2**64),
    st.text(max_size=12),
    st.lists(IDS, min_size=1, max_size=20),
    st.integers(0, 1000),
)
def test_streams_deterministic(seed, name, ids, counter):
    ids = np.array(ids, dtype=np.int64)
    a = Streams(seed).uniform(name, ids, counter)
    s = Streams(seed)
    s.uniform("something else", ids, counter)  # the root cache must not leak between streams
    b = s.uniform(name, ids, counter)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(s.uniform(name, ids, counter), b)  # cached root path


@HYP
@given(st.integers(0, 2**64), st.integers(0, 2**64))
def test_different_seeds_differ(s1, s2):
    assume(s1 != s2)
    ids = np.arange(8)
    a, b = Streams(s1), Streams(s2)
    assert a.root("account") != b.root("account")
    assert (a.uniform("account", ids) != b.uniform("account", ids)).all()


@HYP
@given(st.text(max_size=12), st.text(max_size=12))
def test_different_stream_names_differ(n1, n2):
    assume(n1 != n2)
    s = Streams(11)
    ids = np.arange(8)
    assert (s.uniform(n1, ids) != s.uniform(n2, ids)).all()


def test_project_stream_names_have_distinct_roots():
    s = Streams(0)
    roots = {int(s.root(n)) for n in PROJECT_STREAMS}
    assert len(roots) == len(PROJECT_STREAMS)


def test_different_ids_give_different_keys_and_values():
    s = Streams(3)
    n = 100_000
    keys = s.key("account", np.arange(n))
    assert np.unique(keys).size == n
    # 53-bit floats: a chance collision among 1e5 values has probability ~ 5e-7.
    assert np.unique(s.uniform("account", np.arange(n))).size == n


@HYP
@given(st.integers(0, 2**32), st.lists(IDS, min_size=1, max_size=30, unique=True), st.randoms())
def test_value_for_an_id_does_not_depend_on_other_ids(seed, ids, rnd):
    s = Streams(seed)
    arr = np.array(ids, dtype=np.int64)
    full = s.uniform("journey", arr, 2)
    perm = list(range(len(ids)))
    rnd.shuffle(perm)
    np.testing.assert_array_equal(s.uniform("journey", arr[perm], 2), full[perm])
    for i, one in enumerate(ids):
        single = Streams(seed).uniform("journey", one, 2)  # scalar id, fresh object
        assert np.ndim(single) == 0
        assert float(single) == full[i]
    np.testing.assert_array_equal(s.uniform("journey", arr[:1], 2), full[:1])


def test_arange_prefix_and_slices_agree():
    s = Streams(9)
    full = s.uniform("account", np.arange(5000), 1)
    np.testing.assert_array_equal(s.uniform("account", np.arange(1000), 1), full[:1000])
    np.testing.assert_array_equal(s.uniform("account", np.arange(4000, 5000), 1), full[4000:])
    np.testing.assert_array_equal(s.uniform("account", np.arange(5000)[::-1], 1), full[::-1])


@HYP
@given(
    st.lists(st.integers(0, 10_000), min_size=1, max_size=10),
    st.lists(st.integers(0, 10_000), min_size=1, max_size=10),
)
def test_multi_id_keys_broadcast(a, b):
    s = Streams(21)
    a_arr, b_arr = np.array(a), np.array(b)
    grid = s.key("contact", a_arr[:, None], b_arr[None, :])
    assert grid.shape == (len(a), len(b))
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            assert grid[i, j] == s.key("contact", x, y)


def test_multi_id_key_order_and_arity_matter():
    s = Streams(21)
    i, j = np.meshgrid(np.arange(300), np.arange(300), indexing="ij")
    off = i != j
    k_ij = s.key("contact", i, j)
    k_ji = s.key("contact", j, i)
    assert (k_ij[off] != k_ji[off]).all()
    assert np.unique(k_ij).size == k_ij.size
    ids = np.arange(1, 1000)  # (0, 0) is the same pair either way round
    assert (s.key("contact", ids) != s.key("contact", ids, 0)).all()
    assert (s.key("contact", ids, 0) != s.key("contact", 0, ids)).all()


def test_counters_give_distinct_streams():
    s = Streams(5)
    ids = np.arange(2000)
    key = s.key("touch", ids)
    words = Streams.words(key[:, None], np.arange(50)[None, :])
    assert np.unique(words).size == words.size
    u = np.stack([s.uniform("touch", ids, c) for c in range(50)])
    assert np.unique(u).size == u.size
    assert ((u >= 0.0) & (u < 1.0)).all()


# --- 4. poisson ---


# Equality with the reference is checked for u <= U_SAFE. Just below 1 the float-summed CDF can
# stall below u; that region is covered by test_poisson_top_of_unit_interval below.
U_SAFE = 1.0 - 2.0**-40
EPS = 2.0**-52


@st.composite
def poisson_cells(draw):
    """(u, lam) with u either arbitrary or sitting on/next to a CDF step of Poisson(lam)."""
    lam = draw(st.one_of(st.floats(0.0, 40.0), st.sampled_from([0.0, 1e-300, 1e-12, 40.0])))
    kind = draw(st.integers(0, 2))
    if kind == 0 or lam == 0.0:
        u = draw(st.one_of(st.floats(0.0, U_SAFE), st.sampled_from([0.0, U_SAFE])))
    else:
        k = draw(st.integers(0, 80))
        u = float(stats.poisson.cdf(k, lam))
        u = float(np.nextafter(u, [0.0, 1.0][kind - 1])) if draw(st.booleans()) else u
        assume(0.0 <= u <= U_SAFE)
    return u, lam


def _at_step(u: float, lam: float, k: int) -> bool:
    """Whether u is within float summation error of the CDF step F(k) of Poisson(lam).

    The k-th pmf term carries ~2k roundings and the running sum ~k more, so both float
    implementations know F(k) only to a relative 4(k+2) eps; inside that band either of the two
    neighbouring counts is a correct inversion.
    """
    f = float(stats.poisson.cdf(k, lam))
    return abs(u - f) <= 4 * (k + 2) * EPS * f


@HYP
@given(st.lists(poisson_cells(), min_size=1, max_size=40))
def test_poisson_equals_scalar_reference(cells):
    u = np.array([c[0] for c in cells])
    lam = np.array([c[1] for c in cells])
    got = rng.poisson(u, lam)
    assert got.dtype.kind == "i"
    for g, (a, b) in zip(got.tolist(), cells, strict=True):
        r = poisson_ref(a, b)
        # The code forms the pmf as p*lam/k, the reference as p*(lam/k): they may differ by
        # one only when u lies on a CDF step to within rounding.
        # For steps k <= 2 the two recurrences are bit-identical (division by 1 or 2 is exact),
        # so there the answers must agree exactly.
        ok_step = min(g, r) >= 3 and _at_step(a, b, min(g, r))
        assert g == r or (abs(g - r) == 1 and ok_step), (a, b, g, r)


def _ref_cdf_steps(lam: float, kmax: int) -> list[float]:
    """F(0..kmax) summed in floats exactly as poisson_ref does."""
    p = float(np.exp(-lam))
    out = [p]
    for k in range(1, kmax + 1):
        p *= lam / k
        out.append(out[-1] + p)
    return out


@HYP
@given(st.floats(1e-6, 40.0), st.integers(0, 2))
def test_poisson_cdf_steps_are_left_closed(lam, k):
    # Inversion returns the smallest k with u < F(k): u == F(k) must give k + 1 and the float
    # just below it k. F(0..3) is computed bit-identically by the code and the reference.
    f = _ref_cdf_steps(lam, 3)
    assume(f[k] < f[k + 1] and f[k] < 1.0)
    below = float(np.nextafter(f[k], 0.0))
    assume(k == 0 or below >= f[k - 1])
    got = rng.poisson(np.array([f[k], below]), np.array([lam, lam]))
    assert got.tolist() == [k + 1, k]
    assert [poisson_ref(f[k], lam), poisson_ref(below, lam)] == [k + 1, k]


def test_poisson_matches_reference_on_a_grid():
    # Deterministic complement to the property test: many (u, lam) pairs, exact agreement
    # except at rounding-level CDF steps.
    g = np.random.default_rng(400)
    u = g.random(5000) * U_SAFE
    lam = g.uniform(0.0, 40.0, 5000)
    got = rng.poisson(u, lam)
    ref = np.array([poisson_ref(a, b) for a, b in zip(u, lam, strict=True)])
    bad = [
        (a, b, x, y)
        for a, b, x, y in zip(u, lam, got, ref, strict=True)
        if x != y and not (abs(x - y) == 1 and min(x, y) >= 3 and _at_step(a, b, min(x, y)))
    ]
    assert not bad


def test_poisson_empty_input():
    assert rng.poisson(np.array([]), np.array([])).shape == (0,)


def test_poisson_lam_zero_gives_zero():
    u = np.array([0.0, 0.3, 0.999, LAST_UNIT])
    assert rng.poisson(u, np.zeros(4)).tolist() == [0, 0, 0, 0]


def test_poisson_u_zero_gives_zero():
    lam = np.array([0.5, 5.0, 39.0, 40.0])
    assert rng.poisson(np.zeros(4), lam).tolist() == [0, 0, 0, 0]


def test_poisson_top_of_unit_interval():
    # u near 1 is a legal to_unit output (largest: 1 - 2**-53). An inversion correct up to
    # rounding returns a k in the far tail, P(X >= k) ~ 1e-16, never one of probability < 1e-30.
    lam = np.repeat(np.linspace(0.5, 40.0, 80), 16)
    u = np.tile(1.0 - np.arange(1, 17) * 2.0**-53, 80)
    k = rng.poisson(u, lam)
    log10_tail = stats.poisson.logsf(k - 1, lam) / math.log(10)
    assert (log10_tail > -30).all(), (k.max(), lam[np.argmin(log10_tail)])


def test_poisson_just_below_safe_range_is_plausible():
    # The property tests stop at U_SAFE; check the counts there are ordinary far-tail values.
    lam = np.linspace(0.5, 40.0, 200)
    k = rng.poisson(np.full(lam.size, U_SAFE), lam)
    tail = stats.poisson.sf(k - 1, lam)  # P(X >= k)
    assert (tail > 2.0**-40 / 1e3).all() and (stats.poisson.sf(k, lam) <= 2.0**-40 * 1.01).all()


@pytest.mark.parametrize("lam", [40.001, 41.0, 1e6])
def test_poisson_rejects_rates_above_40(lam):
    with pytest.raises(ValueError):
        rng.poisson(np.array([0.5, 0.5]), np.array([1.0, lam]))


def test_poisson_accepts_40():
    rng.poisson(np.array([0.5]), np.array([40.0]))


@pytest.mark.parametrize(("lam", "seed"), [(0.3, 101), (5.0, 102), (39.5, 103)])
def test_poisson_distribution(lam, seed):
    n = N_STAT
    k = rng.poisson(fixed_uniforms(seed, n), np.full(n, lam))
    # Mean: SE = sqrt(lam/n). Sample variance: Var(s^2) ~ (mu4 - sigma^4)/n with
    # mu4 = lam(1 + 3 lam) for a Poisson, so SE = sqrt((lam + 2 lam^2)/n).
    assert abs(k.mean() - lam) < Z * math.sqrt(lam / n)
    assert abs(k.var(ddof=1) - lam) < Z * math.sqrt((lam + 2 * lam**2) / n)
    d = stats.poisson(lam)
    p = chisquare_pooled(k, d.pmf, d.cdf, d.sf)
    assert p > ALPHA


# --- 5. poisson_split ---


@HYP
@given(
    st.lists(
        st.one_of(st.floats(0.0, 2000.0), st.sampled_from([0.0, 40.0, 80.0, 120.0])),
        min_size=0,
        max_size=30,
    )
)
def test_poisson_split_properties(lams):
    lam = np.array(lams, dtype=np.float64)
    row, part, rate = rng.poisson_split(lam)
    assert row.shape == part.shape == rate.shape
    assert (rate <= rng.MAX_PART).all()
    assert (rate >= 0).all()
    # rows in order, every row present, parts numbered 0..P-1 within each row
    assert (np.diff(row) >= 0).all()
    counts = np.bincount(row, minlength=len(lams)) if len(lams) else np.zeros(0, int)
    assert counts.size == len(lams)
    assert (counts >= 1).all()
    expected_part = [p for c in counts for p in range(c)]
    assert part.tolist() == expected_part
    for r, x in enumerate(lams):
        mine = rate[row == r]
        assert math.isclose(mine.sum(), x, rel_tol=1e-12, abs_tol=1e-300)
        assert (mine == mine[0]).all()
        # as few parts as possible
        assert counts[r] == max(1, math.ceil(x / 40.0))
    if len(lams):
        rng.poisson(np.full(rate.shape, 0.5), rate)  # must be accepted


def test_poisson_split_boundaries():
    row, part, rate = rng.poisson_split(np.array([0.0, 40.0, 40.5, 80.0, 120.000001]))
    assert row.tolist() == [0, 1, 2, 2, 3, 3, 4, 4, 4, 4]
    assert part.tolist() == [0, 0, 0, 1, 0, 1, 0, 1, 2, 3]
    np.testing.assert_allclose(rate, [0, 40, 20.25, 20.25, 40, 40] + [30.00000025] * 4)


def test_poisson_split_then_sum_is_poisson():
    # Large rates split and drawn part by part must add up to Poisson(lam).
    lam_total, n = 137.3, N_STAT
    row, _part, rate = rng.poisson_split(np.full(n, lam_total))
    parts = rng.poisson(fixed_uniforms(104, row.size), rate)
    k = np.bincount(row, weights=parts, minlength=n).astype(np.int64)
    assert abs(k.mean() - lam_total) < Z * math.sqrt(lam_total / n)
    assert abs(k.var(ddof=1) - lam_total) < Z * math.sqrt((lam_total + 2 * lam_total**2) / n)
    d = stats.poisson(lam_total)
    assert chisquare_pooled(k, d.pmf, d.cdf, d.sf) > ALPHA


# --- 6. categorical ---

WEIGHTS = st.lists(st.one_of(st.just(0.0), st.floats(1e-6, 1.0)), min_size=1, max_size=8).filter(
    lambda w: sum(w) > 0
)


@st.composite
def cum_and_us(draw, cum):
    """Uniforms including the exact cumulative boundaries and their float neighbours."""
    edges = [float(c) for c in cum]
    near = [float(np.nextafter(c, 0.0)) for c in edges] + [
        float(np.nextafter(c, 1.0)) for c in edges
    ]
    pool = [x for x in edges + near if 0.0 <= x < 1.0]
    strat = st.one_of(UNIT, st.sampled_from(pool)) if pool else UNIT
    return draw(st.lists(strat, min_size=1, max_size=30))


@HYP
@given(st.data(), WEIGHTS)
def test_categorical_1d_equals_reference(data, w):
    cum = np.cumsum(w) / sum(w)
    us = data.draw(cum_and_us(cum))
    got = rng.categorical(np.array(us), cum)
    assert got.tolist() == [categorical_ref(u, cum) for u in us]


@HYP
@given(st.data(), st.integers(1, 6), st.integers(1, 5))
def test_categorical_2d_equals_reference(data, m, n_rows):
    table = []
    for _ in range(n_rows):
        w = data.draw(
            st.lists(st.floats(0.0, 1.0), min_size=m, max_size=m).filter(lambda x: sum(x) > 0)
        )
        table.append(np.cumsum(w) / sum(w))
    table = np.array(table)
    us = data.draw(cum_and_us(table.ravel()))
    rows = data.draw(st.lists(st.integers(0, n_rows - 1), min_size=len(us), max_size=len(us)))
    got = rng.categorical(np.array(us), table, np.array(rows))
    assert got.tolist() == [categorical_ref(u, table[r]) for u, r in zip(us, rows, strict=True)]


def test_categorical_unnormalised_last_value_treated_as_one():
    cum = np.array([0.2, 0.5, 0.9])  # last value below 1: the last category takes [0.5, 1)
    u = np.array([0.0, 0.19, 0.2, 0.5, 0.89, 0.9, 0.95, LAST_UNIT])
    assert rng.categorical(u, cum).tolist() == [0, 0, 1, 2, 2, 2, 2, 2]


def test_categorical_2d_unnormalised_last_value_treated_as_one():
    table = np.array([[0.2, 0.5, 0.9], [0.6, 0.6, 0.7]])
    u = np.array([0.19, 0.2, 0.95, LAST_UNIT, 0.59, 0.6, 0.65, LAST_UNIT])
    rows = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    assert rng.categorical(u, table, rows).tolist() == [0, 1, 2, 2, 0, 2, 2, 2]


def test_categorical_1d_frequencies():
    w = np.array([0.05, 0.0, 0.25, 0.1, 0.6])
    n = N_STAT
    idx = rng.categorical(fixed_uniforms(201, n), np.cumsum(w))
    counts = np.bincount(idx, minlength=w.size)
    assert counts[1] == 0
    pos = w > 0
    assert stats.chisquare(counts[pos], n * w[pos]).pvalue > ALPHA


def test_categorical_2d_frequencies():
    w = np.array([[0.7, 0.2, 0.1, 0.0], [0.25, 0.25, 0.25, 0.25], [0.0, 0.1, 0.3, 0.6]])
    n = N_STAT
    g = np.random.default_rng(202)
    rows = g.integers(0, w.shape[0], n)
    idx = rng.categorical(g.random(n), np.cumsum(w, axis=1), rows)
    obs, exp = [], []
    for r in range(w.shape[0]):
        counts = np.bincount(idx[rows == r], minlength=w.shape[1])
        pos = w[r] > 0
        assert (counts[~pos] == 0).all()
        obs.append(counts[pos])
        exp.append((rows == r).sum() * w[r][pos])
    # expected counts are conditional on each row's size: one df lost per row
    p = stats.chisquare(np.concatenate(obs), np.concatenate(exp), ddof=w.shape[0] - 1).pvalue
    assert p > ALPHA


# --- 7. continuous inverse-CDF helpers ---

INNER_UNIT = st.floats(1e-12, 1.0 - 1e-12)


@HYP
@given(st.lists(INNER_UNIT, min_size=1, max_size=20))
def test_normal_and_exponential_match_scipy_ppf(us):
    u = np.array(us)
    np.testing.assert_allclose(rng.normal(u), stats.norm.ppf(u), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rng.exponential(u), stats.expon.ppf(u), rtol=1e-12, atol=1e-15)


@HYP
@given(st.lists(INNER_UNIT, min_size=1, max_size=20), st.floats(1e-3, 1e6), st.floats(0.0, 3.0))
def test_lognormal_matches_scipy_ppf(us, median, sigma):
    u = np.array(us)
    want = stats.lognorm.ppf(u, s=sigma, scale=median) if sigma > 0 else np.full(u.size, median)
    np.testing.assert_allclose(rng.lognormal(u, median, sigma), want, rtol=1e-10)


@HYP
@given(st.lists(INNER_UNIT, min_size=1, max_size=10), st.floats(0.5, 20.0), st.floats(0.5, 20.0))
def test_beta_inverts_scipy_cdf(us, a, b):
    # Defining property of an inverse CDF: F(F^-1(u)) = u. (scipy's beta.ppf itself struggles
    # in the far tails, e.g. u = 1e-12 with a = 0.5, so the CDF is the safer reference.)
    u = np.array(us)
    x = rng.beta(u, a, b)
    assert ((x >= 0) & (x <= 1)).all()
    np.testing.assert_allclose(stats.beta.cdf(x, a, b), u, rtol=1e-9, atol=1e-15)


def test_endpoints_are_finite():
    u = np.array([0.0, LAST_UNIT])
    z = rng.normal(u)
    assert np.isfinite(z).all()
    assert z[0] < -8.0 and z[1] > 8.0
    e = rng.exponential(u)
    assert e[0] == 0.0 and np.isfinite(e[1]) and e[1] > 30.0
    assert np.isfinite(rng.lognormal(u, 10.0, 1.0)).all()
    x = rng.beta(u, 2.0, 3.0)
    assert x[0] == 0.0
    # Beta(2, 3) near 1: P(X > x) ~ 4 (1 - x)^3, so 1 - x ~ (2**-53 / 4)^(1/3) ~ 3.0e-6.
    assert 1.0 - x[1] == pytest.approx((2.0**-53 / 4) ** (1 / 3), rel=1e-3)


def test_lognormal_broadcasts_per_row_parameters():
    u = fixed_uniforms(300, 50)
    med = np.linspace(1.0, 100.0, 50)
    sig = np.linspace(0.1, 2.0, 50)
    got = rng.lognormal(u, med, sig)
    want = [
        float(rng.lognormal(np.array([a]), b, c)[0]) for a, b, c in zip(u, med, sig, strict=True)
    ]
    np.testing.assert_allclose(got, want, rtol=1e-15)


def test_lognormal_median_and_sigma():
    n, median, sigma = N_STAT, 3.0, 0.7
    x = rng.lognormal(fixed_uniforms(301, n), median, sigma)
    assert (x > 0).all()
    logx = np.log(x)
    # log x ~ N(log median, sigma^2): SE(mean) = sigma/sqrt(n), SE(sd) ~ sigma/sqrt(2(n-1)).
    assert abs(logx.mean() - math.log(median)) < Z * sigma / math.sqrt(n)
    assert abs(logx.std(ddof=1) - sigma) < Z * sigma / math.sqrt(2 * (n - 1))
    # sample median: SE = 1 / (2 f(median) sqrt(n)), f(median) = 1 / (median sigma sqrt(2 pi))
    se_med = median * sigma * math.sqrt(2 * math.pi) / (2 * math.sqrt(n))
    assert abs(np.median(x) - median) < Z * se_med
    assert stats.kstest(x, stats.lognorm(s=sigma, scale=median).cdf).pvalue > ALPHA


@pytest.mark.parametrize(("a", "b", "seed"), [(2.0, 5.0, 302), (0.5, 0.5, 303), (8.0, 1.5, 304)])
def test_beta_mean_and_law(a, b, seed):
    n = N_STAT
    x = rng.beta(fixed_uniforms(seed, n), a, b)
    assert ((x >= 0) & (x <= 1)).all()
    mean = a / (a + b)
    var = a * b / ((a + b) ** 2 * (a + b + 1))
    assert abs(x.mean() - mean) < Z * math.sqrt(var / n)
    assert stats.kstest(x, stats.beta(a, b).cdf).pvalue > ALPHA


def test_exponential_mean_one():
    n = N_STAT
    x = rng.exponential(fixed_uniforms(305, n))
    assert (x >= 0).all()
    assert abs(x.mean() - 1.0) < Z / math.sqrt(n)  # Var = 1
    assert abs(x.var(ddof=1) - 1.0) < Z * math.sqrt(8.0 / n)  # mu4 - sigma^4 = 9 - 1
    assert stats.kstest(x, stats.expon.cdf).pvalue > ALPHA


def test_normal_moments():
    n = N_STAT
    z = rng.normal(fixed_uniforms(306, n))
    assert abs(z.mean()) < Z / math.sqrt(n)
    assert abs(z.var(ddof=1) - 1.0) < Z * math.sqrt(2.0 / n)
    assert stats.kstest(z, stats.norm.cdf).pvalue > ALPHA


# --- 8. uniformity and correlation of Streams ---

N_UNIF = 200_000


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def test_uniform_over_ids_is_uniform():
    u = Streams(20240601).uniform("uniformity", np.arange(N_UNIF), 0)
    assert ((u >= 0) & (u < 1)).all()
    assert stats.kstest(u, "uniform").pvalue > ALPHA


def test_uniform_over_counters_is_uniform():
    key = Streams(20240602).key("uniformity", 7)
    u = to_unit(Streams.words(key, np.arange(N_UNIF)))
    assert stats.kstest(u, "uniform").pvalue > ALPHA


def test_uniform_low_bits_are_balanced():
    # The top 53 bits feed to_unit; check every one of them is ~Bernoulli(1/2).
    s = Streams(20240603)
    w = Streams.words(s.key("bits", np.arange(N_UNIF)), 0) >> np.uint64(11)
    bits = ((w[:, None] >> np.arange(53, dtype=np.uint64)) & np.uint64(1)).mean(axis=0)
    assert (np.abs(bits - 0.5) < Z * 0.5 / math.sqrt(N_UNIF)).all()


def test_no_correlation_between_adjacent_ids_or_counters():
    s = Streams(20240604)
    ids = np.arange(N_UNIF)
    bound = Z / math.sqrt(N_UNIF)  # SE of r under independence is ~ 1/sqrt(n)
    u0 = s.uniform("corr", ids, 0)
    u1 = s.uniform("corr", ids, 1)
    assert abs(_corr(u0[:-1], u0[1:])) < bound
    assert abs(_corr(u0, u1)) < bound
    # neighbouring streams, seeds and counters further apart
    assert abs(_corr(u0, s.uniform("corr2", ids, 0))) < bound
    assert abs(_corr(u0, Streams(20240605).uniform("corr", ids, 0))) < bound
    seq = to_unit(Streams.words(s.key("corr", 3), np.arange(N_UNIF)))
    assert abs(_corr(seq[:-1], seq[1:])) < bound


def test_golden_constant_is_splitmix_gamma():
    assert int(GOLDEN) == 0x9E3779B97F4A7C15


def test_crc32_colliding_names_get_distinct_streams():
    # "plumless" and "buckeroo" share a crc32; stream (and campaign) ids must not collide.
    assert Streams(1).root("plumless") != Streams(1).root("buckeroo")
    assert rng.name_id("plumless") != rng.name_id("buckeroo")


def test_poisson_broadcasts_and_keeps_shape():
    u = np.array([[0.5, 0.99], [0.1, 0.7]])
    k = rng.poisson(u, 3.0)
    assert k.shape == (2, 2)
    ref = [[poisson_ref(x, 3.0) for x in row] for row in u]
    assert k.tolist() == ref


@pytest.mark.parametrize("bad", [np.nan, -1.0, -np.inf])
def test_poisson_rejects_invalid_rates(bad):
    with pytest.raises(ValueError):
        rng.poisson(np.array([0.5, 0.5]), np.array([1.0, bad]))


def test_categorical_never_draws_a_trailing_zero_weight_category():
    cum = np.cumsum([0.1] * 10 + [0.0])
    top = np.array([1 - 2.0**-53, 0.9999999])
    assert (rng.categorical(top, cum) == 9).all()
    table = np.vstack([cum, np.cumsum([0.5, 0.5, 0.0] + [0.0] * 8)])
    got = rng.categorical(np.array([1 - 2.0**-53, 1 - 2.0**-53]), table, np.array([0, 1]))
    assert got.tolist() == [9, 1]
