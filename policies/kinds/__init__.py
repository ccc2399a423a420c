"""The built-in policy kinds, one module each; importing this package registers them in
:mod:`policies.registry` (the same door a plug-in goes through)."""

from __future__ import annotations

from policies.kinds import combinators, mqa, mql, stages, titles

BUILTIN = {
    k.name: k.schema
    for k in (mqa.KIND, mql.KIND, titles.KIND, stages.KIND, combinators.ANY, combinators.ALL)
}

__all__ = ["BUILTIN"]
