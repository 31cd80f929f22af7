"""The SDK's item shapes, read from schema_table.json (written by `make schema`): data, not code.

A module of its own, outside lint: respctl.items reads which fields an item type takes back, and
lint checks shapes; both read this, and neither needs the other to do it.

Reading it is one orjson parse (well under a millisecond); nothing is compiled until a file
holds an item that needs it (respctl.lint.shapes builds validators per item type, on first use).
The generated JSON stores specs as lists; `spec()` gives the tuple form the checks use.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import orjson

PATH = Path(__file__).with_name("schema_table.json")


@functools.cache
def data() -> dict:
    return orjson.loads(PATH.read_bytes())


def spec(value: Any) -> Any:
    """A spec from the JSON (lists) as tuples: ("lit", ...), ("union", ...), ("list", spec)..."""
    if type(value) is list:
        return tuple(spec(v) if type(v) is list else v for v in value)
    return value


@functools.cache
def fields(name: str) -> dict[str, tuple[bool, Any]]:
    """One shape: {field: (required, spec)}."""
    return {key: (required, spec(s)) for key, (required, s) in data()["shapes"][name].items()}


def items() -> dict[str, list[str]]:
    """Item `type` value -> the names of the shapes an item of that type may take."""
    return data()["items"]


@functools.cache
def output_only(kind: str) -> frozenset[str]:
    return frozenset(data()["output_only"].get(kind, ()))


@functools.cache
def required_nullable(kind: str) -> frozenset[str]:
    return frozenset(data()["required_nullable"].get(kind, ()))
