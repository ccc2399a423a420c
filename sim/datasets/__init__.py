"""Public datasets as qualsim logs. Each dataset is a subpackage used by its name, e.g.

>>> from sim.datasets import olist
>>> olist.load_olist.__name__
'load_olist'

(``olist.load_olist(folder)``, ``olist.funnel_figures(...)``, ...). A dataset has no command
line of its own (the CLI calls its functions), ships no data (the user downloads it) and takes
its folder as an argument or from an environment variable.
"""

from __future__ import annotations

from sim.datasets import olist

__all__ = ["olist"]
