"""Conversations from elsewhere into input items, and back out as Chat Completions messages.

    chat_to_items(data)                Chat Completions `messages` (a list, or an object holding one)
    codex_rollout_to_items(data)       a codex rollout file (~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl)
    response_to_items(response, input) a stored Response object's JSON and its input items (and the
                                       responses it continued)
    items_to_chat(items)               the way back: input items as Chat Completions messages

Each returns a `Converted`: the items (or messages) and `notes`, one human-readable line for each
kind of thing that could not be carried over. Items come out as respctl writes them (one shape per
kind, no ids of respctl's making) and pass `respctl lint` (openai target): what lint would refuse is
mended on the way (and said in a note) rather than written. `data` may be bytes, str or parsed JSON;
anything that is not what the format expects raises ConvertError, one line naming the place
(`messages[3].tool_calls[0]: ...`), exit 2.

Shapes, from evidence:
- Chat Completions: the openai SDK's `openai.types.chat` params (3.5x): roles developer, system,
  user, assistant, tool, function; parts text, image_url, input_audio, file, refusal; tool calls
  `{id, type: function, function: {name, arguments}}` and `{id, type: custom, custom: {name, input}}`;
  the legacy `function_call` on assistant messages answered by a `function` role message.
- Assistant messages replayed as input take `output_text`/`refusal` parts without id or status (the
  API accepts them: vercel/ai PR 20995, pydantic-ai; reference/responses-replay.md "Added 2026-12-01").
- Codex rollouts: codex-rs/protocol (`RolloutLine {timestamp, type, payload}`, `RolloutItem`
  session_meta | response_item | compacted | turn_context | event_msg; `CompactedItem {message,
  replacement_history?}`; `ThreadRolledBackEvent {num_turns}`; `ResponseItem` serializes without
  `id` on messages, reasoning, calls and web searches). Older rollouts (before the envelope) hold a
  bare session header, then bare items and `{"record_type": "state"}` lines.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from respctl.boundaries import CutError, rewind
from respctl.errors import BadFileError
from respctl.items import clean_output_item, item_type, text_part

# --- item kinds: from the one table of them (respctl.kinds) ------------------------------------------
from respctl.kinds import CALL_OUTPUTS, FOLLOWERS, OUTPUT_CALLS, kinds_where

#: Model items whose id makes the API ask for the reasoning item before them (lint RSP202).
_PAIRED_WITH_REASONING = kinds_where(paired=True)


class ConvertError(BadFileError):
    """Input that is not the format it claims to be: one line, exit 2, nothing written."""


@dataclass
class Converted:
    items: list[dict]  # input items (or, from items_to_chat, Chat Completions messages)
    notes: list[str] = field(default_factory=list)  # what could not be carried over, one line each
    model: str | None = None  # the model the source last used, when it says (codex turn_context, a response)


# --- reading ---------------------------------------------------------------------------------------


def _load(data: bytes | str | Any, what: str) -> Any:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if not isinstance(data, bytes | bytearray | memoryview):
        return data
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ConvertError(f"{what}: not JSON: {_json_reason(bytes(data), exc)}") from None


def _json_reason(data: bytes, exc: orjson.JSONDecodeError, *, one_line: bool = False) -> str:
    """Why `data` is not JSON, and where (`one_line`: the caller has named the line already)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        return f"invalid UTF-8 at byte {bad.start + 1}"
    if "recursion" in exc.msg.lower() or "depth" in exc.msg.lower():
        return "nested too deeply"
    return f"{exc.msg} (column {exc.colno})" if one_line else f"{exc.msg} (line {exc.lineno}, column {exc.colno})"


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _expect(value: Any, types: type | tuple[type, ...], where: str, wanted: str) -> Any:
    if not isinstance(value, types) or (isinstance(value, bool) and types is int):
        raise ConvertError(f"{where}: expected {wanted}, got {_kind(value)}")
    return value


class _Notes:
    """Notes counted by kind, so 300 dropped names make one line, not 300."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.order: list[str] = []

    def add(self, note: str, count: int = 1) -> None:
        if note not in self.counts:
            self.order.append(note)
            self.counts[note] = 0
        self.counts[note] += count

    def lines(self) -> list[str]:
        return [f"{note} (x{self.counts[note]})" if self.counts[note] > 1 else note for note in self.order]


# --- Chat Completions -> items -----------------------------------------------------------------------

_CHAT_ROLES = ("system", "developer", "user", "assistant", "tool", "function")


def chat_to_items(data: bytes | str | Any) -> Converted:
    """Chat Completions messages (a JSON list, or an object with `messages`, such as a request body)
    as input items."""
    value = _load(data, "chat messages")
    if isinstance(value, dict):
        if "messages" not in value:
            raise ConvertError("chat messages: expected a list of messages or an object with 'messages'")
        value = value["messages"]
    messages = _expect(value, list, "messages", "a list of messages")
    if not messages:
        raise ConvertError("messages: the list is empty: nothing to import")
    notes = _Notes()
    items: list[dict] = []
    calls: dict[str, dict] = {}  # call_id -> its call item
    answered: set[str] = set()
    legacy: list[dict] = []  # legacy function_call items not yet answered, oldest first
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        _expect(message, dict, where, "a message object")
        role = message.get("role")
        if role not in _CHAT_ROLES:
            raise ConvertError(f"{where}: unknown role {_short(role)} (expected one of {', '.join(_CHAT_ROLES)})")
        if isinstance(message.get("name"), str) and role != "function":
            notes.add("'name' on messages dropped: the Responses API has no participant names")
        if role in ("system", "developer"):
            items.append({"type": "message", "role": role, "content": _text_parts(message.get("content"), where)})
        elif role == "user":
            items.append(
                {"type": "message", "role": "user", "content": _user_parts(message.get("content"), where, notes)}
            )
        elif role == "assistant":
            made = _assistant(message, where, notes, index)
            for item in made:
                if item_type(item) in CALL_OUTPUTS:
                    if item["call_id"] in calls:
                        raise ConvertError(f"{where}: tool call id {_short(item['call_id'])} is used twice")
                    calls[item["call_id"]] = item
                    if item["call_id"] == _legacy_id(index):
                        legacy.append(item)
            items += made
        elif role == "tool":
            call_id = _expect(message.get("tool_call_id"), str, f"{where}.tool_call_id", "a string")
            call = calls.get(call_id)
            if call is None or call_id in answered:
                what = "answers no earlier tool call" if call is None else "answers a call already answered"
                notes.add(f"tool message {_short(call_id)} {what}: dropped")
                continue
            answered.add(call_id)
            output = _tool_output(message.get("content"), f"{where}.content")
            items.append({"type": CALL_OUTPUTS[call["type"]], "call_id": call_id, "output": output})
        else:  # the legacy `function` role answers the oldest unanswered legacy function_call of that name
            name = message.get("name")
            match = next((c for c in legacy if c["name"] == name), None)
            if match is None:
                notes.add(f"function message {_short(name)} answers no earlier function_call: dropped")
                continue
            legacy.remove(match)
            answered.add(match["call_id"])
            content = message.get("content")
            output = "" if content is None else _expect(content, str, f"{where}.content", "a string or null")
            items.append({"type": "function_call_output", "call_id": match["call_id"], "output": output})
    items = _mend(items, notes)
    return Converted(items, notes.lines())


def _text_parts(content: Any, where: str) -> list[dict]:
    """System, developer and tool content: a string, or text parts."""
    if isinstance(content, str):
        return [text_part(content)]
    return _text_part_list(content, f"{where}.content")


def _text_part_list(content: Any, at: str) -> list[dict]:
    """A list of Chat Completions text parts (`at` names it in errors) as input_text parts."""
    parts = _expect(content, list, at, "a string or a list of text parts")
    out = []
    for i, part in enumerate(parts):
        _expect(part, dict, f"{at}[{i}]", "a content part object")
        if part.get("type") != "text":
            raise ConvertError(f"{at}[{i}]: expected a text part, got type {_short(part.get('type'))}")
        out.append(text_part(_expect(part.get("text"), str, f"{at}[{i}].text", "a string")))
    return out


def _user_parts(content: Any, where: str, notes: _Notes) -> list[dict]:
    if isinstance(content, str):
        return [text_part(content)]
    parts = _expect(content, list, f"{where}.content", "a string or a list of content parts")
    out = []
    for i, part in enumerate(parts):
        at = f"{where}.content[{i}]"
        _expect(part, dict, at, "a content part object")
        kind = part.get("type")
        if kind == "text":
            out.append(text_part(_expect(part.get("text"), str, f"{at}.text", "a string")))
        elif kind == "image_url":
            image = _expect(part.get("image_url"), dict, f"{at}.image_url", "an object with 'url'")
            url = _expect(image.get("url"), str, f"{at}.image_url.url", "a string")
            detail = image.get("detail", "auto")  # the API's default; the SDK's input_image type requires it
            if detail not in ("auto", "low", "high", "original"):
                raise ConvertError(f"{at}.image_url.detail: unknown detail {_short(detail)}")
            out.append({"type": "input_image", "image_url": url, "detail": detail})
        elif kind == "file":
            file = _expect(part.get("file"), dict, f"{at}.file", "an object")
            made: dict[str, Any] = {"type": "input_file"}
            for key in ("file_id", "file_data", "filename"):
                if key in file:
                    made[key] = _expect(file[key], str, f"{at}.file.{key}", "a string")
            if "file_id" not in made and "file_data" not in made:
                raise ConvertError(f"{at}.file: expected 'file_id' or 'file_data'")
            out.append(made)
        elif kind == "input_audio":
            notes.add("audio parts of user messages dropped: Responses input messages take no audio")
        else:
            raise ConvertError(f"{at}: unknown content part type {_short(kind)}")
    return out


def _assistant(message: dict, where: str, notes: _Notes, index: int) -> list[dict]:
    content = message.get("content")
    parts: list[dict] = []
    if isinstance(content, str):
        if content:
            parts.append(_output_text(content))
    elif isinstance(content, list):
        for i, part in enumerate(content):
            at = f"{where}.content[{i}]"
            _expect(part, dict, at, "a content part object")
            if part.get("type") == "text":
                parts.append(_output_text(_expect(part.get("text"), str, f"{at}.text", "a string")))
            elif part.get("type") == "refusal":
                refusal = _expect(part.get("refusal"), str, f"{at}.refusal", "a string")
                parts.append({"type": "refusal", "refusal": refusal})
            else:
                raise ConvertError(f"{at}: expected a text or refusal part, got type {_short(part.get('type'))}")
    elif content is not None:
        raise ConvertError(f"{where}.content: expected a string, a list of parts or null, got {_kind(content)}")
    refusal = message.get("refusal")
    if refusal is not None:
        parts.append({"type": "refusal", "refusal": _expect(refusal, str, f"{where}.refusal", "a string or null")})
    if message.get("audio") is not None:
        notes.add("assistant audio dropped: it lives on OpenAI's servers under an id the Responses API does not take")
    made: list[dict] = []
    if parts:
        made.append({"type": "message", "role": "assistant", "content": parts})
    tool_calls = message.get("tool_calls")
    if tool_calls is not None:
        for i, call in enumerate(_expect(tool_calls, list, f"{where}.tool_calls", "a list")):
            made.append(_tool_call(call, f"{where}.tool_calls[{i}]", notes))
    legacy = message.get("function_call")
    if legacy is not None:
        at = f"{where}.function_call"
        _expect(legacy, dict, at, "an object")
        name = _expect(legacy.get("name"), str, f"{at}.name", "a string")
        arguments = _arguments(legacy.get("arguments"), f"{at}.arguments", notes)
        # The legacy API has no call ids; the one made here only pairs the call with its answer.
        made.append({"type": "function_call", "call_id": _legacy_id(index), "name": name, "arguments": arguments})
    if not made:
        made.append({"type": "message", "role": "assistant", "content": [_output_text("")]})
    return made


def _legacy_id(index: int) -> str:
    return f"call_legacy_{index}"


def _output_text(text: str) -> dict:
    return {"type": "output_text", "text": text, "annotations": []}


def _tool_call(call: Any, at: str, notes: _Notes) -> dict:
    _expect(call, dict, at, "a tool call object")
    call_id = _expect(call.get("id"), str, f"{at}.id", "a string")
    kind = call.get("type", "function")
    if kind == "function":
        function = _expect(call.get("function"), dict, f"{at}.function", "an object")
        name = _expect(function.get("name"), str, f"{at}.function.name", "a string")
        arguments = _arguments(function.get("arguments"), f"{at}.function.arguments", notes)
        return {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments}
    if kind == "custom":
        custom = _expect(call.get("custom"), dict, f"{at}.custom", "an object")
        name = _expect(custom.get("name"), str, f"{at}.custom.name", "a string")
        text = _expect(custom.get("input"), str, f"{at}.custom.input", "a string")
        return {"type": "custom_tool_call", "call_id": call_id, "name": name, "input": text}
    raise ConvertError(f"{at}.type: unknown tool call type {_short(kind)} (expected function or custom)")


def _arguments(value: Any, at: str, notes: _Notes) -> str:
    """Arguments as the API keeps them: a string of JSON. Parsed objects are written back as JSON; text
    that is not JSON (the model's own slip) is kept as a JSON string, since lint refuses the rest (RSP110).
    orjson writes at most 254 levels of nesting; deeper arguments (orjson reads up to 1,024) go through the
    standard library's encoder, which stops near Python's recursion limit: beyond, one line (exit 2)."""
    if isinstance(value, dict | list):
        try:
            return orjson.dumps(value).decode()
        except TypeError:  # "Recursion limit reached"
            pass
        try:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        except RecursionError:
            raise ConvertError(f"{at}: nested too deeply to write back as JSON") from None
    text = _expect(value, str, at, "a string of JSON")
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        notes.add("tool call arguments that were not JSON kept as a JSON string")
        return orjson.dumps(text).decode()
    return text


def _tool_output(content: Any, at: str) -> str | list[dict]:
    if isinstance(content, str):
        return content
    return _text_part_list(content, at)


# --- what lint would refuse, mended ---------------------------------------------------------------


def _mend(items: list[dict], notes: _Notes) -> list[dict]:
    """Drop calls answered nowhere although the conversation went on (the API refuses them; pending calls
    at the end stay), outputs without a call, and reasoning items left without their following item."""
    answered = {i.get("call_id") for i in items if item_type(i) in OUTPUT_CALLS}
    made = {i.get("call_id") for i in items if item_type(i) in CALL_OUTPUTS}
    tail = len(items)
    while tail and item_type(items[tail - 1]) in CALL_OUTPUTS:
        tail -= 1  # the trailing run of calls: pending, not orphans
    out: list[dict] = []
    for index, item in enumerate(items):
        kind = item_type(item)
        if kind in CALL_OUTPUTS and item.get("call_id") not in answered and index < tail:
            notes.add("tool calls without an answer before the conversation went on: dropped")
            continue
        if kind in OUTPUT_CALLS and item.get("call_id") not in made:
            notes.add("tool outputs without their call: dropped")
            continue
        out.append(item)
    mended: list[dict] = []
    for index, item in enumerate(out):
        if item_type(item) == "reasoning":
            following = out[index + 1] if index + 1 < len(out) else None
            if following is None or not _follows_reasoning(following):
                notes.add("reasoning items left without the item they preceded: dropped")
                continue
        mended.append(item)
    return mended


def _follows_reasoning(item: dict) -> bool:
    kind = item_type(item)
    return kind in FOLLOWERS or kind == "reasoning" or (kind == "message" and item.get("role") == "assistant")


# --- codex rollout -> items ------------------------------------------------------------------------

#: Items of codex's own making that no API takes: the harness's git snapshots.
_CODEX_ONLY = frozenset({"ghost_snapshot"})


def codex_rollout_to_items(data: bytes | str) -> Converted:
    """A codex rollout (JSON Lines) as input items: the history codex itself would resume from.

    Kept: `response_item` payloads (raw Responses items, cleaned as respctl cleans API output);
    `compacted` lines replace the history so far with their `replacement_history` (as codex does on
    resume), or, for a local compaction without one, with the user messages so far and the summary;
    `event_msg` `thread_rolled_back` removes the last turns as codex did. Dropped: `session_meta`
    (its base instructions were codex's own system prompt for its own tools), `turn_context` (the
    model is returned, the rest is codex's sandbox and approval settings), every other `event_msg`
    (UI events that repeat the response items), and items codex keeps for itself (ghost snapshots).
    Lines that are not JSON are skipped with a note, as codex's loader skips them (a last line cut off
    by a session still running or one that crashed, most often); a file with no JSON line is refused."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    _expect(data, bytes, "codex rollout", "the bytes of a file")
    notes = _Notes()
    history: list[dict] = []
    model: str | None = None
    seen_lines = 0
    broken: list[int] = []  # lines that are not JSON, skipped
    first_error = ""
    numbered = [(number, raw) for number, raw in enumerate(data.split(b"\n"), 1) if raw.strip()]
    for number, raw in numbered:
        seen_lines += 1
        where = f"rollout line {number}"
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            broken.append(number)
            first_error = first_error or f"{where}: not JSON: {_json_reason(raw, exc, one_line=True)}"
            continue
        _expect(line, dict, where, "a JSON object")
        kind = line.get("type")
        if "payload" not in line:  # the format before the envelope: a header, bare items, state records
            if "record_type" in line or (kind is None and "id" in line and "timestamp" in line):
                continue
            history += _codex_item(line, where, notes)
            continue
        payload = line["payload"]
        if kind == "response_item":
            history += _codex_item(_expect(payload, dict, f"{where}.payload", "an item object"), where, notes)
        elif kind == "compacted":
            history = _codex_compacted(_expect(payload, dict, f"{where}.payload", "an object"), history, where, notes)
        elif kind == "event_msg":
            if isinstance(payload, dict) and payload.get("type") == "thread_rolled_back":
                turns = _expect(payload.get("num_turns"), int, f"{where}.payload.num_turns", "a number")
                history = _rolled_back(history, turns)
                notes.add("turns that codex rolled back (thread_rolled_back) left out, as codex resumes")
        elif kind == "turn_context":
            if isinstance(payload, dict) and isinstance(payload.get("model"), str):
                model = payload["model"]
        elif kind == "session_meta":
            if isinstance(payload, dict) and payload.get("base_instructions"):
                notes.add("codex's base instructions (its system prompt for its own tools) not carried over")
        else:
            notes.add(f"rollout lines of type {_short(kind)} skipped")
    if not seen_lines:
        raise ConvertError("codex rollout: the file is empty")
    if len(broken) == seen_lines:
        raise ConvertError(first_error)
    if broken:
        # codex's own loader (RolloutRecorder::load_rollout_items, codex-rs/core/src/rollout/recorder.rs)
        # skips every line it cannot parse, with a warning, and resumes from the rest.
        last = broken[-1] == numbered[-1][0]
        middle = broken[:-1] if last else broken
        if middle:
            listed = ", ".join(map(str, middle[:10])) + (", ..." if len(middle) > 10 else "")
            notes.add(
                f"rollout line{'s' if len(middle) > 1 else ''} {listed} {'are' if len(middle) > 1 else 'is'} "
                f"not JSON: skipped, as codex skips {'them' if len(middle) > 1 else 'it'} on resume"
            )
        if last:
            notes.add(
                f"rollout line {broken[-1]}, the last, is cut off (a session still running, or one that crashed): "
                "skipped, as codex skips it on resume"
            )
    history = _mend(history, notes)
    if not history:
        raise ConvertError("codex rollout: no conversation items in it")
    if any(item_type(i) in CALL_OUTPUTS for i in history):
        notes.add("codex's tools are not declared on the next turn: the model sees its past calls but cannot call them")
    return Converted(history, notes.lines(), model)


def _codex_item(payload: dict, where: str, notes: _Notes) -> list[dict]:
    kind = item_type(payload)
    if kind is None:
        raise ConvertError(f"{where}: item without a type")
    if kind in _CODEX_ONLY:
        return []
    if kind == "compaction_summary":  # codex's older name for the compaction item
        payload = {**payload, "type": "compaction"}
        kind = "compaction"
    if kind == "reasoning":
        content = payload.get("content")
        readable = isinstance(content, list) and any(
            isinstance(p, dict) and p.get("type") == "reasoning_text" for p in content
        )
        if not payload.get("encrypted_content") and not readable:
            notes.add("reasoning items without encrypted content dropped: they cannot be replayed")
            return []
        if not readable and "content" in payload:
            payload = {k: v for k, v in payload.items() if k != "content"}  # codex writes content: null
    if kind == "function_call_output" and isinstance(payload.get("output"), dict):
        output = payload["output"]  # an older codex wrote {content, success}
        payload = {**payload, "output": output.get("content") if isinstance(output.get("content"), str) else ""}
    if kind in ("web_search_call", "local_shell_call") and "id" not in payload:
        # codex writes these without the id the API requires back (lint RSP102); what they did is in the
        # model's next message.
        notes.add(f"{kind} items (recorded by codex without their id) dropped")
        return []
    item = clean_output_item(payload)
    if kind == "message" and item.get("role") != "assistant":
        item.pop("id", None)
    return [item]


def _codex_compacted(payload: dict, history: list[dict], where: str, notes: _Notes) -> list[dict]:
    replacement = payload.get("replacement_history")
    if replacement is not None:
        out: list[dict] = []
        for i, item in enumerate(_expect(replacement, list, f"{where}.payload.replacement_history", "a list")):
            out += _codex_item(
                _expect(item, dict, f"{where}.payload.replacement_history[{i}]", "an item"), where, notes
            )
        notes.add("history before a codex compaction replaced by the compacted history, as codex resumes it")
        return out
    message = payload.get("message")
    summary = message if isinstance(message, str) else ""
    users = [i for i in history if item_type(i) == "message" and i.get("role") == "user"]
    notes.add("history before a local codex compaction replaced by its user messages and the summary")
    return users + [{"type": "message", "role": "user", "content": [text_part(summary)]}]


def _rolled_back(history: list[dict], turns: int) -> list[dict]:
    try:
        return rewind(history, turns)[0] if turns > 0 else history
    except CutError:
        return []


# --- a stored response -> items --------------------------------------------------------------------


def response_to_items(
    response: bytes | str | dict,
    input_items: Iterable[Any] | None = None,
    earlier: Sequence[tuple[Any, Iterable[Any]]] = (),
) -> Converted:
    """A Response object's JSON (`GET /responses/{id}`) and its input items (`GET /responses/{id}/input_items`,
    all pages, oldest first: the API lists newest first unless asked `order=asc`) as a conversation file:
    the instructions, the input, then the output. `earlier` holds the responses it continued through
    `previous_response_id`, oldest first, each with its input items (respctl.client.fetch_stored): their
    input and output come first, in that order. The instructions are the latest response's: the API
    does not carry instructions over from a previous response."""
    chain = [*earlier, (response, input_items if input_items is not None else [])]
    notes = _Notes()
    items: list[dict] = []
    value: dict = {}
    for depth, (raw, listed) in enumerate(chain):
        at = "response" if depth == len(chain) - 1 else f"previous response {depth + 1}"
        value = _expect(_load(raw, at), dict, at, "a Response object")
        if value.get("object") not in (None, "response"):
            raise ConvertError(f"{at}: expected a Response object, got object {_short(value.get('object'))}")
        for i, item in enumerate(listed):
            _expect(item, dict, f"{at} input_items[{i}]", "an item object")
            cleaned = clean_output_item(item)
            if _client_side(cleaned):  # as respctl writes them: stored ids mean nothing with store false
                cleaned.pop("id", None)
                cleaned.pop("status", None)
            items.append(cleaned)
        output = _expect(value.get("output", []), list, f"{at}.output", "a list of items")
        for i, item in enumerate(output):
            items.append(clean_output_item(_expect(item, dict, f"{at}.output[{i}]", "an item object")))
    if earlier:
        notes.add(
            f"the {len(earlier)} earlier response{'s' if len(earlier) != 1 else ''} it continued "
            "(previous_response_id) carried over, oldest first"
        )
    instructions = value.get("instructions")
    if isinstance(instructions, str) and instructions:
        items.insert(0, {"type": "message", "role": "developer", "content": [text_part(instructions)]})
        notes.add("the response's instructions carried over as a developer message at the start")
    elif instructions:
        notes.add("the response's instructions are not a string (a prompt template?): not carried over")
    items = _unreplayable_reasoning(items, notes)
    items = _mend(items, notes)
    if not items:
        raise ConvertError("response: no input items and no output to import")
    model = value.get("model") if isinstance(value.get("model"), str) else None
    return Converted(items, notes.lines(), model)


def _client_side(item: dict) -> bool:
    kind = item_type(item)
    if kind == "message" or (kind is None and "role" in item):
        return item.get("role") != "assistant"
    return kind in OUTPUT_CALLS


def _unreplayable_reasoning(items: list[dict], notes: _Notes) -> list[dict]:
    """Reasoning with an id but no encrypted content (a response stored without `include:
    ["reasoning.encrypted_content"]`) cannot be replayed with store false (API: 404 "Items are not
    persisted", lint RSP203): drop it, and the ids of the items it preceded, which the API would
    otherwise ask it for (API: "provided without its required 'reasoning' item")."""
    out: list[dict] = []
    strip = False  # since a dropped reasoning item, until the next item of the client's
    for item in items:
        kind = item_type(item)
        if kind == "reasoning":
            if not item.get("encrypted_content") and not item.get("content"):
                notes.add("reasoning without encrypted content dropped (the model's earlier reasoning is lost)")
                strip = True
                continue
            strip = False
        elif _client_side(item):
            strip = False
        elif strip and kind in _PAIRED_WITH_REASONING and "id" in item:
            item = {k: v for k, v in item.items() if k != "id"}
        out.append(item)
    return out


# --- items -> Chat Completions ---------------------------------------------------------------------


def items_to_chat(items: list[dict]) -> Converted:
    """Input items as Chat Completions messages (for `show --format chat`, an export). A message's
    text parts become a string when there is one; calls become `tool_calls` on the assistant message
    they follow; outputs become `tool` messages. Lost, and said in the notes: reasoning (and its
    encrypted content), compaction items, assistant phases, call namespaces, non-function tools'
    items, images given by file id, images in tool outputs."""
    notes = _Notes()
    messages: list[dict] = []
    open_assistant: dict | None = None  # the assistant message that calls of the same response join
    for index, item in enumerate(items):
        _expect(item, dict, f"items[{index}]", "an item object")
        kind = item_type(item)
        role = item.get("role") if kind == "message" or (kind is None and "role" in item) else None
        if role == "assistant":
            open_assistant = _chat_assistant(item, notes)
            messages.append(open_assistant)
        elif role in ("user", "developer", "system"):
            open_assistant = None
            content = _chat_content(item.get("content"), role, notes)
            messages.append({"role": role, "content": content})
        elif kind in ("function_call", "custom_tool_call"):
            if open_assistant is None:
                open_assistant = {"role": "assistant", "content": None}
                messages.append(open_assistant)
            open_assistant.setdefault("tool_calls", []).append(_chat_tool_call(item, notes))
        elif kind in ("function_call_output", "custom_tool_call_output"):
            open_assistant = None
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": item.get("call_id"),
                    "content": _chat_output(item.get("output"), notes),
                }
            )
        elif kind == "reasoning":
            notes.add("reasoning items dropped (with their encrypted content): Chat Completions has no place for them")
        elif kind == "compaction":
            notes.add(
                "compaction items dropped: the context they carry is encrypted and Chat Completions cannot take it"
            )
        else:
            open_assistant = None if kind in OUTPUT_CALLS else open_assistant
            notes.add(f"{kind or 'untyped'} items dropped: Chat Completions has no such item")
    pending = [c["id"] for m in messages for c in m.get("tool_calls", [])]
    answered = {m["tool_call_id"] for m in messages if m["role"] == "tool"}
    if any(call_id not in answered for call_id in pending):
        notes.add("tool calls without an output yet: answer them before sending these messages")
    return Converted(messages, notes.lines())


def _chat_assistant(item: dict, notes: _Notes) -> dict:
    content = item.get("content")
    texts: list[str] = []
    refusals: list[str] = []
    if isinstance(content, str):
        texts.append(content)
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "output_text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif isinstance(part, dict) and part.get("type") == "refusal" and isinstance(part.get("refusal"), str):
                refusals.append(part["refusal"])
            else:
                notes.add("assistant content parts other than text and refusal dropped")
    if "phase" in item:
        notes.add("assistant message phases (commentary, final_answer) dropped")
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts else None}
    if refusals:
        message["refusal"] = "".join(refusals)
    return message


def _chat_content(content: Any, role: str, notes: _Notes) -> str | list[dict]:
    if isinstance(content, str):
        return content
    parts: list[dict] = []
    for part in content if isinstance(content, list) else []:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text") and isinstance(part.get("text"), str):
            parts.append({"type": "text", "text": part["text"]})
        elif kind == "input_image" and role == "user" and isinstance(part.get("image_url"), str):
            image = {"url": part["image_url"]}
            if part.get("detail") in ("low", "high", "original"):
                image["detail"] = part["detail"]
            parts.append({"type": "image_url", "image_url": image})
        elif kind == "input_file" and role == "user" and ("file_id" in part or "file_data" in part):
            parts.append(
                {"type": "file", "file": {k: part[k] for k in ("file_id", "file_data", "filename") if k in part}}
            )
        else:
            notes.add(f"{kind or 'unknown'} parts of {role} messages dropped: Chat Completions cannot take them there")
    if len(parts) == 1 and parts[0]["type"] == "text":
        return parts[0]["text"]
    return parts


def _chat_tool_call(item: dict, notes: _Notes) -> dict:
    if "namespace" in item:
        notes.add("call namespaces dropped: Chat Completions tool calls have none")
    if item.get("type") == "custom_tool_call":
        return {
            "id": item.get("call_id"),
            "type": "custom",
            "custom": {"name": item.get("name"), "input": item.get("input")},
        }
    return {
        "id": item.get("call_id"),
        "type": "function",
        "function": {"name": item.get("name"), "arguments": item.get("arguments")},
    }


def _chat_output(output: Any, notes: _Notes) -> str | list[dict]:
    if isinstance(output, str):
        return output
    parts = []
    for part in output if isinstance(output, list) else []:
        if isinstance(part, dict) and part.get("type") == "input_text" and isinstance(part.get("text"), str):
            parts.append({"type": "text", "text": part["text"]})
        else:
            notes.add("images and files in tool outputs dropped: Chat Completions tool messages take text only")
    return parts


def _short(value: Any, keep: int = 40) -> str:
    """A value quoted for a one-line message: JSON escapes controls and newlines, ASCII escapes the rest."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    text = text.encode("ascii", "backslashreplace").decode()
    return text if len(text) <= keep else text[: keep - 1] + "…"
