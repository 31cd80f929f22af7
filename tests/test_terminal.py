"""Safe in a terminal: what a turn prints on a pseudo-terminal, and the terminal left as it was."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest
from conftest import clean_env, line, read_items, run_in_pty, user
from fakeapi import Cut, Turn, function_call, message, reasoning

MODEL = "gpt-5-mini"
HOSTILE = "Title\x1b]0;PWNED\x07 then\x1b[2J clear\tand tab\nnext \x1b[31mred\x1b[0m \x9b2J end"
CLEANED = "Title then clear\tand tab\nnext red  end"  # every sequence removed (8-bit CSI too), as show does


def terminal_env(env: dict, **extra: str) -> dict:
    return {**env, "TERM": "xterm-256color", **extra}


def chat_with(tmp_path, *items: dict):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b"".join(line(i) for i in items))
    return path


@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_say_on_a_terminal_cleans_the_answer_as_show_does(env, api, tmp_path, stream):
    api.script(Turn([reasoning(), message(HOSTILE)]))
    chat = chat_with(tmp_path, user("hi"))
    code, screen = run_in_pty(["say", chat, "more", "-m", MODEL, stream], env=terminal_env(env), cwd=tmp_path)
    assert code == 0
    assert "\x1b]" not in screen and "\x1b[2J" not in screen and "\x07" not in screen and "\x9b" not in screen
    assert CLEANED in screen
    assert read_items(chat)[-1]["content"][0]["text"] == HOSTILE  # the file keeps the model's exact text


def test_piped_the_answer_is_the_models_exact_text(cli, api, tmp_path):
    api.script(Turn([reasoning(), message(HOSTILE)]))
    chat_with(tmp_path, user("hi"))
    r = cli("say", "c.jsonl", "more", "-m", MODEL, "--stream")
    assert r.code == 0 and r.out == HOSTILE + "\n"


def test_tool_result_and_start_clean_the_answer_on_a_terminal(env, api, tmp_path):
    api.script(Turn([reasoning(), message(HOSTILE)]))
    code, screen = run_in_pty(["start", "s.jsonl", "hi", "-m", MODEL], env=terminal_env(env), cwd=tmp_path)
    assert code == 0 and CLEANED in screen and "\x1b]" not in screen
    call = function_call("f", "{}", call_id="call_1")
    api.script(Turn([reasoning(), call]))
    assert run_in_pty(["say", "s.jsonl", "go", "-m", MODEL], env=env, cwd=tmp_path)[0] == 3
    api.script(Turn([reasoning(), message(HOSTILE)]))
    code, screen = run_in_pty(
        ["tool-result", "s.jsonl", "call_1", "ok", "-m", MODEL], env=terminal_env(env), cwd=tmp_path
    )
    assert code == 0 and CLEANED in screen and "\x1b]" not in screen and "\x1b[2J" not in screen


def test_a_dropped_stream_resets_the_dim_summary_and_ends_the_line_before_the_error(env, api, tmp_path):
    api.script(Cut(6, Turn([reasoning(["Thinking about the question at length"]), message("Answer.")])))
    chat = chat_with(tmp_path, user("hi"))
    before = chat.read_bytes()
    code, screen = run_in_pty(
        ["say", chat, "more", "-m", MODEL, "--summary", "auto"], env=terminal_env(env), cwd=tmp_path
    )
    assert code == 1 and chat.read_bytes() == before
    assert "\x1b[2m" in screen  # the summary was dimmed...
    dim_at, error_at = screen.rindex("\x1b[2m"), screen.index("respctl: error:")
    assert "\x1b[0m\n" in screen[dim_at:error_at]  # ...and reset, its line ended, before the error line
    assert screen[error_at - 1] == "\n"


def test_ctrl_c_while_the_summary_streams_resets_the_terminal(env, api, tmp_path):
    api.event_delay = 0.2
    api.script(Turn([reasoning(["One two three four five six seven eight nine ten"]), message("Answer.")]))
    chat = chat_with(tmp_path, user("hi"))

    def interrupt(proc, screen):
        deadline = time.monotonic() + 30
        while not re.search("\x1b\\[2mOne two", screen()) and time.monotonic() < deadline:
            time.sleep(0.02)  # until a few summary deltas are on the terminal
        os.killpg(proc.pid, signal.SIGINT)

    code, screen = run_in_pty(
        ["say", chat, "more", "-m", MODEL, "--summary", "auto"], env=terminal_env(env), cwd=tmp_path, during=interrupt
    )
    assert code == 130
    error_at = screen.index("respctl: error: interrupted")
    assert "\x1b[2m" in screen[:error_at] and screen[:error_at].endswith("\x1b[0m\n")


def test_no_color_and_color_never_leave_the_summary_without_attributes(env, api, tmp_path):
    for extra, args in (({"NO_COLOR": "1"}, []), ({}, ["--color", "never"])):
        api.script(Turn([reasoning(["Thinking"]), message("Answer.")]))
        chat = chat_with(tmp_path, user("hi"))
        code, screen = run_in_pty(
            ["say", chat, "more", "-m", MODEL, "--summary", "auto", *args], env=terminal_env(env, **extra), cwd=tmp_path
        )
        assert code == 0 and "Thinking" in screen and "\x1b[" not in screen


def test_say_dash_on_a_terminal_says_it_reads_standard_input(env, api, tmp_path):
    chat = chat_with(tmp_path, user("hi"))
    api.script(Turn([reasoning(), message("Answer.")]))
    code, screen = run_in_pty(["say", chat, "-", "-m", MODEL], env=env, cwd=tmp_path, stdin=b"typed question\n\x04")
    assert code == 0
    assert "respctl: reading the message from standard input (end it with Ctrl-D)" in screen
    assert api.requests[-1].body["input"][-1] == user("typed question")


def test_pending_calls_hint_names_the_real_file(cli, api, tmp_path):
    api.script(Turn([reasoning(), function_call("get_weather", '{"city":"Paris"}', call_id="call_1")]))
    r = cli("start", "my chat.jsonl", "weather?", "-m", MODEL)
    assert r.code == 3
    assert (
        "respctl: answer with 'respctl tool-result 'my chat.jsonl' CALL_ID OUTPUT' "
        "(see 'respctl show 'my chat.jsonl' --pending')" in r.err_lines
    )


def test_show_at_60_columns_keeps_a_wrapped_call_id_under_its_header(tmp_path):
    call = {"type": "function_call", "call_id": "call_" + "x" * 40, "name": "get_weather_forecast", "arguments": "{}"}
    output = {"type": "function_call_output", "call_id": call["call_id"], "output": "sunny"}
    chat = chat_with(tmp_path, user("hi"), call, output)
    code, screen = run_in_pty(["show", chat, "--no-pager"], env=clean_env(TERM="xterm"), columns=60)
    plain = re.sub("\x1b\\[[0-9;]*m", "", screen)
    assert code == 0
    for text_line in plain.splitlines():
        assert not text_line.startswith("call_"), plain  # continuation lines stay indented under the header


def test_the_streamed_summary_is_cleaned_as_show_cleans_it(env, api, tmp_path):
    legit = "Think\tit over: نمی‌خواهم and 👩‍👩‍👧 together"  # a tab, a Persian ZWNJ, an emoji ZWJ sequence
    api.script(Turn([reasoning([legit + " \x1b]0;SUMPWN\x07\x1b[2Jend"]), message("Answer.")]))
    chat = chat_with(tmp_path, user("hi"))
    code, screen = run_in_pty(
        ["say", chat, "more", "-m", MODEL, "--summary", "auto", "--color", "never"],
        env=terminal_env(env),
        cwd=tmp_path,
    )
    assert code == 0 and "\x1b" not in screen and "\x07" not in screen
    assert legit + " end" in screen  # the same text show would print: sequences gone, the rest untouched


def test_error_and_note_lines_keep_text_that_is_no_control(cli, api, tmp_path):
    name = "نامه‌ها\t👩‍👩‍👧.jsonl"
    r = cli("say", name, "hi", "-m", MODEL)
    assert r.code == 2 and r.err_lines == [
        f"respctl: error: {name.replace(chr(9), ' ')}: no such file (create it with 'respctl start')"
    ]
    (tmp_path / name).write_bytes(line(user("hi")))
    r = cli("say", name, "more", "--no-send", "-m", MODEL)
    assert r.code == 0 and r.err_lines == ["respctl: recorded 1 item; no turn was run"]
