"""The lines of a conversation file as show sees them: entries, their turns, tool calls linked to outputs.

Reading is forgiving where the other commands are strict: every line that can be read is an entry,
and each damaged line is one too, with its number and its problem (`read_entries`, through the
lenient reader of respctl.jsonl).

Turns are numbered as `rewind` and `fork` count them (respctl.boundaries.turns): a turn starts with
a message (the user's, usually) that follows model output, and holds what came of it: the model's
items, its tool calls with their outputs, and the model's items after those, up to the next such
message (one written between a call and its output starts none). Instructions (developer or system
messages at the start of the file) are turn 0. `--last N` keeps the last N turns, without the
instructions, which are not a turn (all of the file when it has no more than N).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from respctl import boundaries, compaction
from respctl import items as it
from respctl.conversation import read_bytes
from respctl.jsonl import read_lenient


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
    size: int = 0  # the line's bytes, its newline included
    replaces: Replaced | None = None  # on a compaction item: what it replaces

    @property
    def fields(self) -> dict[str, Any]:
        """The item's fields: those of a readable line, none for a damaged one."""
        return self.item if self.item is not None else {}


@dataclass
class Replaced:
    """What a compaction item replaces: the items before it but the instructions and the messages it kept
    (respctl.boundaries' compaction window), those of the archive beside the file included."""

    items: int
    bytes: int
    archive: str | None  # the archive counted (FILE.history.jsonl), None when there is none


@dataclass
class Calls:
    """Tool calls and their outputs, linked by call_id."""

    calls: dict[str, Entry]
    outputs: dict[str, Entry]

    def pending(self, entry: Entry) -> bool:
        return entry.kind in it.CALL_OUTPUT_TYPES and str_or_none(entry.fields.get("call_id")) not in self.outputs

    def name_of(self, call_id: object) -> str | None:
        call = self.calls.get(call_id) if isinstance(call_id, str) else None
        return str_or_none(call.fields.get("name")) if call else None


@dataclass
class Hidden:
    """What --last left out, for a note at the top."""

    first_line: int
    last_line: int
    turns: int
    instructions: bool


def read_entries(path: str) -> list[Entry]:
    """Every line of the file ('-': standard input), read leniently (respctl.jsonl): a bad line is marked, never fatal.

    A byte order mark or a CRLF ending is a problem, but the item behind it can still be shown."""
    data = sys.stdin.buffer.read() if path == "-" else read_bytes(Path(path))
    scan = read_lenient(data)
    return [
        Entry(
            number,
            item,
            problem=problem,
            raw=raw,
            kind=None if item is None else item_type(item),
            size=len(scan.lines[number - 1]) + 1,
        )
        for number, item, problem, raw in scan.shown()
    ]


def mark_compactions(path: str, entries: list[Entry]) -> None:
    """Set `replaces` on each compaction item: the items before its window in the file (the instructions
    excepted) and, for a file ('-' has none), every item of its archive (respctl.compaction), which all
    came before."""
    if not any(e.kind == "compaction" for e in entries):
        return

    items = [e.fields for e in entries]
    floor = boundaries.instructions_end(items)
    archive = None if path == "-" else compaction.archived(path)
    name = None if archive is None else str(compaction.archive_path(path))
    for start, end in boundaries.compaction_windows(items):
        before = entries[floor:start]
        count, size = len(before), sum(e.size for e in before)
        if archive is not None:
            count, size = count + archive[0], size + archive[1]
        entries[end - 1].replaces = Replaced(count, size, name)


def item_type(item: dict) -> str | None:
    """The item's type; an untyped item with a role is a message."""
    return "message" if item.get("type") is None and "role" in item else it.item_type(item)


def is_answer(entry: Entry) -> bool:
    """Input a client sends: a user (or developer/system) message, or a tool output."""
    return entry.item is not None and it.is_client_input(entry.item)


def assign_turns(entries: list[Entry]) -> int:
    """Number the turns in place as rewind and fork count them (respctl.boundaries.turns, over the
    readable lines); a damaged line sits in the turn of the line before it. Return how many there are."""
    readable = [e for e in entries if e.item is not None]
    for number, (start, end) in enumerate(boundaries.turns([e.item for e in readable if e.item is not None]), 1):
        for entry in readable[start:end]:
            entry.turn = number
    current = 0
    for entry in entries:
        if entry.item is not None:
            entry.turn = current = entry.turn or 0  # the instructions are in no turn: turn 0
        entry.section = current
    return current


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


def str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
