"""The one reader of the file format (respctl/jsonl.py) and the one table of item kinds (respctl/kinds.py).

The reader's two modes are checked side by side on each kind of damage, then through the three
commands that use it: a turn refuses the file naming the line, `show` marks that line with the same
words, `lint` reports the rule the reader names.
"""

from __future__ import annotations

import orjson
import pytest
from conftest import line, user

from respctl import items as it
from respctl import jsonl, kinds
from respctl.errors import BadFileError
from respctl.lint import check
from respctl.show import model as show

MODEL = "gpt-5-mini"
BOM = b"\xef\xbb\xbf"  # written out: the reader's own constant would follow it when it is wrong
USER = line(user("hi"))
ANSWER = line({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "hello"}]})

#: name -> (file, the line at fault, its rule, the words a person is told, an item is still read on that line)
DAMAGE = {
    "bom": (
        BOM + USER + ANSWER,
        1,
        "RSP006",
        "file starts with a byte order mark (run 'respctl lint --fix')",
        True,
    ),
    "crlf": (USER + ANSWER.replace(b"\n", b"\r\n"), 2, "RSP005", "CRLF line ending (run 'respctl lint --fix')", True),
    "blank": (USER + b"\n" + ANSWER, 2, "RSP004", "blank line (run 'respctl lint --fix')", False),
    "spaces": (USER + b" \t\n" + ANSWER, 2, "RSP004", "blank line (run 'respctl lint --fix')", False),
    "bad json": (
        USER + b'{"role":"user",\n' + ANSWER,
        2,
        "RSP001",
        "invalid JSON: unexpected end of data at column 16",
        False,
    ),
    "bad utf-8": (
        USER + b'{"role":"user","content":"caf\xe9"}\n',
        2,
        "RSP002",
        "invalid JSON: invalid UTF-8 at byte 30",
        False,
    ),
    "array": (USER + b"[1, 2]\n", 2, "RSP003", "expected a JSON object (one input item), got an array", False),
    "number": (USER + b"  7\n", 2, "RSP003", "expected a JSON object (one input item), got an integer", False),
}


@pytest.mark.parametrize("name", DAMAGE)
def test_strict_refuses_and_lenient_reads_on(name):
    data, number, code, message, readable = DAMAGE[name]
    with pytest.raises(BadFileError) as refused:
        jsonl.read_strict(data, "chat.jsonl")
    assert str(refused.value) == f"chat.jsonl:{number}: {message}"
    assert refused.value.exit_code == 2

    scan = jsonl.read_lenient(data)
    assert [(p.line, p.code, p.message) for p in scan.problems] == [(number, code, message)]
    assert len(scan.items) == len(scan.lines) == data.count(b"\n")
    assert (scan.items[number - 1] is not None) is readable
    assert scan.readable is (code not in ("RSP001", "RSP002", "RSP003"))
    # every other line is read as the strict reader reads a clean file
    clean = [orjson.loads(x) for n, x in enumerate(data.split(b"\n")[:-1], 1) if n != number]
    assert [item for n, item in enumerate(scan.items, 1) if n != number] == clean
    if readable:  # the byte order mark, the CR: gone from the line, the item whole
        assert bytes(scan.lines[number - 1]) in (USER.rstrip(b"\n"), ANSWER.rstrip(b"\n"))


def test_a_clean_file_reads_alike_in_both_modes():
    data = USER + ANSWER + USER.rstrip(b"\n")  # the last line without its newline is still a line
    lines, items = jsonl.read_strict(data, "chat.jsonl")
    scan = jsonl.read_lenient(data)
    assert items == scan.items and len(items) == 3
    assert lines == [bytes(x) for x in scan.lines]
    assert (scan.problems, scan.crlf, scan.bom, scan.unterminated) == ([], [], False, True)
    assert jsonl.read_strict(b"", "e") == ([], []) and jsonl.read_lenient(b"").lines == []


def test_lenient_keeps_each_problem_and_tells_the_one_that_stopped_a_line():
    data = BOM + b"\r\n" + ANSWER.replace(b"\n", b"\r\n") + b"{x\r\n"
    scan = jsonl.read_lenient(data)
    assert [(p.line, p.code) for p in scan.problems] == [
        (1, "RSP006"),
        (1, "RSP004"),  # the BOM, then nothing but a CR: blank
        (2, "RSP005"),
        (3, "RSP005"),
        (3, "RSP001"),
    ]
    assert scan.crlf == [2, 3]
    assert [(n, item is not None, told) for n, item, told, _raw in scan.shown()] == [
        (1, False, "blank line (run 'respctl lint --fix')"),
        (2, True, "CRLF line ending (run 'respctl lint --fix')"),
        (3, False, "invalid JSON: unexpected character, expected a string key at column 2"),
    ]
    with pytest.raises(BadFileError, match=r"^f:1: file starts with a byte order mark"):
        jsonl.read_strict(data, "f")


@pytest.mark.parametrize("name", DAMAGE)
def test_turns_show_and_lint_agree_on_each_damaged_line(cli, tmp_path, name):
    data, number, code, message, readable = DAMAGE[name]
    (tmp_path / "chat.jsonl").write_bytes(data)

    turn = cli("say", "chat.jsonl", "again", "-m", MODEL)
    assert (turn.code, turn.err_lines) == (2, [f"respctl: error: chat.jsonl:{number}: {message}"])
    assert (tmp_path / "chat.jsonl").read_bytes() == data

    shown = cli("show", "chat.jsonl", "--format", "json")
    assert shown.code == 2
    entry = shown.json()[number - 1]
    assert (entry["line"], entry["error"], entry["type"] is not None) == (number, message, readable)

    linted = cli("lint", "--format", "json", "chat.jsonl")
    assert linted.code == 1
    assert (number, code) in [(d["line"], d["code"]) for d in linted.json()]


# --- the item kinds ----------------------------------------------------------------------------------

#: The kinds respctl's modules disagreed about (lint: the client's; turns and show: the model's).
DISPUTED = {
    "additional_tools": {"type": "additional_tools", "role": "developer", "tools": []},
    "compaction_trigger": {"type": "compaction_trigger"},
    "item_reference": {"type": "item_reference", "id": "msg_0123"},
}


@pytest.mark.parametrize("kind", DISPUTED)
def test_every_consumer_counts_the_disputed_kinds_as_the_clients(kind):
    item = DISPUTED[kind]
    assert kinds.KINDS[kind].client
    assert it.is_client_input(item)  # turns: a file ending in it has something new to answer
    assert show.is_answer(show.Entry(1, item, kind=show.item_type(item)))  # show: input, not model output
    assert check._client_side(item, kind)  # lint: it ends a response's run of items
    assert not kinds.is_follower(item, kind)


def test_a_typeless_item_with_only_an_id_is_a_reference_everywhere():
    item = {"id": "msg_0123"}
    assert kinds.kind_of(item) == it.item_type(item) == "item_reference"
    assert kinds.kind_of({"role": "user", "content": "hi"}) == "message"
    assert kinds.kind_of({"type": 7}) is None


@pytest.mark.parametrize("kind", ["additional_tools", "compaction_trigger"])
def test_say_runs_a_turn_on_a_file_that_ends_in_an_item_of_the_client(cli, tmp_path, kind):
    (tmp_path / "chat.jsonl").write_bytes(USER + ANSWER + line(DISPUTED[kind]))
    r = cli("say", "chat.jsonl", "--dry-run", "-m", MODEL)
    assert r.code == 0, r.err
    assert r.json()["input"][-1] == DISPUTED[kind]
    # and lint: a call followed by one of them has no output though a later turn follows it
    call = {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"}
    (tmp_path / "calls.jsonl").write_bytes(USER + line(call) + line(DISPUTED[kind]))
    linted = cli("lint", "--format", "json", "calls.jsonl")
    assert [d["code"] for d in linted.json()] == ["RSP204"]


def test_the_table_covers_every_item_type_the_sdk_knows():
    from respctl import schema

    assert set(kinds.KINDS) == set(schema.items())
    assert it.CALL_OUTPUT_TYPES == {
        "function_call": "function_call_output",
        "custom_tool_call": "custom_tool_call_output",
    }
    assert set(check.CALL_OUTPUTS) == {
        "function_call",
        "custom_tool_call",
        "shell_call",
        "apply_patch_call",
        "computer_call",
    }
    assert len(check.ID_PREFIXES) == 12 and check.ID_PREFIXES["custom_tool_call_output"] == "ctco"
