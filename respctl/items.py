"""Input items: the ones respctl creates, and API output turned back into input.

Items respctl creates have one stable shape and never an id of respctl's making:
    instructions  {"type":"message","role":"developer","content":[{"type":"input_text","text":...}]}
    user message  {"type":"message","role":"user","content":[{"type":"input_text","text":...}, parts...]}
    tool output   {"type":"function_call_output","call_id":...,"output":...}
                  {"type":"custom_tool_call_output","call_id":...,"output":...}

Output items are stored as the API sent them, minus what the API will not take back:
the fields in DROP_ALWAYS / DROP_BY_TYPE, any top-level field that no input shape of the
item's type has (respctl/schema.py: the table generated from the SDK's input types; the output side
carries a few more, such as `status` on custom tool calls), and nulls, except on fields
the input side requires and allows null on. Everything else, `encrypted_content` above all, is kept byte for byte:
the raw JSON is parsed with orjson and written back with orjson, which keeps strings and
key order.
"""

from __future__ import annotations

import functools
from typing import Any

from respctl import kinds, schema

#: Fields dropped from every output item (output-only or SDK-only), and per item type (respctl.kinds).
DROP_ALWAYS = kinds.DROP_ALWAYS
DROP_BY_TYPE: dict[str, frozenset[str]] = {k.name: k.drop for k in kinds.KINDS.values() if k.drop}

#: The calls respctl answers (tool-result, --run-tool) and the output type that answers each, and back.
CALL_OUTPUT_TYPES = kinds.ANSWERED_CALLS
OUTPUT_CALL_TYPES = kinds.ANSWERING_OUTPUTS

#: A message of the user's (or developer's, system's), a tool output, or another item no model
#: produces: something a next turn answers (respctl.kinds).
is_client_input = kinds.is_client_input

#: The item's type; an untyped item with a role is a message, one with only an id a reference; None
#: when it has no type or one that is not a string: a file sent to a server whose rules respctl does
#: not check (--target compatible) may hold anything there.
item_type = kinds.kind_of


def clean_output_item(item: dict) -> dict:
    """Turn one raw output item (from output_item.done or a response body) into an input item."""
    kind = item.get("type") if isinstance(item.get("type"), str) else None  # another server may send anything
    drop = DROP_ALWAYS | DROP_BY_TYPE.get(kind or "", frozenset())
    accepted = _input_fields(kind)
    keep_null = _required_nullable(kind)
    cleaned: dict[str, Any] = {}
    for key, value in item.items():
        if key in drop or (accepted is not None and key not in accepted):
            continue
        if value is None:
            if key in keep_null:
                cleaned[key] = None
            continue
        cleaned[key] = _drop_nulls(value)
    return cleaned


@functools.cache
def _input_fields(kind: str | None) -> frozenset[str] | None:
    """Every top-level field some input shape of this item type accepts; None for a type the table lacks."""
    shapes = schema.items().get(kind) if isinstance(kind, str) else None
    if not shapes:
        return None
    return frozenset().union(*(schema.fields(name).keys() for name in shapes))


@functools.cache
def _required_nullable(kind: str | None) -> frozenset[str]:
    return schema.required_nullable(kind) if isinstance(kind, str) else frozenset()


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def text_part(text: str) -> dict:
    return {"type": "input_text", "text": text}


def instructions_message(text: str, role: str = "developer") -> dict:
    return {"type": "message", "role": role, "content": [text_part(text)]}


def user_message(text: str | None, parts: list[dict] | None = None) -> dict:
    content = ([text_part(text)] if text else []) + list(parts or [])
    return {"type": "message", "role": "user", "content": content}


def tool_output(call: dict, output: str) -> dict:
    return {"type": CALL_OUTPUT_TYPES[call["type"]], "call_id": call["call_id"], "output": output}


def pending_calls(items: list[dict]) -> list[dict]:
    """The function/custom tool calls that have no output yet, in file order."""
    answered = {
        item.get("call_id")
        for item in items
        if item_type(item) in OUTPUT_CALL_TYPES and isinstance(item.get("call_id"), str)
    }
    return [
        item
        for item in items
        if item_type(item) in CALL_OUTPUT_TYPES
        and isinstance(item.get("call_id"), str)
        and item["call_id"] not in answered
    ]


def call_summary(call: dict) -> dict:
    """The contract's description of a call: call_id, name, arguments, type."""
    arguments = call.get("arguments") if call.get("type") == "function_call" else call.get("input")
    return {
        "call_id": call.get("call_id"),
        "name": call.get("name"),
        "arguments": arguments,
        "type": call.get("type"),
    }


def message_text(item: dict) -> str:
    """The visible text of an assistant message item (output_text and refusal parts)."""
    content = item.get("content")
    if isinstance(content, str):
        return content
    out = []
    for part in content or []:
        if isinstance(part, dict):
            if part.get("type") == "output_text":
                out.append(part.get("text", ""))
            elif part.get("type") == "refusal":
                out.append(part.get("refusal", ""))
    return "".join(out)
