"""The checks: the file itself (read by respctl.jsonl's lenient reader), each item, the conversation.

`check_file` is what `respctl lint` runs; `check_items` is the part that `gate` runs on a file
that the strict reader (respctl.conversation) has already parsed.
"""

from __future__ import annotations

import gc
import json
import re

import orjson

from respctl import jsonl
from respctl import kinds as _kinds
from respctl import target as tg
from respctl.lint.rules import ERROR, RULES
from respctl.lint.shapes import Finding, check_item, item_types, pointer

#: The item kinds, from the one table (respctl.kinds): the id prefix the API checks against each type
#: (RSP112), the calls the client answers and their outputs, paired by call_id (RSP204-RSP207).
ID_PREFIXES = _kinds.ID_PREFIXES
CALL_OUTPUTS = _kinds.CALL_OUTPUTS
OUTPUT_CALLS = _kinds.OUTPUT_CALLS
#: Model items whose id tells the API that a reasoning item came before them (RSP202).
_PAIRED_WITH_REASONING = _kinds.kinds_where(paired=True)
_NAMED = _kinds.kinds_where(named=True)
#: Items that carry `encrypted_content`: reasoning, and compaction (a Fernet token too).
_ENCRYPTED = _kinds.kinds_where(encrypted=True)
_MID_2025_ID = re.compile(r"[a-z]+_[0-9a-f]{48}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: What a Fernet token looks like from afar: version byte 0x80 and a 32-bit-era timestamp.
FERNET_PREFIX = "gAAAAA"


# Plain classes with __slots__ rather than dataclasses: a dataclass costs about half a
# millisecond to create at import, and lint is meant to start as fast as a bare Typer program.


class Fix:
    """What --fix does for one diagnostic: drop a key, drop an item, or remove an item's id."""

    __slots__ = ("action", "index", "path")

    def __init__(self, action: str, index: int = -1, path: tuple = ()):
        self.action = action  # drop_key | drop_item | strip_id | rewrite (file-level: any rewrite mends them)
        self.index = index  # item index
        self.path = path

    def __repr__(self) -> str:
        return f"Fix({self.action!r}, {self.index}, {self.path!r})"


class Diagnostic:
    __slots__ = ("code", "line", "column", "message", "pointer", "fix")

    def __init__(self, code: str, line: int, column: int, message: str, pointer: str = "", fix: Fix | None = None):
        self.code = code
        self.line = line
        self.column = column
        self.message = message
        self.pointer = pointer
        self.fix = fix

    def __repr__(self) -> str:
        return (
            f"Diagnostic({self.code!r}, {self.line}, {self.column}, {self.message!r}, {self.pointer!r}, {self.fix!r})"
        )

    @property
    def rule(self):
        return RULES[self.code]

    @property
    def severity(self) -> str:
        return RULES[self.code].severity


class Pending:
    __slots__ = ("line", "call_id", "name")

    def __init__(self, line: int, call_id: str, name: str):
        self.line = line
        self.call_id = call_id
        self.name = name

    def __repr__(self) -> str:
        return f"Pending({self.line}, {self.call_id!r}, {self.name!r})"


class Result:
    """Everything lint found in one file."""

    __slots__ = ("path", "diagnostics", "pending", "items", "line_numbers", "readable")

    def __init__(self, path: str):
        self.path = path
        self.diagnostics: list[Diagnostic] = []
        self.pending: list[Pending] = []
        self.items: list[dict] = []
        self.line_numbers: list[int] = []
        self.readable = True  # every line parsed to an object: --fix can rewrite the file


# --- the file ---------------------------------------------------------------------------------


def check_file(path: str, data: bytes, target: str = tg.OPENAI) -> Result:
    # Parsing builds one dict per line and nothing that refers back to itself: the cyclic garbage
    # collector would only rescan the growing heap (about a third of the time on a large file).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _check_file(path, data, target)
    finally:
        if enabled:
            gc.enable()


def _check_file(path: str, data: bytes, target: str) -> Result:
    result = Result(path)
    diags = result.diagnostics
    if not data:
        diags.append(Diagnostic("RSP008", 1, 1, "file is empty: no items to replay"))
        return result
    scan = jsonl.read_lenient(data)
    for problem in scan.problems:
        if problem.code != jsonl.CRLF:  # one diagnostic for every CRLF line: below
            fix = None if problem.code in jsonl.UNREADABLE else Fix("rewrite")
            diags.append(Diagnostic(problem.code, problem.line, problem.column, problem.finding, fix=fix))
    result.readable = scan.readable
    raw: list = []  # each item's line (a memoryview of the data), for the columns of diagnostics
    for index, item in enumerate(scan.items):
        if item is None:
            continue
        line = scan.lines[index]
        if _may_change_on_rewrite(scan.data, scan.starts[index], len(line), item):
            diags.extend(_inexact_values(index + 1, bytes(line)))
        raw.append(line)
        result.items.append(item)
        result.line_numbers.append(index + 1)
    if scan.crlf:
        crlf = scan.crlf
        first = next(p for p in scan.problems if p.code == jsonl.CRLF)
        more = f" (and {len(crlf) - 1} more line{'s' if len(crlf) > 2 else ''})" if len(crlf) > 1 else ""
        diags.append(Diagnostic(jsonl.CRLF, first.line, first.column, first.finding + more, fix=Fix("rewrite")))
    final = scan.lines[-1] if scan.unterminated else b""
    if final and result.readable and not jsonl.is_blank(final):
        column = len(bytes(final).decode("utf-8", "replace")) + (len(scan.lines) in scan.crlf) + 1
        diags.append(Diagnostic("RSP007", len(scan.lines), column, "no newline at end of file", fix=Fix("rewrite")))
    if not result.items and not diags:
        diags.append(Diagnostic("RSP008", 1, 1, "file holds no items"))
    found, result.pending = check_items(raw, result.items, result.line_numbers, target)
    diags.extend(found)
    diags.sort(key=lambda d: (d.line, d.column))
    return result


_KEY = re.compile(rb'"\s*:')
#: One pass over a line, at C speed: digits become "0", whitespace " ", and '"' and ':' stay; the
#: rest becomes "x". In that text a run of 19 zeros is a long number, '" ' a key followed by
#: whitespace, and '":' a key (a regular expression over the line is 20 times slower on a file
#: full of encrypted content).
_SHAPE = bytes(48 if 48 <= i <= 57 else 32 if i in b" \t\r\n" else i if i in b'":' else 120 for i in range(256))
_LONG_DIGITS = b"0" * 19


def _may_change_on_rewrite(data: bytes, start: int, size: int, item: dict) -> bool:
    """Cheap filter: can the line (size bytes of data from start) hold a duplicate key, or an integer
    orjson reads as a float? A duplicate key shows as more `":` in the line than in orjson's rewrite
    of what it parsed."""
    try:
        written = orjson.dumps(item)
    except TypeError:  # nested deeper than orjson writes: read it exactly
        return True
    end = start + size
    if size == len(written) and data.startswith(written, start, end):
        return False  # the line is orjson's own writing of what it read (as respctl writes): nothing lost
    shape = data[start:end].translate(_SHAPE)
    if _LONG_DIGITS in shape:
        return True
    keys = len(_KEY.findall(data, start, end)) if b'" ' in shape else shape.count(b'":')
    return keys > written.count(b'":')


def _inexact_values(number: int, line: bytes) -> list[Diagnostic]:
    """Duplicate keys (RSP009) and integers beyond 64 bits (RSP010), found by an exact reading; each
    at its own column (the second occurrence of a key in its object, the integer itself)."""
    found: list[Diagnostic] = []
    integers: list[int] = []  # the byte offset of each integer, in the order the parser meets them
    stack: list[dict | None] = []  # per open object, its keys so far; None for an array
    for token in _TOKEN.finditer(line):
        text = token.group()
        if text in (b"{", b"["):
            stack.append({} if text == b"{" else None)
        elif text in (b"}", b"]"):
            if stack:
                stack.pop()
        elif text[:1] != b'"':
            if text.lstrip(b"-").isdigit():
                integers.append(token.start())
        elif token.group(1) and stack and stack[-1] is not None:
            try:
                key = json.loads(text[: len(text) - len(token.group(1))])
            except ValueError:
                continue
            seen = stack[-1].get(key, 0)
            stack[-1][key] = seen + 1
            if seen == 1:
                found.append(
                    Diagnostic(
                        "RSP009", number, _column(line, token.start()), f"key {key!r} appears twice in one object"
                    )
                )
    met = iter(integers)

    def integer(text: str) -> int:
        value = int(text)
        at = next(met, 0)
        if not -(2**63) <= value < 2**64:
            found.append(
                Diagnostic("RSP010", number, _column(line, at), f"integer {text} is beyond 64 bits: read as a float")
            )
        return value

    try:
        json.loads(line, parse_int=integer)
    except (ValueError, RecursionError):
        pass
    return found


#: A JSON string (with the `:` that makes it a key), a bracket, or a number: enough to place a finding.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"(\s*:)?|[{}\[\]]|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?')


def _column(line: bytes, at: int) -> int:
    return len(line[:at].decode("utf-8", "replace")) + 1


# --- items and the conversation ---------------------------------------------------------------


def check_items(
    lines: list[bytes], items: list[dict], line_numbers: list[int] | None = None, target: str = tg.OPENAI
) -> tuple[list[Diagnostic], list[Pending]]:
    """Diagnostics for parsed items (lines[i] is the raw text of items[i]) and the calls still pending;
    only the rules that apply to `target` (respctl.target)."""
    numbers = line_numbers or range(1, len(items) + 1)
    diags: list[Diagnostic] = []

    def report(code: str, index: int, message: str, path: tuple = (), fix: Fix | None = None) -> None:
        column = _locate(lines[index], path) if path else 1
        diags.append(Diagnostic(code, numbers[index], column, message, pointer(path), fix))

    kinds: list[str | None] = []
    for index, item in enumerate(items):
        kind = _kinds.kind_of(item)
        kinds.append(kind)
        findings = check_item(item, kind)
        if findings:
            what = f"{kind} item: " if kind in item_types() else ""
            for f in _without_e11_overlap(item, kind, findings):
                report(
                    f.code, index, f"{what}{f.message}", f.path, Fix("drop_key", index, f.path) if f.fixable else None
                )
        if kind is not None:
            _check_item_rules(item, kind, index, report)
    pending = _check_conversation(items, kinds, report, numbers)
    diags = [d for d in diags if tg.applies(d.code, target)]
    diags.sort(key=lambda d: (d.line, d.column))
    return diags, pending


def _without_e11_overlap(item: dict, kind: str | None, findings: list[Finding]) -> list[Finding]:
    """An input_text part in an assistant message is reported once, as RSP109, not also as a shape error."""
    if kind != "message" or item.get("role") != "assistant":
        return findings
    bad = {("content", i) for i in _input_text_parts(item)}
    return [f for f in findings if f.path[:2] not in bad]


def _input_text_parts(item: dict) -> list[int]:
    content = item.get("content")
    if type(content) is not list:
        return []
    return [i for i, part in enumerate(content) if type(part) is dict and part.get("type") == "input_text"]


def _check_item_rules(item: dict, kind: str, index: int, report) -> None:
    item_id = item.get("id")
    if type(item_id) is str:
        prefix = ID_PREFIXES.get(kind)
        if prefix and not item_id.startswith(prefix + "_"):
            report(
                "RSP112",
                index,
                f"{kind} item: id '{_short(item_id)}' does not begin with '{prefix}_' as the API expects for this type",
                ("id",),
            )
    if kind == "message":
        if item.get("role") == "assistant":
            for i in _input_text_parts(item):
                report(
                    "RSP109",
                    index,
                    "assistant message: content part is 'input_text'; assistant content takes 'output_text' or "
                    "'refusal' parts",
                    ("content", i, "type"),
                )
        _check_file_ids(item.get("content"), ("content",), index, report)
    if kind in _ENCRYPTED:
        _check_encrypted(item, kind, index, report)
    if kind == "reasoning":
        if item.get("encrypted_content") is None and not item.get("content"):
            if "id" in item:
                report(
                    "RSP203",
                    index,
                    f"reasoning item {_short(item_id)} has an id but neither encrypted_content nor content: "
                    "it cannot be replayed with store false",
                )
            else:
                report(
                    "RSP115",
                    index,
                    "reasoning item has no id, no encrypted_content and no content: nothing to replay",
                )
    elif kind == "function_call":
        arguments = item.get("arguments")
        if type(arguments) is str:
            try:
                orjson.loads(arguments)
            except orjson.JSONDecodeError as exc:
                report(
                    "RSP110",
                    index,
                    f"function_call {item.get('call_id')}: arguments are not valid JSON ({exc.msg} at character "
                    f"{exc.pos + 1})",
                    ("arguments",),
                )
    elif kind in ("function_call_output", "custom_tool_call_output"):
        _check_file_ids(item.get("output"), ("output",), index, report)
    elif kind == "item_reference":
        report(
            "RSP301",
            index,
            f"item_reference to '{_short(item_id)}' needs the item stored on the server; respctl replays with store "
            "false",
        )
    if kind in _NAMED:
        for key in ("name", "namespace"):
            value = item.get(key)
            if type(value) is str and _CONTROL.search(value):
                report(
                    "RSP111", index, f"{kind} item: {key} {_quote(value)} contains a NUL or control character", (key,)
                )


def _check_encrypted(item: dict, kind: str, index: int, report) -> None:
    token = item.get("encrypted_content")
    if type(token) is not str:
        return
    subject = f"{kind} item {_short(item['id'])}" if type(item.get("id")) is str else f"{kind} item"
    if not token:
        report("RSP113", index, f"{subject}: encrypted_content is empty", ("encrypted_content",))
        return
    problem = fernet_problem(token)
    if problem:
        report(
            "RSP114",
            index,
            f"{subject}: encrypted_content is not a whole Fernet token: {problem}",
            ("encrypted_content",),
        )


def fernet_problem(token: str) -> str | None:
    """Why a blob that looks like OpenAI's encrypted content (a Fernet token, `gAAAAA...`) cannot be one.

    A Fernet token is base64url (padded) of: version byte 0x80, 8-byte timestamp, 16-byte IV,
    AES-CBC ciphertext (a multiple of 16 bytes) and a 32-byte HMAC: 57 + 16k bytes. Checked: the
    length (a multiple of 4), ASCII, the padding, the decoded length; a character changed inside
    the blob is left to the server. Every blob in the real recordings (tests/fixtures/recordings)
    has this envelope, even the shorter copy of `output_item.added`, so a blob cut at a block
    boundary passes: only the server can tell.
    None for a blob that does not look like a Fernet token (another server's format) or has its envelope.
    """
    if not token.startswith(FERNET_PREFIX):
        return None
    if len(token) % 4:
        return f"{len(token)} characters, not a multiple of 4 (cut short?)"
    # The blob is not read whole (a long conversation holds 100 MB of them: each pass costs a fifth of
    # parsing the file): isascii() is O(1) in CPython; the last quantum shows stray padding.
    if not token.isascii():
        return "it holds non-ASCII characters (an ellipsis from a display?), not base64url"
    padding = 2 if token[-2] == "=" else 1 if token[-1] == "=" else 0
    if (padding and token[-1] != "=") or token[-3] == "=":
        return f"it ends in {_quote(token[-4:])}, not base64url"
    size = len(token) // 4 * 3 - padding
    if size < 73 or (size - 57) % 16:
        return f"it decodes to {size} bytes, not 57 + 16k (cut or edited)"
    return None


def _check_file_ids(content, path: tuple, index: int, report) -> None:
    if type(content) is not list:
        return
    for i, part in enumerate(content):
        if type(part) is dict and type(part.get("file_id")) is str:
            report(
                "RSP302",
                index,
                f"{part.get('type', 'content')} part refers to uploaded file '{part['file_id']}': it replays only "
                "while that file exists on the same account",
                path + (i, "file_id"),
            )


def _check_conversation(items: list[dict], kinds: list, report, numbers) -> list[Pending]:
    count = len(items)
    seen_ids: dict[str, int] = {}
    calls: dict[str, int] = {}
    answered: dict[str, int] = {}
    pairs: list[int] = []  # reasoning items followed by an item, both with mid-2025 ids
    compacted = False  # a compaction item came before
    for index, item in enumerate(items):
        kind = kinds[index]
        item_id = item.get("id")
        if type(item_id) is str and kind != "item_reference":
            first = seen_ids.get(item_id)
            if first is None:
                seen_ids[item_id] = index
            else:
                report(
                    "RSP208",
                    index,
                    f"duplicate item id {_short(item_id)} (first on line {numbers[first]})",
                    ("id",),
                    _dedupe(items, first, index),
                )
        if kind == "reasoning" and ("id" in item or "encrypted_content" in item):
            following = kinds[index + 1] if index + 1 < count else None
            if not _is_follower(items[index + 1] if following else None, following):
                what = (
                    "is the last item"
                    if following is None
                    else f"is followed by {_describe(items[index + 1], following)}"
                )
                report(
                    "RSP201",
                    index,
                    f"reasoning item {_short(item_id)} has no following item: it {what}",
                    (),
                    Fix("drop_item", index),
                )
            elif _MID_2025_ID.match(str(item_id)) and _MID_2025_ID.match(str(items[index + 1].get("id"))):
                pairs.append(index)
        elif kind in CALL_OUTPUTS:
            call_id = item.get("call_id")
            if type(call_id) is str:
                if call_id in calls:
                    report(
                        "RSP207",
                        index,
                        f"{kind} {call_id}: call_id already used on line {numbers[calls[call_id]]}",
                        ("call_id",),
                        _dedupe(items, calls[call_id], index),
                    )
                else:
                    calls[call_id] = index
        elif kind in OUTPUT_CALLS:
            call_id = item.get("call_id")
            if type(call_id) is str:
                call = calls.get(call_id)
                if call is None and compacted:
                    # A call still open when a compaction item was made is carried by that item: its
                    # output may follow it once the items before it are dropped, as the compaction guide
                    # has clients do (respctl.compaction; the loopback API accepts it, tests/fakeapi.py).
                    answered[call_id] = index
                elif call is None or kinds[call] != OUTPUT_CALLS[kind]:
                    later = any(
                        kinds[j] == OUTPUT_CALLS[kind] and items[j].get("call_id") == call_id
                        for j in range(index + 1, count)
                    )
                    where = " (the call comes later in the file)" if later else ""
                    report(
                        "RSP205", index, f"{kind} {call_id} has no earlier {OUTPUT_CALLS[kind]}{where}", ("call_id",)
                    )
                elif call_id in answered:
                    report(
                        "RSP206",
                        index,
                        f"second output for call {call_id} (first on line {numbers[answered[call_id]]})",
                        ("call_id",),
                        _dedupe(items, answered[call_id], index),
                    )
                else:
                    answered[call_id] = index
        elif kind == "compaction":
            compacted = True
        elif kind == "compaction_trigger" and index != count - 1:
            report("RSP209", index, "compaction_trigger must be the last item")

    if "reasoning" in kinds:
        _warn_turns_without_reasoning(items, kinds, report)
        _warn_foreign_followers(items, kinds, pairs, report)
    tail = _tail_start(items, kinds)
    pending = []
    for call_id, index in calls.items():
        if call_id in answered:
            continue
        if index >= tail:
            item = items[index]
            pending.append(Pending(numbers[index], call_id, str(item.get("name"))))
        else:
            report(
                "RSP204",
                index,
                f"{kinds[index]} {call_id} ({items[index].get('name')}) has no output, and a later turn follows it",
            )
    return pending


def _warn_turns_without_reasoning(items: list[dict], kinds: list, report) -> None:
    """E3 heuristic, in a file where turns have reasoning: the response to a user message that
    starts without a reasoning item but keeps its items' ids. (After tool outputs a response
    often has no reasoning item: those are not suspected.)"""
    run: list[int] = []  # the model's items since the last item a user or a tool added
    after_user = True
    for index, item in enumerate(items):
        kind = kinds[index]
        if kind is not None and not _client_side(item, kind):
            run.append(index)
            continue
        if run and after_user:
            _warn_lost_reasoning(items, kinds, run, report)
        run, after_user = [], kind == "message" or kind is None
    if run and after_user:
        _warn_lost_reasoning(items, kinds, run, report)


def _warn_lost_reasoning(items: list[dict], kinds: list, run: list[int], report) -> None:
    if any(kinds[index] == "reasoning" for index in run):
        return
    for index in run:
        kind = kinds[index]
        if kind in _PAIRED_WITH_REASONING and type(items[index].get("id")) is str:
            report(
                "RSP202",
                index,
                f"{kind} {_short(items[index]['id'])} keeps its id, but no reasoning item precedes it in its turn "
                "(other turns have one): "
                "if its reasoning item was removed, the API rejects the id",
                ("id",),
                Fix("strip_id", index),
            )


def _warn_foreign_followers(items: list[dict], kinds: list, pairs: list[int], report) -> None:
    """E3 heuristic for mid-2025 ids (prefix_ + 48 hex, the items of one response sharing the last
    16): once the file shows that scheme, a reasoning item followed by an item of another response
    means the follower's own reasoning item is gone (and this one lost its follower)."""
    suffix = {i: (items[i]["id"][-16:], items[i + 1]["id"][-16:]) for i in pairs}
    if not any(a == b for a, b in suffix.values()):
        return
    for i, (a, b) in suffix.items():
        follower = items[i + 1]
        if a != b and kinds[i + 1] in _PAIRED_WITH_REASONING:
            report(
                "RSP202",
                i + 1,
                f"{kinds[i + 1]} {_short(follower['id'])} follows reasoning item {_short(items[i]['id'])} of another "
                "response "
                "(their ids do not end alike, as items of one response do): its own reasoning item seems gone",
                ("id",),
                Fix("strip_id", i + 1),
            )


def _tail_start(items: list[dict], kinds: list) -> int:
    """Where the last response's items begin, when only tool outputs follow them (calls there are pending)."""
    i = len(items)
    while i > 0 and kinds[i - 1] in OUTPUT_CALLS:
        i -= 1
    while i > 0 and kinds[i - 1] is not None and not _client_side(items[i - 1], kinds[i - 1]):
        i -= 1
    return i


def _client_side(item: dict, kind: str | None) -> bool:
    """True for what the user or the client's tools add (not part of a model response)."""
    return kind is None or _kinds.is_client_input(item)


def _is_follower(item: dict | None, kind: str | None) -> bool:
    return _kinds.is_follower(item, kind)


def _describe(item: dict, kind: str) -> str:
    if kind == "message":
        return f"a {item.get('role')} message"
    return f"a {kind} item"


def _dedupe(items: list[dict], first: int, index: int) -> Fix | None:
    return Fix("drop_item", index) if items[first] == items[index] else None


def _short(value: object, keep: int = 24) -> str:
    text = str(value)
    return text if len(text) <= keep else text[: keep - 1] + "…"


def _quote(value: str) -> str:
    return orjson.dumps(value).decode()


def _locate(line: bytes | memoryview, path: tuple) -> int:
    """Column (1-based, in characters) of the last key of `path` in the raw line; best effort."""
    line = bytes(line)
    at = 0
    found = 0
    for part in path:
        if isinstance(part, int):
            continue
        key = orjson.dumps(part)
        pos = line.find(key, at)
        while pos != -1:
            after = line[pos + len(key) :].lstrip()
            if after.startswith(b":"):
                break
            pos = line.find(key, pos + 1)
        if pos == -1:
            break
        found = pos
        at = pos + len(key)
    return len(line[:found].decode("utf-8", "replace")) + 1


def errors_only(diags: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diags if RULES[d.code].severity == ERROR]
