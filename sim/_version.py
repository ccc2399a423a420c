"""The installed qualsim's version, for ``sim.__version__``: reading it needs
``importlib.metadata`` (about 35 ms to import), so the package resolves it on first use and
``import sim`` stays cheap for the command line (:mod:`sim.cli.launch` starts reading an
events file before anything else imports)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("qualsim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
