"""Olist's days MQL → won against the simulated ``smb`` preset (:func:`smb_timing_check`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

from sim.datasets.olist.figures import QUANTILES
from sim.datasets.olist.load import FolderOrFrame, cohort, mqls_of
from sim.errors import DataError
from sim.world.presets import load_scenario
from sim.world.simulate import World, simulate

# The analogue of "became an MQL" in a simulated journey: a form fill by a known person.
FORM_FILLS = ("content_download", "webinar", "demo_request")


@dataclass(frozen=True, eq=False)
class TimingCheck:
    """Olist's days MQL → won (``observed``) against the simulated ``smb`` preset's days from
    an account's first form fill to its "buy" decision (``simulated``), their quantiles side by
    side and the two-sample Kolmogorov–Smirnov distance (``ks``, with its ``p_value``)."""

    observed: np.ndarray = field(repr=False)
    simulated: np.ndarray = field(repr=False)
    quantiles: pd.DataFrame
    ks: float
    p_value: float
    buys: int  # simulated accounts that bought, journey started in the history
    buys_without_form: int  # ... of which without a known form fill before the decision

    @property
    def median_ratio(self) -> float:
        """Simulated median / observed median."""
        return float(np.median(self.simulated) / np.median(self.observed))

    def __str__(self) -> str:
        q = self.quantiles.to_string(float_format=lambda v: f"{v:.1f}")
        return (
            f"days MQL -> won: Olist ({len(self.observed):,} won MQLs) vs smb "
            f"({len(self.simulated):,} buys from a first form fill; {self.buys_without_form:,} "
            f"of {self.buys:,} buys had none)\n{q}\n"
            f"KS distance {self.ks:.3f} (p = {self.p_value:.2g}); "
            f"median ratio smb/Olist {self.median_ratio:.2f}"
        )


def simulated_days_to_buy(world: World) -> tuple[np.ndarray, int, int]:
    """Days from each buying account's first form fill (content_download, webinar or
    demo_request by a known person, at or after its journey start and not after its decision)
    to its "buy" decision. Accounts whose journey started before day 0 are left out (their
    early touches precede the simulated history). Returns (days, buys, buys without a form)."""
    ev, t = world.events, world.truth
    buyers = t[(t["decision"] == "buy") & (t["journey_start"] >= 0)]
    forms = ev[ev["activity"].isin(FORM_FILLS).to_numpy() & ev["known"].to_numpy()]
    forms = forms[["account_id", "time"]].merge(
        buyers[["account_id", "journey_start", "t_decision"]], on="account_id"
    )
    forms = forms[
        (forms["time"] >= forms["journey_start"]) & (forms["time"] <= forms["t_decision"])
    ]
    first = forms.groupby("account_id")["time"].min()
    dec = buyers.set_index("account_id")["t_decision"]
    days = (dec.reindex(first.index) - first).to_numpy(dtype=float)
    return days, len(buyers), len(buyers) - len(first)


def smb_timing_check(
    folder: FolderOrFrame = None,
    accounts: int = 20_000,
    seed: int = 102,
    horizon_days: float = 1000,
    start: str | None = "2018-01-01",
    end: str | None = None,
) -> TimingCheck:
    """Compare Olist's days MQL → won (cohort [start, end)) with the ``smb`` preset simulated
    with ``accounts`` accounts, ``seed`` and a horizon extended to ``horizon_days`` so that
    journeys are not cut off (the preset's dynamics are unchanged).

    The closest analogue of "became an MQL" (a seller signs up on a landing page and is known
    from then on) is the first form fill by a known person in the journey; the first known touch
    of any kind (an email open, a web visit of an identified cookie) comes earlier than any
    sign-up would. The won deal is the "buy" decision."""
    m = cohort(mqls_of(folder), start, end)
    observed = m["days_to_won"].dropna().to_numpy(dtype=float)
    if observed.size == 0:
        raise DataError(f"no won Olist MQL with a first_contact_date in [{start}, {end})")
    sc = load_scenario(
        "smb", overrides={"horizon_days": horizon_days, "accounts": {"count": accounts}}
    )
    simulated, buys, without = simulated_days_to_buy(simulate(sc, seed=seed))
    if simulated.size == 0:
        raise ValueError("the simulated smb world has no buy after a form fill")
    qs = list(QUANTILES)
    table = pd.DataFrame(
        {"olist": np.quantile(observed, qs), "smb": np.quantile(simulated, qs)},
        index=pd.Index([f"p{round(q * 100)}" for q in qs], name="quantile"),
    )
    res = ks_2samp(observed, simulated)
    return TimingCheck(
        observed, simulated, table, float(res.statistic), float(res.pvalue), buys, without
    )
