"""Compaction: what a conversation file keeps once the server has compacted it, and where the rest goes.

A compaction item (`{"type": "compaction", "encrypted_content": ...}`, from a turn with
--compact-threshold or from `respctl compact`) carries the context of the items before it: the
API's guide has clients append the output as usual and then drop the items before the latest
compaction item. respctl does so, so that `jq -s . FILE` stays exactly the next request's input and
that input stays bounded:

- the file keeps its instructions (the developer/system messages at its top: the compact endpoint
  returns only user messages before its compaction item, so nothing says the item carries them, and
  a kept copy costs a few tokens), then the latest compaction window (respctl.boundaries: the item and
  the user messages the compact endpoint returned with it) and everything after it;
- the items in between go to the archive beside the file, FILE.history.jsonl, appended in order and
  written (temporary file, fsync, rename) BEFORE the file is rewritten: a crash in between leaves both
  whole, and the next turn's drop finds them already archived instead of archiving them twice;
- nothing is dropped while a call before the window waits for its output (`tool-result` must find
  it); once answered, the call goes and its output stays after the compaction item, which carries it.

Instructions, then the archive, then the rest of the file is every item the conversation ever held.
"""

from __future__ import annotations

import os
from pathlib import Path

from respctl import items as it
from respctl.boundaries import compaction_windows, instructions_end
from respctl.conversation import Conversation, signals_deferred, write_atomic
from respctl.errors import RespctlError

ARCHIVE_SUFFIX = ".history.jsonl"


def archive_path(path: str | os.PathLike) -> Path:
    p = Path(path)
    return p.with_name(p.name + ARCHIVE_SUFFIX)


def droppable(items: list[dict]) -> tuple[int, int] | None:
    """The items a compaction lets the file drop, as (first, end), end exclusive; None: none (no
    compaction item past the instructions, or a call before the window still waiting)."""
    windows = compaction_windows(items)
    if not windows:
        return None
    first, end = instructions_end(items), windows[-1][0]
    if end <= first:
        return None
    waiting = {id(call) for call in it.pending_calls(items)}
    if any(id(item) in waiting for item in items[first:end]):
        return None
    return first, end


def drop_compacted(conv: Conversation) -> int:
    """After a write: archive and drop what the latest compaction item replaces. Returns how many
    items left the file. A failure leaves the file whole (the turn is saved already) and is raised."""
    cut = droppable(conv.items)
    if cut is None:
        return 0
    first, end = cut
    keep = [*range(first), *range(end, len(conv.items))]
    with signals_deferred():  # Ctrl-C waits for both writes: the archive and the file agree
        append_archive(conv.path, conv.lines[first:end])
        conv.rewrite([conv.lines[i] for i in keep], [conv.items[i] for i in keep])
    return end - first


def append_archive(path: Path, lines: list[bytes]) -> Path:
    """Add lines to the end of the conversation's archive, atomically, the archive created with the
    conversation's mode, owner and group. Lines the archive already ends with (a crash came after the
    archive was written and before the file was) are not added twice."""
    target = archive_path(path)
    try:
        old = target.read_bytes()
    except FileNotFoundError:
        old = b""
    except OSError as exc:
        raise RespctlError(f"{target}: cannot read the archive: {exc.strerror or exc}", kind="write") from None
    block = b"".join(line + b"\n" for line in lines)
    if old.endswith(block) and (len(old) == len(block) or old[-len(block) - 1 : -len(block)] == b"\n"):
        return target
    if old and not old.endswith(b"\n"):
        old += b"\n"
    write_atomic(target, [old, block], like=os.stat(path))
    return target


def archived(path: str | os.PathLike) -> tuple[int, int] | None:
    """How many items (lines) and bytes the archive holds (None: there is none, or it cannot be read)."""
    try:
        data = archive_path(path).read_bytes()
    except OSError:
        return None
    return data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1), len(data)
