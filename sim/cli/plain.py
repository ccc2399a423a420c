"""Help without Python types: typer prints each parameter's Python type (``<bool>``, ``<int
range>``, ``<list[str]>``); qualsim's help shows a flag as a flag and a value as a click-style
word (``INTEGER``, ``NUMBER``, ``PATH``, ``TEXT``) instead, and an argument's placeholder in the
usage line in capitals (``RUN_DIR``)."""

from __future__ import annotations

from typing import Any, get_args, get_origin

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

_TYPE_WORDS = {"int": "INTEGER", "float": "NUMBER", "Path": "PATH", "str": "TEXT"}


def _type_word(param: TyperOption | TyperArgument) -> str | None:
    """The word shown for a parameter's value (None for a flag)."""
    if isinstance(param, TyperOption) and (param.is_flag or param.count):
        return None
    if param.metavar is not None and isinstance(param, TyperOption):
        return param.metavar
    desc = param.type_descriptor
    if desc.is_choice:
        return "|".join(str(c) for c in desc.choices or ())
    if desc.is_path:
        return "PATH"
    kind = desc.annotation
    args = get_args(kind)
    if get_origin(kind) is list and len(args) == 1:  # a repeated option: the word of one
        kind = args[0]
    return _TYPE_WORDS.get(getattr(kind, "__name__", ""), "TEXT")


class _PlainOption(TyperOption):
    def display_type_rich(self, ctx: Any) -> str | None:
        return _type_word(self)


class _PlainArgument(TyperArgument):
    def display_type_rich(self, ctx: Any) -> str | None:
        return _type_word(self)

    def _usage_display_name(self) -> str:
        """The usage line's placeholder in capitals, as click writes it: ``RUN_DIR``,
        ``[OUT]``, ``POLICIES...`` (typer writes ``{run_dir}``, which reads like a set)."""
        name = (self.metavar or self.display_name_raw).upper()
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")


def _plain(params: list[Any]) -> list[Any]:
    """``params`` shown with :func:`_type_word` (their classes swapped for subclasses that
    only change how the help shows the type). A typer built on click (no ``type_descriptor``)
    already shows click's words: nothing to do."""
    for p in params:
        if not hasattr(p, "type_descriptor"):
            continue
        if type(p) is TyperOption:
            p.__class__ = _PlainOption
        elif type(p) is TyperArgument:
            p.__class__ = _PlainArgument
    return params


class PlainCommand(TyperCommand):
    """A command whose help shows no Python types (every qualsim command is one)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain(super().get_params(ctx))


class PlainGroup(TyperGroup):
    """A group whose help shows no Python types."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain(super().get_params(ctx))
