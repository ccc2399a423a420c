"""Touch counts, identification, channels and campaign lift match the configured rates.

Expected counts are worked out here from the scenario's rates and the truth/contacts tables
(exposure time x rate), independently of how sim.touches builds its segments. Counts are Poisson,
so each check allows 4.5 standard deviations (sqrt of the expected count); with the fixed seeds
the outcome is deterministic, and a wrong rate, exposure or multiplier shifts counts by far more.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.vocab import MARKETING_ACTIVITIES as ACTIVITIES
from sim.vocab import RATE_STAGES
from sim.world.data_quality import CLEAN  # the world as drawn, without messy data
from sim.world.journeys import ENTRY_COLUMNS

Z = 4.5


def _no_noise(count: int, extra: dict) -> dict:
    """Accounts without noise contacts, every committee member known to the CRM from the start
    (the drawn touches are then the recorded ones: tests/world/test_identity.py covers the
    rest), no campaigns."""
    tiers = {t: {"noise_contacts": 0} for t in (1, 2, 3)}
    crm = {"committee_known_share": 1.0}
    return {"accounts": {"count": count, "tiers": tiers}, "campaigns": [], "crm": crm, **extra}


def _close(observed: float, expected: float, what: str) -> None:
    sd = max(np.sqrt(expected), 1.0)
    assert abs(observed - expected) <= Z * sd, (
        f"{what}: observed {observed}, expected {expected:.1f} +- {Z * sd:.1f}"
    )


def _rates(sc: sim.Scenario, table: str, stage: str) -> dict[str, float]:
    return dict(getattr(getattr(sc.touches, table), stage))


def test_background_rates_without_journeys():
    over = _no_noise(400, {"in_market": {"at_fit_0": 0.0, "at_fit_1": 0.0}})
    sc = sim.load_scenario("enterprise", overrides={**over, "data_quality": CLEAN})
    w = sim.simulate(sc, seed=21)
    assert not w.truth["in_market"].any()
    weeks = sc.horizon_days / 7
    mult = (
        w.contacts["buying_role"].map({r: s.activity for r, s in sc.committee.roles.items()}).sum()
    )
    contact_bg = _rates(sc, "contact_rates_per_week", "background")
    account_bg = _rates(sc, "account_rates_per_week", "background")
    counts = w.events["activity"].astype(str).value_counts()
    for a in ACTIVITIES:
        expected = (mult * contact_bg.get(a, 0) + len(w.accounts) * account_bg.get(a, 0)) * weeks
        _close(counts.get(a, 0), expected, a)
    # email opens are never anonymous: all of them come from contacts.
    opens = w.events[w.events["activity"] == "email_open"]
    assert (opens["contact_id"] >= 0).all()


def _exposure(start, end, lo, hi):
    """Length of [max(start, lo), min(end, hi)) (0 if empty); NaN ends mean 'not reached'."""
    return np.clip(np.minimum(end, hi) - np.maximum(start, lo), 0, None)


def test_journey_stage_rates_for_members_and_accounts():
    # Every account in market; members' touches follow the account's stage from joining on.
    over = _no_noise(250, {"in_market": {"at_fit_0": 1.0, "at_fit_1": 1.0}})
    sc = sim.load_scenario("enterprise", overrides={**over, "data_quality": CLEAN})
    w = sim.simulate(sc, seed=22)
    H = sc.horizon_days
    truth = w.truth.set_index("account_id")
    # A stage a stalled journey skipped ends where the journey moved on (its next entry); a
    # stage not reached within the horizon ends at the horizon.
    entry = truth[list(ENTRY_COLUMNS)].bfill(axis=1).fillna(H).to_numpy()
    expected = dict.fromkeys(ACTIVITIES, 0.0)

    # Every committee member (all accounts are in market): background until it joins (NaN:
    # not within the horizon), then its account's stage rates.
    con = w.contacts[w.contacts["in_committee"]]
    e = entry[con["account_id"].to_numpy()]
    tj = con["t_joined"].fillna(H).to_numpy()
    mult = con["buying_role"].map({r: s.activity for r, s in sc.committee.roles.items()}).to_numpy()
    for a, r in _rates(sc, "contact_rates_per_week", "background").items():
        expected[a] += r * (mult * _exposure(0.0, tj, 0.0, H)).sum() / 7
    stage_names = RATE_STAGES[1:]  # unaware .. sales_ready
    for k, stage in enumerate(stage_names):
        days = _exposure(np.maximum(tj, e[:, k]), e[:, k + 1], 0.0, H)
        for a, r in _rates(sc, "contact_rates_per_week", stage).items():
            expected[a] += r * (mult * days).sum() / 7
    after = _exposure(np.maximum(tj, e[:, 5]), H, 0.0, H)
    for a, r in _rates(sc, "contact_rates_per_week", "background").items():
        expected[a] += r * (mult * after).sum() / 7

    pre = _exposure(0.0, entry[:, 0], 0.0, H)
    post = _exposure(entry[:, 5], H, 0.0, H)
    for a, r in _rates(sc, "account_rates_per_week", "background").items():
        expected[a] += r * (pre.sum() + post.sum()) / 7
    for k, stage in enumerate(stage_names):
        days = _exposure(entry[:, k], entry[:, k + 1], 0.0, H)
        for a, r in _rates(sc, "account_rates_per_week", stage).items():
            expected[a] += r * days.sum() / 7

    counts = w.events["activity"].astype(str).value_counts()
    for a in ACTIVITIES:
        _close(counts.get(a, 0), expected[a], a)
    assert expected["demo_request"] > 50, "the check must cover journey-only activity"


def test_campaign_adds_lift_minus_one_times_the_rate_during_its_dates():
    campaign = {
        "name": "promo",
        "channel": "newsletter",
        "start_day": 100,
        "end_day": 200,
        "targets_only": False,
        "lift": 3.0,
        "activities": ["email_open"],
    }
    over = _no_noise(
        300, {"in_market": {"at_fit_0": 0.0, "at_fit_1": 0.0}, "campaigns": [campaign]}
    )
    sc = sim.load_scenario("enterprise", overrides={**over, "data_quality": CLEAN})
    w = sim.simulate(sc, seed=23)
    mult = (
        w.contacts["buying_role"].map({r: s.activity for r, s in sc.committee.roles.items()}).sum()
    )
    rate = _rates(sc, "contact_rates_per_week", "background")["email_open"]
    promo = w.events[w.events["campaign_id"] == 0]
    _close(len(promo), (3.0 - 1.0) * mult * rate * 100 / 7, "campaign email opens")
    assert promo["time"].between(100, 200, inclusive="left").all()
    assert (promo["activity"] == "email_open").all()
    assert (promo["channel"] == "newsletter").all()
    assert w.campaigns.loc[0, "name"] == "promo"


def test_identification_rate_and_channel_mix():
    over = _no_noise(
        400,
        {
            "in_market": {"at_fit_0": 0.0, "at_fit_1": 0.0},
            "touches": {
                "account_rates_per_week": {"background": {"impression": 1.0}},
                "identification_rate": 0.3,
            },
        },
    )
    sc = sim.load_scenario("enterprise", overrides={**over, "data_quality": CLEAN})
    w = sim.simulate(sc, seed=24)
    visits = w.events[w.events["activity"] == "web_visit"]
    n = len(visits)
    share = visits["known"].mean()
    assert abs(share - 0.3) <= Z * np.sqrt(0.3 * 0.7 / n), (share, n)
    mix = sc.touches.channels["web_visit"]
    observed = visits["channel"].astype(str).value_counts(normalize=True)
    for ch, p in mix.items():
        assert abs(observed.get(ch, 0.0) - p) <= Z * np.sqrt(p * (1 - p) / n), ch


@pytest.mark.parametrize("persona", ["job_seeker", "existing_user"])
def test_noise_personas_touch_at_their_rates_while_active(persona):
    tiers = {t: {"noise_contacts": 6} for t in (1, 2, 3)}
    shares = {
        p: float(p == persona)
        for p in ("junior_staff", "student", "job_seeker", "competitor", "existing_user", "partner")
    }
    over = {
        "accounts": {"count": 300, "tiers": tiers},
        "campaigns": [],
        "in_market": {"at_fit_0": 0.0, "at_fit_1": 0.0},
        "noise": {"personas": {p: {"share": s} for p, s in shares.items()}},
    }
    sc = sim.load_scenario("enterprise", overrides={**over, "data_quality": CLEAN})
    w = sim.simulate(sc, seed=25)
    noise = w.contacts[~w.contacts["in_committee"]]
    assert (noise["persona"] == persona).all()
    spec = sc.noise.personas[persona]
    H = sc.horizon_days
    length = spec.active_days if spec.active_days is not None else np.inf
    # A limited-time person is active for `length` days starting uniformly in [-length, H).
    # E|[s, s+L) ∩ [0, H)| for s ~ U(-L, H) is H L / (H + L).
    mean_days = H * length / (H + length) if np.isfinite(length) else H
    ev = w.events[w.events["contact_id"].isin(noise["contact_id"])]
    assert noise["t_joined"].isna().all(), "people outside the committee never join a journey"
    for a, r in spec.rates_per_week.items():
        if a in sc.touches.identifiable:
            continue  # partly anonymised: checked in the identification test
        expected = r * len(noise) * mean_days / 7
        # Poisson counts over random windows: the variance adds the spread of exposure; the
        # bound below uses the Poisson part only, so allow the window-length variance too.
        sd_windows = r / 7 * np.sqrt(len(noise)) * length * 0.6 if np.isfinite(length) else 0.0
        assert abs((ev["activity"] == a).sum() - expected) <= Z * np.sqrt(expected + sd_windows**2)
