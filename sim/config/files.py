"""Reading config files safely, and resolving the references one config file makes to another.

Config files are untrusted (policy files arrive through pull requests; CI runs the gate on
them), so every config read goes through :func:`read_config_text` and every reference through
:func:`resolve_reference`:

* **Only regular files, and small ones.** ``/dev/zero``, a FIFO or a directory is refused
  before anything is read, and so is a file larger than :data:`MAX_CONFIG_BYTES` (1 MiB, far
  more than any config needs); at most that many bytes are ever read.
* **References stay in the referencing file's folder tree.** ``extends:``, a combinator's
  members, a sweep's ``scenario:`` and policies, a suite's policies and scenarios, a test
  file's ``policy:`` resolve relative to the folder of the file that names them, and must stay
  in it: no absolute paths, no ``..``, no symlink that leads out. The one allow-list is the
  shipped presets and policies, by name (``enterprise``, ``mqa_count``).

>>> resolve_reference("/etc/shadow", Path("team"))
Traceback (most recent call last):
...
sim.errors.ConfigError: '/etc/shadow' is an absolute path; a config file may reference ...
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from sim.errors import ConfigError

__all__ = [
    "MAX_CONFIG_BYTES",
    "read_config_bytes",
    "read_config_text",
    "real_path",
    "resolve_reference",
]

MAX_CONFIG_BYTES = 1 << 20
"""The largest config file qualsim reads (1 MiB): the shipped presets are under 20 KB."""

_RULE = (
    "a config file may reference only files in its own folder or below it, or shipped names "
    "(see SECURITY.md)"
)


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    kinds = [
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def read_config_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a config file: a regular file of at most :data:`MAX_CONFIG_BYTES`.

    Raises ConfigError naming the path: not found, not a regular file (a directory, a pipe, a
    device such as ``/dev/zero``), too large, or unreadable. Opening never blocks on a FIFO.

    >>> read_config_bytes("/dev/zero")
    Traceback (most recent call last):
    ...
    sim.errors.ConfigError: /dev/zero: cannot read a config file from a character device; ...
    """
    source = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError as exc:
        raise ConfigError(f"{source}: file not found") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"{source}: cannot read file: it is a directory") from exc
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read file: {exc.strerror or exc}") from exc
    except ValueError as exc:  # a NUL byte in the path
        raise ConfigError(f"{source!r}: not a file name ({exc})") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(
                f"{source}: cannot read a config file from {_kind(st.st_mode)}; "
                "a config file must be a regular file"
            )
        if st.st_size > MAX_CONFIG_BYTES:
            raise _too_large(source, st.st_size)
        with os.fdopen(os.dup(fd), "rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read file: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if len(raw) > MAX_CONFIG_BYTES:  # it grew while we looked
        raise _too_large(source, len(raw))
    return raw


def _too_large(source: str, size: int) -> ConfigError:
    return ConfigError(
        f"{source}: {size:,} bytes is far larger than any config file "
        f"(at most {MAX_CONFIG_BYTES:,} bytes, 1 MiB)"
    )


def read_config_text(path: str | os.PathLike[str]) -> str:
    """The text of a config file (UTF-8), read as :func:`read_config_bytes` reads it.

    Text that is not UTF-8 raises ConfigError with the line and offset of the first bad byte.
    """
    raw = read_config_bytes(path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}:{line}: file is not valid UTF-8 text "
            f"(byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from exc


def resolve_reference(ref: str, folder: Path, names: Mapping[str, Path] | None = None) -> Path:
    """The file a config file in ``folder`` means by ``ref``: a shipped name from ``names``, or
    a path relative to ``folder`` that stays inside it.

    Refuses (ConfigError, without any prefix: callers add the file, line and field path) an
    empty reference, an absolute path, a path with ``..`` and a path whose real location
    (symlinks followed) is outside ``folder``. The file need not exist: callers say "not found".

    >>> resolve_reference("rules/mqa.yaml", Path("team"))
    PosixPath('team/rules/mqa.yaml')
    >>> resolve_reference("../base.yaml", Path("team"))
    Traceback (most recent call last):
    ...
    sim.errors.ConfigError: '../base.yaml' goes up with '..'; a config file may reference ...
    """
    if names and ref in names:
        return names[ref]
    p = Path(ref)
    if not ref.strip():
        raise ConfigError(f"an empty reference; {_RULE}")
    if any(ord(c) < 32 or ord(c) == 127 for c in ref):
        raise ConfigError(f"{ref!r} contains a control character; expected a file name")
    if p.is_absolute() or ref.startswith(("/", "\\")) or p.drive:
        raise ConfigError(f"{ref!r} is an absolute path; {_RULE}")
    if ".." in p.parts or ".." in ref.replace("\\", "/").split("/"):
        raise ConfigError(f"{ref!r} goes up with '..'; {_RULE}")
    target = folder / p
    if not real_path(target).is_relative_to(real_path(folder)):
        raise ConfigError(f"{ref!r} is a symlink that leads out of {folder}; {_RULE}")
    return target


def real_path(path: Path) -> Path:
    """``path`` with every symlink followed; ConfigError for a symlink loop (Python 3.11's
    ``Path.resolve`` raises RuntimeError there)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:
        raise ConfigError(f"{path}: cannot follow its symlinks ({exc})") from None
