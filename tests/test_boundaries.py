"""Turn boundaries: every safe cut leaves a prefix that lint finds free of orphans, and no other cut does."""

from __future__ import annotations

import base64
import itertools
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from respctl import boundaries as bd
from respctl.items import pending_calls
from respctl.lint import gate
from respctl.show.model import assign_turns, read_entries
from respctl.target import COMPATIBLE, OPENAI

#: The envelope of a real Fernet token (what lint checks): version byte 0x80, 57 + 16k bytes.
BLOB = base64.urlsafe_b64encode(b"\x80" + bytes(72)).decode()
_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):048x}"


def dev(text: str = "Be terse.", role: str = "developer") -> dict:
    return {"type": "message", "role": role, "content": [{"type": "input_text", "text": text}]}


def user(text: str = "hi") -> dict:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def answer(text: str = "ok") -> dict:
    return {
        "id": _id("msg"),
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def reasoning() -> dict:
    return {"id": _id("rs"), "type": "reasoning", "summary": [], "encrypted_content": BLOB}


def call(call_id: str, custom: bool = False) -> dict:
    if custom:
        return {"id": _id("ctc"), "type": "custom_tool_call", "call_id": call_id, "name": "patch", "input": "x"}
    return {"id": _id("fc"), "type": "function_call", "call_id": call_id, "name": "f", "arguments": "{}"}


def output(call_id: str, custom: bool = False) -> dict:
    kind = "custom_tool_call_output" if custom else "function_call_output"
    return {"type": kind, "call_id": call_id, "output": "done"}


def compaction() -> dict:
    return {"id": _id("cmp"), "type": "compaction", "encrypted_content": BLOB}


# --- generated conversations ----------------------------------------------------------------------


@st.composite
def conversations(draw) -> list[dict]:
    """A lint-clean conversation: instructions, then turns (user messages answered over rounds of
    reasoning, messages, parallel calls and their outputs in any order), compaction windows of both
    kinds, and maybe pending calls or an unanswered user message at the end."""
    calls = itertools.count(1)
    items = [dev(role=draw(st.sampled_from(["developer", "system"]))) for _ in range(draw(st.integers(0, 2)))]
    count = draw(st.integers(1, 5))
    for number in range(count):
        last = number == count - 1
        if draw(st.integers(0, 5)) == 0:  # a standalone compaction window
            items += [user(f"kept {i}") for i in range(draw(st.integers(0, 2)))] + [compaction()]
            continue
        if number and draw(st.booleans()):
            items.append(dev("setup for this turn"))
        items += [user() for _ in range(draw(st.integers(1, 2)))]
        if last and draw(st.integers(0, 4)) == 0:
            break  # the file ends in a user message nobody answered yet
        for _round in range(draw(st.integers(0, 3))):
            if draw(st.booleans()):
                items.append(reasoning())
            if draw(st.booleans()):
                items.append(answer("commentary"))
            group = [(f"call_{next(calls)}", draw(st.booleans())) for _ in range(draw(st.integers(1, 3)))]
            items += [call(call_id, custom) for call_id, custom in group]
            if last and draw(st.integers(0, 3)) == 0:
                return items  # pending calls end the file
            items += [output(call_id, custom) for call_id, custom in draw(st.permutations(group))]
        if draw(st.booleans()):
            items.append(reasoning())
        items.append(answer())
        if draw(st.integers(0, 5)) == 0:
            items.append(compaction())  # server-side compaction ends the turn that produced it
    return items


def errors(items: list[dict], target: str) -> list[str]:
    return gate("c.jsonl", [orjson.dumps(item) for item in items], items, target)


def pending_ids(items: list[dict]) -> set[str]:
    return {c["call_id"] for c in pending_calls(items)}


def inside_window(items: list[dict], k: int) -> bool:
    return any(start < k < end for start, end in bd.compaction_windows(items))


@settings(max_examples=examples(600), deadline=None)
@given(conversations())
def test_every_safe_cut_leaves_a_prefix_free_of_orphans_and_every_other_cut_breaks_something(items):
    assert errors(items, OPENAI) == [] and errors(items, COMPATIBLE) == []  # the generator is sound
    pending = pending_ids(items)
    safe = bd.safe_cuts(items)
    for k in range(1, len(items) + 1):
        prefix = items[:k]
        broken = {t: errors(prefix, t) for t in (OPENAI, COMPATIBLE)}
        new_pending = pending_ids(prefix) - pending
        if k in safe:
            assert broken == {OPENAI: [], COMPATIBLE: []}, (k, broken)
            assert not new_pending, (k, new_pending)
            assert not inside_window(items, k)
        else:  # not over-cautious: an unsafe cut orphans something, or splits a compaction window
            assert broken[OPENAI] or broken[COMPATIBLE] or new_pending or inside_window(items, k), k


@settings(max_examples=examples(600), deadline=None)
@given(conversations())
def test_turns_partition_the_file_after_its_instructions_at_safe_cuts(items):
    found = bd.turns(items)
    first = bd.instructions_end(items)
    assert [start for start, _ in found][:1] == [first]
    assert all(a[1] == b[0] for a, b in zip(found, found[1:], strict=False)) and found[-1][1] == len(items)
    safe = set(bd.safe_cuts(items))
    assert all(start in safe for start, _ in found)
    windows = {start for start, _ in bd.compaction_windows(items)}
    for start, _ in found[1:]:  # each turn begins with its user message, its setup, or a compaction window
        assert items[start].get("role") in ("user", "developer") or start in windows
    for n in range(1, len(found) + 1):
        if found[-n][0] == 0:
            with pytest.raises(bd.CutError):
                bd.rewind(items, n)
            continue
        kept, removed = bd.rewind(items, n)
        assert kept + removed == items and len(kept) == found[-n][0]
        assert errors(kept, OPENAI) == []


@settings(max_examples=examples(300), deadline=None)
@given(conversations())
def test_turns_are_the_turns_show_numbers(items):
    """`rewind 1` removes what `respctl show --last 1` shows: one definition of a turn."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.jsonl"
        path.write_bytes(b"".join(orjson.dumps(item) + b"\n" for item in items))
        entries = read_entries(str(path))
    assign_turns(entries)
    numbered = [entry.turn for entry in entries]
    expected = [0] * bd.instructions_end(items)
    for number, (start, end) in enumerate(bd.turns(items), 1):
        expected += [number] * (end - start)
    assert numbered == expected


# --- the boundary rules, one file each -------------------------------------------------------------


def test_a_cut_inside_a_reasoning_message_pair_moves_back_before_the_response():
    items = [dev(), user(), reasoning(), answer(), user("again"), reasoning(), answer()]
    assert bd.safe_cuts(items) == [0, 1, 2, 4, 5, 7]
    cut = bd.cut_at_line(items, 3)  # line 3 is the reasoning item: keeping it without line 4 orphans it
    assert (cut.index, cut.rounded) == (2, True)
    assert cut.message() == (
        "cutting after line 3 would separate the reasoning item on line 3 from the item it precedes; "
        "cut after line 2 instead, the nearest safe boundary before it"
    )
    assert bd.cut_at_line(items, 4) == bd.Cut(line=4, index=4)
    assert bd.cut_at_line(items, 4).message() == ""
    assert bd.rewind(items, 1) == (items[:4], items[4:])


def test_no_cut_between_parallel_calls_and_their_outputs():
    items = [user(), reasoning(), call("a"), call("b", custom=True), output("b", custom=True), output("a"), answer()]
    assert bd.safe_cuts(items) == [0, 1, 6, 7]
    cut = bd.cut_at_line(items, 5)  # lines 3-4 are the calls, 5-6 their outputs (b first)
    assert cut.index == 1
    assert cut.message().startswith("cutting after line 5 would keep the call on line 3 without its output on line 6;")
    assert bd.turns(items) == [(0, 7)]
    with pytest.raises(bd.CutError, match="would leave the file empty"):
        bd.rewind(items, 1)


def test_a_compaction_window_is_one_turn_and_no_cut_splits_it():
    # What `POST /responses/compact` returns (the user messages, then one compaction item), then a turn.
    items = [dev(), user("one"), user("two"), compaction(), user("three"), answer()]
    assert bd.compaction_windows(items) == [(1, 4)]
    assert bd.safe_cuts(items) == [0, 1, 4, 5, 6]
    assert bd.turns(items) == [(1, 4), (4, 6)]
    cut = bd.cut_at_line(items, 3)
    assert cut.index == 1 and "split the compaction window on lines 2-4" in cut.message()
    assert bd.rewind(items, 1)[0] == items[:4]
    assert bd.rewind(items, 2)[0] == items[:1]
    assert bd.fork_point(items, 1) == 4


def test_server_side_compaction_ends_the_turn_that_produced_it():
    # The real output of a create request with context_management (tests/fixtures/recordings/
    # vercel-ai__openai-compaction.1.json): the message, then the compaction item.
    items = [user("long"), answer(), compaction(), user("next"), answer()]
    assert bd.compaction_windows(items) == [(2, 3)]
    assert bd.turns(items) == [(0, 3), (3, 5)]
    assert bd.rewind(items, 1) == (items[:3], items[3:])


def test_a_file_ending_in_pending_calls():
    items = [dev(), user(), answer(), user("run both"), reasoning(), call("a"), call("b")]
    assert bd.turns(items) == [(1, 3), (3, 7)]
    assert bd.rewind(items, 1) == (items[:3], items[3:])
    assert bd.safe_cuts(items)[-3:] == [4, 6, 7]  # a call with no output yet can be kept alone
    assert bd.cut_at_line(items, 5).index == 4


def test_a_file_with_only_instructions():
    items = [dev(), dev("Answer in French.", role="system")]
    assert bd.turns(items) == []
    assert bd.instructions_end(items) == 2
    with pytest.raises(bd.CutError, match=r"^cannot rewind 1 turn: the file has 0 turns$"):
        bd.rewind(items, 1)
    assert bd.fork_point(items, 0) == 2
    assert bd.rewind(items, 0) == (items, [])


def test_developer_messages_sent_with_a_user_message_belong_to_its_turn():
    items = [dev(), user(), answer(), dev("Now be formal."), user("next"), answer()]
    assert bd.turns(items) == [(1, 3), (3, 6)]


def test_consecutive_messages_of_the_client_are_one_turn():
    items = [user("context"), user("question"), answer(), user("more"), output("x")]
    assert bd.turns(items) == [(0, 3), (3, 5)]


def test_a_user_message_between_a_call_and_its_output_starts_no_turn():
    # Some tools record an interruption this way; the cut before that message would orphan the call.
    items = [user(), call("a"), user("stop"), output("a"), answer()]
    assert bd.turns(items) == [(0, 5)]


def test_fork_points_and_their_errors():
    items = [dev(), user(), answer(), user("2"), answer()]
    assert [bd.fork_point(items, t) for t in (0, 1, 2, None)] == [1, 3, 5, 5]
    with pytest.raises(bd.CutError, match=r"^no turn 3: the file has turns 1 to 2"):
        bd.fork_point(items, 3)
    with pytest.raises(bd.CutError, match="has none"):
        bd.fork_point(items[1:], 0)
    with pytest.raises(bd.CutError, match=r"^no line 6: the file has lines 1 to 5$"):
        bd.cut_at_line(items, 6)


def test_items_of_any_shape_do_not_crash_the_boundaries():
    items = [{"type": 5}, {"role": None}, {"type": "function_call_output", "call_id": 3}, {}, user()]
    assert bd.safe_cuts(items) == [0, 1, 2, 3, 4, 5]
    assert bd.turns(items) == [(0, 4), (4, 5)]


def test_boundaries_and_show_take_the_item_kinds_from_the_table_without_loading_the_linter():
    """Turns come from respctl.kinds: show (which numbers turns with them) does not load lint's checks."""
    code = (
        "import sys\nfrom respctl import boundaries, show\n"
        "print(sorted(m for m in sys.modules if m.startswith('respctl.lint')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "[]\n"), done.stderr[-500:]
