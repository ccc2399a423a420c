"""The exceptions qualsim raises for bad input; the CLI prints them as one paragraph, exit 2."""

from __future__ import annotations


class QualsimError(Exception):
    """Base of every error caused by the user's input (config, data, arguments)."""


class ConfigError(QualsimError):
    """A scenario or policy file is missing, unreadable or invalid.

    The message names the file, the line where known, the field path and what was expected.
    """


class DataError(QualsimError):
    """A data file (events, contacts, accounts) is malformed."""
