"""File formats of a team's export, with pyarrow alone (no pandas): which suffix is which kind,
the events file's columns, the memory loading a file takes, reading a Parquet file — and
starting that read on a thread while the rest of qualsim imports.

``qualsim evaluate`` and ``explain`` spend about 0.6 s importing the command line, pandas, the
policies and the reader before the first byte of the export is read, and Arrow reads Parquet
outside the GIL on its own threads. :func:`start_reading_events` begins reading a Parquet
events file exactly as :func:`read_parquet` will (the same columns, the same ones
dictionary-encoded, the long ones that Parquet reads as plain text encoded by Arrow on two
threads right after) before the command line imports (:mod:`sim.cli.launch`; once per file: the
command's own call then starts nothing); :class:`sim.real.sources.Source` takes the table
(:func:`take_read`) when the same file, unchanged, is read for the same columns. Anything else
— not Parquet, not a file, too big for the memory available, changed since, a read that failed
— leaves the file to the normal path, which reads it and reports on it as always.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from sim import limits

# File suffix -> how the file is read.
SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}

EVENT_COLUMNS = ("timestamp", "account_id", "contact_id", "activity")
EVENT_OPTIONAL = ("channel", "campaign")

# Loading an export whole takes at most about this many bytes of memory per byte of file, by
# kind (measured by benchmarks/speed/bench_real.py, peak of a whole `qualsim evaluate` over the
# input's size: 3.8x for 10 M events in a 694 MiB CSV file, 9.8x for 1 M events and 1 M
# contacts in 101 MB of CSV with all shipped rules, 12.4x for the 10 M events as a 125 MiB
# Parquet file; since the events file stays in Arrow, 3.2x and 9.3-10.3x for the 10 M events;
# ids and names are held dictionary-encoded, never a Python string per row).
MEMORY_PER_FILE_BYTE = {"csv": 10, "parquet": 20}


def available_memory() -> int | None:
    """Bytes of memory this process may still use (``sim.limits.memory_limit``: the tightest of
    cgroup, rlimit and MemAvailable), or None if unknown."""
    limit = limits.memory_limit()
    return None if limit is None else limit.bytes


def _fits(size: int, kind: str) -> bool:
    """Would loading a file of ``size`` bytes of ``kind`` fit in the memory available?"""
    have = available_memory()
    return have is None or size * MEMORY_PER_FILE_BYTE[kind] <= have


def read_parquet(
    path: Path, known: Sequence[str] | None, ids: Callable[[], pa.Array | None] | None = None
) -> tuple[pa.Table, list[str]]:
    """A Parquet file and its (stripped) column names. With ``known`` (the events file), only
    those columns are read, and its text columns other than ``timestamp`` whose values repeat
    (:func:`_repeated`) dictionary-encoded: Parquet builds the dictionary of a column a
    writer stored in dictionary pages fast (each row group's distinct values once, see
    :func:`sim.real.conversions.arrow_keys`), and hashes every value of plain pages (then
    Arrow's own encoding of the text, right after the read, is faster: :func:`encode_text`;
    ``ids``, asked once the file is read, may give the contacts file's ids to encode the
    ``contact_id`` column against)."""
    file = pq.ParquetFile(path)
    names = [str(f.name) for f in file.schema_arrow]
    found = [n.strip() for n in names]
    if known is None:
        return file.read(), found
    wanted = [n for n in names if n.strip() in known]
    text = [
        f.name
        for f in file.schema_arrow
        if f.name in wanted
        and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
        and f.name.strip() != "timestamp"
    ]
    repeated = _repeated(path, text)
    # ParquetFile, not pq.read_table: that goes through pyarrow.dataset, 0.2 s more to import
    table = pq.ParquetFile(path, read_dictionary=repeated).read(columns=wanted)
    plain = [c for c in text if c not in repeated]
    table = encode_text(table, plain, ids() if ids is not None and plain else None)
    return table.rename_columns([n.strip() for n in table.column_names]), found


def encode_text(table: pa.Table, columns: Sequence[str], ids: pa.Array | None = None) -> pa.Table:
    """The table with its long ``columns`` (text, at least ``SPLIT_ROWS`` rows) dictionary-
    encoded by Arrow in two halves on two threads (:func:`encode_halves`; the ``contact_id``
    column against the contacts' ``ids`` when given), as the events reader would encode them
    anyway: done by the thread that read the file, so that with the head start the hashing of
    the contact ids overlaps the command line's imports, and the text itself is let go sooner
    (less memory at the peak)."""
    at = [i for i, name in enumerate(table.column_names) if name in columns]
    if not at:
        return table
    with ThreadPoolExecutor(2, thread_name_prefix="qualsim-encode") as pool:
        started = {
            i: encode_halves(
                table.column(i), pool, ids if table.field(i).name.strip() == "contact_id" else None
            )
            for i in at
        }
        for i, encoded in started.items():
            table = table.set_column(i, table.field(i).name, encoded())
    return table


def encode_halves(
    col: pa.ChunkedArray, pool: Executor, known: pa.Array | None = None
) -> Callable[[], pa.ChunkedArray]:
    """Start dictionary-encoding a long text column in two halves on ``pool`` (Arrow releases
    the GIL: two threads hash at once); returns a call that waits and gives the column with
    the two halves' chunks, each half with its own dictionary
    (:func:`sim.real.conversions.arrow_key_table` merges them, hashing only the dictionaries).
    With ``known`` values (the contacts' ids) each half is encoded against them instead
    (:func:`encode_known`). Another column (short, typed, or already a dictionary) is given
    back as it is."""
    if not long_text(col):
        return lambda: col
    half = len(col) // 2
    values = _usable(known, col.type)
    encode = pc.dictionary_encode if values is None else partial(encode_known, known=values)
    parts = [pool.submit(encode, part) for part in (col[:half], col[half:])]
    return lambda: pa.chunked_array([c for p in parts for c in p.result().chunks])


def long_text(col: pa.ChunkedArray) -> bool:
    """Is the column plain text of at least ``SPLIT_ROWS`` rows (what :func:`encode_halves`
    encodes)?"""
    text = pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
    return text and len(col) >= SPLIT_ROWS


def encode_known(col: pa.ChunkedArray, known: pa.Array) -> pa.ChunkedArray:
    """``col`` dictionary-encoded against ``known`` (values of the column's type, no null; a
    value twice is harmless): the column's own values row by row, in other codes. When every
    value is known, each chunk's dictionary is ``known`` itself (no copy; one dictionary for
    :func:`sim.real.conversions.arrow_key_table` to read); otherwise the column is one chunk
    whose dictionary is ``known`` followed by the distinct values it lacks (as
    :func:`pyarrow.compute.dictionary_encode` gives them, hashed once for the whole column).
    Nulls stay null. Faster than ``dictionary_encode`` when most values are known: one lookup
    per row in a set of fixed size instead of inserting into a growing one."""
    found = pc.index_in(col, value_set=known)  # one lookup set; nulls where not found
    kind = pa.dictionary(pa.int32(), col.type)
    if found.null_count == col.null_count:  # null where the column is, so every value known
        return pa.chunked_array(
            [pa.DictionaryArray.from_arrays(c, known) for c in found.chunks], kind
        )
    missing = pc.and_(pc.is_null(found), pc.is_valid(col))
    rest = pc.dictionary_encode(col.filter(missing).combine_chunks())
    codes = found.fill_null(0).to_numpy()
    codes = codes if codes.flags.writeable else codes.copy()  # one chunk: Arrow's own buffer
    codes[missing.to_numpy()] = len(known) + rest.indices.to_numpy()
    null = col.is_null().to_numpy() if col.null_count else None
    values = pa.concat_arrays([known, rest.dictionary])
    return pa.chunked_array(
        [pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32(), mask=null), values)], kind
    )


def _usable(known: pa.Array | None, kind: pa.DataType) -> pa.Array | None:
    """``known`` as values of type ``kind`` without nulls, and "" (an anonymous touch's id),
    or None (none to use)."""
    if known is None or len(known) == 0:
        return None
    try:
        return pa.concat_arrays([pc.drop_null(known).cast(kind), pa.array([""], kind)])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None


# Rows from which :func:`encode_halves` splits a column (below, one thread is as fast).
SPLIT_ROWS = 1 << 20


# A text column whose first row group has at most this share of distinct values is read
# dictionary-encoded by Parquet (fast when the writer kept its dictionary pages); one with more
# (a writer falls back to plain pages for a big dictionary) is read as text and encoded by Arrow.
_REPEATED_SHARE = 0.05


def _repeated(path: Path, text: list[str]) -> list[str]:
    """The text columns whose values repeat (see ``_REPEATED_SHARE``), judged by the number of
    distinct values in each column's first row group. A writer that kept its dictionary pages
    stored exactly those values in the row group's dictionary page, which the first few rows
    read dictionary-encoded bring (no need to read the row group). That page is only a lower
    bound where the writer fell back to plain pages when its dictionary outgrew its limit
    (1 MiB by default): a page too big to be sure of, or no dictionary page, is counted from
    the row group. See :func:`repeated_reference`."""
    file = pq.ParquetFile(path, read_dictionary=text)
    if not text or file.metadata.num_row_groups == 0:
        return []
    group = file.metadata.row_group(0)
    rows = max(group.num_rows, 1)
    paged = {
        group.column(i).path_in_schema
        for i in range(group.num_columns)
        if group.column(i).has_dictionary_page
    }
    first = next(file.iter_batches(batch_size=_FIRST_ROWS, row_groups=[0], columns=text), None)
    distinct = {}
    for c in text:
        col = first.column(c) if first is not None and c in paged else None
        page = col.dictionary if col is not None and pa.types.is_dictionary(col.type) else None
        if page is not None and (len(page) > rows * _REPEATED_SHARE or _small(page)):
            distinct[c] = len(page)  # too many already, or all there are
    rest = [c for c in text if c not in distinct]
    if rest:  # counted from the row group, read dictionary-encoded (Parquet hashes plain pages)
        whole = file.read_row_group(0, columns=rest)
        distinct.update({c: sum(len(p.dictionary) for p in whole.column(c).chunks) for c in rest})
    return [c for c in text if distinct[c] <= rows * _REPEATED_SHARE]


# Rows read to see a row group's dictionary pages.
_FIRST_ROWS = 1024
# A dictionary page with fewer bytes of text than this is a whole dictionary: writers fall back
# to plain pages only when it grows past their limit (1 MiB in parquet-cpp and parquet-java).
_WHOLE_DICTIONARY_BYTES = 256 << 10


def _small(page: pa.Array) -> bool:
    return page.buffers()[2] is None or page.buffers()[2].size < _WHOLE_DICTIONARY_BYTES


# Reads started by start_reading_events: (file, size, modification time, columns) -> the read.
_STARTED: dict[tuple, Future] = {}


def _key(path: Path, known: Sequence[str]) -> tuple | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns, tuple(known))


def start_reading_events(path, contacts=None) -> None:
    """Start reading a Parquet events file on a thread (see the module docstring), its
    contact ids encoded against those of the ``contacts`` file when it is given and Arrow reads
    it (:func:`contact_ids`, read on a second thread meanwhile); nothing for another file, or
    one that would not fit in the memory available."""
    path = Path(path)
    if SUFFIXES.get(path.suffix.lower()) != "parquet" or not path.is_file():
        return
    known = (*EVENT_COLUMNS, *EVENT_OPTIONAL)
    key = _key(path, known)
    if key is None or key in _STARTED or not _fits(key[1], "parquet"):
        return
    pool = ThreadPoolExecutor(2, thread_name_prefix="qualsim-read")
    ids = pool.submit(contact_ids, Path(contacts)).result if contacts is not None else None
    _STARTED[key] = pool.submit(read_parquet, path, known, ids)
    pool.shutdown(wait=False)  # its threads end with the reads


def contact_ids(path: Path) -> pa.Array | None:
    """The ``contact_id`` column of a contacts file as written (text), read by Arrow alone,
    or None when it cannot be read so (not a regular file, too big for the memory available,
    not CSV or Parquet, no such column, not text). Only a hint for encoding the events'
    contact ids (:func:`encode_known`: values it lacks are encoded as they come), never the
    contacts the reader checks and uses."""
    try:
        kind = SUFFIXES.get(path.suffix.lower())
        if not path.is_file() or kind is None:  # a pipe, a folder: the reader reports it
            return None
        if not _fits(path.stat().st_size, kind):
            return None
        if kind == "parquet":
            file = pq.ParquetFile(path)
            name = next((f.name for f in file.schema_arrow if f.name.strip() == "contact_id"), "")
            col = file.read(columns=[name]).column(0) if name else None
        else:
            table = read_csv_arrow(path, "contact_id")
            col = table.column(0) if table is not None else None
    except Exception:  # any file Arrow cannot read: no hint
        return None
    if col is None or not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        return None
    return col.combine_chunks()


def csv_header(path: Path) -> list[str] | None:
    """The header's column names as pandas would read them, or None where Arrow's reading
    could differ from pandas' (no header, empty or repeated names)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            for rec in csv.reader(fh):
                if not rec or (len(rec) == 1 and not rec[0].strip()):
                    continue
                names = [c.strip() for c in rec]
                ok = all(names) and len(set(rec)) == len(rec)
                return rec if ok else None
    except (UnicodeDecodeError, csv.Error):
        return None
    return None


def read_csv_arrow(path: Path, only: str | None = None) -> pa.Table | None:
    """A CSV file read by Arrow, every column as text (with ``only``, the one column whose
    stripped name it is), or None when Arrow cannot read it exactly as pandas would (then
    ``pd.read_csv`` reads it, and gives its own message for a bad file) or has no such
    column."""
    header = csv_header(path)
    names = [n for n in header or [] if only is None or n.strip() == only]
    if not names:
        return None
    try:
        return pacsv.read_csv(
            path,
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                include_columns=names if only is not None else [],  # []: every one
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return None


def take_read(path: Path, known: Sequence[str]) -> tuple[pa.Table, list[str]] | None:
    """The table :func:`start_reading_events` read of ``path`` for the columns ``known``, if
    it did and the file has not changed since (else None: read it)."""
    key = _key(path, known)
    started = _STARTED.pop(key, None) if key is not None else None
    if started is None:
        return None
    try:
        return started.result()
    except Exception:  # the normal read reports on the file
        return None
