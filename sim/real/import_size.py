"""What ``qualsim import`` holds beyond its bounded chunks, estimated before a file starts.

An import streams each file in chunks of ``CHUNK_ROWS`` rows, so most of its memory does not
grow with the file. Two things do: the 64-bit hashes of the rows kept so far when a file drops
duplicate rows (``duplicates: drop``), and the ids seen so far in an accounts or opportunities
file (to refuse a repeated id). :func:`check_import_fits` estimates both from the file's row
count (Parquet: its metadata; CSV: its size over the mean length of the lines in its first
megabyte) and refuses, naming the estimate and the limit, a file they would not fit for.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from sim.limits import check_fits
from sim.real.formats import SUFFIXES
from sim.real.inputs import HEADER_BYTES

# The sorted row hashes (8 bytes a row) while a chunk's are merged in: the old array, the
# concatenated one and its sorted copy.
BYTES_PER_HASH = 24
# One id in the dict of ids seen: 124 bytes measured with tracemalloc for 1,000,000 ids of 12
# characters ("ACC-00000001") mapped to ints; rounded up.
BYTES_PER_ID = 128
ID_ROLES = ("accounts", "opportunities")


def estimated_rows(path: Path) -> int:
    """About how many rows ``path`` holds, without reading it all."""
    if SUFFIXES.get(path.suffix.lower()) == "parquet":
        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except Exception:  # unreadable: read_chunks says why
            return 0
    with open(path, "rb") as f:
        head = f.read(HEADER_BYTES)
    lines = head.count(b"\n")
    if lines == 0:
        return 0  # no line break: refused as no CSV header when it is read
    return int(path.stat().st_size / (len(head) / lines))


def import_memory(path: Path, role: str, drop_duplicates: bool) -> int:
    """Estimated bytes that grow with the file (see the module doc)."""
    per_row = (BYTES_PER_HASH if drop_duplicates else 0) + (BYTES_PER_ID if role in ID_ROLES else 0)
    return estimated_rows(path) * per_row


def check_import_fits(path: Path, role: str, drop_duplicates: bool) -> None:
    """Refuse (``sim.limits.LimitError``) a file whose growing state would not fit."""
    if not path.is_file() or SUFFIXES.get(path.suffix.lower()) is None:
        return  # read_chunks names the problem
    need = import_memory(path, role, drop_duplicates)
    what = "its row hashes (duplicates: drop)" if drop_duplicates else ""
    if role in ID_ROLES:
        what = f"{what} and its ids" if what else "its ids"
    check_fits(
        need,
        f"{path}: importing its {estimated_rows(path):,} rows (estimated) keeps {what} in "
        "memory; that",
        "split the export (by period or by account) and import each part",
    )
