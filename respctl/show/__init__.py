"""`respctl show`: a conversation file for people (text, markdown) and for scripts (json).

Reading is forgiving where the other commands are strict: every line that can be read is shown,
each damaged line is marked in place with its number and its problem, and the exit status is 2 at
the end (0 with `--exit-zero`, which git's textconv needs: any other status fails the whole diff).

Turns. A turn starts with a message (the user's, usually) that follows model output, and holds
what came of it: the model's items, its tool calls with their outputs, and the model's items after
those, up to the next such message. Instructions
(developer or system messages at the start of the file) are turn 0. `--last N` keeps the last N
turns, without the instructions, which are not a turn (all of the file when it has no more than N).

`--format json` prints one JSON array with one object per line of the file, in file order. Every
object has these keys:

    line      int          1-based line number in the file
    turn      int | null   0 for the instructions, then 1, 2, ...; null on a line that could not be read
    type      str | null   the item's type ("message" for a message given only a role); null on a line
                           that could not be read
    role      str | null   a message's role (user, assistant, developer, system); null for other items
    id        str | null   the item's id
    error     str          only on a damaged line: the problem. A line with a CRLF ending or a byte order
                           mark is still read, so it has the keys of its type as well

and, by type (text is given in full, never shortened; encrypted content and embedded data never):

    message       phase        str | null     "commentary" or "final_answer" on assistant messages
                  text         str            the text parts, joined (input parts by a blank line)
                  refusal      str | null     the refusal parts of an assistant message
                  attachments  [attachment]   images and files, described, without their data
    reasoning     summary          [str]        the summary parts
                  text             str | null   reasoning_text content (gpt-oss style servers)
                  encrypted_bytes  int | null   the size of encrypted_content
    function_call, custom_tool_call
                  call_id, name  str | null
                  namespace      str | null
                  arguments      str | null     the arguments JSON string as stored (a custom call's input)
                  pending        bool           no output for this call in the file yet
                  output_line    int | null     the line of its output
    function_call_output, custom_tool_call_output
                  call_id      str | null
                  name         str | null     the name of the call answered (null when no call has this call_id)
                  output       str            the output (the text parts of an array output, joined by a blank line)
                  attachments  [attachment]
                  call_line    int | null     the line of the call answered
    other types   call_id      str | null

    attachment    {"type": "input_image" | "input_file" | ..., "filename", "media_type", "bytes",
                   "url", "file_id", "detail"}: `bytes` is the decoded size of embedded data, `url` an
                   image or file URL (never a data: URL); absent facts are null.

`--pending --format json` is the contract's own shape instead: `[{"call_id", "name", "arguments", "type"}]`.
"""

from __future__ import annotations

import io
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from respctl import items as it
from respctl.conversation import read_bytes
from respctl.errors import BadFileError, RespctlError
from respctl.jsonl import read_lenient
from respctl.output import plural, silence_stdout

INSTRUCTION_ROLES = frozenset({"developer", "system"})


@dataclass
class Entry:
    """One line of the file: its item (None when unreadable), its problem, its turn."""

    line: int
    item: dict | None
    problem: str | None = None
    raw: bytes = b""  # kept for damaged lines only
    turn: int | None = None  # None on an unreadable line
    section: int = 0  # the turn the line sits in, unreadable lines included (for display and --last)
    kind: str | None = None  # the item's type

    @property
    def fields(self) -> dict[str, Any]:
        """The item's fields: those of a readable line, none for a damaged one."""
        return self.item if self.item is not None else {}


@dataclass
class Calls:
    """Tool calls and their outputs, linked by call_id."""

    calls: dict[str, Entry]
    outputs: dict[str, Entry]

    def pending(self, entry: Entry) -> bool:
        return entry.kind in it.CALL_OUTPUT_TYPES and _str(entry.fields.get("call_id")) not in self.outputs

    def name_of(self, call_id: object) -> str | None:
        call = self.calls.get(call_id) if isinstance(call_id, str) else None
        return _str(call.fields.get("name")) if call else None


@dataclass
class Hidden:
    """What --last left out, for a note at the top."""

    first_line: int
    last_line: int
    turns: int
    instructions: bool


def run(
    file: str,
    output_format: str = "text",
    pending: bool = False,
    last: int | None = None,
    full: bool = False,
    color: str = "auto",
    exit_zero: bool = False,
    pager: bool = False,
) -> int:
    """Print FILE ('-': standard input) in the chosen format; damaged lines are shown, then
    reported (exit 2). On a terminal, with `pager`, the output goes through a pager as git's does."""
    if output_format not in ("text", "markdown", "json"):
        raise RespctlError(f"unknown format {output_format!r}")
    entries = read_entries(file)
    turns = assign_turns(entries)
    calls = link_calls(entries)
    shown, hidden = (entries, None) if last is None else last_turns(entries, last, turns)
    if pending:
        shown = [e for e in shown if e.item is not None and calls.pending(e)]
    from respctl.show import render

    screen = render.Screen.of_stdout(color)  # decided before a pager takes stdout over
    try:
        with paged(pager and screen.terminal):
            if output_format == "json":
                render.write_json(shown, calls, pending=pending)
            elif output_format == "markdown":
                render.write_markdown(shown, calls, pending=pending, hidden=hidden, full=full)
            else:
                render.write_text(
                    shown, calls, pending=pending, hidden=hidden, full=full, screen=screen, empty=not entries
                )
            sys.stdout.flush()
    except BrokenPipeError:  # `show | head`, or the pager quit early: the reader has all it wanted
        silence_stdout()
        return 0
    damaged = [e.line for e in entries if e.problem]
    if damaged and not exit_zero:
        lines = ", ".join(map(str, damaged[:10])) + (", ..." if len(damaged) > 10 else "")
        lint = "'respctl lint -' on the same input" if file == "-" else f"'respctl lint {shlex.quote(file)}'"
        raise BadFileError(
            f"{file}: {plural(len(damaged), 'damaged line')} ({'line' if len(damaged) == 1 else 'lines'} {lines}), "
            f"shown as far as possible; see {lint}"
        )
    return 0


@contextmanager
def paged(wanted: bool) -> Iterator[None]:
    """Send stdout through a pager while the body runs, as git does: $RESPCTL_PAGER, else $PAGER,
    else `less` (with LESS=FRX when LESS is unset: quit when it fits one screen, keep colours, leave
    the screen as it is). An empty pager, or `cat`, means none."""
    command = os.environ.get("RESPCTL_PAGER", os.environ.get("PAGER", "less")) if wanted else ""
    if command.strip() in ("", "cat") or (command == "less" and shutil.which("less") is None):
        yield
        return
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    env.setdefault("LV", "-c")
    sys.stdout.flush()
    try:
        proc = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, env=env)
    except OSError:
        yield
        return
    real = sys.stdout
    sys.stdout = io.TextIOWrapper(proc.stdin, encoding="utf-8", errors="surrogateescape")
    try:
        yield
        sys.stdout.flush()
    finally:
        try:
            sys.stdout.close()
        except OSError:  # the pager quit before reading everything
            pass
        sys.stdout = real
        proc.wait()


def read_entries(path: str) -> list[Entry]:
    """Every line of the file ('-': standard input), read leniently (respctl.jsonl): a bad line is marked, never fatal.

    A byte order mark or a CRLF ending is a problem, but the item behind it can still be shown."""
    data = sys.stdin.buffer.read() if path == "-" else read_bytes(Path(path))
    return [
        Entry(number, item, problem=problem, raw=raw, kind=None if item is None else item_type(item))
        for number, item, problem, raw in read_lenient(data).shown()
    ]


def item_type(item: dict) -> str | None:
    """The item's type; an untyped item with a role is a message."""
    return "message" if item.get("type") is None and "role" in item else it.item_type(item)


def is_answer(entry: Entry) -> bool:
    """Input a client sends: a user (or developer/system) message, or a tool output."""
    return entry.item is not None and it.is_client_input(entry.item)


def is_instructions(entry: Entry) -> bool:
    return entry.kind == "message" and _str(entry.fields.get("role")) in INSTRUCTION_ROLES


def assign_turns(entries: list[Entry]) -> int:
    """Number the turns in place; return how many there are."""
    turn = 0
    in_header = True
    after_model = False
    for entry in entries:
        if entry.item is None:
            entry.section = turn
            continue
        answer = is_answer(entry)
        if in_header and is_instructions(entry):
            entry.turn = entry.section = 0
            continue
        in_header = False
        if turn == 0 or (answer and after_model and entry.kind == "message"):  # tool outputs stay with their calls
            turn += 1
        after_model = not answer
        entry.turn = entry.section = turn
    return turn


def link_calls(entries: list[Entry]) -> Calls:
    calls: dict[str, Entry] = {}
    outputs: dict[str, Entry] = {}
    for entry in entries:
        if entry.item is None:
            continue
        call_id = entry.item.get("call_id")
        if not isinstance(call_id, str):
            continue
        if entry.kind in it.CALL_OUTPUT_TYPES:
            calls.setdefault(call_id, entry)
        elif entry.kind in it.OUTPUT_CALL_TYPES:
            outputs.setdefault(call_id, entry)
    return Calls(calls, outputs)


def last_turns(entries: list[Entry], n: int, turns: int) -> tuple[list[Entry], Hidden | None]:
    if n >= turns:
        return entries, None
    first = turns - n + 1
    shown = [e for e in entries if e.section >= first]
    left_out = len(entries) - len(shown)
    if not left_out:
        return shown, None
    instructions = any(e.turn == 0 for e in entries[:left_out])
    return shown, Hidden(1, left_out, first - 1, instructions)


# -- what an item says, for every format --------------------------------------------------------


def content_parts(content: object) -> list[tuple[str, Any]]:
    """A message's (or tool output's) content as ("text" | "refusal" | "attachment", value) pairs."""
    if isinstance(content, str):
        return [("text", content)]
    parts: list[tuple[str, object]] = []
    if not isinstance(content, list):
        return parts
    for part in content:
        if isinstance(part, str):
            parts.append(("text", part))
            continue
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text", "summary_text", "reasoning_text"):
            parts.append(("text", _str(part.get("text")) or ""))
        elif kind == "refusal":
            parts.append(("refusal", _str(part.get("refusal")) or ""))
        else:
            parts.append(("attachment", attachment(part)))
    return parts


def attachment(part: dict) -> dict:
    """An image or file part described without its data."""
    kind = part.get("type")
    info: dict[str, str | int | None] = {
        "type": _str(kind),
        "filename": None,
        "media_type": None,
        "bytes": None,
        "url": None,
        "file_id": None,
        "detail": None,
    }
    info["file_id"] = _str(part.get("file_id"))
    info["detail"] = _str(part.get("detail"))
    info["filename"] = _str(part.get("filename"))
    data = part.get("file_data")
    url = part.get("image_url") if kind == "input_image" else part.get("file_url")
    if isinstance(url, dict):  # chat-completions style {"url": ...}
        url = url.get("url")
    source = url if isinstance(url, str) else data if isinstance(data, str) else None
    if source is None:
        return info
    if source.startswith("data:"):
        info["media_type"], info["bytes"] = data_url_size(source)
    elif source is data:  # bare base64
        info["bytes"] = base64_size(data)
    else:
        info["url"] = source
    return info


def data_url_size(url: str) -> tuple[str | None, int | None]:
    head, sep, payload = url.partition(",")
    if not sep:
        return None, None
    meta = head[5:]
    media_type = meta.split(";", 1)[0] or None
    return media_type, base64_size(payload) if meta.endswith(";base64") else len(payload)


def base64_size(payload: str) -> int:
    payload = payload.strip()
    return len(payload) * 3 // 4 - (len(payload) - len(payload.rstrip("=")))


def joined_text(parts: list[tuple[str, Any]], kind: str, sep: str) -> str:
    return sep.join(value for k, value in parts if k == kind)


def describe(entry: Entry, calls: Calls) -> dict:
    """The --format json object of one line (see the module docstring)."""
    item = entry.item
    if item is None:
        return {"line": entry.line, "turn": None, "type": None, "role": None, "id": None, "error": entry.problem}
    kind = entry.kind
    role = _str(item.get("role")) if kind == "message" else None
    out: dict = {"line": entry.line, "turn": entry.turn, "type": kind, "role": role, "id": _str(item.get("id"))}
    if entry.problem:
        out["error"] = entry.problem
    if kind == "message":
        parts = content_parts(item.get("content"))
        refusal = joined_text(parts, "refusal", "")
        out["phase"] = _str(item.get("phase"))
        out["text"] = joined_text(parts, "text", "" if role == "assistant" else "\n\n")
        out["refusal"] = refusal or None
        out["attachments"] = [value for k, value in parts if k == "attachment"]
    elif kind == "reasoning":
        summary = content_parts(item.get("summary"))
        text = joined_text(content_parts(item.get("content")), "text", "\n\n")
        encrypted = item.get("encrypted_content")
        out["summary"] = [value for k, value in summary if k == "text"]
        out["text"] = text or None
        out["encrypted_bytes"] = len(encrypted) if isinstance(encrypted, str) else None
    elif kind in it.CALL_OUTPUT_TYPES:
        call_id = _str(item.get("call_id"))
        answer = calls.outputs.get(call_id) if call_id else None
        arguments = item.get("arguments") if kind == "function_call" else item.get("input")
        out.update(
            call_id=call_id,
            name=_str(item.get("name")),
            namespace=_str(item.get("namespace")),
            arguments=_str(arguments),
            pending=answer is None,
            output_line=answer.line if answer else None,
        )
    elif kind in it.OUTPUT_CALL_TYPES:
        call_id = _str(item.get("call_id"))
        call = calls.calls.get(call_id) if call_id else None
        parts = content_parts(item.get("output"))
        out.update(
            call_id=call_id,
            name=_str(call.fields.get("name")) if call else None,
            output=joined_text(parts, "text", "\n\n"),
            attachments=[value for k, value in parts if k == "attachment"],
            call_line=call.line if call else None,
        )
    else:
        out["call_id"] = _str(item.get("call_id"))
    return out


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None
