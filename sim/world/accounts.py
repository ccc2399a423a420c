"""The world: target accounts and their people (buying committees plus noise), drawn in bulk.

Every draw is keyed by (seed, stream, account index, ...) through :class:`sim.rng.Streams`, so an
account's attributes and people depend only on the seed and its index.

>>> from sim.world.presets import load_scenario
>>> from sim.rng import Streams
>>> sc = load_scenario("enterprise", overrides={"accounts": {"count": 20}})
>>> accounts, contacts = draw_accounts(sc, Streams(1)), None
>>> len(accounts), sorted(accounts["tier"].unique().tolist()) <= [1, 2, 3]
(20, True)
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
import yaml

from sim import rng
from sim.rng import Streams
from sim.vocab import NO_ROLE, PERSONA_DEPARTMENT, PERSONAS, ROLES, SENIORITIES
from sim.world.scenario import Scenario

_NAME_A = (
    "Apex Blue Cedar Delta Ember Falcon Granite Harbor Iron Juniper Keystone Lumen Meridian "
    "Northwind Orion Pinnacle Quartz Redwood Summit Tidal Umbra Vector Willow Xenon Yardley Zenith "
    "Atlas Beacon Cobalt Dune Evergreen Frontier Glacier Horizon Ionic Jade Kestrel Lattice"
).split()
_NAME_B = (
    "Systems Holdings Group Industries Labs Partners Networks Health Capital Logistics Energy "
    "Dynamics Solutions Analytics Manufacturing Retail Bank Insurance Foods Mobility"
).split()
_NAME_C = ("Inc.", "Corp.", "LLC", "plc", "AG", "GmbH", "S.A.", "Ltd.")

# Counters of the "account" stream: one uniform per attribute.
_U_TIER, _U_IND, _U_EMP, _U_FIT, _U_MARKET, _U_SIZE, _U_NOISE, _U_VALUE = range(8)
_U_NAME_A, _U_NAME_B, _U_NAME_C, _U_BLOCKER = 8, 9, 10, 11


@lru_cache(maxsize=1)
def title_catalogue() -> dict:
    """Job titles by department and seniority, and by noise persona (``sim/data/titles.yaml``)."""
    path = resources.files("sim.world") / "titles.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _cum(weights: dict, order: tuple | list) -> np.ndarray:
    w = np.array([weights.get(k, 0.0) for k in order], dtype=float)
    return np.cumsum(w / w.sum())


def draw_accounts(sc: Scenario, streams: Streams) -> pd.DataFrame:
    """The accounts table (observable columns) plus ``in_market``, ``committee_size``,
    ``n_noise`` and ``deal_value`` (ground truth, split off by the caller)."""
    a = sc.accounts
    n = a.count
    idx = np.arange(n, dtype=np.int64)
    key = streams.key("account", idx)

    def u(counter: int) -> np.ndarray:
        return rng.to_unit(Streams.words(key, counter))

    tiers = list(a.tiers)
    tier_pos = rng.categorical(u(_U_TIER), _cum({t: a.tiers[t].share for t in tiers}, tiers))
    tier = np.asarray(tiers, dtype=np.int64)[tier_pos]
    specs = [a.tiers[t] for t in tiers]

    def per_tier(get) -> np.ndarray:
        return np.asarray([get(s) for s in specs], dtype=float)[tier_pos]

    industries = list(a.industries)
    industry = np.asarray(industries, dtype=object)[
        rng.categorical(u(_U_IND), _cum(a.industries, industries))
    ]
    employees = np.maximum(
        1,
        np.rint(
            rng.lognormal(
                u(_U_EMP),
                per_tier(lambda s: s.employees.median),
                per_tier(lambda s: s.employees.sigma),
            )
        ),
    ).astype(np.int64)
    fit = rng.beta(u(_U_FIT), a.icp_fit.a, a.icp_fit.b)
    im = sc.in_market
    p_market = im.at_fit_0 + (im.at_fit_1 - im.at_fit_0) * fit**im.shape
    in_market = u(_U_MARKET) < p_market

    size_min = per_tier(lambda s: s.committee_size.min)
    size_max = per_tier(lambda s: s.committee_size.max)
    extra = rng.poisson(u(_U_SIZE), per_tier(lambda s: s.committee_size.mean) - size_min)
    committee_size = np.minimum(size_min + extra, size_max).astype(np.int64)
    noise_mean = per_tier(lambda s: s.noise_contacts)
    n_noise = rng.poisson(u(_U_NOISE), noise_mean).astype(np.int64)
    deal_value = np.round(
        rng.lognormal(
            u(_U_VALUE),
            per_tier(lambda s: s.deal_value.median),
            per_tier(lambda s: s.deal_value.sigma),
        ),
        2,
    )
    names = (
        np.asarray(_NAME_A, dtype=object)[(u(_U_NAME_A) * len(_NAME_A)).astype(int)]
        + " "
        + np.asarray(_NAME_B, dtype=object)[(u(_U_NAME_B) * len(_NAME_B)).astype(int)]
        + " "
        + np.asarray(_NAME_C, dtype=object)[(u(_U_NAME_C) * len(_NAME_C)).astype(int)]
    )
    return pd.DataFrame(
        {
            "account_id": idx,
            "name": names.astype(str),
            "tier": tier,
            "industry": industry.astype(str),
            "employees": employees,
            "icp_fit": fit,
            "is_target": fit >= a.target_icp_fit_min,
            "in_market": in_market,
            "committee_size": committee_size,
            "n_noise": n_noise,
            "deal_value": deal_value,
            "_blocker_u": u(_U_BLOCKER),
        }
    )


def draw_contacts(sc: Scenario, streams: Streams, accounts: pd.DataFrame) -> pd.DataFrame:
    """Contacts of every account: the committee seats first (core roles, then fill), then noise.

    ``contact_id`` numbers contacts in account order, so adding accounts at the end leaves the
    ids of the existing ones unchanged. ``t_joined`` is filled in by the journeys.
    """
    cm = sc.committee
    n_c = accounts["committee_size"].to_numpy()
    n_x = accounts["n_noise"].to_numpy()
    per = n_c + n_x
    acct = np.repeat(accounts["account_id"].to_numpy(), per)
    start = np.cumsum(per) - per
    local = np.arange(acct.size) - np.repeat(start, per)
    size = np.repeat(n_c, per)
    in_committee = local < size

    key = streams.key("contact", acct, local)

    def u(counter: int) -> np.ndarray:
        return rng.to_unit(Streams.words(key, counter))

    role_idx = _roles(cm, size, local, per, accounts["_blocker_u"].to_numpy(), u(0))
    role_names = list(ROLES)
    seniority_tab = np.stack([_cum(cm.roles[r].seniority, SENIORITIES) for r in role_names])
    departments = list(title_catalogue()["departments"])
    dept_tab = np.stack([_cum(cm.roles[r].departments, departments) for r in role_names])
    sen_idx = rng.categorical(u(1), seniority_tab, role_idx)
    dept_idx = rng.categorical(u(2), dept_tab, role_idx)

    # Noise personas.
    personas = list(PERSONAS)
    pspec = sc.noise.personas
    persona_idx = rng.categorical(u(3), _cum({p: s.share for p, s in pspec.items()}, personas))
    psen_tab = np.stack(
        [
            _cum(pspec[p].seniority if p in pspec else {"individual": 1.0}, SENIORITIES)
            for p in personas
        ]
    )
    noise_sen = rng.categorical(u(1), psen_tab, persona_idx)

    cell = np.where(in_committee, dept_idx * len(SENIORITIES) + sen_idx, -1 - persona_idx)
    title_codes, title_names = _titles(u(4), cell, departments, personas)
    # What the CRM shows is inferred from the title, for everyone alike: the department and
    # seniority of the title's catalogue cell (the persona's own for titles outside it).
    shown = _title_cells(title_names)[title_codes]
    in_cat = shown >= 0
    sen_shown = np.where(in_cat, shown % len(SENIORITIES), noise_sen)
    n_dept = len(departments)
    dept_shown = np.where(in_cat, shown // len(SENIORITIES), n_dept + persona_idx)
    known_share = np.array([pspec[p].known_share if p in pspec else 1.0 for p in personas])
    known = u(5) < np.where(in_committee, sc.crm.committee_known_share, known_share[persona_idx])
    role_shown = np.where(
        u(6) < sc.crm.role_share, _crm_role(dept_shown, sen_shown, departments), -1
    )
    role_names_all = [*role_names, NO_ROLE]
    return pd.DataFrame(
        {
            "contact_id": np.arange(acct.size, dtype=np.int64),
            "account_id": acct,
            "title": cat(title_codes, title_names),
            "seniority": cat(sen_shown, list(SENIORITIES)),
            "department": cat(
                dept_shown, [*departments, *(PERSONA_DEPARTMENT[p] for p in personas)]
            ),
            "role": cat(np.where(role_shown >= 0, role_shown, len(role_names)), [*role_names, ""]),
            "in_committee": in_committee,
            "buying_role": cat(np.where(in_committee, role_idx, len(role_names)), role_names_all),
            "t_joined": np.full(acct.size, np.nan),
            "t_known": np.where(known, 0.0, np.nan),
            "persona": cat(np.where(in_committee, len(personas), persona_idx), [*personas, ""]),
            "_local": local,
            "_role_idx": np.where(in_committee, role_idx, -1),
            "_persona_idx": np.where(in_committee, -1, persona_idx),
        }
    )


def _title_cells(title_names: list[str]) -> np.ndarray:
    """Per catalogue title: its first cell (``dept * 5 + seniority``, departments and
    seniorities in catalogue order), or -1 for a title only people outside committees have."""
    catalogue = title_catalogue()["departments"]
    first: dict[str, int] = {}
    for d, dept in enumerate(catalogue):
        for k, sen in enumerate(SENIORITIES):
            for title in catalogue[dept][sen]:
                first.setdefault(title, d * len(SENIORITIES) + k)
    return np.array([first.get(t, -1) for t in title_names], dtype=np.int64)


# The buying role a CRM's persona map gives a title: procurement for procurement and finance,
# else by seniority. Champions and blockers are relationships only sales learns: no title
# shows them.
CRM_ROLE_BY_SENIORITY = {
    "c_level": "decision_maker",
    "vp": "decision_maker",
    "director": "influencer",
    "manager": "influencer",
    "individual": "user",
}


def _crm_role(dept: np.ndarray, sen: np.ndarray, departments: list[str]) -> np.ndarray:
    """Role index (into ROLES) the CRM records for each contact's shown department and
    seniority; -1 for departments outside the catalogue (students, job seekers, ...)."""
    buyers = [departments.index(d) for d in ("procurement", "finance")]
    by_sen = np.array([ROLES.index(CRM_ROLE_BY_SENIORITY[x]) for x in SENIORITIES])
    role = np.where(np.isin(dept, buyers), ROLES.index("procurement"), by_sen[sen])
    return np.where(dept < len(departments), role, -1)


def cat(codes: np.ndarray, names: list[str]) -> pd.Categorical:
    """A categorical column from codes into ``names`` (repeated names merge). Low-cardinality
    text columns are built this way: no string copies."""
    uniq = list(dict.fromkeys(names))
    remap = np.array([uniq.index(n) for n in names], dtype=np.int32)
    return pd.Categorical.from_codes(remap[codes], categories=uniq)


def _roles(cm, size, local, per, blocker_u, u_fill) -> np.ndarray:
    """Each seat's role index: core seats by position (decision maker, champion, procurement in
    committees of ``procurement_min_size`` or more, then a blocker with
    ``blocker_probability``); the rest from the fill mix."""
    role_names = list(ROLES)
    has_proc = size >= cm.procurement_min_size
    blocker_pos = np.where(has_proc, 3, 2)
    has_blocker = np.repeat(blocker_u < cm.blocker_probability, per)
    role_idx = rng.categorical(u_fill, _cum(cm.fill, role_names))
    role_idx[local == 0] = role_names.index("decision_maker")
    role_idx[local == 1] = role_names.index("champion")
    role_idx[(local == 2) & has_proc] = role_names.index("procurement")
    blocker = (local == blocker_pos) & has_blocker & (blocker_pos < size)
    role_idx[blocker] = role_names.index("blocker")
    return role_idx


def _titles(
    u: np.ndarray, cell: np.ndarray, departments: list, personas: list
) -> tuple[np.ndarray, list[str]]:
    """A title per contact from its catalogue cell (``dept * 5 + seniority`` for committee
    members, ``-1 - persona`` for people outside the committee), as codes into the list of every
    catalogue title (the same list for every world, so categories match across worlds)."""
    cat = title_catalogue()
    cells: dict[int, list[str]] = {}
    for d, dept in enumerate(departments):
        for k, sen in enumerate(SENIORITIES):
            cells[d * len(SENIORITIES) + k] = cat["departments"][dept][sen]
    for p, persona in enumerate(personas):
        cells[-1 - p] = cat["noise"][persona]
    names: list[str] = []
    offset: dict[int, int] = {}
    for c, options in cells.items():
        offset[c] = len(names)
        names += list(options)
    codes = np.zeros(u.size, dtype=np.int64)
    for c in np.unique(cell).tolist():
        rows = np.flatnonzero(cell == c)
        codes[rows] = offset[c] + (u[rows] * len(cells[c])).astype(np.int64)
    return codes, names
