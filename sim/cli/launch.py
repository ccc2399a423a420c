"""A head start for the commands that load an export whole.

Before any command runs, the command line imports its machinery (typer, rich, pydantic, the
config loaders: about 0.25 s) and typer builds every command to parse the arguments (about
0.1 s more). ``evaluate`` and ``explain`` then import pandas, the policies and the reader
before the first byte of the events file is read. :func:`head_start` looks at the arguments
first, with nothing imported but pyarrow: for ``evaluate`` or ``explain`` with an
``--events`` Parquet file, it keeps freed memory for reuse (:mod:`sim.cli.memory`) and starts
reading the file on a thread (:func:`sim.real.formats.start_reading_events`; the reader takes
the table only for the same file, unchanged, and the same columns).

This look decides nothing: the command line parses the arguments as always, and when the look
finds nothing to start (another command, ``--help``, a CSV file, a file that is not there),
nothing is started.

When such a command is done, :func:`end_process` ends the console script's process without
tearing the interpreter down: with 10 million events loaded, Python spent 0.15-0.2 s freeing
objects and modules one by one after the output was written (0.21-0.27 s from the command's
end to the process's, against 0.06-0.1 s without), memory the operating system takes back at
once anyway.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

# The commands that load an events file whole, as typed after ``qualsim``.
READS_EVENTS = ("evaluate", "explain")


def events_file(args: Sequence[str]) -> str | None:
    """The ``--events`` file of a command that loads one whole, as the command line takes it
    (the last ``--events PATH`` or ``--events=PATH``), or None: another command, a request for
    help, or no such option."""
    if not args or args[0] not in READS_EVENTS or "--help" in args:
        return None
    return _option(args, "--events")


def _option(args: Sequence[str], name: str) -> str | None:
    """The value of the last ``name VALUE`` or ``name=VALUE`` in ``args``, or None."""
    found = None
    for at, arg in enumerate(args):
        if arg == name and at + 1 < len(args):
            found = args[at + 1]
        elif arg.startswith(name + "="):
            found = arg.split("=", 1)[1]
    return found


def head_start(args: Sequence[str]) -> None:
    """Start reading the events file of ``evaluate`` or ``explain`` before the command line
    imports (see the module docstring). numpy's BLAS gets one thread unless the environment
    says otherwise: these commands do no linear algebra, and the thread OpenBLAS starts when
    numpy imports spins for a while (1.5-2% of the CPU, ``perf``), competing with the read."""
    events = events_file(args)
    if events is not None:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        start_reading(events, _option(args, "--contacts"))


def start_reading(events, contacts=None) -> None:
    """Keep freed memory for reuse (:mod:`sim.cli.memory`) and start reading a Parquet events
    file on a thread (:func:`sim.real.formats.start_reading_events`; its contact ids encoded
    against the ``contacts`` file's). The commands call it too (for an app run without
    :func:`sim.cli.main`); a second call starts nothing."""
    from sim.cli.memory import reuse_freed_memory

    reuse_freed_memory()  # before numpy and Arrow start threads (see sim.cli.memory)
    from sim.real.formats import start_reading_events

    start_reading_events(events, contacts)


def end_process(code: object) -> NoReturn:
    """End the process with the exit ``code`` of a finished command (as ``sys.exit`` takes it:
    None is 0, text is printed and is 1), skipping the interpreter's teardown: the ``atexit``
    functions run and the standard streams are flushed as at a normal exit (output that cannot
    be written is said, and exits 120 as Python does), then ``os._exit``. Only for the console
    script's own process (:func:`sim.cli.main`), once the command has closed what it wrote;
    where the interpreter has no ``atexit._run_exitfuncs`` it exits normally."""
    if not isinstance(code, int | None):
        print(code, file=sys.stderr)
        code = 1
    run_exit_functions = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_functions is None:
        sys.exit(code)
    run_exit_functions()
    status = code or 0
    try:
        if sys.stdout is not None:  # None without a console (pythonw)
            sys.stdout.flush()
    except (OSError, ValueError) as exc:  # a full disk, a reader gone: as Python exits, 120
        status = status or 120
        with contextlib.suppress(OSError, ValueError, AttributeError):
            print(f"qualsim: could not write the output: {exc}", file=sys.stderr)
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.flush()
    os._exit(status)
