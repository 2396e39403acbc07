"""Command-line options built from a config dataclass, so that each default is written once.

`add_config_arguments` adds ``--field-name`` for every field of a dataclass: its type, its default
and its help text (the field's ``metadata["help"]``, else the comment on the field's line or the
comment lines right above it) come from the class. `config_from_args` builds the dataclass back
from the parsed arguments.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import io
import tokenize
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any


def field_comments(cls: type) -> dict[str, str]:
    """{field name: its comment} read from the class's source; empty when the source is unavailable."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    names = {f.name for f in dataclasses.fields(cls)}
    comments: dict[str, list[str]] = {}
    above: list[str] = []  # comment lines waiting for the next field
    current = None  # the field whose statement the tokens belong to
    line_tokens: list[tokenize.TokenInfo] = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.NL, tokenize.NEWLINE):
            if len(line_tokens) >= 2 and line_tokens[0].type == tokenize.NAME and line_tokens[1].string == ":":
                if line_tokens[0].string in names and line_tokens[0].start[1] > 0:
                    current = line_tokens[0].string
                    comments[current] = above
                    above = []
            code = [t for t in line_tokens if t.type not in (tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT)]
            for t in line_tokens:
                if t.type == tokenize.COMMENT:
                    text = t.string.lstrip("#").strip()
                    if code and current is not None:
                        comments[current].append(text)
                    elif not code:
                        above.append(text)
            if token.type == tokenize.NEWLINE:  # the end of a statement, which may span lines
                current = None
            line_tokens = []
        elif token.type not in (tokenize.INDENT, tokenize.DEDENT):
            line_tokens.append(token)
    return {name: " ".join(lines) for name, lines in comments.items() if lines}


def _plain_type(hint: Any) -> tuple[type, bool]:
    """(the type argparse converts to, whether None is allowed) of a field's type hint."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"cannot make an option of type {hint}")
        return args[0], True
    return hint, False


def option_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_config_arguments(
    parser: argparse.ArgumentParser,
    cls: type,
    *,
    choices: Mapping[str, Iterable] | None = None,
    skip: Iterable[str] = (),
    help_extra: Mapping[str, str] | None = None,
) -> list[str]:
    """Add an option for each field of dataclass ``cls`` (but ``skip``); returns their dest names.

    Types int, float and str take a value (``X | None`` also, default None); a bool becomes
    ``--name``/``--no-name``; a field without default is required. ``choices`` restricts the
    values of some fields; ``help_extra`` appends a sentence to a field's help. Fields of other
    types (nested configs, tuples) must be skipped.
    """
    choices, help_extra, skip = dict(choices or {}), dict(help_extra or {}), set(skip)
    hints = typing.get_type_hints(cls)
    comments = field_comments(cls)
    dests = []
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        kind, optional = _plain_type(hints[f.name])
        if kind not in (int, float, str, bool):
            raise TypeError(f"{cls.__name__}.{f.name}: no option for type {hints[f.name]}; skip it")
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        text = " ".join(s for s in (f.metadata.get("help") or comments.get(f.name, ""), help_extra.get(f.name)) if s)
        text = text.replace("%", "%%")  # argparse formats help with %
        options: dict[str, Any] = {"dest": f.name, "help": text + ("" if required else " (default: %(default)s)")}
        if required:
            options["required"] = True
        else:
            options["default"] = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if kind is bool and not optional:
            options["action"] = argparse.BooleanOptionalAction
        else:
            options["type"] = kind
            if f.name in choices:
                options["choices"] = list(choices[f.name])
        parser.add_argument(option_name(f.name), **options)
        dests.append(f.name)
    return dests


def config_from_args(cls: type, args: argparse.Namespace, **overrides: Any):
    """An instance of ``cls`` from the fields found in ``args``, then ``overrides``."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}
    return cls(**{**values, **overrides})
