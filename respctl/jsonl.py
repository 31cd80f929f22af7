"""The one reader of the conversation file format: UTF-8 JSON Lines, one JSON object per line.

Two modes over the same rules:

    read_strict(data, name)  -> (lines, items)   turns: the first problem is an error naming file and line
    read_lenient(data)       -> Scan             show and lint: every line read that can be, each problem kept
    read_line(line, number)  -> (item, problems) one line, as both modes read it

What a problem is, in both modes (the code is the lint rule that reports it):

    RSP006  the file starts with a UTF-8 byte order mark    lenient: removed, line 1 still read
    RSP004  a blank line (empty, or ASCII whitespace only)  lenient: no item
    RSP005  a line ending in CRLF                           lenient: the CR removed, the item still read
    RSP001  a line that is not JSON                         lenient: no item
    RSP002  a line that is not UTF-8                        lenient: no item
    RSP003  a line that is JSON but not an object           lenient: no item

Lines are split at "\\n"; a final newline ends the last line (no empty line after it), and a last
line without one is still a line. An empty file has no lines and no problems. Whether that (or a
missing final newline) matters is the caller's business: lint warns, turns and show do not mind.

Each problem has two wordings, kept here so that every command says the same thing about a line:
`message` for a person running a turn or reading `show` (it says how to mend what `lint --fix`
mends), and `finding`, the text of lint's diagnostic, which names its rule and column itself.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import orjson

from respctl.errors import BadFileError

BOM = b"\xef\xbb\xbf"
INVALID_JSON, INVALID_UTF8, NOT_AN_OBJECT, BLANK_LINE, CRLF, BYTE_ORDER_MARK = (
    "RSP001",
    "RSP002",
    "RSP003",
    "RSP004",
    "RSP005",
    "RSP006",
)
#: Problems that leave a line without an item a rewrite could keep (lint --fix refuses the file).
UNREADABLE = frozenset({INVALID_JSON, INVALID_UTF8, NOT_AN_OBJECT})
_FIX = " (run 'respctl lint --fix')"
_WHITESPACE = frozenset(b" \t\r\x0b\x0c")  # what bytes.isspace() takes, but "\n": a line never holds one


class Problem:
    """One problem of one line. A plain class with __slots__: lint creates one per damaged line."""

    __slots__ = ("code", "line", "message", "finding", "_raw", "_at", "_column")

    def __init__(self, code: str, line: int, message: str, finding: str, raw=b"", at: int = 0, column: int = 0):
        self.code = code
        self.line = line  # 1-based line number
        self.message = message  # for people: "blank line (run 'respctl lint --fix')"
        self.finding = finding  # lint's diagnostic text: "blank line"
        self._raw, self._at, self._column = raw, at, column

    @property
    def column(self) -> int:
        """1-based, in characters: where in the line the problem is."""
        if self._column:
            return self._column
        return len(bytes(self._raw[: self._at]).decode("utf-8", "replace")) + 1

    def __repr__(self) -> str:
        return f"Problem({self.code!r}, {self.line}, {self.message!r})"


def json_kind(value: object) -> str:
    """What a JSON value is, in words: "an object", "an array", "a string", "an integer"..."""
    if value is None:
        return "null"
    return {
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        list: "an array",
        dict: "an object",
    }.get(type(value), "a value")


def _bom(number: int = 1) -> Problem:
    return Problem(
        BYTE_ORDER_MARK, number, "file starts with a byte order mark" + _FIX, "file starts with a UTF-8 byte order mark"
    )


def _blank(number: int) -> Problem:
    return Problem(BLANK_LINE, number, "blank line" + _FIX, "blank line")


def _crlf(number: int, line) -> Problem:
    return Problem(CRLF, number, "CRLF line ending" + _FIX, "line ends in CRLF", line, len(line))


def is_blank(line) -> bool:
    return not line or (line[0] in _WHITESPACE and bytes(line).isspace())


def _parse(line, number: int) -> dict | Problem:
    """The item of a line without its line ending (bytes or a memoryview), or what keeps it from being one."""
    try:
        item = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raw = bytes(line)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            return Problem(
                INVALID_UTF8,
                number,
                f"invalid JSON: invalid UTF-8 at byte {bad.start + 1}",
                f"invalid UTF-8: byte 0x{raw[bad.start]:02x} at byte {bad.start + 1}",
                raw,
                bad.start,
            )
        return Problem(
            INVALID_JSON,
            number,
            f"invalid JSON: {exc.msg} at column {exc.colno}",
            f"invalid JSON: {exc.msg}",
            column=exc.colno,
        )
    if type(item) is not dict:
        raw = bytes(line)
        text = f"expected a JSON object (one input item), got {json_kind(item)}"
        return Problem(NOT_AN_OBJECT, number, text, text, raw, len(raw) - len(raw.lstrip()))
    return item


def read_line(line, number: int) -> tuple[dict | None, list[Problem]]:
    """One line without its newline: its item if it has one, and its problems in the order the strict
    reader meets them (the readers call it only for a line their fast path refused: a clean line is
    one orjson reads to an object, with no CR at its end)."""
    if is_blank(line):
        return None, [_blank(number)]
    problems = []
    if line[-1] == 13:  # \r
        problems.append(_crlf(number, line[:-1]))
        line = line[:-1]
    found = _parse(line, number)
    if type(found) is Problem:
        return None, [*problems, found]
    return found, problems  # type: ignore[return-value]


def read_strict(data: bytes, name: str) -> tuple[list[bytes], list[dict]]:
    """Every line and its item; BadFileError (exit 2) "NAME:LINE: problem" at the first problem."""
    if data.startswith(BOM):
        raise BadFileError(f"{name}:1: {_bom().message}")
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    loads = orjson.loads
    items: list[dict] = []
    # Parsed items hold no reference cycles, so the cyclic garbage collector (which would walk
    # every dict built so far, again and again) has nothing to find while they pile up.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for number, line in enumerate(lines, 1):
            try:  # the common case first: a clean line, read once
                item = loads(line) if line[-1:] != b"\r" else None
            except orjson.JSONDecodeError:
                item = None
            if type(item) is not dict:
                found, problems = read_line(line, number)
                if found is None or problems:  # a line without an item has a problem that says why
                    raise BadFileError(f"{name}:{number}: {problems[0].message}")
                item = found
            items.append(item)
    finally:
        if collecting:
            gc.enable()
    return lines, items


class Scan:
    """A file read leniently: one entry per line in `lines` and `items`, and every problem found.

    lines[i] is line i+1 without its line ending (and line 1 without a byte order mark): a memoryview
    of the data, not a copy (a large file would be held twice). items[i] is its item, None when the
    line has none (blank, not JSON, not an object)."""

    __slots__ = ("data", "starts", "lines", "items", "problems", "bom", "crlf", "unterminated")

    def __init__(self, data: bytes = b"") -> None:
        self.data = data  # the file, without its byte order mark
        self.starts: list[int] = []  # where each line begins in `data` (bytes.startswith compares at C speed
        # where comparing a memoryview does not)
        self.lines: list[memoryview] = []
        self.items: list[dict | None] = []
        self.problems: list[Problem] = []  # in line order
        self.bom = False
        self.crlf: list[int] = []  # numbers of the lines that end in CRLF
        self.unterminated = False  # the last line has no newline

    @property
    def readable(self) -> bool:
        """Every line that is not blank holds an object: a rewrite of the items loses nothing."""
        return not any(p.code in UNREADABLE for p in self.problems)

    def shown(self) -> Iterator[tuple[int, dict | None, str | None, bytes]]:
        """(line number, item or None, the problem a person is told or None, the line's bytes when it has a
        problem) for every line. The problem told is the one that left the line without an item, else the
        first (a byte order mark before a CRLF ending)."""
        first: dict[int, Problem] = {}
        last: dict[int, Problem] = {}
        for p in self.problems:
            first.setdefault(p.line, p)
            last[p.line] = p
        for index, item in enumerate(self.items):
            problem = (first if item is not None else last).get(index + 1)
            if problem is None:
                yield index + 1, item, None, b""
            else:
                yield index + 1, item, problem.message, bytes(self.lines[index])


def read_lenient(data: bytes) -> Scan:
    """Every line of the file, each read on its own: a damaged line is noted, never fatal."""
    if data.startswith(BOM):
        data = data[len(BOM) :]
        scan = Scan(data)
        scan.bom = True
        scan.problems.append(_bom())
    else:
        scan = Scan(data)
    view = memoryview(data)
    size = len(data)
    find = data.find
    loads = orjson.loads
    starts, lines, items, problems = scan.starts, scan.lines, scan.items, scan.problems
    number = start = 0
    collecting = gc.isenabled()
    gc.disable()
    try:
        while start < size:
            end = find(b"\n", start)
            if end < 0:
                end = size
                scan.unterminated = True
            number += 1
            line = view[start:end]
            try:  # the common case first: a clean line, read once
                item = loads(line) if data[end - 1] != 13 else None
            except orjson.JSONDecodeError:
                item = None
            if type(item) is not dict:
                item, found = read_line(line, number)
                if found:
                    problems += found
                    if found[0].code == CRLF:
                        scan.crlf.append(number)
                        line = line[:-1]
            starts.append(start)
            lines.append(line)
            items.append(item)
            start = end + 1
    finally:
        if collecting:
            gc.enable()
    return scan
