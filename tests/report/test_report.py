"""The HTML report: self-contained, every section present, readable plots, and it renders in a
real headless browser (Debian's chromium) without console errors."""

from __future__ import annotations

import dataclasses
import itertools
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim import tables
from sim.cli import app
from sim.experiment.sweep import SweepSpec, run_sweep
from sim.experiment.sweep.store import ForeignCellsWarning
from sim.report import build_report, write_report
from sim.report.plots import colours, figure, weekly_lines

SMALL = {"accounts": {"count": 150}}
POLICIES = ["mql_only", "mqa_count", "weighted_titles"]
JOURNEY = ["unaware", "aware", "engaged", "qualified", "sales_ready"]


def section_of(page: str, heading: str) -> str:
    """The HTML of the section under the ``<h2>`` ``heading``, up to the next ``<h2``."""
    m = re.search(rf"<h2[^>]*>{re.escape(heading)}</h2>", page)
    assert m is not None, heading
    return page[m.end() :].split("<h2", 1)[0]


@pytest.fixture(scope="module")
def cmp() -> sim.Comparison:
    return sim.compare("enterprise", POLICIES, replications=2, seed=3, overrides=SMALL)


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    spec = SweepSpec.model_validate(
        {
            "scenario": "enterprise",
            "overrides": SMALL,
            "seed": 1,
            "replications": 2,
            "policies": [{"policy": "mqa_count", "grid": {"any.0.unique_contacts": "3..5"}}],
        }
    )
    out = tmp_path_factory.mktemp("sweep")
    run_sweep(spec, out, workers=1)
    return out


def test_page_is_self_contained_with_every_section(cmp, sweep_dir) -> None:
    page = build_report(cmp, sweep_dir, {"max_handoffs_per_week": 5.0})
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    for heading in [
        "Policies on the same simulated worlds",
        "Difference from mql_only, paired on the same worlds",
        "Handoff timing",
        "Precision against volume",
        "Weekly handoffs against SDR capacity",
        "Threshold sweep: Pareto frontier and recommendation",
        "Account progression",
        "The double funnel",
        "Campaign influence",
        "Reproduce this page",
    ]:
        assert heading in page, heading
    for p in POLICIES:
        assert p in page
    # offline: no external resource is referenced, every image is embedded
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    images = re.findall(r'<img[^>]*src="([^"]+)"', page)
    assert len(images) >= 5 and all(i.startswith("data:image/png;base64,") for i in images)
    # reproducible: the seeds and the configs are on the page
    for s in cmp.seeds:
        assert str(s) in page
    assert "Policy mqa_count (hash" in page and "Scenario (resolved)" in page


def test_tables_show_the_comparison_numbers(cmp) -> None:
    page = build_report(cmp)
    precision = cmp.summary(["precision"]).set_index("policy")["mean"]
    for p in POLICIES:
        # the cell text of the precision row starts with the mean as the CLI formats it
        assert f"{precision[p]:.3f}" in page


def test_weekly_section_plots_the_weeks_against_capacity(cmp) -> None:
    page = build_report(cmp)
    section = section_of(page, "Weekly handoffs against SDR capacity")
    assert section.count("data:image/png;base64,") == 1
    for label in ("p90 week (per week)", "Busiest week", "Weeks over capacity"):
        assert label in section
    # a comparison folder written before the weekly table: the section says so, no plot
    old = dataclasses.replace(cmp, weekly=tables.WEEKLY.empty())
    section = section_of(build_report(old), "Weekly handoffs against SDR capacity")
    assert "No weekly table" in section and "data:image" not in section


def test_weekly_lines_draw_one_step_line_per_policy_and_the_capacity(cmp) -> None:
    _, ax = figure()
    assert weekly_lines(ax, cmp.weekly, POLICIES, colours(POLICIES), 24.0)
    assert [line.get_label() for line in ax.get_lines()] == [
        *POLICIES,
        "SDR capacity (24/week)",
    ]
    cap = ax.get_lines()[-1]
    assert list(cap.get_ydata()) == [24.0, 24.0]
    # each policy's line is its mean queue-joining handoffs, week by week
    line = ax.get_lines()[1]
    w = cmp.weekly[cmp.weekly["policy"] == POLICIES[1]]
    expected = w.groupby("week")["queued"].mean().to_numpy()
    np.testing.assert_allclose(line.get_ydata(), expected)
    assert not weekly_lines(ax, tables.WEEKLY.empty(), POLICIES, colours(POLICIES), 24.0)


def test_sweep_section_bounds_the_p90_week(cmp, sweep_dir, tmp_path: Path) -> None:
    page = build_report(cmp, sweep_dir, {"max_handoffs_per_week": 5.0})
    assert "Recommendation (p90 week at most 5.0)" in page
    page = build_report(cmp, sweep_dir, {"max_handoffs_per_week": 5.0, "capacity_quantile": None})
    assert "Recommendation (handoffs / week at most 5.0)" in page
    # cells written before the weekly load was stored are not whole cells of this sweep: they
    # are left out (with a warning naming what they miss; a resumed sweep runs them again)
    old = tmp_path / "old"
    shutil.copytree(sweep_dir, old)
    for f in (old / "cells").glob("*.parquet"):
        df = pd.read_parquet(f)
        df[~df["metric"].str.startswith("weekly_load")].to_parquet(f)
    with pytest.warns(ForeignCellsWarning, match="missing weekly_load_max"):
        page = build_report(cmp, old, {"max_handoffs_per_week": 5.0})
    assert "The sweep folder has no results yet." in page


def test_without_sweep_there_is_no_sweep_section(cmp) -> None:
    assert "Threshold sweep" not in build_report(cmp)


def test_cli_report_from_a_folder(tmp_path: Path, sweep_dir: Path) -> None:
    runner = CliRunner()
    folder = tmp_path / "cmp"
    r = runner.invoke(
        app,
        ["compare", "smb", "mql_only", "mqa_count", "-r", "2", "--out", str(folder)],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    out = tmp_path / "r.html"
    r = runner.invoke(
        app,
        ["report", str(folder), "--out", str(out), "--sweep", str(sweep_dir)],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    assert "Threshold sweep" in out.read_text(encoding="utf-8")
    args = ["report", str(folder), "--out", str(out), "--sweep", str(sweep_dir)]
    limit = ["--max-handoffs-per-week", "5"]
    r = runner.invoke(app, [*args, *limit, "--capacity-quantile", "mean"])
    assert r.exit_code == 0, r.output
    assert "Recommendation (handoffs / week at most 5.0)" in out.read_text(encoding="utf-8")
    r = runner.invoke(app, [*args, *limit, "--capacity-quantile", "0.8"])
    assert r.exit_code == 2 and "expected 0.5, 0.9, 1 (the busiest week) or mean" in r.output
    # run --report writes the page directly
    out2 = tmp_path / "run.html"
    r = runner.invoke(
        app,
        ["run", "smb", "-r", "2", "-p", "mql_only", "--report", str(out2)],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    assert out2.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_cli_report_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["report", str(tmp_path), "--out", str(tmp_path / "x.html")])
    assert r.exit_code == 2
    assert "not a comparison folder" in r.output
    assert not (tmp_path / "x.html").exists()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)
def test_renders_in_headless_chromium(cmp, sweep_dir, tmp_path: Path) -> None:
    import matplotlib.image

    page = write_report(cmp, tmp_path / "report.html", sweep_dir)
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1200,2400",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console  # the page logs nothing: no script errors, no failed resources
    img = matplotlib.image.imread(shot)
    assert img.shape[0] >= 2000 and img.shape[1] >= 1000
    rgb = img[..., :3]
    ink = (rgb.mean(axis=2) < 0.9).mean()  # share of pixels that are not (near) white
    assert ink > 0.02, f"the screenshot is nearly blank ({ink:.1%} ink)"
    assert np.unique(rgb.reshape(-1, 3), axis=0).shape[0] > 50  # plots, not one flat colour


def test_full_page_plots_tables_and_headings_read_well(cmp, sweep_dir, outline) -> None:
    """A simulated comparison with a sweep: every plot has its own alt text saying what it
    shows, every table a caption, the headings go down one level at a time, and the stages
    of the campaign table follow the journey."""
    page = build_report(cmp, sweep_dir, {"max_handoffs_per_week": 5.0})
    parsed = outline(page)
    assert 'alt="plot"' not in page
    assert len(parsed.alts) >= 6
    assert all(a and len(a.split()) >= 5 for a in parsed.alts), parsed.alts
    assert len(set(parsed.alts)) == len(parsed.alts)
    assert all(t["caption"] for t in parsed.tables)
    levels = [level for level, _ in parsed.headings]
    assert levels[0] == 1 and all(b <= a + 1 for a, b in itertools.pairwise(levels))
    stages = [r for r in parsed.table("by campaign exposure")["rows"] if r in JOURNEY]
    assert stages == JOURNEY * (len(stages) // len(JOURNEY)) and stages


def test_the_sweep_section_applies_only_the_limits_given_to_report(cmp, sweep_dir) -> None:
    """As recommend: no capacity unless given (the comparison's own capacity, stored or the
    scenario's, belongs to another scenario), and the line plotted is the one applied."""
    stored = dataclasses.replace(cmp, meta={**cmp.meta, "limits": {"max_handoffs_per_week": 2.0}})
    section = section_of(
        build_report(stored, sweep_dir), "Threshold sweep: Pareto frontier and recommendation"
    )
    assert "Recommendation (no limits given)" in section
    assert "capacity line" not in section
    section = section_of(
        build_report(cmp, sweep_dir, {"max_handoffs_per_week": 2.0}),
        "Threshold sweep: Pareto frontier and recommendation",
    )
    assert "Recommendation (p90 week at most 2.0)" in section
    assert "the capacity line at 2 a week" in section


def test_cli_compare_limits_travel_to_report(tmp_path: Path) -> None:
    small = tmp_path / "small.yaml"
    small.write_text("extends: smb\naccounts: {count: 150}\n", encoding="utf-8")
    folder, out = tmp_path / "cmp", tmp_path / "r.html"
    runner = CliRunner()
    compare = ["compare", str(small), "mql_only", "mqa_count", "-r", "2", "--workers", "1"]
    goal = ["--objective", "queue_wait_hours", "--max-handoffs-per-week", "30"]
    r = runner.invoke(app, [*compare, *goal, "-o", str(folder)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["report", str(folder), "-o", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    verdict = section_of(out.read_text(encoding="utf-8"), "Verdict")
    assert "lowest mean " + sim.sales.metrics.METRICS["queue_wait_hours"].label.lower() in verdict
    assert "within capacity (30.0 handoffs in the p90 week)" in verdict
    r = runner.invoke(app, ["report", str(folder), "-o", str(out), "--objective", "total_wins"])
    assert r.exit_code == 0, r.output
    assert "highest mean total wins" in section_of(out.read_text(encoding="utf-8"), "Verdict")
    r = runner.invoke(app, ["report", str(folder), "-o", str(out), "--objective", "total_win"])
    assert r.exit_code == 2 and "did you mean 'total_wins'" in r.output


def test_cli_compare_checks_the_objective_before_running(tmp_path: Path, monkeypatch) -> None:
    def never(*args, **kwargs):
        raise AssertionError("the comparison ran")

    monkeypatch.setattr(sim, "compare", never)
    folder = tmp_path / "cx"
    args = ["compare", "smb", "mqa_count", "mql_only", "-r", "2", "-o", str(folder)]
    r = CliRunner().invoke(app, [*args, "--objective", "total_win"])
    assert r.exit_code == 2, r.output
    assert "--objective 'total_win'" in r.output and "did you mean 'total_wins'" in r.output
    assert not folder.exists()
