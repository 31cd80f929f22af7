"""rewind, fork and edit as users run them: every file they leave is lint-clean and the loopback API
takes it on the next turn, whatever line or turn is asked for; errors leave the file as it was."""

from __future__ import annotations

import os
import signal
import stat
import sys
import threading
import time
from pathlib import Path

import openai
import orjson
import pytest
from conftest import alive, line, read_items, run_in_pty, tools_file, user
from fakeapi import Stall, Turn, function_call, message, reasoning

from respctl import boundaries as bd
from respctl.items import clean_output_item
from respctl.lint import gate

MODEL = "gpt-5-mini"


def lint_errors(path: Path) -> list[str]:
    lines = path.read_bytes().splitlines()
    return gate(str(path), lines, [orjson.loads(x) for x in lines])


def accepted_next_turn(cli, api, path: Path) -> None:
    """`say` on the file is accepted, and the server received exactly the file's items, then the message."""
    before = read_items(path)
    r = cli("say", path, "next", "-m", MODEL)
    assert r.code == 0, r.err
    assert api.requests[-1].body["input"] == [*before, user("next")]
    assert api.requests[-1].error is None


@pytest.fixture
def chat(cli, api, tmp_path) -> Path:
    """Instructions; a turn of reasoning and message; a turn of two parallel calls answered one by one and
    the answer; a turn that ends in a server-side compaction item. 16 lines, every one the server's own."""
    path = tmp_path / "chat.jsonl"
    tools = tools_file(tmp_path, "get_weather")
    api.script(
        Turn([reasoning(["Greeting"]), message("Hello.")]),
        Turn(
            [
                reasoning(),
                function_call("get_weather", {"city": "Paris"}, call_id="call_p"),
                function_call("get_weather", {"city": "Rome"}, call_id="call_r"),
            ]
        ),
        Turn([reasoning(), message("Paris 18, Rome 24.")]),
        Turn([reasoning(), message("Noted.")], compact=True),
    )
    assert cli("start", path, "--instructions", "Be terse.", "hello", "-m", MODEL).code == 0
    assert cli("say", path, "Weather in Paris and Rome?", "-m", MODEL, "--tools", tools).code == 3
    assert cli("tool-result", path, "call_p", "18", "-m", MODEL, "--tools", tools).code == 3
    assert cli("tool-result", path, "call_r", "24", "-m", MODEL, "--tools", tools).code == 0
    assert cli("say", path, "Remember that.", "-m", MODEL).code == 0
    kinds = [i.get("role") or i["type"] for i in read_items(path)]
    assert kinds == [
        *["developer", "user", "reasoning", "assistant"],
        *["user", "reasoning", "function_call", "function_call", "function_call_output", "function_call_output"],
        *["reasoning", "assistant"],
        *["user", "reasoning", "assistant", "compaction"],
    ]
    return path


# --- rewind -----------------------------------------------------------------------------------------------


def test_rewind_drops_the_last_turn_and_prints_each_removed_item(cli, api, chat):
    before = chat.read_bytes()
    r = cli("rewind", chat)
    assert r.code == 0, r.err
    assert chat.read_bytes() == b"".join(before.splitlines(keepends=True)[:12])  # the kept lines, byte for byte
    assert r.out.splitlines() == [
        "removed lines 13-16 (the last turn, 4 items)",
        "  line 13  user        Remember that.",
        "  line 14  reasoning   (encrypted)",
        "  line 15  assistant   Noted.",
        "  line 16  compaction  (encrypted)",
    ]
    assert lint_errors(chat) == []
    accepted_next_turn(cli, api, chat)


def test_rewind_n_turns_takes_calls_and_outputs_with_their_turn(cli, api, chat):
    r = cli("rewind", chat, "2")
    assert r.code == 0, r.err
    assert r.out.splitlines()[0] == "removed lines 5-16 (the last 2 turns, 12 items)"
    assert "  line 7   call get_weather  call_p {" in r.out
    assert "  line 9   output            call_p 18" in r.out
    assert len(read_items(chat)) == 4
    accepted_next_turn(cli, api, chat)


def test_rewind_dry_run_and_json_change_nothing(cli, chat):
    before = chat.read_bytes()
    r = cli("rewind", chat, "2", "--dry-run")
    assert r.code == 0 and r.out.startswith("would remove lines 5-16 (the last 2 turns, 12 items)\n")
    r = cli("rewind", chat, "--json", "--dry-run")
    assert r.code == 0 and chat.read_bytes() == before
    obj = r.json()
    assert obj["dry_run"] is True and obj["kept"] == 12 and obj["rounded"] is None
    assert [(x["line"], x["type"], x.get("role")) for x in obj["removed"]] == [
        (13, "message", "user"),
        (14, "reasoning", None),
        (15, "message", "assistant"),
        (16, "compaction", None),
    ]
    r = cli("rewind", chat, "--json")
    assert r.code == 0 and r.json()["dry_run"] is False and len(read_items(chat)) == 12


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["5"], "cannot rewind 5 turns: the file has 3 turns"),
        (["1", "--to-line", "3"], "give N turns or --to-line L, not both"),
        (["--to-line", "17"], "no line 17: the file has lines 1 to 16"),
    ],
)
def test_rewind_errors_are_one_line_exit_2_and_the_file_unchanged(cli, chat, args, message):
    before = chat.read_bytes()
    r = cli("rewind", chat, *args)
    assert (r.code, r.err_lines, r.out) == (2, [f"respctl: error: {message}"], "")
    assert chat.read_bytes() == before


def test_rewind_refuses_to_empty_a_file_and_names_a_missing_one(cli, tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(line(user("only")))
    r = cli("rewind", path)
    assert r.code == 2 and "would leave the file empty" in r.err and path.read_bytes() == line(user("only"))
    r = cli("rewind", tmp_path / "none.jsonl")
    assert r.code == 2 and r.err_lines == [
        f"respctl: error: {tmp_path / 'none.jsonl'}: no such file (create it with 'respctl start')"
    ]


#: Where --to-line L cuts in the fixture's file (keep lines 1..L, moved back to a safe cut), and why.
ROUNDED = {
    3: (2, "separate the reasoning item on line 3 from the item it precedes"),
    6: (5, "separate the reasoning item on line 6 from the item it precedes"),
    7: (5, "keep the call on line 7 without its output on line 9"),
    8: (5, "keep the call on line 7 without its output on line 9"),
    9: (5, "keep the call on line 8 without its output on line 10"),
    11: (10, "separate the reasoning item on line 11 from the item it precedes"),
    14: (13, "separate the reasoning item on line 14 from the item it precedes"),
}


def test_every_to_line_leaves_a_lint_clean_file_the_api_accepts(cli, api, chat):
    """Cuts inside a reasoning/message pair and between parallel calls and their outputs are moved back to
    the boundary before the response; every result replays."""
    original = chat.read_bytes()
    for wanted in range(1, 17):
        chat.write_bytes(original)
        r = cli("rewind", chat, "--to-line", wanted)
        assert r.code == 0, (wanted, r.err)
        kept, why = ROUNDED.get(wanted, (wanted, ""))
        assert len(read_items(chat)) == kept, wanted
        if why:
            assert r.err_lines == [
                f"respctl: cutting after line {wanted} would {why}; cut after line {kept} instead, "
                "the nearest safe boundary before it"
            ]
        else:
            assert r.err == ("" if wanted < 16 else f"respctl: {chat}: nothing to remove\n")
        assert lint_errors(chat) == [], wanted
        accepted_next_turn(cli, api, chat)


def test_a_cut_inside_a_standalone_compaction_window_moves_before_it(cli, api, tmp_path):
    """`POST /responses/compact` answers the user messages, then one compaction item: a window no cut splits."""
    client = openai.OpenAI(base_url=api.base_url, api_key="sk-test", max_retries=0)
    history = [{"role": "user", "content": "Tell me about Lima."}]
    compacted = orjson.loads(
        client.responses.with_raw_response.compact(model=MODEL, input=[*history, user("And Quito?")]).text
    )
    path = tmp_path / "c.jsonl"
    developer = {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Be terse."}]}
    *messages, item = compacted["output"]
    # The user messages in respctl's shape (lint refuses the `id` the compact endpoint gives them: RSP103).
    window = [user(m["content"][0]["text"]) for m in messages] + [clean_output_item(item)]
    path.write_bytes(b"".join(line(i) for i in [developer, *window]))
    assert cli("say", path, "And Bogota?", "-m", MODEL).code == 0
    items = read_items(path)
    assert [i["type"] for i in items[:4]] == ["message", "message", "message", "compaction"]
    assert bd.compaction_windows(items) == [(1, 4)]
    original = path.read_bytes()
    for wanted, kept in ((2, 1), (3, 1), (4, 4), (5, 5)):
        path.write_bytes(original)
        r = cli("rewind", path, "--to-line", wanted)
        assert r.code == 0 and len(read_items(path)) == kept, (wanted, r.err)
        if kept != wanted:
            assert "would split the compaction window on lines 2-4" in r.err
        assert lint_errors(path) == []
        accepted_next_turn(cli, api, path)
    path.write_bytes(original)
    r = cli("rewind", path)
    assert r.code == 0 and len(read_items(path)) == 4  # the window is a turn of its own


def test_removed_text_cannot_act_on_the_terminal(cli, env, tmp_path):
    path = tmp_path / "c.jsonl"
    hostile = "Hi \x1b]0;pwned\x07\x1b[2J\x1b[31mred\u202eevil\x9b31m\r\nnext line"
    path.write_bytes(
        line(user("first"))
        + line({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]})
        + line(user(hostile))
    )
    r = cli("rewind", path, "--dry-run")
    assert r.code == 0, r.err
    assert r.out.splitlines()[1] == "  line 3  user  Hi red\ufffdevil next line"
    code, screen = run_in_pty(["rewind", path, "--dry-run"], env=env, cwd=tmp_path, columns=60)
    assert code == 0 and "\x1b" not in screen and "\u202e" not in screen
    assert all(len(x) <= 60 for x in screen.splitlines())


def test_a_rewind_racing_a_turn_waits_for_it_and_removes_that_turn(cli, api, chat, env, zygote, tmp_path):
    """The turn holds the lock while its request is out; the rewind waits, then removes the turn just
    written: the file ends as it began, consistent, and accepted."""
    before = chat.read_bytes()
    release = threading.Event()
    api.script(Stall(30, release=release))
    out, err = tmp_path / "say.out", tmp_path / "say.err"
    sent = len(api.requests)
    say = zygote.start(["say", chat, "racing", "-m", MODEL], cwd=tmp_path, env=env, out=out, err=err)
    deadline = time.monotonic() + 30
    while len(api.requests) == sent and time.monotonic() < deadline:  # the turn's request is out, held
        time.sleep(0.005)
    assert len(api.requests) == sent + 1
    rewind = zygote.start(["rewind", chat], cwd=tmp_path, env=env, out=tmp_path / "rw.out", err=tmp_path / "rw.err")
    time.sleep(0.2)
    assert alive(rewind) and (tmp_path / "rw.out").read_bytes() == b""  # waiting for the lock
    release.set()
    assert zygote.wait(say) == 0, err.read_text()
    assert zygote.wait(rewind) == 0, (tmp_path / "rw.err").read_text()
    assert "  line 17  user       racing" in (tmp_path / "rw.out").read_text()
    assert chat.read_bytes() == before
    accepted_next_turn(cli, api, chat)


# --- fork --------------------------------------------------------------------------------------------------


def test_fork_at_each_turn_is_lint_clean_and_accepted(cli, api, chat, tmp_path):
    source = chat.read_bytes()
    expected = {0: 1, 1: 4, 2: 12, 3: 16, None: 16}
    for turn, kept in expected.items():
        dst = tmp_path / f"fork-{turn}.jsonl"
        r = cli("fork", chat, dst, *([] if turn is None else ["--at", turn]))
        assert r.code == 0, r.err
        assert dst.read_bytes() == b"".join(source.splitlines(keepends=True)[:kept])
        assert lint_errors(dst) == []
        accepted_next_turn(cli, api, dst)
    assert chat.read_bytes() == source
    assert r.err_lines == [f"respctl: wrote 16 items to {dst}: all 3 turns of {chat}"]


def test_fork_refuses_to_overwrite_without_force(cli, chat, tmp_path):
    dst = tmp_path / "other.jsonl"
    dst.write_bytes(b"precious\n")
    r = cli("fork", chat, dst, "--at", "1")
    assert (r.code, r.err_lines) == (2, [f"respctl: error: {dst}: already exists; --force replaces it"])
    assert dst.read_bytes() == b"precious\n"
    r = cli("fork", chat, dst, "--at", "1", "--force")
    assert r.code == 0 and len(read_items(dst)) == 4


def test_fork_errors_leave_no_file_behind(cli, chat, tmp_path):
    dst = tmp_path / "new.jsonl"
    r = cli("fork", chat, dst, "--at", "4")
    assert r.code == 2 and r.err_lines == [
        "respctl: error: no turn 4: the file has turns 1 to 3 (0 keeps only the instructions)"
    ]
    assert not dst.exists()
    r = cli("fork", chat, chat, "--at", "1", "--force")
    assert r.code == 2 and "use 'respctl rewind'" in r.err and len(read_items(chat)) == 16
    r = cli("fork", chat, tmp_path / "missing" / "x.jsonl")
    assert r.code == 2 and r.err_lines == [
        f"respctl: error: {tmp_path / 'missing' / 'x.jsonl'}: folder {tmp_path / 'missing'} does not exist"
    ]


def test_a_fork_of_a_private_file_is_private(cli, chat, tmp_path):
    chat.chmod(0o600)
    dst = tmp_path / "f.jsonl"
    assert cli("fork", chat, dst).code == 0
    assert stat.S_IMODE(dst.stat().st_mode) == 0o600


# --- edit ----------------------------------------------------------------------------------------------------


def editor(tmp_path: Path, body: str, name: str = "ed.py") -> str:
    """An editor: a python script run on the copy (sys.argv[-1]); the command as $EDITOR holds it."""
    script = tmp_path / name
    script.write_text("import sys, pathlib\np = pathlib.Path(sys.argv[-1])\n" + body)
    return f"{sys.executable} {script}"


@pytest.fixture
def edit_env(tmp_path) -> dict:
    temp = tmp_path / "tmp"
    temp.mkdir()
    return {"TMPDIR": str(temp)}


def copies(edit_env) -> list[Path]:
    return sorted(Path(edit_env["TMPDIR"]).iterdir())


def test_edit_saves_a_lint_clean_edit_and_leaves_no_copy(cli, api, chat, tmp_path, edit_env):
    ed = editor(tmp_path, "p.write_text(p.read_text().replace('Be terse.', 'Be brief.'))\n")
    r = cli("edit", chat, extra_env={**edit_env, "EDITOR": ed})
    assert r.code == 0, r.err
    assert r.err_lines == [f"respctl: {chat}: saved the edit (16 lines, was 16)"]
    assert read_items(chat)[0]["content"][0]["text"] == "Be brief."
    assert copies(edit_env) == []
    accepted_next_turn(cli, api, chat)


def test_visual_comes_before_editor_and_is_split_as_a_shell_splits(cli, chat, tmp_path, edit_env):
    marker = tmp_path / "which"
    visual = editor(tmp_path, f"open({str(marker)!r}, 'w').write(' '.join(sys.argv[1:-1]))\n", "v.py")
    r = cli("edit", chat, extra_env={**edit_env, "VISUAL": visual + " --wait 'two words'", "EDITOR": "false"})
    assert r.code == 0 and r.err_lines == [f"respctl: {chat}: no changes"]
    assert marker.read_text() == "--wait two words"
    assert copies(edit_env) == []


def test_an_edit_lint_rejects_is_not_written_and_the_copy_is_kept(cli, chat, tmp_path, edit_env):
    before = chat.read_bytes()
    # drop line 4, the message that reasoning on line 3 precedes
    ed = editor(tmp_path, "lines = p.read_text().splitlines(True)\ndel lines[3]\np.write_text(''.join(lines))\n")
    r = cli("edit", chat, extra_env={**edit_env, "EDITOR": ed})
    assert r.code == 2
    [copy] = copies(edit_env)
    assert copy.suffix == ".jsonl" and stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert r.err_lines[0].startswith(f"{copy}:3:1: RSP201 ")
    assert r.err_lines[-1] == (
        f"respctl: error: {chat}: not changed: lint found 1 error in the edited copy; it is kept at {copy}"
    )
    assert "Re-open" not in r.err  # not a terminal: no question
    assert chat.read_bytes() == before and len(copy.read_bytes().splitlines()) == 15


def test_ctrl_c_at_the_reopen_question_says_where_the_copy_is(env, chat, tmp_path, edit_env):
    before = chat.read_bytes()
    ed = editor(tmp_path, "lines = p.read_text().splitlines(True)\ndel lines[3]\np.write_text(''.join(lines))\n")

    def interrupt(proc, screen):
        deadline = time.monotonic() + 30
        while "Re-open the editor?" not in screen() and time.monotonic() < deadline:
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)

    code, screen = run_in_pty(
        ["edit", chat], env={**env, **edit_env, "EDITOR": ed}, cwd=tmp_path, stdin=b"", during=interrupt
    )
    [copy] = copies(edit_env)
    assert code == 130, screen
    assert f"respctl: {chat}: not changed; the edited copy is kept at {copy}\n" in screen
    assert chat.read_bytes() == before and len(copy.read_bytes().splitlines()) == 15


def test_edit_refuses_when_the_file_changed_meanwhile(cli, chat, tmp_path, edit_env):
    # the editor also appends to the original, as a turn run meanwhile would
    ed = editor(
        tmp_path,
        f"open({str(chat)!r}, 'ab').write({line(user('meanwhile'))!r})\n"
        "p.write_text(p.read_text().replace('Be terse.', 'Be brief.'))\n",
    )
    r = cli("edit", chat, extra_env={**edit_env, "EDITOR": ed})
    [copy] = copies(edit_env)
    assert (r.code, r.err_lines) == (
        2,
        [
            f"respctl: error: {chat}: changed while it was being edited (a turn ran?); not replaced; "
            f"the edited copy is kept at {copy}"
        ],
    )
    assert read_items(chat)[-1] == user("meanwhile") and read_items(chat)[0]["content"][0]["text"] == "Be terse."
    assert b"Be brief." in copy.read_bytes()


@pytest.mark.parametrize(
    ("editor_cmd", "message"),
    [
        ("/nonexistent/editor --flag", "editor /nonexistent/editor not found (set VISUAL or EDITOR)"),
        ("false", "the editor false exited with status 1"),
        ("'unclosed", "EDITOR cannot be split into words: No closing quotation"),
    ],
)
def test_an_editor_that_cannot_run_is_one_line(cli, chat, edit_env, editor_cmd, message):
    before = chat.read_bytes()
    r = cli("edit", chat, extra_env={**edit_env, "EDITOR": editor_cmd})
    tail = "" if "split" in message else f"; {chat} not changed"
    assert (r.code, r.err_lines) == (2, [f"respctl: error: {message}{tail}"])
    assert chat.read_bytes() == before and copies(edit_env) == []


def test_on_a_terminal_a_rejected_edit_offers_to_reopen_the_editor(chat, env, tmp_path, edit_env):
    """The first edit breaks a pair; asked, the person re-opens the editor and mends it: saved."""
    original = chat.read_bytes()
    count = tmp_path / "count"
    ed = editor(
        tmp_path,
        f"c = pathlib.Path({str(count)!r})\nn = int(c.read_text()) if c.exists() else 0\nc.write_text(str(n + 1))\n"
        "lines = p.read_text().splitlines(True)\n"
        "if n == 0:\n    del lines[3]\n"
        "else:\n    lines = lines[:2]\n"
        "p.write_text(''.join(lines))\n",
    )
    code, screen = run_in_pty(["edit", chat], env={**env, **edit_env, "EDITOR": ed}, cwd=tmp_path, stdin=b"\n")
    assert code == 0, screen
    assert "RSP201" in screen and "Re-open the editor? [Y/n] " in screen
    assert "saved the edit (2 lines, was 16)" in screen
    assert count.read_text() == "2" and len(read_items(chat)) == 2 and copies(edit_env) == []
    chat.write_bytes(original)
    before = chat.read_bytes()
    count.unlink()
    code, screen = run_in_pty(["edit", chat], env={**env, **edit_env, "EDITOR": ed}, cwd=tmp_path, stdin=b"n\n")
    assert code == 2 and "it is kept at" in screen and chat.read_bytes() == before


def test_the_edit_copy_is_private_even_with_an_open_umask(cli, chat, tmp_path, edit_env):
    mode = tmp_path / "mode"
    ed = editor(tmp_path, f"import os, stat\nopen({str(mode)!r}, 'w').write(oct(stat.S_IMODE(os.stat(p).st_mode)))\n")
    assert cli("edit", chat, extra_env={**edit_env, "EDITOR": ed}).code == 0
    assert mode.read_text() == "0o600"
