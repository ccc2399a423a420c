"""Every code block of the documentation runs, in order, as a reader would paste it (Sybil).

The documents are ``README.md``, ``docs/*.md``, ``benchmarks/README.md`` and
``policies/README.md``. Each block is a test named ``<document>:<line>``; the blocks of a
document run in order, in one fresh sandbox folder (the working directory while they run),
and share one Python namespace. A block runs by its info string:

- ``python``: as it is;
- ``python FILE``, ``yaml FILE``: written to FILE in the sandbox first, so that later commands
  can use it (a ``python FILE`` block also runs, so its code is checked);
- ``yaml``: validated as what its content says it is — a scenario, a policy, a sweep, a
  regression suite, an import mapping, policy test cases (which must pass) or a GitHub Actions
  workflow (plain YAML); a yaml block that is none of these fails;
- ``shell``: every command (``\\`` continuations joined, ``# comments`` dropped) must exit 0,
  or the code a trailing comment ``# exit N`` (or ``# exit N: why``) gives. ``qualsim ...``
  runs in this process (typer's ``CliRunner`` on ``sim.cli.app``), ``python ...`` as a
  subprocess of this interpreter; ``command > file`` writes its output to the file; of
  ``... && pip install ... && rest`` only ``rest`` runs (the package is already installed).
  Any other command fails: a block that cannot run here is skipped, visibly, with
  ``<!-- skip: next "reason" -->`` or
  ``<!-- skip: next if(condition, reason="...") -->`` (the condition is evaluated in the
  document's namespace, where ``OLIST`` is the Olist data folder, or None without the data).

``test_every_code_block_runs`` fails on a fenced block with any other info string (or none), so
no example escapes. Documents whose blocks take more than ~10 s together are marked ``slow``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from unittest import SkipTest, mock

import pandas as pd
import pytest
import yaml
from sybil import Document, Example
from sybil.evaluators.python import PythonEvaluator
from sybil.evaluators.skip import Skipper
from sybil.parsers.abstract import AbstractCodeBlockParser
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser
from sybil.parsers.markdown.lexers import RawFencedCodeBlockLexer
from typer.testing import CliRunner

import policies
import sim
from policies.cases import run_cases
from sim.cli import app
from sim.experiment.gate import load_suite
from sim.experiment.sweep import load_sweep
from sim.real import Mapping, export_tables, export_world, load_mapping

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [
    "README.md",
    "SECURITY.md",
    *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")),
    "benchmarks/README.md",
    "policies/README.md",
]
# Documents whose blocks take more than ~10 s together on 2 cores (`--durations=0` shows them).
SLOW = {
    "README.md",
    "docs/comparison.md",
    "docs/report-and-gate.md",
    "docs/sweeps.md",
    "benchmarks/README.md",
}
# The Olist data is never in the repository (CC BY-NC-SA 4.0): $QUALSIM_OLIST, or next to it.
OLIST_FOLDER = ROOT.parent / "shared" / "data" / "olist"


def olist_folder() -> str | None:
    """The Olist folder the documents' Olist examples use, or None (they are then skipped)."""
    if os.environ.get("QUALSIM_OLIST"):
        return os.environ["QUALSIM_OLIST"]
    return str(OLIST_FOLDER) if OLIST_FOLDER.is_dir() else None


# -- what a block is -----------------------------------------------------------------------------


def named_block_lexer(languages: str) -> RawFencedCodeBlockLexer:
    """Fenced blocks whose info string is one of ``languages`` (a regex), then maybe a file."""
    info = re.compile(rf"(?P<language>{languages})(?:[ \t]+(?P<file>\S+))?[ \t]*$\n", re.M)
    return RawFencedCodeBlockLexer(
        info, mapping={"language": "arguments", "file": "file", "source": "source"}
    )


class NamedBlockParser(AbstractCodeBlockParser):
    """``yaml`` blocks (with or without a file name), or ``python FILE`` blocks."""

    def __init__(self, language: str, evaluator: Callable[[Example], None]):
        pattern = "yaml" if language == "yaml" else r"python(?=[ \t]+\S)"
        super().__init__([named_block_lexer(pattern)], language, evaluator)


def parse(doc: str) -> Document:
    return Document.parse(
        str(ROOT / doc),
        SkipParser(),
        PythonCodeBlockParser(),
        NamedBlockParser("python", python_file_block),
        NamedBlockParser("yaml", yaml_block),
        CodeBlockParser("shell", shell_block),
    )


def is_code_block(example: Example) -> bool:
    """A code block (not a skip directive)."""
    return not isinstance(example.region.evaluator, Skipper)


def shown_file(doc: str, name: str) -> str:
    """The text of the block that ``doc`` shows as the file ``name``."""
    document = Document((ROOT / doc).read_text(encoding="utf-8"), str(ROOT / doc))
    for region in named_block_lexer("yaml|python")(document):
        if region.lexemes["file"] == name:
            return str(region.lexemes["source"])
    raise LookupError(f"{doc} shows no file {name}")


def write_named(example: Example) -> Path | None:
    """Write a block whose info string names a file to that file (in the sandbox)."""
    name = example.region.lexemes.get("file")
    if not name:
        return None
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(example.parsed, encoding="utf-8")
    return path


# -- python and yaml blocks ----------------------------------------------------------------------


def python_file_block(example: Example) -> None:
    write_named(example)
    PythonEvaluator()(example)


def yaml_kind(data: object) -> str:
    """What a YAML file is, from its keys."""
    keys = set(data) if isinstance(data, dict) else set()
    sections = [data.get(k) for k in ("events", "contacts", "accounts")] if keys else []
    if "jobs" in keys:
        return "workflow"
    if {"policy", "cases"} <= keys:
        return "cases"
    if {"policies", "scenarios"} <= keys:
        return "suite"
    if {"policies", "scenario"} <= keys:
        return "sweep"
    if "kind" in keys:
        return "policy"
    if keys & {"timezone", "timestamp_format"} or any(
        isinstance(s, dict) and "columns" in s for s in sections
    ):
        return "mapping"
    if keys and keys <= set(sim.Scenario.model_fields):
        return "scenario"
    return "unknown"


def check_cases(path: Path) -> None:
    name, outcomes = run_cases(path)
    failed = [o for o in outcomes if not o.passed]
    assert not failed, f"{path}: cases of {name} fail: {failed}"


def check_workflow(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert True in data or "on" in data, f"{path}: a workflow needs `on:`"  # YAML 1.1: on = True
    assert all("steps" in job or "uses" in job for job in data["jobs"].values())


VALIDATE: dict[str, Callable[[Path], object]] = {
    "scenario": sim.load_scenario,
    "policy": policies.load_policy,
    "sweep": load_sweep,
    "suite": load_suite,
    "mapping": load_mapping,
    "cases": check_cases,
    "workflow": check_workflow,
}


def yaml_block(example: Example) -> None:
    path = write_named(example) or Path(f".block-{example.line}.yaml")
    if not path.exists():
        path.write_text(example.parsed, encoding="utf-8")
    kind = yaml_kind(yaml.safe_load(example.parsed))
    assert kind in VALIDATE, (
        f"{example.path}:{example.line}: this yaml block is none of {', '.join(VALIDATE)}"
    )
    VALIDATE[kind](path)


# -- shell blocks --------------------------------------------------------------------------------

EXIT_COMMENT = re.compile(r"(?:^|\s)#\s*exit\s+(\d+)\s*(?::.*)?$")  # "# exit 2", "# exit 2: why"


def command_lines(source: str) -> Iterator[str]:
    """The block's commands: ``\\`` continuations joined, quotes spanning lines kept whole."""
    line = ""
    for text in source.splitlines():
        if text.rstrip().endswith("\\"):
            line += text.rstrip()[:-1] + " "
            continue
        line += text + "\n"
        try:
            shlex.split(line, comments=True)
        except ValueError:  # a quote still open: the command goes on
            continue
        if line.strip():
            yield line.rstrip("\n")
        line = ""
    assert not line.strip(), f"unfinished command: {line!r}"


def words(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars="&|;<>")
    lexer.whitespace_split = True
    return list(lexer)


def parts_to_run(line: str) -> list[list[str]]:
    """The ``&&``-separated parts of a command line that run here: after the last install."""
    parts: list[list[str]] = [[]]
    for word in words(line):
        if word == "&&":
            parts.append([])
        else:
            parts[-1].append(word)
    installs = [i for i, p in enumerate(parts) if "install" in p and "pip" in p[:3]]
    return parts[installs[-1] + 1 :] if installs else parts


def run_command(argv: list[str]) -> tuple[int, str, str]:
    """Run one command: exit code, its standard output, and everything it printed."""
    if argv[0] == "qualsim":
        result = CliRunner().invoke(app, argv[1:])
        printed = result.output
        if result.exc_info and not isinstance(result.exception, SystemExit):
            printed += "".join(traceback.format_exception(*result.exc_info))
        return result.exit_code, result.stdout, printed
    if argv[0] in ("python", "python3"):
        done = subprocess.run([sys.executable, *argv[1:]], capture_output=True, text=True)
        return done.returncode, done.stdout, done.stdout + done.stderr
    raise AssertionError(
        f"{argv[0]}: the documentation runs qualsim and python commands only; skip this block "
        '(<!-- skip: next "reason" -->) if it cannot run in a test'
    )


def shell_block(example: Example) -> None:
    for line in command_lines(example.parsed):
        expected = EXIT_COMMENT.search(line)
        parts = parts_to_run(line)
        for i, argv in enumerate(parts):
            if any(w in ("|", ";", "<", "&", "||") for w in argv):
                raise AssertionError(f"{line!r}: only && and > are understood here")
            target = None
            if ">" in argv:
                argv, target = argv[: argv.index(">")], argv[argv.index(">") + 1]
            code, stdout, printed = run_command(argv)
            want = int(expected.group(1)) if expected and i == len(parts) - 1 else 0
            assert code == want, f"`{shlex.join(argv)}` exited {code}, expected {want}:\n{printed}"
            if target:
                Path(target).write_text(stdout, encoding="utf-8")


# -- the files a reader has ----------------------------------------------------------------------

# Files that documents show as named blocks; the other documents (the README's tour) use them.
SHOWN_FILES = {
    "my_rule.yaml": "docs/policies.md",
    "my_scenario.yaml": "docs/scenarios.md",
    "sweep.yaml": "docs/sweeps.md",
    "mapping.yaml": "docs/real-data.md",
}


def small_world(accounts: int) -> sim.World:
    return sim.simulate(
        sim.load_scenario("enterprise", overrides={"accounts": {"count": accounts}}), seed=7
    )


def write_raw_export(tables: dict[str, pd.DataFrame], mapping: Mapping, folder: Path) -> None:
    """The tables as a marketing-automation tool exports them, in the format ``mapping`` reads
    (its column and activity names and timestamp format), with emails as contact ids, system
    events and a duplicate row: ``raw_events.csv``, ``raw_contacts.csv``, ``raw_accounts.csv``."""
    ev = tables["events"]
    ev["timestamp"] = pd.to_datetime(ev["timestamp"]).dt.strftime(mapping.timestamp_format)
    ev["activity"] = ev["activity"].replace({v: k for k, v in mapping.events.activities.items()})
    system = ev.iloc[::40].assign(activity=mapping.events.ignore_activities[0])
    tables["events"] = pd.concat([ev, system, ev.iloc[:1]])
    for name, table in tables.items():
        if "contact_id" in table:
            ids = table["contact_id"]
            table["contact_id"] = ids.where(ids == "", ids.str.lower() + "@example.com")
        columns = getattr(mapping, name).columns  # qualsim name -> the export's column
        raw = table[list(columns)].rename(columns=columns)
        raw.to_csv(folder / f"raw_{name}.csv", index=False)


def make_reader_files(folder: Path) -> None:
    """The files the documents' examples assume a reader has, written to ``folder``."""
    # my_rule.yaml, my_scenario.yaml, sweep.yaml, mapping.yaml: as the documents show them.
    for name, doc in SHOWN_FILES.items():
        (folder / name).write_text(shown_file(doc, name), encoding="utf-8")
    # events.csv, contacts.csv, accounts.csv: a team's CRM export (with outcomes), here a
    # simulated enterprise world of 300 accounts written by sim.real.export_world: what
    # `qualsim evaluate`, `explain` and `calibrate` read.
    export_world(small_world(300), folder)
    # raw_events.csv, raw_contacts.csv, raw_accounts.csv: 60 accounts of such an export as a
    # marketing-automation tool writes it, for `qualsim import` with the mapping above.
    mapping = load_mapping(folder / "mapping.yaml")
    write_raw_export(export_tables(small_world(60)), mapping, folder)
    # benchmarks/ (the speed scripts, the regression suite and its baseline): a copy of the
    # repository's folder, as a reader of the repository has it (a copy, so that nothing a
    # document runs writes into the repository).
    shutil.copytree(ROOT / "benchmarks", folder / "benchmarks")


# -- running a document --------------------------------------------------------------------------


@dataclass
class DocumentRun:
    """A document's examples run in order, in its sandbox; each one's outcome kept."""

    document: Document
    sandbox: Path
    examples: list[Example] = field(init=False)
    outcomes: list[Exception | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.examples = list(self.document.examples())
        self.document.namespace["OLIST"] = olist_folder()

    @contextlib.contextmanager
    def inside(self) -> Iterator[None]:
        olist = olist_folder()
        env = {"QUALSIM_OLIST": olist} if olist else {}
        with contextlib.chdir(self.sandbox), mock.patch.dict(os.environ, env):
            yield

    def outcome(self, index: int) -> Exception | None:
        """Run the examples up to ``index`` (those not run yet); the outcome of ``index``."""
        while len(self.outcomes) <= index:
            example = self.examples[len(self.outcomes)]
            with self.inside():
                try:
                    example.evaluate()
                except Exception as exc:  # a SkipTest too: the block's test reports it
                    self.outcomes.append(exc)
                else:
                    self.outcomes.append(None)
        return self.outcomes[index]


def code_blocks(doc: str) -> list[tuple[int, int]]:
    """(index among the document's examples, line) of each code block."""
    return [(i, e.line) for i, e in enumerate(parse(doc).examples()) if is_code_block(e)]


@pytest.fixture(scope="session")
def reader_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reader-files")
    make_reader_files(folder)
    return folder


@pytest.fixture(scope="session")
def document_run(
    tmp_path_factory: pytest.TempPathFactory, reader_files: Path
) -> Callable[[str], DocumentRun]:
    runs: dict[str, DocumentRun] = {}

    def run(doc: str) -> DocumentRun:
        if doc not in runs:
            sandbox = tmp_path_factory.mktemp(doc.replace("/", "-"))
            shutil.copytree(reader_files, sandbox, dirs_exist_ok=True)
            runs[doc] = DocumentRun(parse(doc), sandbox)
        return runs[doc]

    return run


BLOCKS = [
    pytest.param(doc, i, id=f"{doc}:{line}", marks=[pytest.mark.slow] if doc in SLOW else [])
    for doc in DOCUMENTS
    for i, line in code_blocks(doc)
]


@pytest.mark.parametrize(("doc", "index"), BLOCKS)
def test_block(doc: str, index: int, document_run: Callable[[str], DocumentRun]) -> None:
    run = document_run(doc)
    for i in range(index):
        earlier = run.outcome(i)
        if earlier is not None and not isinstance(earlier, SkipTest):
            if is_code_block(run.examples[i]):  # its own test reports the failure
                pytest.skip(f"not run: the block at line {run.examples[i].line} failed")
            raise earlier  # a malformed skip directive
    exc = run.outcome(index)
    if isinstance(exc, SkipTest):
        pytest.skip(str(exc))
    if exc is not None:
        raise exc


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_every_code_block_runs(doc: str) -> None:
    """Every fenced block has an info string the harness runs: python, shell or yaml."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    fences = RawFencedCodeBlockLexer(re.compile(r"(?P<info>[^\n]*)\n"))(Document(text, doc))
    runs = {line for _, line in code_blocks(doc)}
    fenced = {text.count("\n", 0, r.start) + 1: r.lexemes["info"].strip() for r in fences}
    escaped = {line: info for line, info in fenced.items() if line not in runs}
    assert not escaped, f"{doc}: blocks that do not run (line: info string): {escaped}"


# -- the harness itself --------------------------------------------------------------------------


def test_shell_commands_are_read_as_a_shell_would() -> None:
    block = (
        "python3 -m venv .venv && . .venv/bin/activate && pip install . && qualsim run  # go\n"
        "qualsim evaluate --events e.csv \\\n    --policy mqa_count   # exit 1: why\n"
        'qualsim query runs "SELECT 1\n   FROM cells" > out.txt  # exit code 1 on an error\n'
    )
    lines = list(command_lines(block))
    assert [parts_to_run(line) for line in lines] == [
        [["qualsim", "run"]],
        [["qualsim", "evaluate", "--events", "e.csv", "--policy", "mqa_count"]],
        [["qualsim", "query", "runs", "SELECT 1\n   FROM cells", ">", "out.txt"]],
    ]
    assert [bool(EXIT_COMMENT.search(line)) for line in lines] == [False, True, False]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("extends: enterprise\naccounts: {count: 10}", "scenario"),
        ("name: x\nkind: mql\nthreshold: 1", "policy"),
        ("scenario: smb\npolicies: [{policy: mql_only}]", "sweep"),
        ("policies: [mql_only]\nscenarios: [{name: a}]", "suite"),
        ("timezone: UTC\nevents: {columns: {timestamp: When}}", "mapping"),
        ("policy: mql_only\ncases: []", "cases"),
        ("on: [push]\njobs: {a: {steps: []}}", "workflow"),
        ("accounts: 3\nwhatever: 1", "unknown"),
    ],
)
def test_yaml_blocks_are_told_apart_by_their_keys(text: str, kind: str) -> None:
    assert yaml_kind(yaml.safe_load(text)) == kind
