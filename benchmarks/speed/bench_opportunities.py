"""Scoring handoffs against several opportunities per account: the columnar truth rule
(``sim.real.opportunity_truth.OpportunityTruth``) against the plain per-handoff loop it is
tested against, measured in the same run.

    python benchmarks/speed/bench_opportunities.py --quick   # 10,000 accounts
    python benchmarks/speed/bench_opportunities.py           # 100,000 accounts, 1 M handoffs

Opportunities: ``--per-account`` on average per account (Poisson), created over the year
before and the year of the log, 60% closed 0-120 days later; handoffs uniform over the year.
The loop runs on a sample of handoffs (``--sample``) and is extrapolated; both give the same
answers on that sample (checked). Nothing is asserted: the script exits 0.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import console, git_commit

from sim.real.opportunity_truth import OpportunityTruth, truth_reference


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--accounts", type=int, default=100_000)
    p.add_argument("--handoffs", type=int, default=1_000_000)
    p.add_argument("--per-account", type=float, default=3.0)
    p.add_argument("--sample", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="10,000 accounts, 100,000 handoffs")
    a = p.parse_args()
    if a.quick:
        a.accounts, a.handoffs, a.sample = 10_000, 100_000, 5_000
    return a


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    a = _args()
    rng = np.random.default_rng(a.seed)
    per = rng.poisson(a.per_account, a.accounts)
    acc = np.repeat(np.arange(a.accounts), per)
    created = rng.uniform(-365, 365, acc.size)
    closed = np.where(rng.random(acc.size) < 0.6, created + rng.uniform(0, 120, acc.size), np.nan)
    h_acc = rng.integers(0, a.accounts, a.handoffs)
    h_t = rng.uniform(0, 365, a.handoffs)
    console.print(
        f"commit {git_commit()}: {a.accounts:,} accounts, {acc.size:,} opportunities, "
        f"{a.handoffs:,} handoffs"
    )
    truth, t_build = _timed(lambda: OpportunityTruth.of(acc, created, closed, a.accounts))
    ok, t_call = _timed(lambda: truth(h_acc, h_t))
    found, t_found = _timed(lambda: truth.found(h_acc[ok], h_t[ok]))
    # the loop, per handoff over its account's opportunities (a dict built once, not timed)
    rows = {k: np.flatnonzero(acc == k) for k in np.unique(h_acc[: a.sample])}
    n = min(a.sample, a.handoffs)

    def loop() -> list[bool]:
        return [
            truth_reference(acc[r], created[r], closed[r], 90.0, False, h_acc[i], h_t[i])
            for i in range(n)
            for r in (rows[h_acc[i]],)
        ]

    ref, t_loop = _timed(loop)
    same = bool(np.array_equal(np.asarray(ref), ok[:n]))
    per_loop = t_loop / n * a.handoffs
    console.print(f"columnar: build {t_build:.2f} s, truth {t_call:.2f} s, found {t_found:.2f} s")
    console.print(
        f"loop: {t_loop:.2f} s for {n:,} handoffs, {per_loop:.1f} s extrapolated to "
        f"{a.handoffs:,}; columnar / loop speed-up {per_loop / t_call:.0f}x "
        f"(same answers on the sample: {same}); {ok.mean():.1%} true, "
        f"{found.mean():.1%} of opportunities found"
    )


if __name__ == "__main__":
    main()
