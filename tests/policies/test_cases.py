"""``qualsim test-policy``: YAML policy test cases pass, fail (exit 1) or are invalid (exit 2)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from sim.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "policies" / "examples"


def _run(*args: str):
    return CliRunner().invoke(app, ["test-policy", *args])


def test_shipped_cases_pass():
    res = _run(str(EXAMPLES / "mqa_count_cases.yaml"))
    assert res.exit_code == 0, res.output
    assert "all cases pass" in res.stdout


def test_a_wrong_expectation_fails_with_exit_1_and_says_why(tmp_path):
    f = tmp_path / "cases.yaml"
    f.write_text(
        "policy: mqa_count\n"
        "cases:\n"
        "  - name: two people are not enough for tier 2\n"
        "    accounts: [{account_id: a, tier: 2}]\n"
        "    events: [[0, a, x, web_visit], [1, a, y, webinar]]\n"
        "    expect: [{account: a, day: 1}]\n"
        "  - name: tier 1 qualifies with two\n"
        "    accounts: [{account_id: b, tier: 1}]\n"
        "    events: [[0, b, x, web_visit], [1, b, y, webinar]]\n"
        "    expect: []\n"
    )
    res = _run(str(f))
    assert res.exit_code == 1
    assert "FAIL" in res.stdout
    assert "expected, not handed off: account a at day 1" in res.stdout
    assert "handed off, not expected: account b at day 1, rule tiers.1.any.0" in res.stdout


def test_an_invalid_case_file_exits_2_with_line_and_field(tmp_path):
    f = tmp_path / "cases.yaml"
    f.write_text(
        "policy: mqa_count\n"
        "cases:\n"
        "  - name: bad activity\n"
        "    events: [[0, a, x, webvisit]]\n"
        "    expect: []\n"
    )
    res = _run(str(f))
    assert res.exit_code == 2
    assert f"{f}:4: cases[0].events[0][3]" in res.stderr
    assert "web_visit" in res.stderr
