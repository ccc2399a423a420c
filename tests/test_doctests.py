"""The examples in the package's docstrings run (on the installed package, like the tests)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import policies
import sim

MODULES = sorted(
    m.name
    for pkg in (sim, policies)
    for m in pkgutil.walk_packages(pkg.__path__, prefix=f"{pkg.__name__}.")
)


@pytest.mark.parametrize("name", ["sim", "policies", *MODULES])
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest failures in {name}"
