"""JSON text laid out for reading: small objects and arrays on one line, lists of flat records as a table."""

from __future__ import annotations

import json

import orjson

#: JSON payloads larger than this are left as they are.
PRETTY_LIMIT = 200_000


def pretty_json(text: str, width: int) -> str | None:
    """JSON text laid out for reading, or None when it is not a JSON object or array.

    Small objects and arrays stay on one line, like `{"time": "09:00", "temp_c": 13}`, so that a
    list of records reads as a table rather than six lines per record.
    """
    stripped = text.strip()
    if not stripped.startswith(("{", "[")) or len(stripped) > PRETTY_LIMIT:
        return None
    try:
        return _layout(orjson.loads(stripped), 0, 0, max(width, 40))
    except (orjson.JSONDecodeError, RecursionError):  # not JSON, or nested too deep to lay out: as it is
        return None


#: The stdlib's encoder (orjson has no spaced separators; it imports json itself, so this costs nothing).
_encoder = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))


def _compact(value: object) -> str:
    return _encoder.encode(value)


def _layout(value: object, indent: int, used: int, width: int) -> str:
    compact = _compact(value)
    if not isinstance(value, (dict, list)) or not value or indent + used + len(compact) <= width:
        return compact
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        rows = []
        for key, item in value.items():
            key_text = _compact(key) + ": "
            rows.append(pad + key_text + _layout(item, indent + 2, len(key_text), width))
        return "{\n" + ",\n".join(rows) + "\n" + " " * indent + "}"
    if not any(isinstance(item, (dict, list)) for item in value):  # scalars: as many to a row as fit
        rows, row = [], ""
        for item in value:
            text = _compact(item)
            if row and len(pad) + len(row) + len(text) + 2 > width:
                rows.append(pad + row + ",")
                row = ""
            row = f"{row}, {text}" if row else text
        return "[\n" + "\n".join([*rows, pad + row]) + "\n" + " " * indent + "]"
    if all(_flat(item) for item in value):
        return "[\n" + ",\n".join(pad + row for row in _records(value, indent + 2, width)) + "\n" + " " * indent + "]"
    rows = [pad + _layout(item, indent + 2, 0, width) for item in value]
    return "[\n" + ",\n".join(rows) + "\n" + " " * indent + "]"


def _flat(value: object) -> bool:
    return isinstance(value, dict) and bool(value) and not any(isinstance(v, (dict, list)) for v in value.values())


def _records(records: list, indent: int, width: int) -> list[str]:
    """A list of flat records as a table: one line each, or, when some are too long, every record
    broken after the same number of fields, so that the columns still line up."""
    fields = [[f"{_compact(k)}: {_compact(v)}" for k, v in record.items()] for record in records]
    per_line = max(len(f) for f in fields)
    while per_line > 1 and any(
        indent + len(", ".join(f[i : i + per_line])) + 3 > width for f in fields for i in range(0, len(f), per_line)
    ):
        per_line -= 1
    joiner = ",\n" + " " * (indent + 1)
    return ["{" + joiner.join(", ".join(f[i : i + per_line]) for i in range(0, len(f), per_line)) + "}" for f in fields]
