"""``sim.datasets.olist``: the real Olist marketing funnel as a qualsim log.

With the data (``OLIST`` below: the shared data folder beside the repository) the figures its
SOURCE.md prints are reproduced to the precision SOURCE.md prints them (one decimal: a printed x.y
means a value within ±0.05 of it). Without it those tests skip; a hand-made Olist folder checks the
loader, the figures, the per-channel replay and the error messages against values computed by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim.cli import app
from sim.datasets.olist import (
    DEALS_FILE,
    EVERY_MQL,
    MQL_FILE,
    default_folder,
    funnel_figures,
    load_olist,
    read_mqls,
    replay_by_origin,
    smb_timing_check,
    write_olist,
)
from sim.errors import DataError
from sim.real import read_log

# The data is not in the repository (non-commercial licence): it is looked for in the shared
# data folder beside the repository root.
OLIST = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "olist"
ROUNDING = 0.05 + 1e-9  # half a unit of the last printed digit (one decimal)


def _need_data() -> Path:
    if not (OLIST / MQL_FILE).is_file() or not (OLIST / DEALS_FILE).is_file():
        pytest.skip(
            f"the Olist data is not in {OLIST} (download 'Marketing Funnel by Olist' from "
            "Kaggle, olistbr/marketing-funnel-olist, into that folder)"
        )
    return OLIST


# --------------------------------------------------------------------------------------------
# A hand-made Olist folder

# days MQL -> won (from midnight of first_contact_date): m1 2.5, m3 60, m4 0.25, m5 12 (2017),
# m7 -0.5 (won the day before its MQL date, like one real deal), m8 200.
MQLS = """\
mql_id,first_contact_date,landing_page_id,origin
m1,2018-01-01,lp1,paid_search
m2,2018-01-02,lp2,paid_search
m3,2018-01-05,lp1,email
m4,2018-01-10,lp3,
m5,2017-12-20,lp1,social
m6,2018-02-01,lp2,email
m7,2018-02-03,lp1,organic_search
m8,2018-02-10,lp1,organic_search
m9,2018-03-01,lp2,email
"""
DEALS = """\
mql_id,seller_id,won_date,business_segment
m1,s1,2018-01-03 12:00:00,pet
m3,s3,2018-03-06 00:00:00,car_accessories
m4,s4,2018-01-10 06:00:00,pet
m5,s5,2018-01-01 00:00:00,pet
m7,s7,2018-02-02 12:00:00,pet
m8,s8,2018-08-29 00:00:00,pet
"""


def fake_folder(tmp_path: Path, mqls: str = MQLS, deals: str = DEALS) -> Path:
    folder = tmp_path / "olist"
    folder.mkdir(parents=True)
    (folder / MQL_FILE).write_text(mqls, encoding="utf-8")
    (folder / DEALS_FILE).write_text(deals, encoding="utf-8")
    return folder


def test_tables_have_one_account_contact_and_form_fill_per_mql(tmp_path):
    t = load_olist(fake_folder(tmp_path))
    ids = [f"m{i}" for i in range(1, 10)]
    ev, co, ac = t["events"], t["contacts"], t["accounts"]
    assert list(ev.columns) == [
        "timestamp",
        "account_id",
        "contact_id",
        "activity",
        "channel",
        "campaign",
    ]
    assert list(ev["account_id"]) == ids and list(ev["contact_id"]) == ids
    assert list(ev["timestamp"]) == [
        "2018-01-01",
        "2018-01-02",
        "2018-01-05",
        "2018-01-10",
        "2017-12-20",
        "2018-02-01",
        "2018-02-03",
        "2018-02-10",
        "2018-03-01",
    ]
    assert set(ev["activity"]) == {"content_download"}
    assert list(ev["channel"]) == [
        "paid_search",
        "paid_search",
        "email",
        "unknown",  # empty origin
        "social",
        "email",
        "organic_search",
        "organic_search",
        "email",
    ]
    assert list(ev["campaign"]) == ["lp1", "lp2", "lp1", "lp3", "lp1", "lp2", "lp1", "lp1", "lp2"]
    assert list(co.columns) == ["contact_id", "account_id", "title"]
    assert list(co["contact_id"]) == ids and list(co["account_id"]) == ids
    assert set(co["title"]) == {""}
    assert list(ac.columns) == ["account_id", "opportunity_date", "close_date", "won"]
    assert list(ac["account_id"]) == ids
    won = {
        "m1": "2018-01-03 12:00:00",
        "m3": "2018-03-06 00:00:00",
        "m4": "2018-01-10 06:00:00",
        "m5": "2018-01-01 00:00:00",
        "m7": "2018-02-02 12:00:00",
        "m8": "2018-08-29 00:00:00",
    }
    assert list(ac["opportunity_date"]) == [won.get(i, "") for i in ids]
    assert list(ac["close_date"]) == [won.get(i, "") for i in ids]
    assert list(ac["won"]) == ["true" if i in won else "" for i in ids]


def test_since_and_until_select_mqls_by_first_contact_date(tmp_path):
    t = load_olist(fake_folder(tmp_path), since="2018-01-05", until="2018-02-03")
    assert list(t["events"]["account_id"]) == ["m3", "m4", "m6"]
    assert list(t["accounts"]["account_id"]) == ["m3", "m4", "m6"]
    with pytest.raises(DataError, match="no Olist MQL"):
        load_olist(fake_folder(tmp_path / "x"), since="2019-01-01")


def test_written_tables_are_read_by_read_log(tmp_path):
    paths = write_olist(tmp_path / "log", fake_folder(tmp_path))
    assert [p.name for p in paths] == ["events.csv", "contacts.csv", "accounts.csv"]
    real = read_log(*paths)
    assert real.origin == pd.Timestamp("2017-12-20")  # m5's MQL date
    assert real.time_format == "date"
    assert real.outcome_time_format == "datetime"
    ev = real.log.events
    assert len(ev) == 9 and (ev["contact_id"] >= 0).all()
    labels = list(real.label_accounts(ev["account_id"]))
    times = dict(zip(labels, ev["time"], strict=True))
    assert times["m1"] == 12.0 and times["m5"] == 0.0 and times["m9"] == 71.0
    out = real.outcomes.set_index(pd.Index(real.account_labels))
    assert out.loc["m1", "opportunity_date"] == 14.5 == out.loc["m1", "close_date"]
    assert out.loc["m7", "opportunity_date"] == 44.5  # 2018-02-02 12:00
    assert bool(out.loc["m8", "won"]) and pd.isna(out.loc["m2", "won"])
    assert np.isnan(out.loc["m2", "opportunity_date"])
    assert real.report.accounts_without_outcomes == 3  # m2, m6, m9
    assert real.report.anonymous_events == 0 and real.report.duplicate_events == 0


def test_qualsim_evaluate_replays_the_written_log(tmp_path):
    paths = write_olist(tmp_path / "log", fake_folder(tmp_path), since="2018-01-01")
    pol = tmp_path / "every_mql.yaml"
    pol.write_text(yaml.safe_dump(EVERY_MQL), encoding="utf-8")
    res = CliRunner().invoke(
        app,
        [
            "evaluate",
            "--events",
            str(paths[0]),
            "--contacts",
            str(paths[1]),
            "--accounts",
            str(paths[2]),
            "--policy",
            str(pol),
            "--out",
            str(tmp_path / "results"),
        ],
    )
    assert res.exit_code == 0, res.output
    q = pd.read_csv(tmp_path / "results" / "qualifications.csv", dtype=str)
    # every 2018 MQL is handed off at its MQL date, by its only contact
    assert sorted(q["account_id"]) == ["m1", "m2", "m3", "m4", "m6", "m7", "m8", "m9"]
    assert (q["account_id"] == q["contact_id"]).all()
    mqls = pd.read_csv(fake_folder(tmp_path / "x") / MQL_FILE, dtype=str).set_index("mql_id")
    assert list(q["time"]) == list(mqls.loc[q["account_id"], "first_contact_date"])
    m = pd.read_csv(tmp_path / "results" / "metrics.csv").iloc[0]
    # true within 90 days: m1 (2.5 days), m3 (60), m4 (0.25); not m7 (won before) nor m8 (200)
    assert (m["handoffs"], m["true_handoffs"]) == (8, 3)
    assert (m["accounts_with_opportunity"], m["recalled"]) == (5, 3)


def test_funnel_figures_by_hand(tmp_path):
    f = funnel_figures(fake_folder(tmp_path))  # 2018 cohort: m5 (2017-12-20) is out
    assert (f.mqls, f.won) == (8, 5)
    assert f.rate == pytest.approx(5 / 8)
    # won days sorted: -0.5, 0.25, 2.5, 60, 200; linear quantile at position q * 4
    assert f.days_quantiles == pytest.approx(
        {0.1: -0.5 + 0.4 * 0.75, 0.25: 0.25, 0.5: 2.5, 0.75: 60.0, 0.9: 60 + 0.6 * 140}
    )
    assert f.won_by == pytest.approx({7: 3 / 8, 30: 3 / 8, 90: 4 / 8, 180: 4 / 8})
    bo = f.by_origin
    assert list(bo.index) == ["email", "organic_search", "paid_search", "unknown"]
    assert list(bo["mqls"]) == [3, 2, 2, 1] and list(bo["won"]) == [1, 2, 1, 1]
    assert list(bo["rate"]) == pytest.approx([1 / 3, 1.0, 0.5, 1.0])
    everything = funnel_figures(fake_folder(tmp_path / "x"), start=None)
    assert (everything.mqls, everything.won) == (9, 6)
    assert everything.won_by[7] == pytest.approx(3 / 9)  # m5 took 12 days
    q1 = funnel_figures(read_mqls(fake_folder(tmp_path / "y")), end="2018-02-01")
    assert (q1.mqls, q1.won) == (4, 3)  # m1..m4
    assert "MQL -> won 62.5%" in str(f)


def test_replay_by_origin_by_hand(tmp_path):
    r = replay_by_origin(fake_folder(tmp_path), horizon_days=90).set_index(["origin", "policy"])
    every = r.xs("every_mql", level="policy")
    assert list(every.index) == ["all", "email", "organic_search", "paid_search", "unknown"]
    assert list(every["handoffs"]) == [8, 3, 2, 2, 1]
    assert list(every["true_handoffs"]) == [3, 1, 0, 1, 1]
    assert list(every["precision"]) == pytest.approx([3 / 8, 1 / 3, 0.0, 0.5, 1.0])
    assert list(every["accounts_with_opportunity"]) == [5, 1, 2, 1, 1]
    assert list(every["recall"]) == pytest.approx([3 / 5, 1.0, 0.0, 1.0, 1.0])
    # one touch per lead: the shipped lead score (100 points) never fires on one form fill
    shipped = r.xs("mql_only", level="policy")
    assert (shipped["handoffs"] == 0).all() and (shipped["recall"] == 0).all()
    # a horizon long enough for m8's 200 days makes it true; m7, won before its MQL, never is
    long = replay_by_origin(fake_folder(tmp_path / "x"), horizon_days=250)
    org = long.set_index(["origin", "policy"]).loc[("organic_search", "every_mql")]
    assert (org["true_handoffs"], org["recall"]) == (1, 0.5)


def test_default_folder_is_the_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("QUALSIM_OLIST", str(OLIST))
    assert default_folder() == OLIST
    # with the variable set, the functions find the data without a folder
    monkeypatch.setenv("QUALSIM_OLIST", str(fake_folder(tmp_path)))
    assert len(read_mqls()) == 9


def test_without_a_folder_or_the_variable_the_message_says_what_to_do(monkeypatch):
    monkeypatch.delenv("QUALSIM_OLIST", raising=False)
    with pytest.raises(DataError) as exc:
        load_olist()
    text = str(exc.value)
    assert "pass the folder, or set QUALSIM_OLIST" in text
    assert "Marketing Funnel by Olist" in text and "Kaggle" in text and "olistbr" in text


def test_missing_folder_file_and_column_are_clear(tmp_path):
    with pytest.raises(DataError, match=r"nowhere: Olist folder not found; expected a folder"):
        read_mqls(tmp_path / "nowhere")
    folder = fake_folder(tmp_path)
    (folder / DEALS_FILE).unlink()
    with pytest.raises(DataError) as exc:
        load_olist(folder)
    assert str(folder / DEALS_FILE) in str(exc.value)
    assert "file not found; expected the Olist closed deals file" in str(exc.value)
    assert "mql_id, won_date" in str(exc.value)
    no_origin = MQLS.replace(",origin\n", "\n", 1)
    folder = fake_folder(tmp_path / "b", mqls=no_origin)
    with pytest.raises(DataError) as exc:
        load_olist(folder)
    text = str(exc.value)
    assert text.startswith(f"{folder / MQL_FILE}: missing column 'origin'")
    assert "columns found: mql_id, first_contact_date, landing_page_id" in text
    folder = fake_folder(tmp_path / "c", deals=DEALS.replace("won_date", "closed_on"))
    with pytest.raises(DataError, match=r"missing column 'won_date'"):
        funnel_figures(folder)


def test_bad_rows_name_the_file_line_and_value(tmp_path):
    bad_date = MQLS.replace("m2,2018-01-02", "m2,02/01/2018")
    with pytest.raises(DataError) as exc:
        read_mqls(fake_folder(tmp_path / "a", mqls=bad_date))
    assert f"{MQL_FILE}, line 3: first_contact_date '02/01/2018' is not a date" in str(exc.value)
    dup = MQLS + "m3,2018-04-01,lp1,email\n"
    with pytest.raises(DataError, match=r"line 11: duplicated mql_id 'm3'"):
        read_mqls(fake_folder(tmp_path / "b", mqls=dup))
    orphan = DEALS + "m99,s9,2018-05-01 00:00:00,pet\n"
    with pytest.raises(DataError) as exc:
        read_mqls(fake_folder(tmp_path / "c", deals=orphan))
    assert f"{DEALS_FILE}, line 8: mql_id 'm99' is not in" in str(exc.value)
    empty_won = DEALS.replace("2018-01-03 12:00:00", "")
    with pytest.raises(DataError, match=r"line 2: won_date '' is not a date"):
        read_mqls(fake_folder(tmp_path / "d", deals=empty_won))


# --------------------------------------------------------------------------------------------
# The real data: SOURCE.md's figures


@pytest.fixture(scope="module")
def mqls() -> pd.DataFrame:
    return read_mqls(_need_data())


def close(value: float, printed: float) -> bool:
    return abs(value - printed) <= ROUNDING


def test_loader_reads_every_mql_and_deal(mqls):
    assert len(mqls) == 8000  # SOURCE.md: 8,000 MQLs, 842 won deals
    assert mqls["won_date"].ne("").sum() == 842
    t = load_olist(mqls)
    assert [len(t[k]) for k in ("events", "contacts", "accounts")] == [8000, 8000, 8000]
    assert (t["accounts"]["won"] == "true").sum() == 842


def test_source_md_rate_and_days_to_won(mqls):
    f = funnel_figures(mqls)  # the 2018 cohort
    assert close(100 * f.rate, 13.0), f"MQL -> won {100 * f.rate:.3f}% (SOURCE.md 13.0%)"
    # Days are fractional, from midnight of first_contact_date to the won_date time; quantiles
    # are numpy's default (linear, R type 7). Integer days could not give a median of 12.9, and
    # Hazen or Weibull quantiles give p10 2.3 or 2.2 instead of 2.5.
    printed = {0.1: 2.5, 0.25: 5.8, 0.5: 12.9, 0.75: 38.8, 0.9: 111.9}
    for q, v in printed.items():
        got = f.days_quantiles[q]
        assert close(got, v), f"p{round(100 * q)} {got:.3f} days (SOURCE.md {v})"


def test_source_md_won_by_days(mqls):
    # Our reading: SOURCE.md's won-by shares are not over the whole 2018 cohort (which gives
    # 4.1 / 9.1 / 11.3 / 12.5%, and whose 13.0% overall could not be exceeded by the 13.2% won
    # by 180 days) but over the MQLs of the first quarter of 2018 (first_contact_date in
    # [2018-01-01, 2018-04-01), 3,343 MQLs, each with more than 7 months of follow-up before
    # the last won_date): there they reproduce (3.53 / 9.15 / 11.91 / 13.19%). "Won by k days"
    # = won_date at most k days after midnight of first_contact_date.
    f = funnel_figures(mqls, start="2018-01-01", end="2018-04-01")
    printed = {7: 3.5, 30: 9.2, 90: 11.9, 180: 13.2}
    for k, v in printed.items():
        got = 100 * f.won_by[k]
        assert close(got, v), f"won by {k} days {got:.3f}% (SOURCE.md {v}%)"


def test_source_md_conversion_by_origin(mqls):
    rate = funnel_figures(mqls).by_origin["rate"]
    printed = {
        "organic_search": 14.7,
        "paid_search": 14.8,
        "direct_traffic": 14.2,
        "referral": 11.4,
        "social": 6.3,
        "email": 4.0,
        "display": 6.7,
    }
    for origin, v in printed.items():
        got = 100 * rate[origin]
        assert close(got, v), f"{origin} {got:.3f}% (SOURCE.md {v}%)"


def test_per_channel_precision_is_the_channel_conversion_within_the_horizon():
    folder = _need_data()
    horizon = 90
    r = replay_by_origin(folder, horizon_days=horizon)
    every = r[r["policy"] == "every_mql"].set_index("origin")
    # the expected values straight from the CSVs, without the module
    m = pd.read_csv(folder / MQL_FILE, dtype=str, keep_default_na=False)
    d = pd.read_csv(folder / DEALS_FILE, dtype=str, keep_default_na=False)
    m = m[m["first_contact_date"] >= "2018-01-01"].merge(d, on="mql_id", how="left")
    m["origin"] = m["origin"].replace("", "unknown")
    days = (
        pd.to_datetime(m["won_date"]) - pd.to_datetime(m["first_contact_date"])
    ).dt.total_seconds() / 86400
    m["won"] = days.notna()
    m["in_h"] = (days >= 0) & (days <= horizon)  # a deal won before its MQL is not a true handoff
    g = m.groupby("origin")
    expected = pd.DataFrame({"mqls": g.size(), "won": g["won"].sum(), "in_h": g["in_h"].sum()})
    expected.loc["all"] = [len(m), m["won"].sum(), m["in_h"].sum()]
    assert set(every.index) == set(expected.index)
    for origin, e in expected.iterrows():
        row = every.loc[origin]
        assert row["handoffs"] == e["mqls"], origin
        assert row["true_handoffs"] == e["in_h"], origin
        assert row["precision"] == pytest.approx(e["in_h"] / e["mqls"]), origin
        assert row["precision"] == pytest.approx(row["conversion_within_horizon"]), origin
        assert row["accounts_with_opportunity"] == e["won"], origin
        assert row["recall"] == pytest.approx(e["in_h"] / e["won"]), origin
    # search converts about 3.5 times better than email within 90 days (SOURCE.md: 14.7-14.8%
    # against 4.0% at any time)
    assert every.loc["paid_search", "precision"] > 3 * every.loc["email", "precision"]
    shipped = r[r["policy"] == "mql_only"]
    assert (shipped["handoffs"] == 0).all()


# --------------------------------------------------------------------------------------------
# The smb preset against Olist's timing


@pytest.mark.slow
def test_smb_days_to_buy_resemble_olist_days_to_won():
    c = smb_timing_check(_need_data(), accounts=20_000, seed=102)
    assert len(c.observed) == 781  # the 2018 cohort's won MQLs
    assert len(c.simulated) > 1000, "too few simulated buys after a form fill to compare"
    # The calibration notes ask the smb preset for "median about 2 weeks" against Olist's 12.9 days.
    # The analogue is loose (a first form fill is not Olist's landing-page sign-up) and S3's
    # SMB cycles are given only as "1-3 months": a factor 2 (6.5 to 26 days: one to four
    # weeks) is the band in which "about two weeks" still holds. Sampling error is far smaller
    # (Olist's median rests on 781 deals; the simulated one on >1,000 buys).
    sim_median = float(np.median(c.simulated))
    assert 12.9 / 2 <= sim_median <= 12.9 * 2, str(c)
    assert 0.5 <= c.median_ratio <= 2, str(c)
    assert 0 <= c.ks <= 1
    print(c)


def test_timing_report_page():
    """The observed-vs-simulated days-to-win page: the quantile table, the KS distance and a
    plot, self-contained."""
    import numpy as np

    from sim.datasets.olist import TimingCheck
    from sim.report import build_timing_report

    obs, simd = np.array([1.0, 2.0, 5.0, 30.0]), np.array([0.5, 3.0, 6.0, 90.0])
    q = pd.DataFrame({"olist": [1.0, 5.0], "smb": [0.5, 6.0]}, index=["p10", "p50"])
    page = build_timing_report(TimingCheck(obs, simd, q, 0.25, 0.99, 5, 1))
    assert page.startswith("<!DOCTYPE html>") and "data:image/png;base64," in page
    assert "distance 0.250 (p = 0.99)" in page and "5 simulated buys, 1 of them" in page
    assert "<th>p50</th>" in page
