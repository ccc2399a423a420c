"""Fit a scenario to a real history: ``calibrate(real) -> Calibration`` and ``fit_report``.

A team's export (:func:`sim.real.read_log`: touches, contacts with roles, accounts with tiers and
CRM outcomes) identifies some of a scenario's parameters and not others. What is estimated, and
how (every estimate carries a standard error and its sample size, or a note):

- **accounts**: count, tier shares (multinomial), ICP fit Beta(a, b) (moments; bootstrap SE).
- **committee size per tier**: committee members are contacts whose ``role`` is a committee role;
  ``role == "none"`` marks people outside it. ``min`` and ``max`` are the observed extremes and
  ``mean = min + λ`` with λ the maximum-likelihood Poisson mean, counts at ``max`` taken as
  censored (the simulator truncates there). Without a ``buying_role`` column committee and
  noise cannot be told apart: every contact counts as a member and ``noise_contacts`` is set to
  0 — an assumption, so both are listed as not identifiable (``Calibration.unidentified``).
- **noise contacts per tier**: mean number of ``role == "none"`` contacts per account.
- **role mix**: ``fill`` weights (influencer vs user among the seats left after the core roles),
  ``blocker_probability`` (accounts with a blocker among those with a seat for one),
  ``procurement_min_size`` (smallest size at which most committees have procurement).
- **identification rate**: share of the identifiable touches that carry a contact_id, over the
  identifiable activities that no account-level source emits in the base preset (``ad_click`` in
  the presets): every such touch comes from a person, so the share is the rate itself.
- **timing**: opportunity_date → close_date is the time in "qualified" + "sales_ready"; a
  lognormal is fitted by maximum likelihood, open opportunities right-censored at the end of the
  history, day-precision dates treated as interval-censored. The split between the two stages is
  not identified: both keep the base preset's ratio of medians and get one common sigma, chosen so
  that their sum has the fitted median and log-spread.
- **buy probability**: closed opportunities with ``won`` known, ``p = one_person ×
  factor_per_member^(n − 1)`` with n the account's committee size (maximum likelihood); the raw
  win rate (won / closed) is reported too. ``won`` is read as "the account bought". When
  (nearly) all decided accounts have one size, the factor is not identifiable: it keeps the
  preset's value, listed with the reason, and ``one_person`` is fitted alone.
- **deal value per tier**: lognormal median and sigma of ``value`` of won accounts.
- **in market**: share of accounts with an opportunity; with ``icp_fit`` the ``at_fit_0`` and
  ``at_fit_1`` of the in-market curve (``shape`` kept) by maximum likelihood (not identifiable,
  and set flat, without icp_fit or when it hardly varies), corrected for the
  in-market accounts whose journey has not reached "qualified" by the end of the history (that
  chance is computed from the base preset's pre-opportunity stage durations).
- **touch rates** (per week): each account's history is cut into phases relative to its
  opportunity (see :data:`~sim.real.calibration.phases.PHASES`; ``W`` = a fifth of the base
  preset's median time from journey start to "qualified"). Observed rates per phase and activity
  — committee members' known touches per member-week (identifiable ones divided by the
  identification rate), anonymous account-level touches per account-week (identifiable ones
  minus the unidentified share of people's touches) — are linear in the scenario's stage rates:
  ``observed = M @ stage_rates``, where ``M`` (how much of each phase's member-time is spent in
  each latent stage, weighted by role multipliers) is computed exactly from a reference world of
  the fitted structure. Stage rates are the non-negative least-squares solution; standard errors
  come from a bootstrap over accounts. Noise personas' rates are scaled per activity to the
  observed rate of ``role == "none"`` contacts.

Not identified (kept from the base preset, listed in ``Calibration.notes``): the durations of
the stages before "qualified" and the journey start window, role activity multipliers and join
stages, seniority and department mixes, noise persona mix, competitor, campaigns (the fitted
file sets ``campaigns: []``: the history's rates already include its own campaigns' lift), and
the sales team.

Modules, one step each: :mod:`.history` (the data), :mod:`.accounts`, :mod:`.committee`,
:mod:`.timing`, :mod:`.market`, :mod:`.phases` and :mod:`.rates`; :mod:`.estimates` holds the
result and its YAML file, :mod:`.presets` the preset distance, :mod:`.report` the fit report,
:mod:`.fit` the order in which :func:`calibrate` runs the steps.
"""

from __future__ import annotations

from sim.real.calibration.estimates import (
    MIN_ACCOUNTS,
    MIN_CLOSED,
    MIN_OPPORTUNITIES,
    Calibration,
    Estimate,
)
from sim.real.calibration.fit import calibrate, calibrate_files
from sim.real.calibration.phases import ACCOUNT_STAGES, CONTACT_STAGES, PHASES
from sim.real.calibration.presets import closest_preset
from sim.real.calibration.rates import REFERENCE_ACCOUNTS
from sim.real.calibration.report import fit_report

__all__ = [
    "ACCOUNT_STAGES",
    "CONTACT_STAGES",
    "MIN_ACCOUNTS",
    "MIN_CLOSED",
    "MIN_OPPORTUNITIES",
    "PHASES",
    "REFERENCE_ACCOUNTS",
    "Calibration",
    "Estimate",
    "calibrate",
    "calibrate_files",
    "closest_preset",
    "fit_report",
]
