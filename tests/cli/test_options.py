"""One vocabulary on the command line: the table "One name for one idea" of docs/cli.md
against the real commands (every documented option on exactly the documented commands, every
option two commands share documented), help without Python types, the renamed options' clear
errors, and ``--format``: each machine format parses back and is alone on stdout."""

from __future__ import annotations

import io
import json
import re
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from sim.cli import app
from sim.cli.base import ONE_REPLICATION, number
from sim.datasets.olist import DEALS_FILE, MQL_FILE
from tests.datasets.test_olist import DEALS, MQLS

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def invoke(*args: object) -> object:
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def commands() -> dict[str, typer.core.TyperCommand]:
    """Every visible command of the app by its full name (``olist replay``)."""
    found = {}

    def walk(group, prefix: str) -> None:
        for name, cmd in group.commands.items():
            if getattr(cmd, "commands", None) is not None:
                walk(cmd, f"{prefix}{name} ")
            elif not cmd.hidden:
                found[prefix + name] = cmd

    walk(typer.main.get_command(app), "")
    return found


def options_in_use() -> dict[str, set[str]]:
    """Each visible option's long name -> the commands that take it."""
    uses: dict[str, set[str]] = defaultdict(set)
    for name, cmd in commands().items():
        for p in cmd.params:
            if p.param_type_name == "option" and not p.hidden:
                for opt in p.opts:
                    if opt.startswith("--"):
                        uses[opt].add(name)
    return uses


def documented() -> dict[str, set[str]]:
    """The table "One name for one idea": each documented long option -> its commands."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## One name for one idea", 1)[1].split("\n## ", 1)[0]
    table: dict[str, set[str]] = {}
    for line in section.splitlines():
        if not line.startswith("| `-"):
            continue
        option, _, cmds = line.strip("|").split("|")
        names = set(re.findall(r"`(.+?)`", cmds))
        for opt in re.findall(r"`(--[a-z-]+)", option):
            assert opt not in table, f"{opt} documented twice"
            table[opt] = names
    return table


def test_the_doc_table_is_read() -> None:
    table = documented()  # a hand-picked sample of what the table must say
    assert table["--format"] >= {"run", "compare", "world", "gate", "query"}
    assert table["--baseline-file"] == {"gate"}
    assert "--all-metrics" not in table


def test_every_documented_option_is_on_exactly_its_commands() -> None:
    uses = options_in_use()
    for opt, cmds in documented().items():
        assert uses.get(opt, set()) == cmds, opt


def test_every_shared_option_is_documented() -> None:
    table = documented()
    shared = {o: c for o, c in options_in_use().items() if len(c) >= 2}
    assert set(shared) <= set(table), sorted(set(shared) - set(table))


def test_one_name_per_idea() -> None:
    uses = options_in_use()
    for old in ("--all-metrics", "--csv", "--start", "--end"):
        assert old not in uses, f"{old} is visible on {uses[old]}"
    assert uses["--baseline"] == {"run", "compare"}  # a policy name, never a file


def test_one_help_text_per_option() -> None:
    """A documented option shared by several commands has one help text."""
    helps: dict[str, set[str]] = defaultdict(set)
    for cmd in commands().values():
        for p in cmd.params:
            if p.param_type_name == "option" and not p.hidden:
                helps[p.opts[0]].add(p.help or "")
    same = ["--format", "--seed", "--replications", "--workers", "--report", "--raw-csv", "--all"]
    for opt in same:
        assert len(helps[opt]) == 1, (opt, helps[opt])


@pytest.mark.parametrize("cmd", ["run", "gate", "recommend", "olist", "--help"])
def test_help_shows_no_python_types(cmd: str) -> None:
    args = [cmd, "--help"] if cmd != "--help" else ["--help"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    text = ANSI.sub("", result.stdout)
    assert not re.search(r"<(bool|int|float|str|path|list)", text), text
    if cmd == "run":
        assert "INTEGER" in text and "PATH" in text
        line = next(x for x in text.splitlines() if "--robustness" in x)
        assert "TEXT" not in line and "INTEGER" not in line  # a flag shows no value


@pytest.mark.parametrize(
    ("cmd", "usage"),
    [
        ("recommend", "recommend [OPTIONS] RUN_DIR"),
        ("compare", "compare [OPTIONS] SCENARIO POLICIES..."),
        ("query", "query [OPTIONS] RUN_DIR SQL"),
    ],
)
def test_usage_names_arguments_in_capitals(cmd: str, usage: str) -> None:
    result = invoke(cmd, "--help")
    text = " ".join(ANSI.sub("", result.stdout).split())
    assert usage in text  # typer's own usage line reads "recommend [OPTIONS] {run_dir}"


def test_number_reads_well() -> None:
    assert number(3642000.0) == "3,642,000"
    assert number(0.4712) == "0.47"
    assert number(12.34) == "12.3"
    assert number(-0.00123) == "-0.0012"
    assert number(1e12) == "1,000,000,000,000"
    assert number(2**40) == "1,099,511,627,776"
    assert number(float("nan")) == "-"
    assert number(True) == "True"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "smb", "--format", "parquet"], "use --out-format parquet"),
        (["run", "smb", "--format", "xml"], "expected one of table, csv, json, markdown"),
        (["run", "smb", "--out-format", "xml"], "--out-format: expected csv or parquet"),
        (["gate", "suite.yaml", "--baseline", "b.json"], "--baseline-file b.json"),
        (["gate", "suite.yaml", "-b", "b.json"], "--baseline-file b.json"),
        (["world", "smb", "--format", "html"], "--format 'html'"),
    ],
    ids=["parquet", "xml", "out-format", "gate-baseline", "gate-b", "world"],
)
def test_renamed_options_fail_clearly(args: list[str], fragment: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    err = " ".join(ANSI.sub("", result.stderr).split())
    assert err.startswith("error: ") and fragment in err, err
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiny") / "tiny.yaml"
    path.write_text("extends: smb\naccounts: {count: 200}\n")
    return path


RUN = ["-p", "mql_only", "-p", "mqa_count", "-r", "2", "-w", "1"]


def run_tiny(tiny: Path, fmt: str, *more: str):
    result = invoke("run", tiny, *RUN, "--format", fmt, *more)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def test_format_json_is_the_tables_alone(tiny: Path) -> None:
    result = run_tiny(tiny, "json")
    tables = json.loads(result.stdout)  # nothing but the JSON on stdout
    assert list(tables) == ["verdict", "policies", "paired", "progression"]
    pol = pd.DataFrame(tables["policies"])
    assert set(pol["policy"]) == {"mql_only", "mqa_count"}
    assert set(pol["n"]) <= {0, 2} and (pol["n"] == 2).any()  # 0: a metric of no world
    ok = pol.dropna(subset=["ci_low"])  # an interval around its mean, as numbers
    assert len(ok) and ((ok["ci_low"] <= ok["mean"]) & (ok["mean"] <= ok["ci_high"])).all()
    assert set(pd.DataFrame(tables["paired"])["policy"]) == {"mqa_count"}
    assert "Verdict" in result.stderr  # the sentence for people; the row for machines:
    (v,) = tables["verdict"]
    assert v["text"].startswith("Verdict: ") and v["objective"] == "total_wins"
    wins = pol[pol["metric"] == "total_wins"].set_index("policy")["mean"]
    if v["chosen"] is not None:  # the chosen policy's objective is the value it reports
        assert v["value"] == wins[v["chosen"]]


def test_format_csv_parses_back_table_by_table(tiny: Path) -> None:
    result = run_tiny(tiny, "csv")
    blocks = result.stdout.split("\n\n")
    titles = [b.splitlines()[0] for b in blocks]
    assert titles[:2] == ["# Verdict", "# Policies on the same simulated worlds"]
    assert all(t.startswith("# ") for t in titles) and len(blocks) == 4
    pol = pd.read_csv(io.StringIO(blocks[1]), skiprows=1)
    assert {"policy", "metric", "mean", "ci_low", "ci_high"} <= set(pol.columns)
    assert pd.api.types.is_float_dtype(pol["mean"])


def test_format_markdown_has_a_heading_per_table(tiny: Path) -> None:
    result = run_tiny(tiny, "markdown")
    headings = [x for x in result.stdout.splitlines() if x.startswith("### ")]
    assert headings[:2] == ["### Verdict", "### Policies on the same simulated worlds"]
    assert len(headings) == 4
    lines = result.stdout.splitlines()
    header = next(x for x in lines if x.startswith("| policy"))
    rows = [x for x in lines if x.startswith("| mql_only")]
    assert {"mean", "ci_low", "ci_high", "unit"} <= {c.strip() for c in header.split("|")}
    assert rows and all(x.count("|") == header.count("|") for x in rows)  # one cell a column


def test_format_table_prints_the_notes_on_stdout(tiny: Path) -> None:
    result = run_tiny(tiny, "table")
    assert "Verdict" in result.stdout and "Policies on the same simulated worlds" in result.stdout


def test_one_replication_warns_and_claims_no_interval(tiny: Path) -> None:
    result = invoke("run", tiny, "-p", "mql_only", "-r", "1", "-w", "1")
    assert result.exit_code == 0, result.output
    assert ONE_REPLICATION in ANSI.sub("", result.stderr)
    out = ANSI.sub("", result.stdout)
    assert "±" not in out and "half-width" not in out
    two = invoke("run", tiny, "-p", "mql_only", "-r", "2", "-w", "1")
    assert "no confidence interval" not in two.stderr and "±" in two.stdout


def test_world_csv_and_all_alias(tiny: Path) -> None:
    result = invoke("world", tiny, "--format", "json")
    assert result.exit_code == 0, result.stderr
    tables = json.loads(result.stdout)
    assert list(tables) == ["accounts", "committees", "touches", "channels", "funnel", "decisions"]
    old = invoke("run", tiny, "-p", "mql_only", "-r", "2", "-w", "1", "--all-metrics", "-f", "json")
    new = invoke("run", tiny, "-p", "mql_only", "-r", "2", "-w", "1", "--all", "-f", "json")
    assert old.exit_code == new.exit_code == 0, old.output
    assert "deprecated" in old.stderr and "use --all" in old.stderr
    assert json.loads(old.stdout)["policies"] == json.loads(new.stdout)["policies"]
    short = json.loads(invoke("run", tiny, "-p", "mql_only", "-r", "2", "-f", "json").stdout)
    assert len(json.loads(new.stdout)["policies"]) > len(short["policies"])


def test_objective_and_capacity_reach_the_verdict(tiny: Path) -> None:
    base = ["run", tiny, *RUN, "-f", "json"]
    none = invoke(*base, "--max-handoffs-per-week", "0")
    assert none.exit_code == 0, none.output
    said = " ".join(none.stderr.split())
    assert "no policy fits within capacity (0.0 handoffs in the p90 week)" in said, said
    prec = invoke(*base, "--objective", "precision", "--min-precision", "0")
    assert "has the highest mean precision" in " ".join(prec.stderr.split()), prec.stderr
    floor = invoke(*base, "--min-precision", "1", "--max-handoffs-per-week", "0")
    assert "and the precision floor of 1" in " ".join(floor.stderr.split()), floor.stderr
    bad = invoke(*base, "--objective", "nope")
    assert bad.exit_code == 2 and "objective 'nope'" in bad.stderr


# The hand-made Olist folder of tests/datasets/test_olist.py: the 2018 cohort has 8 MQLs, 3 by
# email (1 won), 2 organic (2 won), 2 paid (1 won), 1 of no origin (won).


def test_olist_commands_speak_the_same_vocabulary(tmp_path: Path) -> None:
    folder = tmp_path / "olist"
    folder.mkdir()
    (folder / MQL_FILE).write_text(MQLS, encoding="utf-8")
    (folder / DEALS_FILE).write_text(DEALS, encoding="utf-8")
    fig = invoke("olist", "figures", "--folder", folder, "--format", "json")
    assert fig.exit_code == 0, fig.output
    by_origin = pd.DataFrame(json.loads(fig.stdout)["by_origin"]).set_index("origin")
    assert by_origin.loc["email", "mqls"] == 3 and by_origin.loc["organic_search", "won"] == 2
    assert "8 MQLs, 5 won" in fig.stderr
    old = invoke("olist", "figures", "--folder", folder, "--start", "2018-02-01", "-f", "json")
    new = invoke("olist", "figures", "--folder", folder, "--since", "2018-02-01", "-f", "json")
    assert old.stdout == new.stdout and "4 MQLs" in new.stderr  # m6..m9
    rep = invoke("olist", "replay", "--folder", folder, "--format", "csv")
    assert rep.exit_code == 0, rep.output
    rows = pd.read_csv(io.StringIO(rep.stdout), skiprows=1)
    every = rows[(rows["policy"] == "every_mql") & (rows["origin"] == "all")]
    assert every["handoffs"].tolist() == [8]
    wrote = invoke("olist", "write", "--folder", folder, "--out", tmp_path / "log")
    assert wrote.exit_code == 0, wrote.output
    assert (tmp_path / "log" / "events.csv").is_file()
