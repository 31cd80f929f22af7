"""--fix: apply the safe fixes to a file, atomically, and say what was done.

Safe means the conversation still says the same thing to the model, or loses only what the
API would refuse anyway: nulls and output-only fields dropped, a reasoning item with no
following item dropped, the id of an item whose reasoning item is gone removed, exact
duplicate lines removed, the serialization made canonical (compact JSON, LF, no BOM). String
values are never edited, so `encrypted_content` stays byte for byte.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from respctl.conversation import check_replaceable, dumps_item, write_atomic
from respctl.lint.check import Diagnostic, Result, check_file
from respctl.target import OPENAI

#: Rounds of fix-and-check: a fix can reveal another (a dropped duplicate, then its pairing).
_ROUNDS = 5


@dataclass
class Applied:
    diagnostic: Diagnostic  # as found, with the line numbers of the file before this round
    title: str


@dataclass
class Outcome:
    result: Result  # the file as written (or as it was, when nothing changed)
    applied: list[Applied]
    normalized: int = 0  # lines whose bytes changed only by re-serialization
    refused: str | None = None  # why the file was not touched at all


def fix_file(path: str, data: bytes, target: str = OPENAI, expect: os.stat_result | None = None) -> Outcome:
    """Fix `data` (the bytes of `path`) and write the result, unless the file no longer is the one
    `expect` describes (another program appended or edited meanwhile): then nothing is written."""
    result = check_file(path, data, target)
    if not result.readable:
        bad = next(d for d in result.diagnostics if d.code in ("RSP001", "RSP002", "RSP003"))
        return Outcome(
            result, [], refused=f"line {bad.line} is not a JSON object; mend it by hand, then run --fix again"
        )
    lossy = next((d for d in result.diagnostics if d.code in ("RSP009", "RSP010")), None)
    if lossy is not None:  # a rewrite would keep one of two values, or round a number: none at all
        if not any(d.fix is not None for d in result.diagnostics):
            return Outcome(result, [])  # nothing to fix (the finding itself is reported): no refusal either
        return Outcome(result, [], refused=f"line {lossy.line}: {lossy.message}; a rewrite would change a value")
    applied: list[Applied] = []
    origin = list(result.line_numbers)  # the original line of each item, through the rounds
    current = data
    for round_ in range(_ROUNDS):
        fixable = [d for d in result.diagnostics if d.fix is not None]
        if not fixable:
            break
        if round_:  # later rounds see the rewritten file: report the lines as the user knows them
            for d in fixable:
                d.line = origin[d.line - 1]
        items, kept = _apply(result.items, fixable)
        origin = [origin[i] for i in kept]
        applied += [Applied(d, d.rule.fix or "") for d in fixable]
        current = _serialize(items)
        result = check_file(path, current, target)
    if not applied:
        current = _serialize(result.items)
    if current == data:
        return Outcome(result, [])
    check_replaceable(Path(path))  # as a turn does: name why the rename cannot happen (chattr, sticky folder)
    write_atomic(Path(path), current, expect=expect)
    if not applied:  # same items, other bytes (and columns)
        result = check_file(path, current, target)
    return Outcome(result, applied, _normalized(data, current, origin, applied))


def _normalized(data: bytes, current: bytes, origin: list[int], applied: list[Applied]) -> int:
    """How many lines changed only by being written in canonical form (not by a fix)."""
    before = data.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    touched = {
        a.diagnostic.line for a in applied if a.diagnostic.fix and a.diagnostic.fix.action in ("drop_key", "strip_id")
    }
    after = current.split(b"\n")
    return sum(
        1
        for number, line in zip(origin, after, strict=False)
        if number not in touched and before[number - 1].rstrip(b"\r") != line
    )


def _serialize(items: list[dict]) -> bytes:
    return b"".join(dumps_item(item) + b"\n" for item in items)


def _apply(items: list[dict], fixable: list[Diagnostic]) -> tuple[list[dict], list[int]]:
    """The items with the fixes applied, and the indexes of the items kept."""
    dropped: set[int] = set()
    for d in fixable:
        fix = d.fix
        assert fix is not None  # fixable: every one has a fix
        if fix.action == "drop_item":
            dropped.add(fix.index)
        elif fix.action == "strip_id":
            items[fix.index].pop("id", None)
        elif fix.action == "drop_key":
            _drop_key(items[fix.index], fix.path)
    kept = [index for index in range(len(items)) if index not in dropped]
    return [items[index] for index in kept], kept


def _drop_key(item: dict, path: tuple) -> None:
    parent = item
    for part in path[:-1]:
        parent = parent[part]
    value = parent.get(path[-1])
    if isinstance(value, str):  # only nulls and output-only fields are dropped; text is never touched
        if path[-1] == "encrypted_content":
            return
    parent.pop(path[-1], None)
