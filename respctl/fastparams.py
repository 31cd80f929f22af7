"""Cheap coercion of command-line values, so that `lint`, `show` and `--help` start fast.

Typer 0.29 coerces every parameter through a pydantic TypeAdapter built on first use, which
imports pydantic and costs more than the rest of start-up together. respctl's parameters are
only str, int, float, bool, Enum and list[str], so a few lines coerce them the way click
does. Where typer's internals differ from what this expects, nothing is installed and typer
coerces as usual: only start-up time depends on this module, never behaviour.
"""

from __future__ import annotations

from enum import Enum
from typing import Any


def install(command) -> None:
    """Give each parameter of each subcommand of `command` a cheap coercer."""
    try:
        from typer import BadParameter
        from typer._coercion import RuntimeParam
    except ImportError:
        return

    class Cheap(RuntimeParam):
        def _coerce_value(self, value: Any, param, ctx) -> Any:
            try:
                return _coerce(self.annotation, self.parameter_info, value)
            except ValueError as exc:
                raise BadParameter(str(exc), ctx=ctx, param=param) from None

    def cheapen(param) -> None:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or not hasattr(param, "_runtime_param") or descriptor.file_annotation is not None:
            return
        if _supported(descriptor.annotation):
            param._runtime_param = Cheap(parameter_info=descriptor.parameter_info, annotation=descriptor.annotation)

    for sub in [command, *getattr(command, "commands", {}).values()]:
        for param in sub.params:
            cheapen(param)
        sub.get_help_option = _cheap_help(sub.get_help_option, cheapen)


def _cheap_help(get_help_option, cheapen):
    """The --help option is made while parsing; give it a cheap coercer too."""

    def wrapped(ctx):
        option = get_help_option(ctx)
        if option is not None:
            cheapen(option)
        return option

    return wrapped


def _supported(annotation) -> bool:
    if annotation in (str, int, float, bool) or (isinstance(annotation, type) and issubclass(annotation, Enum)):
        return True
    return annotation == list[str]


def _coerce(annotation, info, value):
    if annotation == list[str]:
        return [str(v) for v in value]
    if annotation is str:
        return str(value)
    if annotation is bool:
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "y", "on")
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        fold = not getattr(info, "case_sensitive", True)  # --target openai|compatible: any case
        for member in annotation:
            if value in (member, member.value) or (fold and str(value).casefold() == str(member.value).casefold()):
                return member
        choices = ", ".join(repr(m.value) for m in annotation)
        raise ValueError(f"{value!r} is not one of {choices}.")
    try:
        number = annotation(value)
    except (TypeError, ValueError):
        kind = "an integer" if annotation is int else "a number"
        raise ValueError(f"{value!r} is not {kind}.") from None
    if info.min is not None and number < info.min:
        raise ValueError(f"{value} is smaller than the minimum {info.min}.")
    if info.max is not None and number > info.max:
        raise ValueError(f"{value} is larger than the maximum {info.max}.")
    return number
