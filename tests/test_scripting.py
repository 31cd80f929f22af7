"""Predictable in a script: --json on every outcome, stdin, bad URLs, checks before paying, -q/-v."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import orjson
import pytest
from conftest import CANARY_KEY, clean_env, line, read_items, run_cli, shared_zygote, tools_file, user
from fakeapi import HttpError, Turn, function_call, message, reasoning

MAX_TEXT = 10_485_760  # respctl.inputs.MAX_TEXT, the API's limit for one string

MODEL = "gpt-5-mini"
ANSWER = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Done."}]}


def chat_with(tmp_path, *items: dict):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b"".join(line(i) for i in items))
    return path


# -- --json: one object for every outcome -----------------------------------------------------------


def test_json_on_an_http_failure_is_one_object_with_the_error(cli, api, tmp_path):
    chat = chat_with(tmp_path, user("hi"))
    api.script(HttpError(400, "Bad thing.", code="bad"))
    r = cli("say", chat, "more", "-m", MODEL, "--json")
    assert r.code == 1 and r.out.count("\n") == 1
    assert r.json() == {
        "status": "error",
        "text": "",
        "tool_calls": [],
        "usage": None,
        "response_id": None,
        "appended": 0,
        "exit_code": 1,
        "error": {
            "kind": "http",
            "message": "HTTP 400: Bad thing.",
            "http_status": 400,
            "body": '{"error":{"message":"Bad thing.","type":"invalid_request_error","param":null,"code":"bad"}}',
        },
    }
    assert r.err_lines == ["respctl: error: HTTP 400: Bad thing."]  # the whole answer is the object's error.body


@pytest.mark.parametrize(
    "args, kind, code",
    [
        (["say", "missing.jsonl", "hi", "-m", MODEL, "--json"], "bad_input", 2),
        (["say", "c.jsonl", "hi", "--json"], "usage", 2),  # no model
        (["say", "c.jsonl", "hi", "-m", MODEL, "--json", "--effort", "huge"], "usage", 2),  # click's own parsing
        (["compact", "c.jsonl", "-m", MODEL, "--json", "--timeout", "soon"], "usage", 2),
        (["rewind", "c.jsonl", "--json", "--to-line", "x"], "usage", 2),
        (["batch", "submit", "c.jsonl", "-m", MODEL, "--json", "--effort", "huge"], "usage", 2),
        (["batch", "collect", "batch_1", "--json", "--lock-timeout", "x"], "usage", 2),
    ],
)
def test_json_on_usage_errors(cli, api, tmp_path, args, kind, code):
    chat_with(tmp_path, user("hi"))
    r = cli(*args)
    assert r.code == code
    obj = r.json()
    assert obj["status"] == "error" and obj["exit_code"] == code and obj["error"]["kind"] == kind
    assert obj["error"]["http_status"] is None and len(r.err_lines) == 1 and api.requests == []


def test_json_of_a_failure_after_a_runner_round_counts_the_lines_that_stay(cli, api, tmp_path):
    (tmp_path / "tools.json").write_text('[{"type": "function", "name": "f", "parameters": {}}]')
    chat = chat_with(tmp_path, user("hi"))
    api.script(Turn([reasoning(), function_call("f", "{}", call_id="call_1")]), HttpError(400, "No."))
    r = cli("say", chat, "go", "-m", MODEL, "--json", "--tools", "tools.json", "--run-tool", "f=true")
    assert r.code == 1 and r.json()["appended"] == 4  # message, reasoning, call, then the tool's output
    assert len(read_items(chat)) == 5


def test_json_status_of_a_failure_in_a_pipeline(env, api, tmp_path):
    chat_with(tmp_path, user("hi"))
    api.script(HttpError(500, count=3))
    script = f"""
        set -uo pipefail
        status=$({sys.executable} -m respctl say c.jsonl more -m {MODEL} --json --max-retries 0 </dev/null |
                 {sys.executable} -c 'import json,sys; print(json.load(sys.stdin)["status"])')
        echo "status=$status rc=$?"
    """
    r = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.stdout == "status=error rc=1\n"


# -- a malformed base URL is bad input ---------------------------------------------------------------


@pytest.mark.parametrize("url", ["not-a-url", "ftp://x/v1", "http://:8080/v1", "http://host:port/v1"])
def test_malformed_base_url_is_exit_2_at_once_without_a_request(tmp_path, url):
    chat_with(tmp_path, user("hi"))
    env = clean_env(OPENAI_API_KEY=CANARY_KEY, OPENAI_BASE_URL=url)
    shared_zygote()  # started before the clock runs
    began = time.monotonic()
    r = run_cli(["say", "c.jsonl", "more", "-m", MODEL], cwd=tmp_path, env=env)
    assert r.code == 2 and time.monotonic() - began < 1  # no retry (the SDK's would wait 0.5 s and more)
    assert r.err.startswith("respctl: error: not a valid API URL (--base-url, OPENAI_BASE_URL): ")
    assert len(r.err_lines) == 1 and r.out == ""


def test_a_bad_url_does_not_stop_what_sends_nothing(cli, tmp_path):
    r = cli("start", "c.jsonl", "--instructions", "Be brief.", extra_env={"OPENAI_BASE_URL": "not-a-url"})
    assert r.code == 0


# -- standard input as the message; nothing new to answer -------------------------------------------


def test_piped_standard_input_is_the_message(cli, api, tmp_path):
    chat_with(tmp_path, user("hi"), ANSWER)
    api.script(Turn([reasoning(), message("Food.")]))
    r = cli("say", "c.jsonl", "-m", MODEL, input="What about food?\n\n")
    assert r.code == 0 and r.out == "Food.\n"
    assert api.requests[-1].body["input"][-1] == user("What about food?")  # trailing newlines dropped, as $(...)


def test_a_turn_with_nothing_new_to_answer_is_refused_unless_asked_for(cli, api, tmp_path):
    chat = chat_with(tmp_path, user("hi"), ANSWER)
    before = chat.read_bytes()
    r = cli("say", "c.jsonl", "-m", MODEL)  # stdin is /dev/null: read, empty, no message
    assert r.code == 2 and api.requests == [] and chat.read_bytes() == before
    assert r.err_lines == [
        "respctl: error: c.jsonl: nothing new to answer: the file ends in the model's answer and standard input "
        "was empty (give a MESSAGE, as an argument or on standard input; --as-is runs a turn on the file as it is)"
    ]
    api.script(Turn([reasoning(), message("Again.")]))
    r = cli("say", "c.jsonl", "-m", MODEL, "--as-is", input="ignored")
    assert r.code == 0 and len(api.requests) == 1
    assert api.requests[0].body["input"][-1]["role"] == "assistant"  # stdin was not read


def test_a_file_ending_in_a_user_message_or_tool_output_runs_without_a_message(cli, api, tmp_path):
    call = {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"}
    output = {"type": "function_call_output", "call_id": "call_1", "output": "1"}
    chat_with(tmp_path, user("hi"), call, output)
    api.script(Turn([reasoning(), message("Done.")]))
    assert cli("say", "c.jsonl", "-m", MODEL).code == 0


# -- empty input, one size limit ---------------------------------------------------------------------


def test_start_with_nothing_is_refused_and_creates_no_file(cli, tmp_path):
    r = cli("start", "x.jsonl")
    assert r.code == 2 and not (tmp_path / "x.jsonl").exists()
    assert r.err_lines == ["respctl: error: x.jsonl: nothing to start: give --instructions, a MESSAGE, or both"]


def test_blank_instructions_are_refused_like_a_blank_message(cli, tmp_path):
    r = cli("start", "x.jsonl", "--instructions", "  \n")
    assert r.code == 2 and r.err_lines == ["respctl: error: the instructions are only blank space"]
    assert not (tmp_path / "x.jsonl").exists()


def test_instructions_file_loses_its_trailing_newlines(cli, tmp_path):
    (tmp_path / "i.txt").write_text("Be brief.\n\n")
    assert cli("start", "x.jsonl", "--instructions-file", "i.txt").code == 0
    assert read_items(tmp_path / "x.jsonl")[0]["content"][0]["text"] == "Be brief."


def test_one_size_limit_for_messages_and_tool_outputs(cli, api, tmp_path):
    chat_with(tmp_path, user("hi"), ANSWER)
    big = "x" * (MAX_TEXT + 1)
    r = cli("say", "c.jsonl", "-", "-m", MODEL, input=big)
    assert r.code == 2 and api.requests == []
    assert r.err_lines == [
        f"respctl: error: the message has {MAX_TEXT + 1:,} characters; the API takes at most {MAX_TEXT:,}"
    ]


# -- checks before paying ----------------------------------------------------------------------------


def test_run_tool_command_and_name_are_checked_before_any_request(cli, api, tmp_path):
    (tmp_path / "tools.json").write_text('[{"type": "function", "name": "get_weather", "parameters": {}}]')
    (tmp_path / "plain.sh").write_text("echo hi\n")
    chat_with(tmp_path, user("hi"), ANSWER)
    cases = [
        ("get_weather=./nope.sh", "--run-tool get_weather: command './nope.sh': no such file"),
        ("get_weather=no-such-command-xyz", "--run-tool get_weather: command 'no-such-command-xyz': not found on PATH"),
        ("get_weather=./plain.sh", "--run-tool get_weather: './plain.sh' is not executable (chmod +x ./plain.sh?)"),
        (
            "get_wether=true",
            "--run-tool get_wether: no tool of that name in --tools (function and custom tools: get_weather)",
        ),
    ]
    for spec, message_ in cases:
        r = cli("say", "c.jsonl", "q", "-m", MODEL, "--tools", "tools.json", "--run-tool", spec)
        assert (r.code, r.err_lines) == (2, [f"respctl: error: {message_}"])
    assert api.requests == []


def test_tools_file_checked_against_the_sdk_tool_shapes(cli, api, tmp_path):
    (tmp_path / "tools.json").write_text('[{"type": "functon", "name": "get_weather"}]')
    chat_with(tmp_path, user("hi"), ANSWER)
    r = cli("say", "c.jsonl", "q", "-m", MODEL, "--tools", "tools.json", "--target", "openai")
    assert r.code == 2 and api.requests == []
    assert r.err_lines[0].startswith("respctl: error: tools.json: tool [0]: field 'type' is 'functon'; expected one of")
    assert r.err_lines[0].endswith("(did you mean 'function'?)")
    # what the API takes although the SDK's types ask for more: a function tool without strict or parameters
    (tmp_path / "tools.json").write_text('[{"type": "function", "name": "get_weather"}, {"type": "web_search"}]')
    api.script(Turn([reasoning(), message("ok")]))
    assert cli("say", "c.jsonl", "q", "-m", MODEL, "--tools", "tools.json", "--target", "openai").code == 0
    # another server may know other tool types: the OpenAI API's shapes are not its rule
    (tmp_path / "tools.json").write_text('[{"type": "vllm_special"}]')
    api.script(Turn([reasoning(), message("ok")]))
    assert cli("say", "c.jsonl", "q", "-m", MODEL, "--tools", "tools.json", "--target", "compatible").code == 0


# -- quiet, verbose, waits ---------------------------------------------------------------------------


def test_verbose_says_what_respctl_does_and_quiet_only_errors(cli, api, tmp_path):
    chat_with(tmp_path, user("hi"), ANSWER)
    api.script(Turn([reasoning(), message("ok")]))
    r = cli("say", "c.jsonl", "q", "-m", MODEL, "-v")
    assert r.code == 0
    assert re.search(r"^respctl: POST http://127\.0\.0\.1:\d+/v1/responses: [\d,]+ bytes, not streamed$", r.err, re.M)
    assert re.search(r"^respctl: the API took \d+\.\d\ds$", r.err, re.M)
    api.script(Turn([reasoning(), message("ok")]))
    r = cli("say", "c.jsonl", "q", "-m", MODEL, "-q")
    assert r.code == 0 and r.err == ""


def test_a_lock_wait_longer_than_a_second_gets_one_line(env, api, tmp_path):
    from respctl.conversation import exclusive_lock

    chat = chat_with(tmp_path, user("hi"), ANSWER)
    api.script(Turn([reasoning(), message("ok")]))
    with exclusive_lock(chat):  # another respctl holds the file until the waiter says it waits
        proc = subprocess.Popen(
            [sys.executable, "-m", "respctl", "say", "c.jsonl", "q", "-m", MODEL],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        first = proc.stderr.readline()
        waited_at = time.monotonic()
    out, rest = proc.communicate(timeout=30)
    assert first == "respctl: c.jsonl: waiting for another respctl that holds the file (--lock-timeout)\n"
    assert proc.returncode == 0 and out == "ok\n" and api.accepted[0].received >= waited_at


# -- show - and lint - -------------------------------------------------------------------------------


def test_show_and_lint_read_standard_input(cli, tmp_path):
    data = line(user("from a pipe")) + line(ANSWER)
    r = cli("show", "-", input=data)
    assert r.code == 0 and "from a pipe" in r.out and "Done." in r.out
    r = cli("lint", "-", input=data)
    assert r.code == 0 and "All checks passed!" in r.out
    r = cli("lint", "-", input=b"not json\n")
    assert r.code == 1 and r.out.startswith("-:1:1: RSP001")
    # standard input is checked for the target asked for, as a file is: an `item_` message id (as
    # gpt-oss sends it) is the OpenAI API's rule only
    foreign = line(user("hi")) + line({**ANSWER, "id": "item_1", "status": "completed"})
    assert cli("lint", "-", "--target", "compatible", input=foreign).code == 0
    r = cli("lint", "-", "--target", "openai", input=foreign)
    assert r.code == 1 and " RSP112 " in r.out


def test_json_answer_escapes_what_orjson_leaves_raw(cli, api, tmp_path):
    chat_with(tmp_path, user("hi"))
    api.script(Turn([reasoning(), message("a\x9b2Jb\u202e")]))
    r = cli("say", "c.jsonl", "q", "-m", MODEL, "--json")
    assert b"\xc2\x9b" not in r.stdout and b"\\u009b" in r.stdout and r.json()["text"] == "a\x9b2Jb\u202e"


def test_bare_respctl_prints_the_help(tmp_path):
    r = subprocess.run([sys.executable, "-m", "respctl"], capture_output=True, text=True, env=clean_env())
    assert r.returncode == 2 and r.stderr.startswith("Usage: respctl [OPTIONS] COMMAND [ARGS]...\n")
    assert "\nCommands:\n" in r.stderr and "respctl: error" not in r.stderr


def test_bare_respctl_batch_prints_its_help(tmp_path):
    r = run_cli(["batch"], cwd=tmp_path, env=clean_env())
    assert r.code == 2 and r.err.startswith("Usage: respctl batch [OPTIONS] COMMAND [ARGS]...\n")
    assert "\nCommands:\n" in r.err and "respctl: error" not in r.err and r.out == ""


@pytest.mark.parametrize(
    ("args", "built"),
    [
        (["show", "c.jsonl"], ["show"]),
        (["batch", "submit", "a.jsonl"], ["batch submit"]),
        (["batch", "--help"], ["batch submit", "batch status", "batch collect", "batch run"]),
        (["--help"], None),
        (["sho"], None),
    ],
)
def test_only_the_command_run_is_built(args, built):
    """Typer builds the parameters of every command it is given (1-2 ms each): `show` must not pay for
    the batch commands' turn options. None: the whole app, for help and typos."""
    from respctl import cli

    one = cli._only_the_command_run(args)
    if built is None:
        assert one is cli.app
        return
    names = [info.name or info.callback.__name__ for info in one.registered_commands]
    for group in one.registered_groups:
        names += [f"{cli._group_name(group)} {info.name}" for info in group.typer_instance.registered_commands]
    assert names == built


def test_lint_builds_no_turn_commands_options():
    """The turn commands' options are expanded when typer reads a command's signature: building `lint`
    expands none of them (a fresh interpreter: the point is what one run of the CLI does)."""
    script = (
        "import typer, respctl.cli as c\n"
        "typer.main.get_command(c._only_the_command_run(['lint', 'x.jsonl']))\n"
        "turns = [i.callback for i in c.app.registered_commands if isinstance(i.callback, c._TurnCommand)]\n"
        "turns += [i.callback for g in c.app.registered_groups for i in g.typer_instance.registered_commands]\n"
        "print(len(turns), sum('_expanded' in vars(t) for t in turns if isinstance(t, c._TurnCommand)))\n"
        "typer.main.get_command(c._only_the_command_run(['say', 'x.jsonl']))\n"
        "print(sum('_expanded' in vars(t) for t in turns if isinstance(t, c._TurnCommand)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=clean_env())
    commands, expanded_for_lint = map(int, done.stdout.split()[:2])
    assert commands >= 6 and expanded_for_lint == 0 and done.stdout.split()[2] == "1", done.stdout + done.stderr


def test_help_shows_plain_metavars():
    say = subprocess.run([sys.executable, "-m", "respctl", "say", "--help"], capture_output=True, text=True)
    lint = subprocess.run([sys.executable, "-m", "respctl", "lint", "--help"], capture_output=True, text=True)
    assert say.stdout.startswith("Usage: respctl say [OPTIONS] FILE [MESSAGE]\n")
    assert lint.stdout.startswith("Usage: respctl lint [OPTIONS] [FILE...]\n")
    for out in (say.stdout, lint.stdout):
        assert "<str>" not in out and "<list[str]>" not in out and "{FILE}" not in out
    assert "\n  FILE...  " in lint.stdout


@pytest.mark.parametrize(
    "shell, expect",
    [("bash", "complete -o default"), ("zsh", "#compdef respctl"), ("fish", "complete --command respctl")],
)
def test_shell_completion_scripts_and_completions(tmp_path, shell, expect):
    script = run_cli([], cwd=tmp_path, env=clean_env(_RESPCTL_COMPLETE=f"source_{shell}"))
    assert script.code == 0 and expect in script.out
    (tmp_path / "chat.jsonl").write_text("")
    env = clean_env(_RESPCTL_COMPLETE="complete_bash", COMP_WORDS="respctl sh", COMP_CWORD="1")
    assert run_cli([], cwd=tmp_path, env=env).out == "show\n"
    env = clean_env(_RESPCTL_COMPLETE="complete_bash", COMP_WORDS="respctl show ch", COMP_CWORD="2")
    assert run_cli([], cwd=tmp_path, env=env).out == "chat.jsonl\n"


def test_json_with_pending_calls_and_the_set_e_idiom(cli, api, tmp_path):
    api.script(Turn([reasoning(), function_call("f", "{}", call_id="call_1")]))
    r = cli("start", "c.jsonl", "q", "-m", MODEL, "--json")
    assert r.code == 3 and orjson.loads(r.stdout)["exit_code"] == 3


# -- review of issue 12: findings ---------------------------------------------------------------------


def test_run_tool_without_tools_is_refused_before_any_request(cli, api, tmp_path):
    chat_with(tmp_path, user("hi"), ANSWER)
    r = cli("say", "c.jsonl", "Weather", "-m", MODEL, "--run-tool", "foo=cat")
    assert (r.code, r.err_lines) == (
        2,
        ["respctl: error: --run-tool foo: no --tools given, so no call of foo can come"],
    )
    assert api.requests == []


def test_an_attachment_is_held_to_the_one_size_limit(cli, api, tmp_path):
    chat = chat_with(tmp_path, user("hi"), ANSWER)
    before = chat.read_bytes()
    (tmp_path / "big.md").write_text("x" * (MAX_TEXT + 1))
    r = cli("say", "c.jsonl", "hi", "--attach", "big.md", "--no-send")
    assert r.code == 2 and chat.read_bytes() == before
    size = len('<file name="big.md">\n\n</file>') + MAX_TEXT + 1
    assert r.err_lines == [
        f"respctl: error: the text of attachment big.md has {size:,} characters; the API takes at most {MAX_TEXT:,}"
    ]


def test_json_after_ctrl_c_says_what_the_error_line_says(zygote, api, env, tmp_path):
    from fakeapi import Stall

    chat_with(tmp_path, user("hi"))
    api.script(Stall(20))
    out, err = tmp_path / "out", tmp_path / "err"
    pid = zygote.start(["say", "c.jsonl", "more", "-m", MODEL, "--json"], cwd=tmp_path, env=env, out=out, err=err)
    deadline = time.monotonic() + 10
    while not api.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    import os
    import signal

    os.kill(pid, signal.SIGINT)
    assert zygote.wait(pid) == 130
    assert err.read_text() == "respctl: error: interrupted; nothing was written\n"
    obj = orjson.loads(out.read_bytes())
    assert obj["error"]["message"] == "interrupted; nothing was written" and obj["exit_code"] == 130


def test_json_after_ctrl_c_once_the_turn_was_saved_counts_its_lines(cli, api, tmp_path):
    tool = tmp_path / "tool.py"
    tool.write_text(
        "import os, signal, sys, time\nsys.stdin.read()\nos.kill(os.getppid(), signal.SIGINT)\ntime.sleep(30)\n"
    )
    api.script(Turn([reasoning(), function_call("f", "{}", call_id="call_1")]))
    tools = tools_file(tmp_path, "f")
    r = cli(
        "start", "c.jsonl", "go", "-m", MODEL, "--json", "--tools", tools, "--run-tool", f"f={sys.executable} {tool}"
    )
    assert r.code == 3 and len(r.err_lines) == 1, r.err
    said = r.err_lines[0].removeprefix("respctl: ")
    assert said.startswith("interrupted after the turn was saved to c.jsonl (3 new items); do not send it again")
    assert r.json()["error"]["message"] == said and r.json()["appended"] == 3
    # the turn was saved: the object says so, as the exit code does (not "error")
    assert r.json()["status"] == "interrupted" and r.json()["exit_code"] == 3


def test_lint_and_show_of_standard_input_never_name_a_file_called_dash(cli, tmp_path):
    call = {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"}
    r = cli("lint", "-", input=line(user("hi")) + line(call))
    assert r.code == 0
    assert r.out.splitlines()[0] == (
        "-:2:1: info: call call_1 (f) is waiting for its output; answer it with 'respctl tool-result FILE call_1'"
    )
    r = cli("show", "-", input=b"not json\n")
    assert r.code == 2 and r.err_lines == [
        "respctl: error: -: 1 damaged line (line 1), shown as far as possible; see 'respctl lint -' on the same input"
    ]


def test_lint_hint_quotes_a_file_name_as_the_shell_needs(cli, tmp_path):
    call = {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"}
    (tmp_path / "my chat.jsonl").write_bytes(line(user("hi")) + line(call))
    r = cli("lint", "my chat.jsonl")
    assert r.out.splitlines()[0].endswith("answer it with 'respctl tool-result 'my chat.jsonl' call_1'")


def test_quiet_and_verbose_together_are_a_usage_error(cli, api, tmp_path):
    chat_with(tmp_path, user("hi"), ANSWER)
    r = cli("say", "c.jsonl", "q", "-m", MODEL, "-q", "-v")
    assert r.code == 2 and r.err_lines == ["respctl: error: -q/--quiet and -v/--verbose cannot be used together"]
    assert api.requests == []


def test_empty_standard_input_is_named_when_there_is_nothing_to_answer(cli, api, tmp_path):
    chat_with(tmp_path, user("hi"), ANSWER)
    r = cli("say", "c.jsonl", "-m", MODEL, input=b"")
    assert r.code == 2 and api.requests == []
    assert r.err_lines == [
        "respctl: error: c.jsonl: nothing new to answer: the file ends in the model's answer and standard input "
        "was empty (give a MESSAGE, as an argument or on standard input; --as-is runs a turn on the file as it is)"
    ]


def test_hitting_max_tool_rounds_is_said(cli, api, tmp_path):
    tools = tools_file(tmp_path, "f")
    api.script(
        Turn([reasoning(), function_call("f", "{}", call_id="call_1")]),
        Turn([reasoning(), function_call("f", "{}", call_id="call_2")]),
    )
    r = cli("start", "c.jsonl", "go", "-m", MODEL, "--tools", tools, "--run-tool", "f=true", "--max-tool-rounds", "1")
    assert r.code == 3 and len(api.requests) == 2
    assert (
        "respctl: stopped after 1 round of tool calls (--max-tool-rounds 1); rerun 'respctl say c.jsonl' with the "
        "same --tools and --run-tool to continue" in r.err_lines
    )


def test_usage_errors_of_a_turn_never_import_openai(tmp_path):
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "respctl", "say", "nope.jsonl", "hi", "-m", MODEL],
        cwd=tmp_path,
        env=clean_env(OPENAI_API_KEY=CANARY_KEY),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    modules = {ln.rsplit("|", 1)[-1].strip() for ln in r.stderr.splitlines() if ln.startswith("import time:")}
    assert r.returncode == 2 and "respctl: error: nope.jsonl: no such file" in r.stderr
    assert "openai" not in modules and "respctl.client" not in modules


def test_lint_takes_color_as_every_command_that_prints(cli, tmp_path):
    chat_with(tmp_path, user("hi"), ANSWER)
    for value in ("auto", "always", "never"):
        r = cli("lint", "c.jsonl", "--color", value)
        assert (r.code, r.out) == (0, "All checks passed!\n")


def test_wording_of_counts_and_limits(cli, api, tmp_path):
    r = cli("start", "x.jsonl", "--instructions", "x" * (MAX_TEXT + 1))
    assert r.err_lines == [
        f"respctl: error: the instructions have {MAX_TEXT + 1:,} characters; the API takes at most {MAX_TEXT:,}"
    ]
    chat_with(tmp_path, user("hi"), ANSWER)
    r = cli("say", "c.jsonl", "more", "--no-send")
    assert r.code == 0 and r.err_lines == ["respctl: recorded 1 item; no turn was run"]
    (tmp_path / "bad.jsonl").write_bytes(b"not json\n" + line(user("hi")) + b"nor this\n")
    r = cli("show", "bad.jsonl")
    assert r.err_lines == [
        "respctl: error: bad.jsonl: 2 damaged lines (lines 1, 3), shown as far as possible; "
        "see 'respctl lint bad.jsonl'"
    ]


def test_one_quiet_option_with_help_true_of_every_command():
    for command in ("say", "show"):
        out = subprocess.run([sys.executable, "-m", "respctl", command, "--help"], capture_output=True, text=True)
        assert (
            "-q, --quiet" in out.stdout
            and "tools run" not in out.stdout
            and "retries" not in out.stdout.split("--quiet", 1)[1].split("\n  -", 1)[0]
        )
