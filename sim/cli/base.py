"""What every command shares: the Typer app, the consoles, error handling, common options and
printing tables.

Command modules import the API they call inside the command (never at the top): ``qualsim
--help`` and a mistyped option must not pay for pandas, SciPy and the simulator.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import wraps
from numbers import Integral
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.cells import cell_len
from rich.console import Console, Group
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from sim.cli import tables
from sim.cli.plain import PlainCommand, PlainGroup
from sim.errors import QualsimError
from sim.world.names import PRESETS

if TYPE_CHECKING:
    import pandas as pd


app = typer.Typer(
    cls=PlainGroup,
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
        return app.command(name, cls=PlainCommand, **kwargs)(user_errors(fn))

    return deco


# -- options shared by several commands -------------------------------------------------------

ScenarioArg = Annotated[
    str, typer.Argument(help=f"a preset ({', '.join(PRESETS)}) or a scenario YAML file")
]
OptionalScenarioArg = Annotated[str, typer.Argument(help="a preset or a scenario YAML file")]
POLICY_HELP = "policy YAML file or shipped name"
PoliciesOpt = Annotated[
    list[str] | None,
    typer.Option("--policy", "-p", help=f"{POLICY_HELP} (repeat; default: the 6 shipped policies)"),
]
SeedOpt = Annotated[int, typer.Option("--seed", "-s", min=0, help="root random seed")]
ReplicationsOpt = Annotated[
    int,
    typer.Option(
        "--replications",
        "-r",
        min=1,
        help="simulated worlds per policy, or experiments for `experiment design` (at most "
        "100,000; the estimated memory must fit; 2 or more for a confidence interval)",
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
    typer.Option(
        "--out",
        "-o",
        help="folder to write every table to (optional; replaced as a whole; see --out-format)",
    ),
]
WorkersOpt = Annotated[
    int, typer.Option("--workers", "-w", min=0, help="processes (0: one per core)")
]
OutFormatOpt = Annotated[
    str,
    typer.Option("--out-format", metavar="csv|parquet", help="file format of --out"),
]
AllOpt = Annotated[bool, typer.Option("--all", help="print every metric or row")]
AllMetricsOpt = Annotated[bool, typer.Option("--all-metrics", hidden=True)]  # old --all
ReportOpt = Annotated[
    Path | None,
    typer.Option("--report", help="also write a self-contained HTML report to this file"),
]
ONE_REPLICATION = "warning: 1 replication: no confidence interval; run -r 2 or more"
FORMATS = ("table", "csv", "json", "markdown")
FormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        metavar="|".join(FORMATS),
        help="how tables are printed: table (fits the terminal), or csv, json, markdown "
        "(only the tables on stdout, notes on stderr)",
    ),
]
HorizonDaysOpt = Annotated[
    float,
    typer.Option(
        "--horizon-days",
        min=0,
        help="a handoff is true if an opportunity opens within this many days (or is open)",
    ),
]
ObjectiveOpt = Annotated[
    str,
    typer.Option(
        "--objective",
        help="metric to optimise: maximised, or minimised when lower is better (a metric "
        "with no better direction is refused)",
    ),
]
MaxHandoffsOpt = Annotated[
    float | None,
    typer.Option(
        "--max-handoffs-per-week",
        min=0,
        help="SDR capacity: the most queue-joining handoffs (all accounts) in a week "
        "(run, compare: the p90 week, default the scenario's capacity; recommend, report: "
        "the --capacity-quantile week)",
    ),
]
MinPrecisionOpt = Annotated[
    float | None, typer.Option("--min-precision", min=0, max=1, help="precision floor")
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
    (``formatted``), or cells printed as they are; text columns left-aligned, numbers right.
    Nothing is ever cut with an ellipsis, and no name is broken: when the columns do not fit in
    ``width`` (default: the terminal's), they are split over several tables that each repeat
    the index column, and the leading text columns too when the index alone does not tell the
    rows apart (``title (1/2)``, ...); a text cell too wide for the terminal wraps only after a
    comma; a table that cannot fit so is printed as records (see :mod:`sim.cli.tables`)."""
    cell = number if formatted else str
    fit = out.fit  # before the layout: a stand-in's width counts (see encodable)
    head = fit(df.index.name or "")
    index = [fit(i) for i in df.index]
    cols = [fit(c) for c in df.columns]
    body = [[fit(cell(v)) for v in row] for row in df.itertuples(index=False)]
    width = width if width is not None else out.width
    plan = tables.layout(head, index, cols, body, width)  # wraps text cells in body
    if plan is None:
        return tables.records(title, head, index, cols, body, width)
    text, keys, chunks, room = plan
    parts = []
    for k, chunk in enumerate(chunks):
        name = title if len(chunks) == 1 else f"{title} ({k + 1}/{len(chunks)})"
        t = Table(title=Text(clean(name)), title_justify="left", title_style="bold")
        # identifiers (the index, the keys, the headers) are never folded
        t.add_column(head, style="cyan", overflow="fold", min_width=tables.width_of(head, index))
        for j in [*keys, *chunk]:
            t.add_column(
                Text(cols[j]),
                justify="left" if text[j] else "right",
                overflow="fold",
                min_width=tables.width_of(cols[j], [r[j] for r in body] if text[j] else []),
                max_width=None if text[j] else max(room, cell_len(cols[j])),
                style="cyan" if j in keys else None,
            )
        for i, row in zip(index, body, strict=True):
            t.add_row(Text(i), *(Text(row[j]) for j in [*keys, *chunk]))
        parts.append(t)
    return parts[0] if len(parts) == 1 else Group(*parts)


def number(v: Any) -> str:
    """A value as text for reading, never in scientific notation: NaN as "-", whole numbers
    and anything from 100 up without decimals, thousands separated, smaller numbers with one
    or two decimals, tiny ones with two significant digits.

    >>> [number(x) for x in (3642000.0, 1234.56, 12.34, 0.4712, 0.00123, 7, float("nan"))]
    ['3,642,000', '1,235', '12.3', '0.47', '0.0012', '7', '-']
    """
    if isinstance(v, bool) or not isinstance(v, Integral | float):
        return str(v)
    if isinstance(v, Integral):
        return f"{int(v):,}"
    if math.isnan(v) or math.isinf(v):
        return "-" if math.isnan(v) else str(v)
    a = abs(v)
    if v.is_integer() or a >= 100:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 0.01:
        return f"{v:.2f}"
    return f"{v:.{1 - math.floor(math.log10(a))}f}"


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


def wrote(paths: list[Path] | Path, show: Any = None) -> None:
    """Say which files were written (on stderr when ``show``, a
    :class:`sim.cli.output.Printer`, prints a machine format)."""
    for p in paths if isinstance(paths, list) else [paths]:
        (show.echo if show is not None else echo)(f"wrote {p}")
