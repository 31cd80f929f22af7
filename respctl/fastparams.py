"""Cheap coercion of the plain command-line values, so that commands start without pydantic.

Why: typer 0.29 coerces every parameter through a pydantic TypeAdapter built on first use, which
imports pydantic: it would double the start-up of every command but the top-level --help. Measured
2026-12-01 on 2 cores, bytecode cached: this module installed and not (typer's coercion), 31 paired
runs each (medians; the floor, `python -c 'import typer, orjson'`, 81.5 ms), and instructions
counted by valgrind (steady on a busy machine):

                                  installed   typer's coercion   paired ratio   instructions
    respctl --help                  95.5 ms        95.7 ms           0.97x      331 M / 329 M
    respctl lint FILE (20 items)   105.7 ms       231.0 ms           2.21x      343 M / 738 M
    respctl say FILE MSG --dry-run 122.0 ms       231.0 ms           1.96x      402 M / 790 M
    respctl say --help              88.1 ms       196.4 ms           2.23x      313 M / 696 M

So it stays, made safe rather than dropped: no other saving comes near (pydantic's import is most of
it, and typer gives no public way to coerce without it).

What is cheap here: a value typer would surely take the same way: a string, a bool, a choice
spelled as one of its values, a number written plainly (`12`, `-3`, `0.5`) checked against the
option's range. Every other value (`5.0` for an integer, `1e3`, `nan`, `1_000`, ` 7`...) goes to
typer's own coercer, which decides (pydantic is loaded then); only a refusal is worded here, the
way click words it ("'x' is not a number."). `nan` is refused so by every option of seconds: their
range excludes it. tests/test_fastparams.py checks, on every parameter of every command, that the
results are typer's, for good values and bad ones.

Fail safe: install() relies on typer internals (`typer._coercion.RuntimeParam` and
`build_runtime_param`, each parameter's `type_descriptor` and its `_runtime_param` cache). It
checks each first, and that typer then uses what it installed; on any mismatch, or any error, it
installs nothing and typer coerces as usual. It never raises: only start-up time depends on it.
"""

from __future__ import annotations

import dataclasses
import re
from enum import Enum
from typing import Any

#: Numbers written plainly: what Python and pydantic read alike (ASCII digits, no `_`, no exponent).
_PLAIN_INT = re.compile(r"-?[0-9]{1,18}")
_PLAIN_FLOAT = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,15})?")
#: Not a plain value: typer's own coercer decides.
_UNSURE = object()


def install(command) -> bool:
    """Give each parameter of `command` and of its subcommands a cheap coercer that hands what is not
    plain to typer's. True when installed; False (and nothing changed) where typer is not as expected."""
    try:
        return _install(command)
    except Exception:  # typer changed in a way not foreseen: its own coercion, a little slower
        return False


def _install(command) -> bool:
    from typer import BadParameter
    from typer._coercion import RuntimeParam, build_runtime_param

    fields = {f.name for f in dataclasses.fields(RuntimeParam)} if dataclasses.is_dataclass(RuntimeParam) else set()
    if fields != {"parameter_info", "annotation"} or "_coerce_value" not in RuntimeParam.__abstractmethods__:
        return False
    typers: dict[int, Any] = {}  # id(param) -> typer's own coercer, built on first need

    class Cheap(RuntimeParam):
        def _coerce_value(self, value: Any, param, ctx) -> Any:
            try:
                plain = _plain(self.annotation, self.parameter_info, value, ctx)
            except ValueError as exc:  # plain, and out of range
                raise BadParameter(str(exc), ctx=ctx, param=param) from None
            if plain is not _UNSURE:
                return plain
            if id(param) not in typers:
                typers[id(param)] = build_runtime_param(param.type_descriptor)
            try:
                return typers[id(param)]._coerce_value(value, param=param, ctx=ctx)
            except BadParameter:
                raise BadParameter(
                    _refusal(self.annotation, self.parameter_info, value), ctx=ctx, param=param
                ) from None

    def cheap(param) -> Any:
        """The cheap coercer for `param`, or None where typer's own is kept."""
        descriptor = param.type_descriptor
        if param._runtime_param is not None or descriptor.file_annotation is not None:
            return None
        if not _supported(descriptor.annotation, descriptor.parameter_info):
            return None
        return Cheap(parameter_info=descriptor.parameter_info, annotation=descriptor.annotation)

    chosen = []
    for sub in [command, *getattr(command, "commands", {}).values()]:
        chosen += [(param, coercer) for param in sub.params if (coercer := cheap(param)) is not None]
    for param, coercer in chosen:
        param._runtime_param = coercer
    if any(param.get_runtime_param() is not coercer for param, coercer in chosen):  # typer reads it elsewhere now
        for param, _coercer in chosen:
            param._runtime_param = None
        return False
    for sub in [command, *getattr(command, "commands", {}).values()]:
        sub.get_help_option = _cheap_help(sub.get_help_option, cheap)
    return True


def _cheap_help(get_help_option, cheap):
    """The --help option is made while parsing; give it a cheap coercer too (or leave it be)."""

    def wrapped(ctx):
        option = get_help_option(ctx)
        try:
            coercer = cheap(option) if option is not None else None
            if coercer is not None:
                option._runtime_param = coercer
        except Exception:  # typer's own coercion, as for any parameter not foreseen
            pass
        return option

    return wrapped


def _supported(annotation, info) -> bool:
    if getattr(info, "parser", None) is not None or getattr(info, "clamp", False):
        return False
    return annotation in (str, int, float, bool, list[str]) or _is_enum(annotation)


def _is_enum(annotation) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, Enum)


def _plain(annotation, info, value, ctx) -> Any:
    """`value` coerced, when it is plain; _UNSURE when typer's coercer must decide. ValueError: a
    plain number out of the option's range."""
    if annotation is str or annotation is bool:
        return value if type(value) is annotation else _UNSURE
    if annotation == list[str]:
        return list(value) if isinstance(value, (list, tuple)) and all(type(v) is str for v in value) else _UNSURE
    if _is_enum(annotation):
        return _choice(annotation, info, value, ctx)
    if type(value) is annotation:  # a default, already a number
        number = value
    elif isinstance(value, str) and (_PLAIN_INT if annotation is int else _PLAIN_FLOAT).fullmatch(value):
        number = annotation(value)
    else:
        return _UNSURE
    _check_range(number, info, value)
    return number


def _choice(annotation, info, value, ctx) -> Any:
    """A member of the enum `annotation`, as typer matches one (its value, casefolded where the option
    is case-insensitive); _UNSURE otherwise."""
    if isinstance(value, annotation):
        return value
    if not isinstance(value, str) or getattr(ctx, "token_normalize_func", None) is not None:
        return _UNSURE
    fold = not info.case_sensitive
    for member in annotation:
        if value == member.value or (fold and value.casefold() == str(member.value).casefold()):
            return member
    return _UNSURE


def _check_range(number, info, shown) -> None:
    if info.min is not None and not number >= info.min:
        raise ValueError(f"{shown} is smaller than the minimum {info.min}.")
    if info.max is not None and not number <= info.max:
        raise ValueError(f"{shown} is larger than the maximum {info.max}.")


def _refusal(annotation, info, value) -> str:
    """Why typer refused `value`, worded as click words it."""
    if _is_enum(annotation):
        return f"{value!r} is not one of {', '.join(repr(m.value) for m in annotation)}."
    kind = "an integer" if annotation is int else "a number" if annotation is float else f"a {annotation}"
    if annotation in (int, float):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
        if number is not None and number == number and not (annotation is int and not number.is_integer()):
            try:
                _check_range(number, info, value)
            except ValueError as exc:
                return str(exc)
    return f"{value!r} is not {kind}."
