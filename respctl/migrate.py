"""Conversations in and out: `respctl import` and `respctl export`.

    import_conversation(source, dst, ...)   a Chat Completions messages file, a codex rollout or a
                                            stored response (resp_...) as a new conversation file
    export(path)                            the conversation as Chat Completions messages (JSON on stdout)

The conversions are respctl.convert's (pure functions, with the evidence for each shape); this module
reads the source, tells which format it is, fetches a stored response through respctl.client (the
only module that talks to the API), checks that what it writes is lint-clean, and writes it with
respctl.surgery.write_new (exclusive create unless --force, atomic). What could not be carried over
is said on stderr, one `respctl: note: ...` line each.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from respctl import convert, output
from respctl.conversation import dumps_item, parse_lines, read_bytes
from respctl.errors import BadFileError, ExitCode, UsageError
from respctl.items import pending_calls
from respctl.jsonl import BOM
from respctl.surgery import write_new

if TYPE_CHECKING:
    from respctl.request import Connection

FORMATS = ("chat", "codex", "response")
#: A stored response's id, as the API issues them (resp_ and letters and digits).
RESPONSE_ID = re.compile(r"resp_[A-Za-z0-9]+")
_WHAT = {"chat": "Chat Completions messages", "codex": "a codex rollout", "response": "stored response"}


def detect(source: str, data: bytes | None) -> str:
    """The source's format, when it is obvious: a `resp_...` id that names no file is a stored
    response; a file whose first line is a JSON object with `type` and `payload` (or codex's older
    `record_type`) is a codex rollout; a JSON array, or an object with `messages`, is chat. Else
    UsageError, asking for --from."""
    if data is None:
        return "response"
    first = data.lstrip().split(b"\n", 1)[0]
    try:
        head = orjson.loads(first)
    except orjson.JSONDecodeError:
        head = None
    if isinstance(head, dict) and (("type" in head and "payload" in head) or "record_type" in head):
        return "codex"
    try:
        whole = orjson.loads(data)
    except orjson.JSONDecodeError:
        whole = None
    if isinstance(whole, list) or (isinstance(whole, dict) and "messages" in whole):
        return "chat"
    if whole is None and head is None:  # JSON that does not parse: the reader it was meant for says where
        if b'"payload"' in first or b'"record_type"' in first:
            return "codex"  # a rollout whose first line is cut off
        if data.lstrip()[:1] in (b"[", b"{"):
            return "chat"  # cut off, a stray comma
    if isinstance(head, dict) and ("type" in head or "role" in head):
        raise UsageError(
            f"{source}: looks like a conversation file already (one input item per line); "
            "copy it, or use 'respctl fork' to take part of it"
        )
    raise UsageError(f"{source}: cannot tell what it holds; give --from chat, codex or response")


def import_conversation(
    source: str,
    dst: str,
    *,
    source_format: str | None,
    force: bool,
    target: str,
    connection: Callable[[], Connection],
    lock_timeout: float = 60.0,
) -> int:
    """Convert `source` and write it to `dst` as a new conversation file (see the module docstring)."""
    if not force and os.path.lexists(dst):  # said before a request is made; write_new claims dst exclusively
        raise UsageError(f"{dst}: already exists; --force replaces it")
    is_id = RESPONSE_ID.fullmatch(source) is not None and not Path(source).exists()
    if source_format == "response" and not is_id:
        raise UsageError(f"{source}: not a stored response's id (resp_...)")
    data = None
    if not is_id:
        data = sys.stdin.buffer.read() if source == "-" else read_bytes(Path(source))
        data = data.removeprefix(BOM)  # Windows tools start JSON with one (PowerShell 5's Out-File -Encoding utf8)
    elif source_format not in (None, "response"):
        raise UsageError(f"{source}: no such file (a response id is imported with --from response)")
    kind = source_format or detect(_shown(source), data)
    if kind == "response":
        from respctl import client  # loads openai: only a stored response needs it

        *earlier, (response, input_items) = client.fetch_stored(source, connection(), callbacks=_callbacks())
    try:  # what does not convert is named by its source, then its place in it
        if kind == "response":
            converted = convert.response_to_items(response, input_items, earlier)
        elif kind == "codex":
            assert data is not None
            converted = convert.codex_rollout_to_items(data)
        else:
            converted = convert.chat_to_items(data)
    except convert.ConvertError as exc:
        raise convert.ConvertError(f"{_shown(source)}: {exc}") from None
    lines = [dumps_item(item) for item in converted.items]
    _check_clean(dst, lines, converted.items, target)
    write_new(dst, b"".join(line + b"\n" for line in lines), force=force, lock_timeout=lock_timeout)
    for note in converted.notes:
        output.note(f"note: {note}")
    pending = pending_calls(converted.items)
    if pending:
        waiting = "1 tool call waits for its output" if len(pending) == 1 else f"{len(pending)} tool calls wait"
        waiting += "" if len(pending) == 1 else " for their outputs"
        output.note(f"note: {waiting}: answer with respctl tool-result")
    said = f"wrote {output.plural(len(lines), 'item')} to {dst} from {_WHAT[kind]}"
    if kind == "response":
        said += f" {source}"
    if converted.model:
        said += f" (model {converted.model}: 'respctl say' takes it with -m)"
    output.note(said)
    return ExitCode.OK


def _shown(source: str) -> str:
    """SOURCE as an error names it."""
    return "standard input" if source == "-" else source


def _check_clean(dst: str, lines: list[bytes], items: list[dict], target: str) -> None:
    """What import writes must pass lint (its errors; pending calls at the end are no error): a
    conversion that would leave a file the API refuses writes nothing."""
    from respctl.lint import gate

    errors = gate(dst, lines, items, target)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise BadFileError(f"the imported conversation would not pass lint: {errors[0]}{more}; nothing was written")


def _callbacks():
    from respctl.callbacks import Callbacks

    return Callbacks(retry=output.retrying, detail=output.detail)


def export(path: str) -> int:
    """The conversation as Chat Completions messages: a JSON array on stdout, notes on stderr."""
    data = sys.stdin.buffer.read() if path == "-" else read_bytes(Path(path))
    _lines, items = parse_lines(data, path)
    converted = convert.items_to_chat(items)
    for note in converted.notes:
        output.note(f"note: {note}")
    from respctl.terminal import escaped_json

    try:
        sys.stdout.buffer.write(escaped_json(orjson.dumps(converted.items, option=orjson.OPT_INDENT_2)) + b"\n")
        sys.stdout.flush()
    except BrokenPipeError:
        output.silence_stdout()
    return ExitCode.OK
