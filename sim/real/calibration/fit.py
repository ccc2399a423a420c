"""``calibrate(real) -> Calibration``: the steps, in order, that estimate a scenario from a
history (see :mod:`sim.real.calibration`), and :func:`calibrate_files`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.errors import QualsimError
from sim.real.calibration.accounts import history_span, icp_fit, tier_groups
from sim.real.calibration.committee import committee_per_tier, roles
from sim.real.calibration.estimates import Calibration, Fit
from sim.real.calibration.history import history_of, members_of
from sim.real.calibration.market import in_market, outcomes
from sim.real.calibration.presets import closest_preset
from sim.real.calibration.rates import identification_rate, touch_rates
from sim.real.calibration.report import fit_report
from sim.real.calibration.timing import close_time, stage_timing, start_window
from sim.real.read import read_log
from sim.real.reallog import RealLog
from sim.world.data_quality import CLEAN
from sim.world.presets import PRESETS, load_scenario
from sim.world.scenario import Scenario


def calibrate(real: RealLog, base: str | None = None, seed: int = 0) -> Calibration:
    """Estimate a scenario's identifiable parameters from a real history (see the module doc).

    ``base`` is the preset the fitted scenario extends (default: the closest one). Raises
    ``DataError`` when the history is too small: fewer than ``MIN_ACCOUNTS`` accounts, no
    outcomes, or fewer than ``MIN_OPPORTUNITIES`` opportunities.
    """
    if base is not None and base not in PRESETS:
        raise QualsimError(f"unknown base preset {base!r}: expected one of {', '.join(PRESETS)}")
    h = history_of(real)
    fit = Fit()
    members = members_of(h, fit.notes)
    ct = close_time(h)  # needed for the preset choice
    distances: dict[str, float] = {}
    if base is None:
        comm_mean = float(members.n_comm[members.n_comm > 0].mean())
        base, distances = closest_preset(comm_mean, max(ct.median_days(), 0.5))
    bsc = load_scenario(base)
    history_span(h, fit)
    groups = tier_groups(h, bsc, fit)
    icp = icp_fit(h, seed, fit)
    committee_per_tier(members, groups, fit)
    if members.role is not None:
        roles(h, members, bsc, fit)
    else:
        for path in ("fill", "blocker_probability", "procurement_min_size"):
            fit.not_identified(
                f"committee.{path}",
                "the contacts file has no buying_role column: the committee's make-up cannot "
                "be seen; the preset's value is kept",
            )
    ident = identification_rate(h, bsc, fit)
    stage_timing(h, ct, bsc, fit)
    window = start_window(h, bsc, fit)
    outcomes(h, members.n_comm, groups, fit, bsc)
    in_market(h, icp, window, bsc, seed, fit)
    fit.set("campaigns", [])
    fit.set("data_quality", dict(CLEAN))
    _observed_as_known(bsc, fit)
    fit.notes.extend(
        [
            "who the CRM knows before a form fill, and journeys that stall before an "
            "opportunity: the fitted world records every person of the export from the start "
            "and lets every journey reach an opportunity (an export shows only the people it "
            "knows and the journeys that got that far)",
            "role activity multipliers and join stages, seniority and department mixes",
            "noise persona mix and their active days; competitor; the sales team",
            "campaigns (set to none: the history's rates already include its campaigns' lift)",
            "messy data (data_quality: off): the fit reads the history's records as they are, so "
            "its duplicates, scanner clicks and crawler visits are already in its counts",
        ]
    )
    struct = load_scenario(base, overrides=fit.overrides)
    phase_rates = touch_rates(h, struct, members, ident, seed, fit)
    fit.notes.append("unaware-stage rates of committee members (members join at aware or later)")
    return Calibration(
        base=base,
        estimates=fit.estimates,
        overrides=fit.overrides,
        notes=tuple(fit.notes),
        phase_rates=phase_rates,
        distances=distances,
        n_accounts=h.n_accounts,
        horizon_days=h.horizon,
        unidentified=dict(fit.unidentified),
    )


def calibrate_files(
    events: str | Path,
    contacts: str | Path,
    accounts: str | Path | None,
    out: str | Path,
    base: str | None = None,
    seed: int = 0,
    opportunities: str | Path | None = None,
) -> tuple[Calibration, pd.DataFrame]:
    """Read a history (its outcomes from the accounts file's outcome columns or from an
    opportunities file: each account's first ``new_business`` opportunity), calibrate, write the
    fitted scenario to ``out`` and return the calibration and its fit report. Raises
    ``QualsimError`` subclasses for bad input."""
    real = read_log(events, contacts, accounts, opportunities=opportunities)
    cal = calibrate(real, base=base, seed=seed)
    path = cal.to_yaml(out)
    return cal, fit_report(real, path, seed=seed, unidentified=cal.unidentified)


def _observed_as_known(bsc: Scenario, fit: Fit) -> None:
    """Fit the history as it is recorded: everyone in the export known from the start, every
    journey reaching an opportunity (neither is identifiable from an export)."""
    fit.set("crm.committee_known_share", 1.0)
    for persona in bsc.noise.personas:
        fit.set(f"noise.personas.{persona}.known_share", 1.0)
    fit.set("journey.buy_probability.early_stall", 0.0)
