"""Laying out a table in the terminal's width (for :func:`sim.cli.base.table`): which columns
hold text, which text columns must repeat beside the row label so that every part of a split
table names its rows, how the columns split into parts, and where a long identifier may wrap
(only after a comma: ``a=1,b=2`` over two lines, never inside a name)."""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.console import Group
from rich.text import Text

#: a cell of a number column: digits and the signs, brackets and marks numbers come with
_NUMBER = re.compile(r"^[\s\d.,+\-−±>()/%\[\]]*$|^(nan|inf|-inf|true|false)$", re.IGNORECASE)


def is_text(cells: list[str]) -> bool:
    """Whether a column holds text (names, identifiers) rather than numbers: some cell is
    more than digits and the marks around numbers (left-aligned when printed)."""
    return any(not _NUMBER.match(c) for c in cells)


def key_columns(index: list[str], text: list[bool], body: list[list[str]]) -> list[int]:
    """The leading text columns that, with the row label, tell the rows apart (none when the
    labels alone do): printed in every part of a split table, so that no part's rows can be
    matched only by position."""
    keys: list[int] = []
    rows: list[tuple[str, ...]] = [(i,) for i in index]
    for j, is_t in enumerate(text):
        if len(set(rows)) == len(rows) or not is_t:
            break
        keys.append(j)
        rows = [(*r, line[j]) for r, line in zip(rows, body, strict=True)]
    return keys  # as many as help, even when the rows still repeat


def wrap_at_commas(cell: str, width: int) -> str | None:
    """``cell`` over lines of at most ``width`` cells, broken only after commas; None when a
    part between commas is itself wider (then no table can show it whole).

    >>> wrap_at_commas("a=1,b=22,c=3", 5)
    'a=1,\\nb=22,\\nc=3'
    >>> wrap_at_commas("abcdef", 5) is None
    True
    """
    if cell_len(cell) <= width:
        return cell
    parts = re.findall(r"[^,]*,|[^,]+$", cell)
    lines = [""]
    for p in parts:
        if cell_len(p) > width:
            return None
        if cell_len(lines[-1] + p) > width:
            lines.append("")
        lines[-1] += p
    return "\n".join(lines)


def width_of(header: str, cells: list[str]) -> int:
    """The width a column needs to show its header and every line of every cell."""
    return max([cell_len(header), *(cell_len(x) for c in cells for x in c.split("\n"))])


def column_chunks(index_width: int, widths: list[int], width: int) -> list[list[int]]:
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


def layout(
    head: str, index: list[str], cols: list[str], body: list[list[str]], width: int
) -> tuple[list[bool], list[int], list[list[int]], int] | None:
    """How a table fits in ``width``: which columns are text, the key columns every part
    repeats, the other columns split into parts, and the room a part's lone column has beside
    the index and keys (a number wider than it folds); text cells of ``body`` too wide are
    wrapped after commas in place. None when no table fits (print records)."""
    text = [is_text([r[j] for r in body]) for j in range(len(cols))]
    widths = [width_of(c, [r[j] for r in body]) for j, c in enumerate(cols)]
    fixed, keys = width_of(head, index), []
    chunks = column_chunks(fixed, widths, width)
    if len(chunks) > 1:
        keys = key_columns(index, text, body)
        rest = [j for j in range(len(cols)) if j not in keys]
        need = fixed + 7 + max([0, *(max(cell_len(cols[j]), min(widths[j], 24)) for j in rest)])
        if need + sum(widths[k] + 3 for k in keys) > width:  # the keys as narrow as they go
            for k in keys:
                narrow = max([cell_len(cols[k]), *(_widest_part(r[k]) for r in body)])
                _wrap(body, k, narrow)
                widths[k] = width_of(cols[k], [r[k] for r in body])
        fixed += sum(widths[k] + 3 for k in keys)
        parts = column_chunks(fixed, [widths[j] for j in rest], width)
        chunks = [[rest[j] for j in c] for c in parts]
    if (
        fixed + 7 + max([0, *(cell_len(cols[j]) for j in range(len(cols)) if j not in keys)])
        > width
    ):
        return None  # too narrow for any table
    room = width - fixed - 7
    for chunk in chunks:  # a lone text column wider than the room left: wrap after commas
        j = chunk[0] if len(chunk) == 1 else -1
        if j >= 0 and text[j] and widths[j] > room and not _wrap(body, j, room):
            return None  # numbers fold, names do not
    return text, keys, chunks, room


def _widest_part(cell: str) -> int:
    return max(cell_len(p) for p in re.findall(r"[^,]*,|[^,]+$", cell) or [""])


def _wrap(body: list[list[str]], j: int, room: int) -> bool:
    """Column ``j`` of ``body`` wrapped after commas to ``room``, in place; False (nothing
    changed) when some cell cannot be."""
    wrapped = [wrap_at_commas(r[j], room) for r in body]
    if any(w is None for w in wrapped):
        return False
    for r, w in zip(body, wrapped, strict=True):
        r[j] = w or ""
    return True


def records(
    title: str, head: str, index: list[str], cols: list[str], body, width: int = 80
) -> Group:
    """A table too wide for any layout as records: each row's index, then one line per column
    (``column: value``), a long value wrapped after its commas onto indented lines, never cut
    inside a name."""
    lines = [Text(title, style="bold")]
    for i, row in zip(index, body, strict=True):
        lines.append(Text(f"{head}: {i}" if head else i, style="cyan"))
        for c, v in zip(cols, row, strict=True):
            flat = v.replace("\n", "")
            room = max(width - 4, _widest_part(flat))
            wrapped = wrap_at_commas(flat, room) if cell_len(f"  {c}: {flat}") > width else None
            if wrapped is None:
                lines.append(Text(f"  {c}: {flat}"))
            else:
                lines += [Text(f"  {c}:"), *(Text(f"    {x}") for x in wrapped.split("\n"))]
    return Group(*lines)
