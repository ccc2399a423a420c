"""Rolling a rule out (sim/sales/rollout.py, the scenario's rollout: section).

First a hand-made log whose go-live backlog is worked out on paper (the arithmetic is in the
comments), then the vectorised go-live against its plain reference loop and against
``evaluate`` (go-live before every event), the cadence properties, no look-ahead, the
scenario's validation, the recovery metric on a hand-made series and the command line.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import policies as pol
import sim
from sim.cli import app
from sim.errors import ConfigError, QualsimError
from sim.experiment.calibration.bands import PRACTICE_MQL
from sim.experiment.replicate import Replica
from sim.experiment.sweep.design import unit_seeds
from sim.experiment.sweep.run import run_unit
from sim.experiment.sweep.spec import SweepSpec
from sim.report import build_report
from sim.report.rollout import weekly_joined
from sim.sales.measure import backlog_recovery_weeks
from sim.sales.rollout import (
    Fired,
    apply_rollout,
    backlog_times,
    go_live_fired,
    reference_fired,
    snap,
)
from sim.sales.weekly import weekly_series
from sim.tables import QUALIFICATIONS
from sim.world.rollout import Rollout, parse_cadence

HYP = settings(max_examples=150, deadline=None)

# "Two people in 30 days": holds at t when two distinct contacts visited in [t - 30, t].
TWO = {
    "name": "two",
    "kind": "mqa_count",
    "window_days": 30,
    "activities": ["web_visit"],
    "any": [{"unique_contacts": 2}],
}

# (time, account, contact). Worked out for go-live on day 50:
# acc 0 (tier 2): 10 c1, 12 c2 -> holds at 12; 45 c1 -> [15, 45] has c1 only: no; 46 c2 -> yes.
#    Its last event by day 50 (46) holds: backlog, over the bar since 46.
# acc 1 (tier 1): 5 c3, 6 c4 -> holds at 6 and nothing else happens by day 50: backlog, since 6.
#    60 c3 -> [30, 60] c3 only: no; 75 c4 -> [45, 75] c3, c4: holds again.
# acc 2 (tier 2): 20 c5, 21 c6 -> holds at 21: backlog, since 21. 55 c5 -> c5 only: no.
# acc 3 (tier 2): 4 c7, 5 c8 -> holds at 5 (real-time handoff); 40 c7 -> c7 only: no, so not in
#    the backlog; 69 c7 -> [39, 69] c7 only: no; 70 c8 -> yes: a handoff at 70 after go-live,
#    which the always-live rule never makes (it hands an account off once).
# acc 4 (tier 3): 79 c9, 80 c10 -> first holds at 80.
# acc 5 (tier 1): 48 c11 alone: never.
ROWS = [
    (10, 0, 1), (12, 0, 2), (45, 0, 1), (46, 0, 2),
    (5, 1, 3), (6, 1, 4), (60, 1, 3), (75, 1, 4),
    (20, 2, 5), (21, 2, 6), (55, 2, 5),
    (4, 3, 7), (5, 3, 8), (40, 3, 7), (69, 3, 7), (70, 3, 8),
    (79, 4, 9), (80, 4, 10),
    (48, 5, 11),
]  # fmt: skip
TIERS = [2, 1, 2, 2, 3, 1]


def hand_log() -> sim.EventLog:
    ev = pd.DataFrame(ROWS, columns=["time", "account_id", "contact_id"]).astype({"time": float})
    ev = ev.assign(activity="web_visit").sort_values(["account_id", "time"], kind="stable")
    con = ev.groupby("contact_id", as_index=False)["account_id"].first().assign(title="")
    acc = pd.DataFrame({"account_id": range(len(TIERS)), "tier": TIERS})
    return sim.EventLog(ev.reset_index(drop=True), con, acc)


def rolled(rollout: dict, policy: dict = TWO) -> list[tuple[int, float]]:
    log, p = hand_log(), pol.load_policy(policy)
    q = apply_rollout(pol.evaluate(p, log), log, None, p, Rollout(**rollout))
    QUALIFICATIONS.check(q, "rolled out")
    return [(int(a), round(float(t), 6)) for a, t in zip(q["account_id"], q["time"], strict=True)]


def test_hand_log_real_time_handoffs():
    # the rule always live: each account at its first crossing
    assert rolled({}) == [(0, 12.0), (1, 6.0), (2, 21.0), (3, 5.0), (4, 80.0)]


def test_go_live_spike_hands_the_whole_backlog_at_once():
    # accounts 0, 1, 2 are over the bar on day 50: the spike; then 3 re-crosses at 70, 4 at 80
    assert rolled({"go_live_day": 50.0}) == [(0, 50.0), (1, 50.0), (2, 50.0), (3, 70.0), (4, 80.0)]


@pytest.mark.parametrize(
    ("per_week", "expected"),
    [
        # order: tier 1 first (acc 1), then tier 2 longest over the bar: acc 2 (since 21), acc 0
        (1, [(0, 64.0), (1, 50.0), (2, 57.0), (3, 70.0), (4, 80.0)]),
        (2, [(0, 57.0), (1, 50.0), (2, 50.0), (3, 70.0), (4, 80.0)]),
        (3, [(0, 50.0), (1, 50.0), (2, 50.0), (3, 70.0), (4, 80.0)]),
    ],
)
def test_drain_hands_the_backlog_over_by_tier_then_longest_waiting(per_week, expected):
    r = {"go_live_day": 50.0, "backlog": "drain", "drain_per_week": per_week}
    assert rolled(r) == expected


def test_new_only_never_hands_the_backlog_over():
    assert rolled({"go_live_day": 50.0, "backlog": "new_only"}) == [(3, 70.0), (4, 80.0)]


def test_recycling_chain_of_a_backlog_account_starts_at_go_live():
    # recycle 20 days: acc 1 fired at 50 (backlog) may come back from 70: it holds at 75.
    # acc 0 fired at 50 has no event after it where the rule holds.
    p = {**TWO, "recycle_days": 20.0}
    expected = [(0, 50.0), (1, 50.0), (1, 75.0), (2, 50.0), (3, 70.0), (4, 80.0)]
    assert rolled({"go_live_day": 50.0}, p) == expected
    # new_only: the backlog fired unseen at 50, so acc 1's chain still brings it back at 75
    assert rolled({"go_live_day": 50.0, "backlog": "new_only"}, p) == [
        (1, 75.0),
        (3, 70.0),
        (4, 80.0),
    ]
    # the always-live rule with recycling: acc 0 at 12 then 46 (>= 32); acc 1 at 6 then 75;
    # acc 3 at 5 then 70 (>= 25)
    assert rolled({}, p) == [
        (0, 12.0),
        (0, 46.0),
        (1, 6.0),
        (1, 75.0),
        (2, 21.0),
        (3, 5.0),
        (3, 70.0),
        (4, 80.0),
    ]


@pytest.mark.parametrize(
    ("cadence", "delay", "times"),
    [
        ("nightly:2", 0.0, [50 + 2 / 24, 70 + 2 / 24, 80 + 2 / 24]),
        # Mondays 06:00 (day 0 is a Monday): day 50 is a Thursday -> day 56; 70 is a Monday 00:00
        ("weekly:0:6", 0.0, [56.25, 70.25, 84.25]),
        ("weekly:0:6", 3.0, [56.375, 70.375, 84.375]),
        # every 7 hours: 1200 h -> 1204 h; 1680 h = 240 x 7 is a run; 1920 h -> 1925 h
        ("hourly:7", 0.0, [50 + 4 / 24, 70.0, 80 + 5 / 24]),
    ],
)
def test_cadence_snaps_to_the_next_run_plus_the_sync(cadence, delay, times):
    r = {"go_live_day": 50.0, "cadence": cadence, "sync_delay_hours": delay}
    got = rolled(r)
    assert [a for a, _ in got] == [0, 1, 2, 3, 4]
    assert [t for _, t in got] == pytest.approx([times[0]] * 3 + times[1:])


def test_rows_keep_the_output_contract_and_name_the_last_handoff():
    log, p = hand_log(), pol.load_policy(TWO)
    q = pol.evaluate(p, log)
    out = apply_rollout(q, log, None, p, Rollout(go_live_day=50.0))
    assert list(out.columns) == list(q.columns)
    assert out.dtypes.to_dict() == q.dtypes.to_dict()
    # acc 3's re-crossing at 70 carries the rule and score of its real-time handoff at 5
    row = out[out["account_id"] == 3].iloc[0]
    assert (row["rule"], row["score"], row["contact_id"]) == ("any.0", 2.0, -1)
    assert set(out["policy"]) == {"two"}


def test_default_rollout_returns_the_qualifications_unchanged():
    log, p = hand_log(), pol.load_policy(TWO)
    q = pol.evaluate(p, log)
    assert apply_rollout(q, log, None, p, Rollout()) is q


def test_a_kind_without_holds_cannot_go_live(monkeypatch):
    log, p = hand_log(), pol.load_policy(TWO)
    q = pol.evaluate(p, log)

    def no_holds(*_):
        raise QualsimError("policy 'two' of kind 'x' cannot be combined: it defines no holds")

    monkeypatch.setattr(pol, "holds", no_holds)
    with pytest.raises(QualsimError, match=r"rollout.go_live_day: .*defines no holds"):
        apply_rollout(q, log, None, p, Rollout(go_live_day=50.0))
    # a cadence alone does not need it
    assert len(apply_rollout(q, log, None, p, Rollout(cadence="nightly:0"))) == len(q)


# --- the vectorised go-live against its reference and against evaluate -----------------------


@st.composite
def event_arrays(draw):
    n = draw(st.integers(0, 40))
    acc = np.sort(np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), np.int64))
    t = np.array(draw(st.lists(st.integers(0, 30), min_size=n, max_size=n)), np.float64) / 2
    order = np.lexsort((t, acc))
    holds = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool)
    eligible = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool)
    go_live = draw(st.integers(-1, 32)) / 2
    recycle = draw(st.one_of(st.none(), st.integers(1, 12).map(lambda x: x / 2)))
    return acc[order], t[order], holds, eligible, go_live, recycle


def _same(a: Fired, b: Fired) -> None:
    for name in ("account", "time", "event", "backlog", "crossed"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@HYP
@given(event_arrays())
def test_go_live_matches_the_reference_loop(arrays):
    _same(go_live_fired(*arrays), reference_fired(*arrays))


SHIPPED = sorted(p.stem for p in Path(pol.__file__).parent.joinpath("shipped").glob("*.yaml"))


@pytest.mark.parametrize("name", [*SHIPPED, "recycled"])
def test_go_live_before_every_event_is_evaluate(small_world, name):
    p = (
        pol.with_value(pol.load_policy("mqa_count"), "recycle_days", 20.0)
        if name == "recycled"
        else pol.load_policy(name)
    )
    log = sim.EventLog.from_world(small_world)
    q = pol.evaluate(p, log)
    out = apply_rollout(q, log, None, p, Rollout(go_live_day=0.0))
    first = float(log.events["time"].min())
    assert first > 0.0, "the comparison needs every event after go-live"
    pd.testing.assert_frame_equal(out, q)


@pytest.mark.parametrize("backlog", ["all", "drain", "new_only"])
def test_no_look_ahead(small_world, backlog):
    # the handoffs up to day T are the same whether the log stops at T or goes on
    log = sim.EventLog.from_world(small_world)
    p = pol.load_policy("mql_scored")
    r = Rollout(
        go_live_day=120.0,
        backlog=backlog,
        drain_per_week=2 if backlog == "drain" else None,
        cadence="nightly:3",
    )
    full = apply_rollout(pol.evaluate(p, log), log, None, p, r)
    for cut in (150.0, 300.0, 500.0):
        ev = log.events[(log.events["time"] <= cut).to_numpy()].reset_index(drop=True)
        short = sim.EventLog(ev, log.contacts, log.accounts)
        part = apply_rollout(pol.evaluate(p, short), short, None, p, r)
        a = full[full["time"] <= cut].reset_index(drop=True)
        b = part[part["time"] <= cut].reset_index(drop=True)
        assert len(a) > 0
        pd.testing.assert_frame_equal(a, b)


# --- backlog drain and cadence properties ---------------------------------------------------


@HYP
@given(
    st.lists(
        st.tuples(st.sampled_from([1.0, 2.0, 3.0, math.nan]), st.integers(0, 20)),
        min_size=0,
        max_size=30,
    ),
    st.integers(1, 5),
)
def test_drain_rate_and_order(backlog, per_week):
    n = len(backlog)
    tier = np.array([b[0] for b in backlog], np.float64)
    fired = Fired(
        np.arange(n, dtype=np.int64),
        np.full(n, 10.0),
        np.arange(n, dtype=np.int64),
        np.ones(n, bool),
        np.array([b[1] for b in backlog], np.float64),
    )
    t = backlog_times(
        fired, tier, Rollout(go_live_day=10.0, backlog="drain", drain_per_week=per_week)
    )
    week = (t - 10.0) / 7.0
    assert np.all(week == np.floor(week))
    assert np.all(np.bincount(week.astype(int)) <= per_week) if n else True
    # a plain sort by (tier, unknown last; crossed; account) gives the release order
    key = sorted(
        range(n), key=lambda i: (math.inf if math.isnan(tier[i]) else tier[i], fired.crossed[i], i)
    )
    assert list(t[key]) == sorted(t)
    assert sum(t == 10.0) == min(n, per_week)


cadences = st.one_of(
    st.just("realtime"),
    st.integers(1, 48).map(lambda h: f"hourly:{h / 2:g}"),
    st.integers(0, 23).map(lambda h: f"nightly:{h}"),
    st.tuples(st.integers(0, 6), st.integers(0, 23)).map(lambda x: f"weekly:{x[0]}:{x[1]}"),
)


@HYP
@given(
    cadences,
    st.lists(st.floats(0.0, 3650.0, allow_nan=False), min_size=1, max_size=30),
    st.sampled_from([0.0, 1.0, 6.5]),
)
def test_cadence_never_earlier_and_at_most_one_period_later(cadence, times, delay_hours):
    t = np.array(times)
    runs = parse_cadence(cadence)
    if runs is None:
        return
    period, offset = runs
    s = snap(t, period, offset)  # the scoring run that picks each handoff up
    assert np.all(s >= t)  # exactly: never earlier than real time
    assert np.all(s - t <= period + 1e-9)
    k = (s - offset) / period
    np.testing.assert_allclose(k, np.round(k), atol=1e-6)
    # the CRM sync delay comes on top (compared as added, not subtracted back: a float
    # subtraction could put a handoff a rounding error before its run)
    np.testing.assert_array_equal(
        snap(t, period, offset, delay_hours / 24.0), s + delay_hours / 24.0
    )


@pytest.mark.parametrize("cadence", ["nightly:2", "weekly:4:18", "hourly:4"])
def test_cadence_against_real_time_on_a_world(small_world, cadence):
    log = sim.EventLog.from_world(small_world)
    p = pol.load_policy("mqa_count")
    q = pol.evaluate(p, log)
    out = apply_rollout(q, log, None, p, Rollout(cadence=cadence, sync_delay_hours=1.0))
    period = parse_cadence(cadence)[0]
    assert len(out) == len(q) > 0
    np.testing.assert_array_equal(out["account_id"], q["account_id"])
    late = out["time"].to_numpy() - q["time"].to_numpy()
    assert late.min() >= 1 / 24 and late.max() <= period + 1 / 24 + 1e-9


# --- the scenario section -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rollout", "message"),
    [
        ({"cadence": "nightly:25"}, "rollout.cadence: cadence 'nightly:25': the hour must be"),
        ({"cadence": "weekly:7:1"}, "the weekday must be 0 (Monday) .. 6"),
        ({"cadence": "hourly:0"}, "every N hours needs 0 < N <= 168"),
        ({"cadence": "often"}, "expected realtime, hourly:N"),
        ({"cadence": "nightly"}, "expected realtime, hourly:N"),
        ({"backlog": "drain", "go_live_day": 3.0}, "backlog: drain needs drain_per_week"),
        ({"backlog": "sometimes"}, "rollout.backlog: expected one of"),
        ({"backlog": "new_only"}, "new_only needs a go_live_day"),
        ({"go_live_day": 3.0, "drain_per_week": 2}, "drain_per_week applies only to backlog"),
        ({"go_live_day": -1.0}, "rollout.go_live_day: must be >= 0"),
        ({"go_live": 3.0}, "rollout.go_live"),
    ],
)
def test_bad_rollout_sections(rollout, message):
    with pytest.raises(ConfigError) as exc:
        sim.load_scenario("smb", overrides={"rollout": rollout})
    assert message in str(exc.value)


def test_presets_default_to_always_live():
    for preset in ("enterprise", "smb"):
        assert sim.load_scenario(preset).rollout.is_identity


# --- the recovery metric on a hand-made handoff series --------------------------------------


def _world(go_live: float | None):
    # 1 SDR, 5 days x 8 h x 0.3 = 12 handoff hours a week, 6 h a handoff: capacity 2 a week
    sales = {"sdrs": 1, "hours_per_handoff": 6.0, "handoff_share": 0.3}
    over = {"sales": sales, "rollout": {"go_live_day": go_live}}
    sc = sim.load_scenario("smb", overrides=over)  # horizon 365 days
    assert sc.sales.capacity_per_week == pytest.approx(2.0)
    return SimpleNamespace(scenario=sc)


def _outcomes(rows):
    return pd.DataFrame(rows, columns=["t_handoff", "status"])


def test_backlog_recovery_weeks():
    # go-live on day 7. Week 0 [7, 14): 5 joined. Week 1 [14, 21): 3 joined + 2 duplicates.
    # Week 2 [21, 28): 2 joined (= capacity): recovered after 2 weeks. Before go-live: ignored.
    rows = [(1.0, "accepted")] * 9
    rows += [(7.0, "accepted")] * 3 + [(13.9, "expired")] * 2
    rows += [(14.0, "rejected")] * 3 + [(15.0, "duplicate"), (16.0, "recycling")]
    rows += [(22.0, "accepted")] * 2 + [(30.0, "accepted")] * 9
    assert backlog_recovery_weeks(_world(7.0), _outcomes(rows)) == 2.0
    # within capacity from the go-live week: 0
    assert backlog_recovery_weeks(_world(7.0), _outcomes([(8.0, "accepted")] * 2)) == 0.0
    assert math.isnan(backlog_recovery_weeks(_world(None), _outcomes(rows)))
    # never within capacity: the whole weeks left after go-live on day 344: 21 days, 3 weeks
    flood = [(344.0 + d, "accepted") for d in range(21) for _ in range(3)]
    assert backlog_recovery_weeks(_world(344.0), _outcomes(flood)) == 3.0


# --- the command line ---------------------------------------------------------------------


def _small_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text("extends: smb\naccounts: {count: 80}\n", encoding="utf-8")
    return path


def _metrics(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "tidy.csv")


def test_cli_run_with_a_go_live(tmp_path):
    scen = _small_file(tmp_path)
    common = ["run", str(scen), "-p", "mqa_count", "-r", "1", "--workers", "1"]
    live = CliRunner().invoke(
        app,
        [*common, "--go-live", "90", "--drain-per-week", "2", "--cadence", "nightly:2",
         "--out", str(tmp_path / "live")],
    )  # fmt: skip
    assert live.exit_code == 0, live.output
    assert "live from day 90 (backlog: drain), scoring nightly:2" in " ".join(live.output.split())
    plain = CliRunner().invoke(app, [*common, "--out", str(tmp_path / "plain")])
    assert plain.exit_code == 0, plain.output
    m_live, m_plain = _metrics(tmp_path / "live"), _metrics(tmp_path / "plain")
    rec = m_live[m_live["metric"] == "backlog_recovery_weeks"]["value"]
    assert len(rec) and rec.notna().all()
    assert m_plain[m_plain["metric"] == "backlog_recovery_weeks"]["value"].isna().all()
    t_live = pd.read_csv(tmp_path / "live" / "handoffs.csv")["t_handoff"]
    t_plain = pd.read_csv(tmp_path / "plain" / "handoffs.csv")["t_handoff"]
    assert (t_plain < 90).any()
    assert t_live.min() >= 90 + 2 / 24  # nothing before go-live, then at a nightly run


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--cadence", "nightly:25"], "rollout.cadence"),
        (["--backlog", "new_only"], "new_only needs a go_live_day"),
        (["--backlog", "later", "--go-live", "3"], "rollout.backlog"),
    ],
)
def test_cli_bad_rollout_options_exit_2(tmp_path, args, fragment):
    res = CliRunner().invoke(app, ["run", str(_small_file(tmp_path)), "-r", "1", *args])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert fragment in " ".join(res.stderr.split())


# --- the report's go-live section ---------------------------------------------------------


def test_weekly_joined_counts_queue_joining_handoffs_by_week_after_go_live():
    o = pd.DataFrame(
        [
            (9.0, "accepted"),  # before go-live: not shown
            (10.0, "accepted"),  # week 0 [10, 17)
            (16.9, "expired"),  # week 0
            (12.0, "duplicate"),  # does not join the queue
            (17.0, "rejected"),  # week 1
            (40.0, "accepted"),  # week 4: beyond the 3 weeks asked for
        ],
        columns=["t_handoff", "status"],
    )
    quiet = pd.DataFrame([(24.5, "recycling")], columns=["t_handoff", "status"])
    weekly = pd.concat(
        [
            weekly_series(o, 100.0, 5.0, 10.0).assign(policy="a", replication=0),
            weekly_series(quiet, 100.0, 5.0, 10.0).assign(policy="a", replication=1),
        ]
    )
    got = weekly_joined(weekly, 3)
    assert got.loc[("a", 0)].tolist() == [2, 1, 0]
    assert got.loc[("a", 1)].tolist() == [0, 0, 0]  # no queue-joining handoff at all


def test_report_shows_going_live_only_with_a_go_live():
    over = {"accounts": {"count": 80}}
    plain = sim.compare("smb", ["mqa_count"], replications=1, overrides=over)
    assert "Going live" not in build_report(plain)
    over["rollout"] = {"go_live_day": 60.0, "backlog": "drain", "drain_per_week": 2}
    page = build_report(sim.compare("smb", ["mqa_count"], replications=1, overrides=over))
    assert "<h2>Going live</h2>" in page
    assert "The rules go live on day 60" in page and "drain, 2 a week" in page


def test_a_go_live_after_the_horizon_is_an_error(tmp_path):
    log, p = hand_log(), pol.load_policy(TWO)
    with pytest.raises(ConfigError, match="day 90 is not before the end of the horizon"):
        apply_rollout(pol.evaluate(p, log), log, None, p, Rollout(go_live_day=90.0), until=80.0)
    res = CliRunner().invoke(
        app, ["run", str(_small_file(tmp_path)), "-r", "1", "--go-live", "400"]
    )
    assert res.exit_code == 2, res.output
    assert "rollout.go_live_day: day 400 is not before the end of the horizon (365" in " ".join(
        res.stderr.split()
    )


def test_sweep_units_roll_their_variants_out():
    # a one-path grid goes through policies.sweep: its variants must get the go-live too
    over = {"accounts": {"count": 120}, "rollout": {"go_live_day": 100.0, "backlog": "new_only"}}
    spec = SweepSpec.model_validate(
        {
            "name": "rollout",
            "scenario": "smb",
            "overrides": over,
            "seed": 7,
            "replications": 1,
            "policies": [{"policy": "mqa_count", "grid": {"any.0.unique_contacts": [2, 3]}}],
        }
    )
    seed = int(unit_seeds(spec, 1)[0, 0])
    rows = run_unit(spec, None, 0, {}, 0, seed)
    rep = Replica.simulate(sim.load_scenario("smb", overrides=over), seed)
    for uc in (2, 3):
        p = pol.with_value(pol.load_policy("mqa_count"), "any.0.unique_contacts", uc)
        q = rep.handoffs(p)
        assert (q["time"] > 100.0).all() and len(q) < len(pol.evaluate(p, rep.log))
        got = rows[(rows["params"] == f'{{"any.0.unique_contacts": {uc}}}') & (rows["tier"] == -1)]
        got = got.set_index("metric")["value"]
        assert got["handoffs_per_week"] == pytest.approx(len(q) / (365 / 7))


def test_calibration_figures_judge_the_world_with_the_rule_always_live():
    # a go-live changes the handoffs, not how believable the world is
    over = {"accounts": {"count": 100}}
    live = sim.compare("smb", [PRACTICE_MQL], replications=1, overrides=over)
    over["rollout"] = {"go_live_day": 200.0, "backlog": "new_only"}
    late = sim.compare("smb", [PRACTICE_MQL], replications=1, overrides=over)
    pd.testing.assert_frame_equal(live.calibration, late.calibration)
    h_live = live.summary(["handoffs"])["mean"].iloc[0]
    assert late.summary(["handoffs"])["mean"].iloc[0] < h_live
