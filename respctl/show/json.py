"""`--format json`: one JSON array with one object per line of the file, in file order.

Every object has these keys:

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
    compaction    encrypted_bytes  int | null   the size of encrypted_content
                  replaces         {"items", "bytes", "archive"} | null: what the compaction item stands for,
                                   the items before it (but the instructions and the user messages it
                                   kept) and those of the archive FILE.history.jsonl (`archive`: its
                                   path; null when there is none); `bytes` counts their lines. null on a
                                   compaction item a damaged line hides from the reader
    other types   call_id      str | null

    attachment    {"type": "input_image" | "input_file" | ..., "filename", "media_type", "bytes",
                   "url", "file_id", "detail"}: `bytes` is the decoded size of embedded data, `url` an
                   image or file URL (never a data: URL); absent facts are null.

`--pending --format json` is the contract's own shape instead: `[{"call_id", "name", "arguments", "type"}]`.
"""

from __future__ import annotations

import sys

import orjson

from respctl import items as it
from respctl.show.content import content_parts, joined_text
from respctl.show.model import Calls, Entry, str_or_none
from respctl.show.sanitize import escaped_json


def describe(entry: Entry, calls: Calls) -> dict:
    """The --format json object of one line (see the module docstring)."""
    item = entry.item
    if item is None:
        return {"line": entry.line, "turn": None, "type": None, "role": None, "id": None, "error": entry.problem}
    kind = entry.kind
    role = str_or_none(item.get("role")) if kind == "message" else None
    out: dict = {"line": entry.line, "turn": entry.turn, "type": kind, "role": role, "id": str_or_none(item.get("id"))}
    if entry.problem:
        out["error"] = entry.problem
    if kind == "message":
        parts = content_parts(item.get("content"))
        refusal = joined_text(parts, "refusal", "")
        out["phase"] = str_or_none(item.get("phase"))
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
        call_id = str_or_none(item.get("call_id"))
        answer = calls.outputs.get(call_id) if call_id else None
        arguments = item.get("arguments") if kind == "function_call" else item.get("input")
        out.update(
            call_id=call_id,
            name=str_or_none(item.get("name")),
            namespace=str_or_none(item.get("namespace")),
            arguments=str_or_none(arguments),
            pending=answer is None,
            output_line=answer.line if answer else None,
        )
    elif kind in it.OUTPUT_CALL_TYPES:
        call_id = str_or_none(item.get("call_id"))
        call = calls.calls.get(call_id) if call_id else None
        parts = content_parts(item.get("output"))
        out.update(
            call_id=call_id,
            name=str_or_none(call.fields.get("name")) if call else None,
            output=joined_text(parts, "text", "\n\n"),
            attachments=[value for k, value in parts if k == "attachment"],
            call_line=call.line if call else None,
        )
    elif kind == "compaction":
        found, encrypted = entry.replaces, item.get("encrypted_content")
        out["encrypted_bytes"] = len(encrypted) if isinstance(encrypted, str) else None
        out["replaces"] = (
            None if found is None else {"items": found.items, "bytes": found.bytes, "archive": found.archive}
        )
    else:
        out["call_id"] = str_or_none(item.get("call_id"))
    return out


def write_json(entries, calls: Calls, *, pending: bool) -> None:
    """One array, one object per line: `[` and `]` on lines of their own, so that it greps and diffs."""
    if pending:
        objects = [it.call_summary(e.item) for e in entries]
    else:
        objects = [describe(e, calls) for e in entries]
    dumps = orjson.dumps
    data = b"[\n" + b",\n".join([dumps(o) for o in objects]) + b"\n]\n" if objects else b"[]\n"
    sys.stdout.buffer.write(escaped_json(data))
