"""What every command shares: the Typer app, the consoles, error handling, common options and
printing tables.

Command modules import the API they call inside the command (never at the top): ``qualsim
--help`` and a mistyped option must not pay for pandas, SciPy and the simulator.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.cells import cell_len
from rich.console import Console, Group
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from sim.errors import QualsimError
from sim.world.presets import PRESETS

if TYPE_CHECKING:
    import pandas as pd

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    help="qualsim: test qualification rules (MQL, MQA, stages) on simulated buying journeys.",
)
# The help's groups of commands.
COMPARE = "Compare rules on simulated worlds"
WORLDS = "Scenarios and simulated worlds"
REAL = "Your own history"
CHECKS = "Checks for CI"
# Terminal control from user text (names, ids, titles, file names, messages): escape sequences
# (CSI, OSC / DCS / APC / PM / SOS strings, two-character ones), then C0 controls but newline
# and tab, DEL and C1 controls. Printed text never moves the cursor, retitles the window, etc.
_CONTROL = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI (ESC [ or the C1 byte) ... final byte
    r"|\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC, DCS, SOS, PM, APC
    r"|\x1b[ -/]*[0-~]?"  # other escape sequences (and a lone ESC)
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"  # C0 but newline and tab, DEL, C1
)


def clean(text: object) -> str:
    r"""``text`` as a string without terminal control: escape sequences, C0 controls (but
    newline and tab), DEL and C1 controls are removed.

    >>> clean("pol\x1b]0;owned\x07icy\x1b[2J \x9b31m\rname\n")
    'policy name\n'
    """
    return _CONTROL.sub("", str(text))


# ASCII stand-ins for the symbols qualsim prints, where the output's encoding lacks them.
_ASCII = {"↑": "(+)", "↓": "(-)", "±": "+/-", "→": "->", "×": "x", "—": "-", "–": "-"}


def encodable(text: str, encoding: str) -> str:
    """``text`` as an output of ``encoding`` can print it: unchanged when it can, else each
    character it lacks as its ASCII stand-in (``↑`` as ``(+)``, ``↓`` as ``(-)``, ``±`` as
    ``+/-``, ...) or ``?``.

    >>> encodable("Precision (share) ↑ 0.4 ±0.1", "ascii")
    'Precision (share) (+) 0.4 +/-0.1'
    >>> encodable("Queue wait (hours) ↓", "utf-8")
    'Queue wait (hours) ↓'
    """
    try:
        text.encode(encoding)
        return text
    except (UnicodeEncodeError, LookupError):
        pass
    return "".join(c if c.isascii() else _ASCII.get(c, "?") for c in text)


class SafeConsole(Console):
    """A rich console that prints no control characters from the text it is given (its own
    styles still colour a terminal): every segment of text goes through :func:`clean`, and
    through :func:`encodable` when the output cannot encode it (``PYTHONIOENCODING=ascii``)."""

    def render(self, renderable: Any, options: Any = None) -> Iterable[Segment]:
        for seg in super().render(renderable, options):
            yield seg if seg.control else Segment(self.fit(seg.text), seg.style)

    def fit(self, text: object) -> str:
        """``text`` cleaned (:func:`clean`) and printable in this console's encoding."""
        return encodable(clean(text), self.encoding)


def echo(text: object = "") -> None:
    """Print a line of plain text on stdout, without terminal control (:func:`clean`)."""
    typer.echo(clean(text))


out = SafeConsole()
err = SafeConsole(stderr=True)


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Print a QualsimError as one readable paragraph and exit 2 (no traceback)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except QualsimError as exc:
            err.print(Text.assemble(("error: ", "bold red"), clean(exc)), soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper


def command(name: str | None = None, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """Register a command on the app, with :func:`user_errors`."""

    def deco(fn: Callable[..., Any]) -> Any:
        return app.command(name, **kwargs)(user_errors(fn))

    return deco


# -- options shared by several commands -------------------------------------------------------

ScenarioArg = Annotated[
    str, typer.Argument(help=f"a preset ({', '.join(PRESETS)}) or a scenario YAML file")
]
OptionalScenarioArg = Annotated[str, typer.Argument(help="a preset or a scenario YAML file")]
PoliciesOpt = Annotated[
    list[str] | None,
    typer.Option("--policy", "-p", help="policy YAML or shipped name (repeat; default: all 6)"),
]
SeedOpt = Annotated[int, typer.Option("--seed", "-s", min=0, help="root random seed")]
ReplicationsOpt = Annotated[
    int,
    typer.Option(
        "--replications",
        "-r",
        min=1,
        help="simulated worlds per policy (at most 100,000; the estimated memory must fit)",
    ),
]
BaselineOpt = Annotated[
    str | None,
    typer.Option(
        "--baseline",
        "-b",
        help="policy the others are compared with, paired (default: mql_scored or mql_only)",
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="write tidy, summary and paired tables to this folder"),
]
WorkersOpt = Annotated[
    int, typer.Option("--workers", "-w", min=0, help="processes (0: one per core)")
]
FormatOpt = Annotated[str, typer.Option("--format", help="csv or parquet (with --out)")]
AllOpt = Annotated[bool, typer.Option("--all-metrics", help="print every metric")]
ReportOpt = Annotated[
    Path | None, typer.Option("--report", help="also write a self-contained HTML report")
]
RawCsvOpt = Annotated[
    bool,
    typer.Option(
        "--raw-csv",
        help="write CSV cells as they are: by default a text cell starting with =, +, -, @, "
        "tab or CR gets a leading ' so that a spreadsheet does not run it as a formula",
    ),
]


# -- printing ---------------------------------------------------------------------------------


def table(
    df: pd.DataFrame, title: str, formatted: bool = True, width: int | None = None
) -> Table | Group:
    """A rich table of ``df``: its index in the first column; numbers formatted for reading
    (``formatted``), or cells printed as they are. Nothing is ever cut with an ellipsis: when
    the columns do not fit in ``width`` (default: the terminal's), they are split over several
    tables that each repeat the index column (``title (1/2)``, ...), and a cell still too wide
    for its column folds onto further lines."""
    cell = number if formatted else str
    fit = out.fit  # before the layout: a stand-in's width counts (see encodable)
    head = fit(df.index.name or "")
    index = [fit(i) for i in df.index]
    cols = [fit(c) for c in df.columns]
    body = [[fit(cell(v)) for v in row] for row in df.itertuples(index=False)]
    width = width if width is not None else out.width
    if _width(head, index) + 7 + max([0, *(cell_len(c) for c in cols)]) > width:
        return _records(title, head, index, cols, body)  # too narrow for any table
    chunks = _column_chunks(
        _width(head, index), [_width(c, [r[j] for r in body]) for j, c in enumerate(cols)], width
    )
    parts = []
    for k, chunk in enumerate(chunks):
        name = title if len(chunks) == 1 else f"{title} ({k + 1}/{len(chunks)})"
        t = Table(title=Text(clean(name)), title_justify="left", title_style="bold")
        # identifiers (the index, the headers) are never folded; long cells may be
        t.add_column(head, style="cyan", overflow="fold", min_width=_width(head, index))
        for j in chunk:
            t.add_column(
                Text(cols[j]), justify="right", overflow="fold", min_width=cell_len(cols[j])
            )
        for i, row in zip(index, body, strict=True):
            t.add_row(Text(i), *(Text(row[j]) for j in chunk))
        parts.append(t)
    return parts[0] if len(parts) == 1 else Group(*parts)


def _records(title: str, head: str, index: list[str], cols: list[str], body) -> Group:
    """A table too wide for any layout as records: each row's index, then one line per column
    (``column: value``), wrapped by the terminal, never cut."""
    lines = [Text(title, style="bold")]
    for i, row in zip(index, body, strict=True):
        lines.append(Text(f"{head}: {i}" if head else i, style="cyan"))
        lines += [Text(f"  {c}: {v}") for c, v in zip(cols, row, strict=True)]
    return Group(*lines)


def _width(header: str, cells: list[str]) -> int:
    """The width a column needs to show its header and every cell on one line."""
    return max([cell_len(header), *(cell_len(c) for c in cells)])


def _column_chunks(index_width: int, widths: list[int], width: int) -> list[list[int]]:
    """The columns split, in order, into runs that each fit in ``width`` beside the index
    column (a rich table with borders: each column takes its width plus 3). At least one
    column per run."""
    chunks: list[list[int]] = [[]]
    used = index_width + 4
    for j, w in enumerate(widths):
        if chunks[-1] and used + w + 3 > width:
            chunks.append([])
            used = index_width + 4
        chunks[-1].append(j)
        used += w + 3
    return chunks


def number(v: Any) -> str:
    """A value as text: NaN as "-", small shares with 3 decimals, thousands separated."""
    if isinstance(v, float):
        if v != v:  # NaN
            return "-"
        if abs(v) < 1 and v != 0:
            return f"{v:.3f}"
        return f"{v:,.1f}" if not float(v).is_integer() else f"{int(v):,}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


@contextmanager
def progress_bar(description: str, total: int | None, transient: bool = False) -> Iterator[Any]:
    """A progress bar on stderr (only when it is a terminal): yields ``update(done, total)``."""
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=transient,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task(description, total=total)

        def update(done: int, new_total: int | None = None) -> None:
            bar.update(task, completed=done, total=new_total if new_total is not None else total)

        yield update


class Timer:
    """Seconds since it was made (``Timer().seconds``)."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start


def wrote(paths: list[Path] | Path) -> None:
    """Say which files were written."""
    for p in paths if isinstance(paths, list) else [paths]:
        echo(f"wrote {p}")
