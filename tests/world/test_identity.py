"""Who the CRM knows: a person it does not know touches anonymously and gets no email until a
form fill identifies them; journeys that stall early; roles the CRM maps from titles; and no
visible contact column telling committee members from others beyond what titles tell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.vocab import ACTIVITIES
from sim.world.data_quality import CLEAN  # the world as drawn, without messy data
from sim.world.identity import identify


def _cols(rows: list[tuple[float, int, str]]) -> dict[str, np.ndarray]:
    time, contact, activity = zip(*rows, strict=True)
    return {
        "time": np.array(time, dtype=float),
        "account_id": np.zeros(len(rows), dtype=np.int32),
        "contact_id": np.array(contact, dtype=np.int32),
        "activity": np.array([ACTIVITIES.index(a) for a in activity], dtype=np.int8),
    }


def test_identify_by_hand() -> None:
    # contact 0 known from the start; contact 1 unknown until its download at day 5; contact 2
    # never fills a form; -1 is an anonymous visitor
    rows = [
        (1.0, 1, "web_visit"),  # before the form: anonymous
        (2.0, 1, "email_open"),  # before the form: never sent
        (2.5, 0, "email_open"),  # known from the start: kept
        (3.0, -1, "web_visit"),
        (5.0, 1, "content_download"),  # the form identifies contact 1
        (5.0, 1, "web_visit"),  # same moment: already known
        (6.0, 1, "email_click"),
        (7.0, 2, "pricing_visit"),  # never identified: anonymous
        (8.0, 2, "email_click"),  # never on the list: dropped
    ]
    out, t_known = identify(_cols(rows), np.array([True, False, False]))
    assert out["time"].tolist() == [1.0, 2.5, 3.0, 5.0, 5.0, 6.0, 7.0]
    assert out["contact_id"].tolist() == [-1, 0, -1, 1, 1, 1, -1]
    assert [ACTIVITIES[a] for a in out["activity"]] == [
        "web_visit",
        "email_open",
        "web_visit",
        "content_download",
        "web_visit",
        "email_click",
        "pricing_visit",
    ]
    assert t_known[0] == 0.0 and t_known[1] == 5.0 and np.isnan(t_known[2])


@pytest.fixture(scope="module")
def world() -> sim.World:
    return sim.simulate(
        sim.load_scenario(
            "enterprise", overrides={"accounts": {"count": 600}, "data_quality": CLEAN}
        ),
        3,
    )


def test_nobody_touches_as_themselves_before_the_crm_knows_them(world: sim.World) -> None:
    ev = world.events[world.events["known"]]
    t_known = world.contacts.set_index("contact_id")["t_known"]
    first = t_known.reindex(ev["contact_id"]).to_numpy()
    assert not np.isnan(first).any(), "a touch by a person the CRM never knew"
    assert (ev["time"].to_numpy() >= first).all()
    # people known late were identified by a form fill at exactly that time
    late = t_known[t_known > 0]
    forms = ev[ev["activity"].isin(["content_download", "webinar", "event", "demo_request"])]
    first_form = forms.groupby("contact_id")["time"].min()
    np.testing.assert_array_equal(first_form.reindex(late.index).to_numpy(), late.to_numpy())


def test_part_of_each_group_is_known_before_raising_a_hand(world: sim.World) -> None:
    c = world.contacts[world.contacts["in_committee"]]
    from_start = (c["t_known"] == 0).mean()
    share = world.scenario.crm.committee_known_share
    se = np.sqrt(share * (1 - share) / len(c))
    assert abs(from_start - share) <= 4 * se
    # the log shows only people the CRM knows by the end
    log = sim.EventLog.from_world(world)
    known = world.contacts.loc[world.contacts["t_known"].notna(), "contact_id"]
    assert set(log.contacts["contact_id"]) == set(known)


def test_journeys_that_stall_end_early_without_a_decision_to_buy() -> None:
    # every journey starts early in a long horizon, so that each reaches its end
    over = {
        "accounts": {"count": 3000},
        "horizon_days": 2000,
        "journey": {"start_window_days": [0, 200]},
    }
    sc = sim.load_scenario("enterprise", overrides={**over, "data_quality": CLEAN})
    im = sim.simulate(sc, seed=5).truth.query("in_market")
    stalled = im["t_decision"].notna() & im["t_qualified"].isna()
    assert (im.loc[stalled, "decision"] == "no_decision").all()
    assert im.loc[stalled, "t_sales_ready"].isna().all()
    # among journeys that do not buy, the stalled share is early_stall (binomial error)
    no_buy = im[im["decision"] == "no_decision"]
    p = sc.journey.buy_probability.early_stall
    share = no_buy["t_qualified"].isna().mean()
    assert abs(share - p) <= 4 * np.sqrt(p * (1 - p) / len(no_buy))


def test_the_crm_role_comes_from_the_title_for_a_share_of_contacts(world: sim.World) -> None:
    c = world.contacts
    assert set(c["role"]) <= {"decision_maker", "influencer", "user", "procurement", ""}
    # the same title always maps to the same role (or none)
    mapped = c[c["role"] != ""]
    assert (mapped.groupby("title", observed=True)["role"].nunique() == 1).all()
    # committee members and others alike: both have mapped and empty roles
    for members in (True, False):
        roles = set(c.loc[c["in_committee"] == members, "role"])
        assert "" in roles and len(roles) > 1
    # champions and blockers are relationships a title never shows
    assert not {"champion", "blocker"} & set(c["role"])


def _grouped_classifier(train: pd.DataFrame, test: pd.DataFrame, columns: list[str]) -> float:
    """Accuracy on ``test`` of predicting committee membership by the majority class of each
    group of ``columns`` in ``train`` (falling back to the title's majority, then to the
    overall majority, for groups ``train`` never saw): the best any classifier of these
    columns can do, given enough data."""
    overall = train["in_committee"].mean() >= 0.5
    by_title = train.groupby("title", observed=True)["in_committee"].mean() >= 0.5
    by_cols = train.groupby(columns, observed=True)["in_committee"].mean() >= 0.5
    keys = pd.MultiIndex.from_frame(test[columns]) if len(columns) > 1 else test[columns[0]]
    guess = by_cols.reindex(keys).to_numpy(dtype=object)
    fallback = by_title.reindex(test["title"]).to_numpy(dtype=object)
    guess = np.where(pd.isna(guess), fallback, guess)
    guess = np.where(pd.isna(guess), overall, guess).astype(bool)
    return float((guess == test["in_committee"].to_numpy()).mean())


def test_no_visible_column_tells_members_apart_beyond_the_title() -> None:
    sc = sim.load_scenario(
        "enterprise", overrides={"accounts": {"count": 3000}, "data_quality": CLEAN}
    )
    visible = ["title", "seniority", "department", "role"]
    train, test = (
        sim.simulate(sc, seed=s)
        .contacts[[*visible, "in_committee"]]
        .astype({c: str for c in visible})
        for s in (31, 32)
    )
    title_only = _grouped_classifier(train, test, ["title"])
    all_visible = _grouped_classifier(train, test, visible)
    se = np.sqrt(title_only * (1 - title_only) / len(test))
    assert all_visible <= title_only + 3 * se, (all_visible, title_only)
    # and the check has power: the truth column would tell them apart perfectly
    with_truth = train.assign(leak=train["in_committee"].astype(str))
    leak = _grouped_classifier(
        with_truth, test.assign(leak=test["in_committee"].astype(str)), ["title", "leak"]
    )
    assert leak == 1.0
