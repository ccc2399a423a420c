"""Messy CRM data (``data_quality:``): each knob changes only the observable log, and does what
it says. Shares are checked within binomial sampling error: |p_hat - p| <= 4 sd, sd = sqrt(p (1 -
p) / n), which a correct draw fails about once in 16,000 runs (and the seeds are fixed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.eventlog import EventLog
from sim.rng import Streams
from sim.sales.measure import committee_first_seen
from sim.tables import CONTACTS, EVENTS
from sim.world.data_quality import CLEAN, KNOBS, DataQuality
from sim.world.messy import Cols, _sorted, scanner_touches, skew_clocks

ON = {
    "blank_titles": 0.3,
    "title_variants": 0.3,
    "duplicate_contacts": 0.3,
    "wrong_account": 0.2,
    "no_account": 0.2,
    "scanner_accounts": 0.3,
    "crawler_bursts_per_week": 0.2,
    "clock_skew": 0.3,
}
COMMITTEE = [c.name for c in CONTACTS.columns if c.truth]


def _world(count: int = 80, seed: int = 5, **knobs: float) -> sim.World:
    over = {"accounts": {"count": count}, "data_quality": {**CLEAN, **knobs}}
    return sim.simulate(sim.load_scenario("enterprise", overrides=over), seed=seed)


@pytest.fixture(scope="module")
def clean() -> sim.World:
    return _world()


def _within(share: float, p: float, n: int) -> bool:
    return abs(share - p) <= 4 * np.sqrt(p * (1 - p) / n)


def test_every_knob_is_tried_here() -> None:
    assert set(ON) == set(KNOBS)


@pytest.mark.parametrize("knob", KNOBS)
def test_a_knob_changes_only_the_observable_log(clean: sim.World, knob: str) -> None:
    messy = _world(**{knob: ON[knob]})
    pd.testing.assert_frame_equal(messy.truth, clean.truth, check_exact=True)
    pd.testing.assert_frame_equal(messy.accounts, clean.accounts, check_exact=True)
    n = len(clean.contacts)
    drawn = messy.contacts.iloc[:n]
    pd.testing.assert_frame_equal(drawn[COMMITTEE], clean.contacts[COMMITTEE], check_exact=True)
    assert (drawn["contact_id"].to_numpy() == clean.contacts["contact_id"].to_numpy()).all()
    changed = not messy.events.equals(clean.events) or not messy.contacts.equals(clean.contacts)
    assert changed, f"{knob} at {ON[knob]} changed nothing"
    # the tables still follow the contract: columns, dtypes, events sorted by (account, time)
    EVENTS.check(messy.events, knob)
    CONTACTS.check(messy.contacts, knob)
    ev = messy.events
    key = ev["account_id"].to_numpy(np.int64) * 1e4 + ev["time"].to_numpy()
    assert (np.diff(key) >= 0).all()
    assert list(EventLog.from_world(messy).contacts.columns) == CONTACTS.visible


def test_all_knobs_off_leave_the_world_as_drawn(clean: sim.World) -> None:
    assert DataQuality.clean().is_clean()
    again = _world()
    for name, table in clean.tables().items():
        pd.testing.assert_frame_equal(table, again.tables()[name], check_exact=True)


def test_blank_titles_blank_their_share_of_titles_and_what_the_crm_infers(clean) -> None:
    w = _world(count=300, blank_titles=0.3)
    blank = w.contacts["title"].isna().to_numpy()
    assert _within(blank.mean(), 0.3, blank.size)
    assert w.contacts.loc[blank, ["seniority", "department", "role"]].isna().all().all()
    assert clean.contacts["title"].notna().all()


def test_title_variants_retype_their_share_of_titles() -> None:
    base, w = _world(count=300), _world(count=300, title_variants=0.3)
    before = base.contacts["title"].astype(str).to_numpy()
    after = w.contacts["title"].astype(str).to_numpy()
    differ = before != after
    assert _within(differ.mean(), 0.3, differ.size)
    # a variant is the same title typed otherwise: same words, case and punctuation aside, or
    # abbreviated; never another person's title
    assert (w.contacts["seniority"].astype(str) == base.contacts["seniority"].astype(str)).all()


def test_a_duplicate_is_the_same_person_with_a_variant_title_and_part_of_their_touches(
    clean: sim.World,
) -> None:
    w = _world(duplicate_contacts=1.0, duplicate_touch_share=0.5)
    n = len(clean.contacts)
    orig, dup = w.contacts.iloc[:n], w.contacts.iloc[n:]
    assert len(dup) == n  # everyone duplicated, in order, numbered after the last contact
    assert (dup["contact_id"].to_numpy() == orig["contact_id"].to_numpy() + n).all()
    for col in [
        "account_id",
        "seniority",
        "department",
        "role",
        *(c for c in COMMITTEE if c != "duplicate_of"),
    ]:
        a, b = dup[col].astype(object).to_numpy(), orig[col].astype(object).to_numpy()
        assert pd.Series(a).equals(pd.Series(b)), col
    assert (dup["duplicate_of"].to_numpy() == orig["contact_id"].to_numpy()).all()
    assert (orig["duplicate_of"] == -1).all()
    assert (dup["title"].astype(str).to_numpy() != orig["title"].astype(str).to_numpy()).all()
    # touches: the same rows, half of each person's on the duplicate
    assert len(w.events) == len(clean.events)
    known = w.events["contact_id"].to_numpy() >= 0
    on_dup = (w.events["contact_id"].to_numpy() >= n)[known]
    assert _within(on_dup.mean(), 0.5, on_dup.size)
    person = np.where(
        w.events["contact_id"] >= n, w.events["contact_id"] - n, w.events["contact_id"]
    )
    assert sorted(person) == sorted(clean.events["contact_id"])


def test_wrong_account_moves_the_contact_and_its_touches(clean: sim.World) -> None:
    w = _world(wrong_account=1.0)
    moved = w.contacts["account_id"].to_numpy() != clean.contacts["account_id"].to_numpy()
    assert moved.all()
    ev = w.events[w.events["known"]]
    acc = w.contacts.set_index("contact_id")["account_id"]
    assert (ev["account_id"].to_numpy() == acc.reindex(ev["contact_id"]).to_numpy()).all()
    anon = lambda e: e[~e["known"]].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(anon(w.events), anon(clean.events))


def test_no_account_unlinks_its_share_of_contacts_and_keeps_the_touches(clean) -> None:
    w = _world(count=300, no_account=0.2)
    none = (w.contacts["account_id"].to_numpy() == -1).mean()
    assert _within(none, 0.2, len(w.contacts))
    pd.testing.assert_frame_equal(w.events, _world(count=300).events)


def test_a_scanner_delivers_opens_and_clicks_within_the_stated_seconds() -> None:
    w = _world(scanner_accounts=1.0, scanner_seconds=10.0, scanner_clicks=2)
    ev = w.events
    d = ev[ev["activity"] == "email_delivered"]
    assert len(d) > 100 and (d["contact_id"] >= 0).all()
    for _, row in d.head(200).iterrows():
        t0 = row["time"]
        near = ev[
            (ev["contact_id"] == row["contact_id"])
            & (ev["time"] >= t0)
            & (ev["time"] <= t0 + 10.0 / 86400)
        ]
        acts = list(near["activity"].astype(str))
        assert acts.count("email_open") >= 1 and acts.count("email_click") >= 2
        opened = near.loc[near["activity"] == "email_open", "time"].min()
        clicked = near.loc[near["activity"] == "email_click", "time"]
        assert t0 <= opened <= clicked.min()


def test_scanned_contacts_get_the_scenarios_emails_and_unknown_people_none() -> None:
    contacts = pd.DataFrame(
        {"contact_id": [0, 1, 2], "account_id": [0, 0, 1], "t_known": [0.0, 300.0, np.nan]}
    )
    dq = DataQuality(scanner_accounts=1.0, scanner_clicks=1)
    c = scanner_touches(dq, Streams(3), contacts, 600.0, 3.0, email_channel=0)
    delivered = c.contact[c.activity == sim.vocab.ACTIVITIES.index("email_delivered")]
    counts = np.bincount(delivered, minlength=3)
    # 3 a month over 600 and 300 days: Poisson means 59.1 and 29.6 (sd 7.7 and 5.4)
    assert abs(counts[0] - 600 * 3 / (365.25 / 12)) < 4 * 7.7
    assert abs(counts[1] - 300 * 3 / (365.25 / 12)) < 4 * 5.4
    assert counts[2] == 0
    assert (c.time[c.contact == 1] >= 300.0).all() and c.bot.all()


def test_crawler_bursts_are_anonymous_web_visits_within_a_minute(clean) -> None:
    w = _world(crawler_bursts_per_week=0.2, crawler_burst_visits=8)
    extra = len(w.events) - len(clean.events)
    n_acc, weeks = len(clean.accounts), clean.scenario.horizon_days / 7
    bursts = extra / 8
    mean = n_acc * weeks * 0.2  # Poisson: sd = sqrt(mean)
    assert extra % 8 == 0 and abs(bursts - mean) < 4 * np.sqrt(mean)
    added = w.events[~w.events["known"]]["activity"].value_counts()
    base = clean.events[~clean.events["known"]]["activity"].value_counts()
    assert (added - base).drop("web_visit").eq(0).all()


def test_clock_skew_shifts_a_person_by_whole_hours_and_drops_what_leaves_the_window() -> None:
    n = 4000
    person = np.repeat(np.arange(400), 10)
    time = np.tile(np.linspace(0.01, 99.0, 10), 400)
    z = np.zeros(n, dtype=np.int64)
    cols = Cols(time, z, person, z, z, z - 1, np.zeros(n, dtype=bool))
    dq = DataQuality(clock_skew=0.5, clock_skew_hours=3)
    out = skew_clocks(dq, Streams(1), cols, 100.0, person)
    # events near the ends may leave [0, 100): 0.01 days is 0.24 h, 99 + 3 h stays inside
    assert ((out.time >= 0) & (out.time < 100)).all()
    shift = pd.Series(out.time - np.tile(np.linspace(0.01, 99.0, 10), 400)[_kept(out, cols)])
    hours = (shift * 24).round(9)
    assert ((hours == hours.round()) & (hours.abs() <= 3)).all()
    per_person = pd.Series(hours.to_numpy()).groupby(out.contact).nunique()
    assert (per_person == 1).all()  # one offset per person
    skewed = pd.Series(hours.to_numpy() != 0).groupby(out.contact).first()
    assert _within(skewed.mean(), 0.5, skewed.size)


def _kept(out: Cols, cols: Cols) -> np.ndarray:
    """The rows of ``cols`` that ``out`` kept (both in the same order; the times are distinct
    per person, so the position of each kept row within its person identifies it)."""
    idx = np.arange(cols.time.size)
    keep = []
    for p in np.unique(out.contact):
        theirs = idx[cols.contact == p]
        k = int((out.contact == p).sum())
        if k == theirs.size:
            keep.append(theirs)
        else:  # an early one shifted below 0 was dropped
            keep.append(theirs[theirs.size - k :])
    return np.concatenate(keep)


def test_a_person_split_over_two_records_is_seen_once_by_the_truth_metrics(clean) -> None:
    w = _world(duplicate_contacts=1.0)
    by_acc, size = committee_first_seen(w)
    want_acc, want_size = committee_first_seen(clean)
    assert size.equals(want_size) and by_acc.keys() == want_acc.keys()
    for a, times in want_acc.items():
        np.testing.assert_array_equal(by_acc[a], times)


def test_bad_knobs_are_errors_naming_the_field() -> None:
    with pytest.raises(sim.errors.ConfigError, match=r"data_quality\.blank_titles"):
        sim.load_scenario("smb", overrides={"data_quality": {"blank_titles": 1.5}})
    with pytest.raises(sim.errors.ConfigError, match="wrong_account \\+ no_account"):
        sim.load_scenario("smb", overrides={"data_quality": {"wrong_account": 0.6,
                                                             "no_account": 0.6}})  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    drawn=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 6)), max_size=30),
    added=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 6)), max_size=12),
    shuffle=st.booleans(),
)
def test_merging_the_added_rows_sorts_as_lexsort_does(drawn, added, shuffle) -> None:
    """The fast sort (merge the automated rows into the sorted drawn ones) against the plain
    reference, np.lexsort (stable: ties in row order), on small integer times (many ties)."""
    head = sorted(drawn) if not shuffle else drawn  # shuffled: drawn rows moved (the slow path)
    rows = [*head, *added]
    n = len(rows)
    acc = np.array([a for a, _ in rows], dtype=np.int64)
    time = np.array([t for _, t in rows], dtype=np.float64) / 4
    z = np.arange(n, dtype=np.int64)  # row ids, to see the order
    bot = np.r_[np.zeros(len(head), dtype=bool), np.ones(len(added), dtype=bool)]
    cols = Cols(time, acc, z, z, z, z, bot)
    want = np.lexsort((time, acc))
    np.testing.assert_array_equal(_sorted(cols).contact, z[want])
