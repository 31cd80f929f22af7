"""Item shapes: the generated SDK table compiled into fast checks, and precise explanations.

Each shape gets a boolean check built once from closures (dict key sets and `type(v) is`
tests: the common item passes without allocating anything). Only an item that fails its
check is walked again by `explain`, which says what is wrong and where (a JSON pointer).

Where the real API is looser than the SDK's types, the difference is in respctl/lint/leniency.py
(one reviewed list, with evidence); where it is stricter (output-only fields, RSP108), in the
table of item kinds (respctl/kinds.py), with its evidence; never in the generated table. Shapes
are built per item type on first use: a file of messages and function calls never compiles the
checks of computer or MCP items.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from respctl import kinds as _kinds
from respctl import schema as _table
from respctl.jsonl import json_kind
from respctl.lint.leniency import EXTRA_FIELDS, OPTIONAL_IN_PRACTICE

#: Fields the API sends and refuses to take back (RSP108): the SDK's own output-vs-input difference
#: (the generated table), and beyond what the SDK's models show, the `drop` fields of the table of item
#: kinds (`status` on reasoning, mcp_call, shell_call_output, custom_tool_call; `created_by`; SDK-only
#: `parsed`).
OUTPUT_ONLY_ALWAYS = _kinds.DROP_ALWAYS


def output_only(kind: str) -> frozenset[str]:
    return _table.output_only(kind) | _kinds.row(kind).drop | OUTPUT_ONLY_ALWAYS


# Where the API is more lenient than the SDK's types (a field required there and not in
# practice), see respctl/lint/leniency.py: the one reviewed list, each entry with its evidence.


class Finding(NamedTuple):
    code: str
    path: tuple  # JSON pointer components from the item's root
    message: str
    fixable: bool = False  # True: dropping the key at `path` mends it


def pointer(path: tuple) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _is_str(v: Any) -> bool:
    return type(v) is str


def _is_int(v: Any) -> bool:
    return type(v) is int


def _is_num(v: Any) -> bool:
    return type(v) is int or type(v) is float


def _is_bool(v: Any) -> bool:
    return type(v) is bool


def _any(v: Any) -> bool:
    return True


def _is_null(v: Any) -> bool:
    return v is None


_SCALAR_CHECKS = {"str": _is_str, "int": _is_int, "float": _is_num, "bool": _is_bool, "any": _any, "null": _is_null}
_EXACT = {"str": str, "int": int, "bool": bool}
_TYPE, _ONE_OF, _CHECK, _OR_NONE = 0, 1, 2, 3  # how Shape.ok checks a field
_PY_TYPES = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "null": (type(None),),
    "any": (str, int, float, bool, type(None), list, dict),
}
_SCALAR_NAMES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "any": "a value",
    "null": "null",
}


def _nullable(spec: Any) -> bool:
    return spec == "null" or (isinstance(spec, tuple) and spec[0] == "union" and "null" in spec[1:])


def _without_null(spec: Any) -> Any:
    if isinstance(spec, tuple) and spec[0] == "union":
        rest = tuple(m for m in spec[1:] if m != "null")
        return rest[0] if len(rest) == 1 else ("union", *rest)
    return spec


class Shape:
    """One TypedDict of the table: its fields, a fast check, and an explanation of failures."""

    def __init__(self, name: str, fields: dict, *, output_only: frozenset = frozenset()):
        self.name = name
        optional = OPTIONAL_IN_PRACTICE.get(name, frozenset())
        fields = {**fields, **EXTRA_FIELDS.get(name, {})}
        self.fields = {k: v for k, v in fields.items() if k not in output_only}
        self.output_only = output_only
        self.required = frozenset(k for k, (req, _) in self.fields.items() if req and k not in optional)
        self.allowed = frozenset(self.fields)
        self.type_values: tuple = ()
        type_spec = self.fields.get("type", (False, None))[1]
        if isinstance(type_spec, tuple) and type_spec[0] == "lit":
            self.type_values = type_spec[1:]
        self._plan: dict[str, tuple[int, Any]] | None = None

    def _compile_fields(self) -> dict[str, tuple[int, Any]]:
        """How to check each field: by exact type, as one of some strings, or by a compiled check.

        A null in an optional field fails the fast check even where the field accepts null:
        it replays, but `explain` then reports it as a warning.
        """
        plan: dict[str, tuple[int, Any]] = {}
        for key, (required, spec) in self.fields.items():
            nullable = _nullable(spec)
            inner = _without_null(spec) if nullable and spec != "null" else spec
            if inner in _EXACT:
                plan[key] = (_OR_NONE if nullable and required else _TYPE, _EXACT[inner])
            elif isinstance(inner, tuple) and inner[0] == "lit" and not (nullable and required):
                plan[key] = (_ONE_OF, frozenset(inner[1:]))
            elif nullable:
                check = _compile(inner) if inner != "null" else _is_null
                plan[key] = (
                    _CHECK,
                    (lambda v, c=check: v is None or c(v)) if required else (lambda v, c=check: v is not None and c(v)),
                )
            else:
                plan[key] = (_CHECK, _compile(spec))
        self._plan = plan
        return plan

    def ok(self, v: Any) -> bool:
        if type(v) is not dict:
            return False
        if not (self.allowed.issuperset(v) and self.required.issubset(v)):
            return False
        plan = self._plan or self._compile_fields()
        for key, value in v.items():
            how, what = plan[key]
            if how is _TYPE:
                if type(value) is not what:
                    return False
            elif how is _ONE_OF:
                if type(value) is not str or value not in what:
                    return False
            elif how is _CHECK:
                if not what(value):
                    return False
            elif value is not None and type(value) is not what:
                return False
        return True

    def explain(self, v: Any, path: tuple) -> list[Finding]:
        if type(v) is not dict:
            return [Finding("RSP104", path, f"{_where(path)} must be an object, not {json_kind(v)}")]
        out: list[Finding] = []
        for key, value in v.items():
            here = path + (key,)
            if key in self.output_only:
                out.append(
                    Finding("RSP108", here, f"{_where(here)} is output-only: the API does not take it back", True)
                )
                continue
            if key not in self.fields:
                out.append(Finding("RSP103", here, f"unknown {_where(here)}{_did_you_mean(key, self.fields)}"))
                continue
            required, spec = self.fields[key]
            if value is None:
                if not _nullable(spec):
                    fix = key not in self.required
                    out.append(
                        Finding(
                            "RSP106",
                            here,
                            f"{_where(here)} is null, which it does not take" + ("" if fix else " (it is required)"),
                            fix,
                        )
                    )
                elif key not in self.required:
                    out.append(Finding("RSP107", here, f"{_where(here)} is null (leave it out instead)", True))
                continue
            out.extend(_explain(value, _without_null(spec), here))
        for key in self.fields:
            if key in self.required and key not in v:
                out.append(Finding("RSP102", path + (key,), f"{_where(path + (key,))} is required"))
        return out


def _where(path: tuple) -> str:
    if not path:
        return "the item"
    last = path[-1]
    if isinstance(last, str):
        return f"field '{last}'" + (f" in {pointer(path[:-1])}" if len(path) > 1 else "")
    return pointer(path)


def _did_you_mean(word: str, choices) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


_SHAPES: dict[str, Shape] = {}


def shape(name: str) -> Shape:
    found = _SHAPES.get(name)
    if found is None:
        found = _SHAPES[name] = Shape(name, _table.fields(name))
    return found


def _discriminated(members: tuple) -> dict[str, Shape] | None:
    """A union of shapes told apart by their required `type` literal, as {type value: shape}."""
    if not all(isinstance(m, tuple) and m[0] == "ref" for m in members):
        return None
    table: dict[str, Shape] = {}
    for m in members:
        s = shape(m[1])
        if "type" not in s.required or not s.type_values:
            return None
        for value in s.type_values:
            if value in table:
                return None
            table[value] = s
    return table


def _compile(spec: Any) -> Callable[[Any], bool]:
    if isinstance(spec, str):
        return _SCALAR_CHECKS[spec]
    kind = spec[0]
    if kind == "lit":
        values = frozenset(spec[1:])
        return lambda v: type(v) is str and v in values
    if kind == "list":
        inner = _compile(spec[1])
        if inner is _any:
            return lambda v: type(v) is list
        return lambda v: type(v) is list and all(map(inner, v))
    if kind == "map":
        inner = _compile(spec[1])
        return lambda v: type(v) is dict and all(map(inner, v.values()))
    if kind == "ref":
        target = shape(spec[1])
        return lambda v: target.ok(v)
    members = spec[1:]
    table = _discriminated(members)
    if table is not None:

        def by_type(v: Any) -> bool:
            if type(v) is not dict:
                return False
            s = table.get(v.get("type"))  # type: ignore[arg-type]
            return s is not None and s.ok(v)

        return by_type
    checks_by_type: dict[type, list] = {}
    for m in members:
        for t in _py_types(m):
            checks_by_type.setdefault(t, []).append(_compile(m))
    dispatch = {
        t: (cs[0] if len(cs) == 1 else (lambda v, cs=tuple(cs): any(c(v) for c in cs)))
        for t, cs in checks_by_type.items()
    }

    def by_json_type(v: Any) -> bool:
        check = dispatch.get(type(v))
        return check is not None and check(v)

    return by_json_type


def _py_types(spec: Any) -> tuple:
    if isinstance(spec, str):
        return _PY_TYPES[spec]
    kind = spec[0]
    if kind == "lit":
        return (str,)
    if kind == "list":
        return (list,)
    if kind in ("map", "ref"):
        return (dict,)
    return tuple(t for m in spec[1:] for t in _py_types(m))


def _describe(spec: Any) -> str:
    if isinstance(spec, str):
        return _SCALAR_NAMES[spec]
    kind = spec[0]
    if kind == "lit":
        return "a string"
    if kind == "list":
        return "an array"
    if kind in ("map", "ref"):
        return "an object"
    names: list[str] = []
    for m in spec[1:]:
        d = _describe(m)
        if d not in names:
            names.append(d)
    return " or ".join(names)


def _literal_problem(value: str, values: tuple, path: tuple) -> Finding:
    expected = f"'{values[0]}'" if len(values) == 1 else "one of " + ", ".join(f"'{x}'" for x in values)
    return Finding("RSP105", path, f"{_where(path)} is '{value}'; expected {expected}{_did_you_mean(value, values)}")


def _explain(v: Any, spec: Any, path: tuple) -> list[Finding]:
    if isinstance(spec, str):
        if _SCALAR_CHECKS[spec](v):
            return []
        return [Finding("RSP104", path, f"{_where(path)} must be {_SCALAR_NAMES[spec]}, not {json_kind(v)}")]
    kind = spec[0]
    if kind == "lit":
        if type(v) is not str:
            return [Finding("RSP104", path, f"{_where(path)} must be a string, not {json_kind(v)}")]
        return [] if v in spec[1:] else [_literal_problem(v, spec[1:], path)]
    if kind == "list":
        if type(v) is not list:
            return [Finding("RSP104", path, f"{_where(path)} must be an array, not {json_kind(v)}")]
        return [f for i, x in enumerate(v) for f in _explain_member(x, spec[1], path + (i,))]
    if kind == "map":
        if type(v) is not dict:
            return [Finding("RSP104", path, f"{_where(path)} must be an object, not {json_kind(v)}")]
        return [f for k, x in v.items() for f in _explain_member(x, spec[1], path + (k,))]
    if kind == "ref":
        return shape(spec[1]).explain(v, path)
    return _explain_union(v, spec, path)


def _explain_member(v: Any, spec: Any, path: tuple) -> list[Finding]:
    if v is None and not _nullable(spec):
        return [Finding("RSP106", path, f"{_where(path)} is null, which it does not take")]
    return [] if v is None else _explain(v, _without_null(spec), path)


def _explain_union(v: Any, spec: tuple, path: tuple) -> list[Finding]:
    members = spec[1:]
    table = _discriminated(members)
    if table is not None:
        if type(v) is not dict:
            return [Finding("RSP104", path, f"{_where(path)} must be an object, not {json_kind(v)}")]
        t = v.get("type")
        if t is None:
            return [Finding("RSP102", path + ("type",), f"{_where(path + ('type',))} is required")]
        if type(t) is not str:
            return [
                Finding("RSP104", path + ("type",), f"{_where(path + ('type',))} must be a string, not {json_kind(t)}")
            ]
        if t not in table:
            return [_literal_problem(t, tuple(table), path + ("type",))]
        return table[t].explain(v, path)
    if any(_compile(m)(v) for m in members):
        return []
    kind = json_kind(v)
    fitting = [m for m in members if _describe(m) == kind or (kind == "an integer" and _describe(m) == "a number")]
    if not fitting:
        return [Finding("RSP104", path, f"{_where(path)} must be {_describe(spec)}, not {kind}")]
    candidates = [_explain(v, m, path) for m in fitting]
    return min(candidates, key=len)


# --- items ------------------------------------------------------------------------------------
# Built on first use, per item type: a file of messages and function calls never compiles the
# shapes of computer calls or MCP items.


def _item_shape(kind: str, name: str, fields: dict | None = None) -> Shape:
    return Shape(name, fields if fields is not None else _table.fields(name), output_only=output_only(kind))


def _merged(names: tuple[str, ...], **overrides) -> dict:
    """One message shape from the SDK's message variants: every field of any, required where all require it.

    The API reads a message by its role, not by which SDK variant it resembles: an assistant
    message may carry `id`/`status`/`phase` or not, with string content or output parts.
    """
    shapes = {name: _table.fields(name) for name in names}
    fields: dict = {}
    for name in names:
        for key, spec in shapes[name].items():
            fields.setdefault(key, spec)
    required = {
        k
        for k in fields
        if all(shapes[n].get(k, (False,))[0] and k not in OPTIONAL_IN_PRACTICE.get(n, ()) for n in names)
    }
    fields = {k: (k in required, spec) for k, (_, spec) in fields.items()}
    for key, spec in overrides.items():
        fields[key] = (fields[key][0], spec)
    return fields


_EASY, _INPUT, _OUTPUT = "EasyInputMessageParam", "Message", "ResponseOutputMessageParam"
_ITEM_SHAPES: dict[str, Shape | None] = {}


def item_types() -> dict[str, list[str]]:
    """Every input item type the SDK knows, and its shapes."""
    return _table.items()


def item_shape(kind: str) -> Shape | None:
    """The shape an item of this (non-message) type must have; None for a type the API does not take."""
    try:
        return _ITEM_SHAPES[kind]
    except KeyError:
        names = _table.items().get(kind)
        found = _item_shape(kind, names[0]) if names and len(names) == 1 else None
        _ITEM_SHAPES[kind] = found
        return found


_MESSAGE_SHAPES: dict[bool, Shape] = {}


def message_shape(assistant: bool) -> Shape:
    found = _MESSAGE_SHAPES.get(assistant)
    if found is None:
        assert set(_table.items()["message"]) == {_EASY, _INPUT, _OUTPUT}, "the SDK's message variants changed"
        if assistant:
            # Assistant content is a string or output_text/refusal parts, never input_text (RSP109).
            content = ("union", "str", _table.fields(_OUTPUT)["content"][1])
            found = _item_shape("message", "message (assistant)", _merged((_EASY, _OUTPUT), content=content))
        else:
            # fields the API takes back beyond the SDK's (respctl/lint/leniency.py ACCEPTED): `id`
            fields = {**_merged((_EASY, _INPUT)), **EXTRA_FIELDS.get(_INPUT, {})}
            found = _item_shape("message", "message", fields)
        _MESSAGE_SHAPES[assistant] = found
    return found


def check_item(item: dict, kind: str | None) -> list[Finding] | None:
    """None when the item has a valid shape (the fast path); else what is wrong with it."""
    s: Shape | None
    if kind == "message":
        s = message_shape(item.get("role") == "assistant")
    else:
        s = item_shape(kind) if kind is not None else None
        if s is None:
            return [_unknown_type(item)]
    return None if s.ok(item) else s.explain(item, ())


def _unknown_type(item: dict) -> Finding:
    kind = item.get("type")
    if "type" not in item or kind is None:
        return Finding(
            "RSP101",
            ("type",) if "type" in item else (),
            "item has no 'type' (and is not a message with 'role' and 'content')",
        )
    if type(kind) is not str:
        return Finding("RSP104", ("type",), f"field 'type' must be a string, not {json_kind(kind)}")
    return Finding("RSP101", ("type",), f"unknown item type '{kind}'{_did_you_mean(kind, item_types())}")


# --- the `tools` option -----------------------------------------------------------------------


def tool_problems(tool: Any) -> list[str]:
    """What is wrong with one entry of `--tools`, by the SDK's tool shapes: an unknown `type` (with
    a suggestion), an unknown field, a value of the wrong type. A field the SDK's types require is
    not asked for: the API takes function tools without `strict` or `parameters` (reference
    responses-replay.md, "Where the API is more lenient than the SDK's types")."""
    # The tool definitions the SDK knows: `tools` of an additional_tools item is the same union as
    # the request's `tools`.
    tools = _table.fields("AdditionalTools")["tools"][1][1]
    return [f.message for f in _explain_member(tool, tools, ()) if f.code != "RSP102"]
