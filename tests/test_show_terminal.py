"""show on a terminal: NO_COLOR means no attribute at all, a pager like git's, turns that keep calls whole."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from conftest import clean_env, line, run_cli, run_in_pty, user

SAMPLES = Path(__file__).parent.parent / "samples"


def test_no_color_turns_off_every_attribute_bold_dim_italic_too(tmp_path):
    env = clean_env(TERM="xterm-256color", NO_COLOR="1", PAGER="cat")
    code, screen = run_in_pty(["show", SAMPLES / "rome-trip.jsonl"], env=env)
    assert code == 0 and " • Colosseum at opening time" in screen  # still the terminal view
    assert "\x1b[" not in screen
    code, forced = run_in_pty(["show", SAMPLES / "rome-trip.jsonl", "--color", "always"], env=env)
    assert "\x1b[1m" in forced  # --color always wins over NO_COLOR


def pager_script(tmp_path: Path) -> tuple[str, Path]:
    seen = tmp_path / "paged.txt"
    script = tmp_path / "pager.sh"
    script.write_text(f'#!/bin/sh\necho "LESS=$LESS" > {seen}\ncat >> {seen}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script), seen


def test_on_a_terminal_show_pages_through_pager_like_git(tmp_path):
    pager, seen = pager_script(tmp_path)
    env = clean_env(TERM="xterm-256color", PAGER=pager)
    code, screen = run_in_pty(["show", SAMPLES / "rome-trip.jsonl"], env=env)
    assert code == 0 and "Colosseum" not in screen  # all of it went to the pager
    paged = seen.read_text()
    assert paged.startswith("LESS=FRX\n") and "Colosseum at opening time" in paged and "\x1b[" in paged


def test_no_pager_and_pipes_never_page(tmp_path):
    pager, seen = pager_script(tmp_path)
    env = clean_env(TERM="xterm-256color", PAGER=pager)
    code, screen = run_in_pty(["show", SAMPLES / "rome-trip.jsonl", "--no-pager"], env=env)
    assert code == 0 and "Colosseum" in screen and not seen.exists()
    piped = run_cli(["show", SAMPLES / "rome-trip.jsonl"], cwd=tmp_path, env=env)
    assert "Colosseum" in piped.out and not seen.exists()


def show_plain(path: Path, *args: str):
    return run_cli(["show", path, *args], cwd=path.parent, env=clean_env())


def test_a_tool_output_stays_in_the_turn_of_its_call(tmp_path):
    call = {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"}
    output = {"type": "function_call_output", "call_id": "call_1", "output": "1"}
    answer = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Done."}]}
    path = tmp_path / "c.jsonl"
    path.write_bytes(line(user("hi")) + line(call) + line(output) + line(answer) + line(user("more")))
    out = show_plain(path).out
    assert out.count("── Turn") == 2 and out.index("── Turn 2") > out.index("Done.")
    turns = [o["turn"] for o in json.loads(show_plain(path, "--format", "json").out)]
    assert turns == [1, 1, 1, 1, 2]


def test_a_damaged_first_line_is_not_shown_as_instructions(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b"<<<<<<< HEAD\n" + line(user("hi")))
    out = show_plain(path).out
    assert "Instructions" not in out and out.startswith("── Before turn 1 ")
    path.write_bytes(b"<<<<<<< HEAD\n" + line({"type": "message", "role": "developer", "content": "Be brief."}))
    assert show_plain(path).out.startswith("── Instructions ")
