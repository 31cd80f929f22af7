"""Where a conversation file can be cut: turns, safe cut points, rewind and fork.

A *cut* at index k keeps `items[:k]` (the first k lines) and removes the rest. A cut is **safe**
when the kept prefix has no orphan that the cut itself made:

- no reasoning item is separated from the item it precedes (the message or call the API pairs it
  with: lint RSP201); a cut right after a reasoning item is never safe, except at the very end;
- no call is separated from its output: a call kept whose output would be removed leaves a call
  that the next request cannot answer (API: "No tool output found for function call"). Parallel
  calls come as all calls, then all outputs, so no cut between the first call and the last output
  of a group is safe. (An output kept without its call cannot come from a cut: outputs follow
  their calls.)
- no cut falls inside a compaction window (below).

The cut at len(items) (nothing removed) is always safe; the cut at 0 is safe but leaves an empty
file, which is not a conversation (lint RSP008): `rewind` and `fork` refuse it.

**Instructions.** The developer and system messages at the start of the file, before any other
item, are its instructions (what `respctl start --instructions` writes). They belong to no turn:
`rewind` never removes them and `fork --at 0` keeps only them.

**Turn.** A turn is what the user sent and everything that came of it: a user message (with any
developer/system messages sent along), then what the model produced in answer (reasoning, messages,
calls) and what the tools answered (outputs), over as many rounds as it took, up to the next turn.
`rewind N` removes the last N turns. Precisely (the definition `respctl show` numbers turns by, so
`rewind 1` removes what `show --last 1` shows): a turn starts at the first item after the
instructions, and at each user, developer or system message that follows an item of the model's
(anything but a user/developer/system message or a tool output). Consecutive messages of the
client's are one turn; so is a standalone compaction window (its messages, then its compaction
item). A turn start that is not a safe cut (a message written between a call and its output, as
some other tools record an interruption) is no start: that turn joins the one before it, so every
boundary between turns is a safe cut.

**Compaction window.** Standalone compaction (`POST /responses/compact`) returns the user messages
followed by one `compaction` item; the input items before a compaction item are replaced by it. The
window is a compaction item together with the run of user/developer/system messages right before it
(none when a model's answer precedes it, as with server-side compaction, where the compaction item
ends the turn that produced it). The messages of the window were kept verbatim beside the encrypted
summary of everything else; cutting between them and the compaction item would keep the messages
without the context they were compacted with, so no cut inside a window is safe.

**Rounding** (`cut_at_line`, for `rewind --to-line L`: keep lines 1..L): when the cut after line L
is not safe, it is moved *back* to the nearest safe cut before it, so the file never keeps an item
after line L. Rewinding goes back: the result is a state the conversation really passed through
(before the response that line L is part of), and a turn can be re-run from it; the items between
the two cuts are removed too, and `Cut.message()` says so.

The item kinds this module needs come from the one table of them (respctl.kinds), imported in the
block below and nowhere else; it does not load the linter.
"""

from __future__ import annotations

from dataclasses import dataclass

from respctl.errors import UsageError

# --- item kinds: the only place this module knows them -------------------------------------------
from respctl.items import is_client_input, item_type
from respctl.kinds import CALL_OUTPUTS, OUTPUT_CALLS
from respctl.kinds import INSTRUCTION_ROLES as _INSTRUCTION_ROLES

_CLIENT_ROLES = frozenset({"user", *_INSTRUCTION_ROLES})


def _role(item: dict) -> str | None:
    """The role of a message item (a `type: message` item, or an untyped one with a role); else None."""
    kind = item_type(item)
    if kind == "message" or (kind is None and "role" in item):
        role = item.get("role")
        return role if isinstance(role, str) else None
    return None


def _is_reasoning(item: dict) -> bool:
    return item_type(item) == "reasoning"


def _is_compaction(item: dict) -> bool:
    return item_type(item) == "compaction"


def _call_id(item: dict) -> str | None:
    value = item.get("call_id")
    return value if isinstance(value, str) else None


# -------------------------------------------------------------------------------------------------


class CutError(UsageError):
    """A rewind or fork that cannot be made (exit 2, nothing written)."""


def instructions_end(items: list[dict]) -> int:
    """The index after the instructions: the developer/system messages that start the file."""
    end = 0
    while end < len(items) and _role(items[end]) in _INSTRUCTION_ROLES:
        end += 1
    return end


def compaction_windows(items: list[dict]) -> list[tuple[int, int]]:
    """Each compaction window as (start, end), end exclusive: the compaction item and the run of
    user/developer/system messages right before it (not reaching into the instructions)."""
    floor = instructions_end(items)
    windows = []
    for index, item in enumerate(items):
        if not _is_compaction(item):
            continue
        start = index
        while start > floor and _role(items[start - 1]) in ("user", *_INSTRUCTION_ROLES):
            start -= 1
        windows.append((start, index + 1))
    return windows


def safe_cuts(items: list[dict]) -> list[int]:
    """Every k in 0..len(items) where keeping items[:k] leaves no orphan (see the module docstring)."""
    size = len(items)
    # unsafe[k] counts the reasons the cut at k is not safe; a difference array marks ranges.
    delta = [0] * (size + 2)

    def forbid(first: int, last: int) -> None:  # cuts first..last, inclusive
        if first <= last:
            delta[first] += 1
            delta[last + 1] -= 1

    calls: dict[str, int] = {}
    for index, item in enumerate(items):
        kind = item_type(item)
        call_id = _call_id(item)
        if _is_reasoning(item) and index + 1 < size:
            forbid(index + 1, index + 1)
        if kind in CALL_OUTPUTS and call_id is not None:
            calls.setdefault(call_id, index)
        elif kind in OUTPUT_CALLS and call_id is not None:
            call = calls.get(call_id)
            if call is not None and call < index:
                forbid(call + 1, index)  # keeping the call but not this output
    for start, end in compaction_windows(items):
        forbid(start + 1, end - 1)
    cuts = []
    running = 0
    for k in range(size + 1):
        running += delta[k]
        if running == 0 or k == size:
            cuts.append(k)
    return cuts


def turns(items: list[dict]) -> list[tuple[int, int]]:
    """The turns as (start, end) index ranges, end exclusive, in file order; the instructions are in none."""
    first = instructions_end(items)
    if first == len(items):
        return []
    safe = set(safe_cuts(items))
    starts = [first]
    for index in range(first + 1, len(items)):
        if _role(items[index]) in _CLIENT_ROLES and not is_client_input(items[index - 1]) and index in safe:
            starts.append(index)
    return list(zip(starts, starts[1:] + [len(items)], strict=True))


def rewind(items: list[dict], n: int = 1) -> tuple[list[dict], list[dict]]:
    """Remove the last n turns: (kept, removed). Raises CutError when the file has fewer than n turns
    or nothing would be left."""
    if n < 0:
        raise CutError(f"cannot rewind {n} turns: give a number of turns, 0 or more")
    found = turns(items)
    if n == 0:
        return list(items), []
    if n > len(found):
        have = f"{len(found)} turn{'s' if len(found) != 1 else ''}"
        raise CutError(f"cannot rewind {n} turn{'s' if n != 1 else ''}: the file has {have}")
    cut = found[-n][0]
    if cut == 0:
        raise CutError(
            f"rewinding {n} turn{'s' if n != 1 else ''} would leave the file empty (it has no instructions to keep); "
            "delete the file instead"
        )
    return list(items[:cut]), list(items[cut:])


def fork_point(items: list[dict], turn: int | None = None) -> int:
    """How many items a fork keeps: the instructions and turns 1..turn (all of them when turn is None).
    Raises CutError for a turn the file does not have, or a fork that would be empty."""
    found = turns(items)
    if turn is None:
        return len(items)
    if turn < 0 or turn > len(found):
        raise CutError(f"no turn {turn}: the file has turns 1 to {len(found)} (0 keeps only the instructions)")
    cut = found[turn][0] if turn < len(found) else len(items)
    if cut == 0:
        raise CutError("a fork at turn 0 keeps only the instructions, and this file has none")
    return cut


@dataclass(frozen=True)
class Cut:
    """Where `rewind --to-line` cuts: keep `index` items (lines 1..index)."""

    line: int  # the line asked for: keep lines 1..line
    index: int  # the safe cut chosen: keep items[:index]
    reason: str = ""  # why the cut after `line` was not safe (empty when it was)

    @property
    def rounded(self) -> bool:
        return self.index != self.line

    def message(self) -> str:
        """What to tell the user when the cut was moved; empty when it was not."""
        if not self.rounded:
            return ""
        return (
            f"cutting after line {self.line} would {self.reason}; cut after line {self.index} instead, "
            "the nearest safe boundary before it"
        )


def cut_at_line(items: list[dict], line: int) -> Cut:
    """The cut for `rewind --to-line line` (keep lines 1..line), moved back to a safe cut if needed.
    Lines are 1-based and count items (the file holds one item per line). Raises CutError for a line
    outside the file, or when the only safe cut left would empty it."""
    if line < 1 or line > len(items):
        raise CutError(f"no line {line}: the file has lines 1 to {len(items)}")
    chosen = max(k for k in safe_cuts(items) if k <= line)
    if chosen == 0:
        raise CutError(f"no safe place to cut at or before line {line}: it would leave the file empty")
    return Cut(line=line, index=chosen, reason="" if chosen == line else _why_unsafe(items, line))


def _why_unsafe(items: list[dict], k: int) -> str:
    """Why keeping items[:k] is not safe, in words (lines are 1-based)."""
    if _is_reasoning(items[k - 1]):
        return f"separate the reasoning item on line {k} from the item it precedes"
    for start, end in compaction_windows(items):
        if start < k < end:
            return f"split the compaction window on lines {start + 1}-{end}"
    calls = {_call_id(item): i for i, item in enumerate(items[:k]) if item_type(item) in CALL_OUTPUTS}
    for j in range(k, len(items)):
        call_id = _call_id(items[j])
        if item_type(items[j]) in OUTPUT_CALLS and call_id in calls:
            return f"keep the call on line {calls[call_id] + 1} without its output on line {j + 1}"
    return "leave an orphan"  # not reached: safe_cuts has no other reason
