"""Tool runner safety: model-chosen arguments never reach a shell or the command line; a tool that
hangs is killed with its process group; what a tool prints is bounded.

Mostly in-process through respctl.runner (what `--run-tool` runs), plus one end-to-end run.
"""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import orjson
import pytest
from conftest import examples, tools_file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from respctl.inputs import MAX_TEXT
from respctl.runner import STDERR_TAIL, parse_runners, run_call

SHELLISH = st.lists(
    st.one_of(
        st.sampled_from(list("$`;|&<>(){}[]*?~!#'\"\\\n\t %=")),
        st.sampled_from(
            [
                "$(touch pwned)",
                "`touch pwned`",
                "; touch pwned",
                "| touch pwned",
                "&& touch pwned",
                "$HOME",
                "${IFS}",
                "../",
            ]
        ),
        st.text(st.characters(codec="utf-8"), max_size=5),
    ),
    max_size=15,
).map("".join)


def script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text("import json, os, signal, subprocess, sys, time\n" + textwrap.dedent(body))
    return f"{sys.executable} {path}"


def runner(spec: str):
    return next(iter(parse_runners([spec], {spec.partition("=")[0]}).values()))


@pytest.fixture(scope="module")
def echo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("echo")
    return folder, runner(
        "t="
        + script(
            folder,
            "echo",
            """
        data = sys.stdin.buffer.read()
        sys.stdout.write(json.dumps({"argv": sys.argv[1:], "stdin": data.decode("utf-8")}))
    """,
        )
    )


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(SHELLISH)
def test_model_arguments_reach_the_tool_on_stdin_untouched(tmp_path, arguments):
    r = runner("t=cat")  # what arrives on stdin comes back on stdout
    text, line = run_call(r, {"type": "function_call", "call_id": "c", "name": "t", "arguments": arguments}, 10)
    assert line.startswith("exit 0") and text == arguments
    assert not any(tmp_path.glob("pwned*")) and not Path("pwned").exists()


def test_model_arguments_never_reach_the_command_line(echo):
    folder, r = echo
    arguments = '{"city": "$(touch pwned)", "x": "`touch pwned2`; touch pwned3 | touch pwned4 && touch pwned5"}'
    text, line = run_call(r, {"type": "function_call", "call_id": "c", "name": "t", "arguments": arguments}, 10)
    assert orjson.loads(text) == {"argv": [], "stdin": arguments}
    assert not any(folder.glob("pwned*")) and not any(Path.cwd().glob("pwned*"))


def test_the_command_is_split_once_without_a_shell(tmp_path):
    r = runner(
        f"t={sys.executable} -c \"import sys; print(sys.argv[1:])\" 'a b' $HOME ';' 'touch {tmp_path}/pwned' '$(id)'"
    )
    text, _ = run_call(r, {"type": "function_call", "call_id": "c", "name": "t", "arguments": "{}"}, 10)
    assert text == f"['a b', '$HOME', ';', 'touch {tmp_path}/pwned', '$(id)']\n"
    assert not (tmp_path / "pwned").exists()


def test_a_custom_call_input_goes_to_stdin_too(echo):
    _, r = echo
    text, _ = run_call(r, {"type": "custom_tool_call", "call_id": "c", "name": "t", "input": "*** $(rm -rf /) ***"}, 10)
    assert orjson.loads(text) == {"argv": [], "stdin": "*** $(rm -rf /) ***"}


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


def test_a_hanging_tool_that_ignores_sigterm_is_killed_with_its_whole_group(tmp_path):
    pids = tmp_path / "pids"
    r = runner(
        "t="
        + script(
            tmp_path,
            "stubborn",
            f"""
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        ignore_term = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
        child = subprocess.Popen([sys.executable, "-c", ignore_term])
        grandchild_holder = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60"])
        open({str(pids)!r}, "w").write(f"{{child.pid}} {{grandchild_holder.pid}}")
        print("partial output", flush=True)
        time.sleep(60)
    """,
        )
    )
    started = time.monotonic()
    text, line = run_call(r, {"type": "function_call", "call_id": "c", "name": "t", "arguments": "{}"}, 1.0)
    elapsed = time.monotonic() - started
    assert text == line == "error: the tool timed out after 1s and was stopped"
    assert elapsed < 8
    for pid in map(int, pids.read_text().split()):
        deadline = time.monotonic() + 5
        while not _gone(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _gone(pid), f"process {pid} of the tool's group survived"


def test_a_tool_that_escapes_its_group_cannot_hold_respctl_forever(tmp_path):
    """A daemon that left the group (setsid) and kept stdout open: respctl stops waiting for it."""
    pidfile = tmp_path / "daemon.pid"
    r = runner(
        "t="
        + script(
            tmp_path,
            "escapes",
            f"""
        d = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True, stderr=subprocess.DEVNULL
        )
        open({str(pidfile)!r}, "w").write(str(d.pid))
        print("started a daemon")
    """,
        )
    )
    try:
        started = time.monotonic()
        text, line = run_call(r, {"type": "function_call", "call_id": "c", "name": "t", "arguments": "{}"}, 5)
        assert time.monotonic() - started < 15
        assert line.startswith("exit 0") and text.startswith("started a daemon")
    finally:
        if pidfile.exists():
            os.kill(int(pidfile.read_text()), signal.SIGKILL)


def test_output_is_cut_at_the_api_limit(tmp_path):
    r = runner(
        "t="
        + script(
            tmp_path,
            "flood",
            """
        chunk = "0123456789" * 100_000
        for _ in range(13):
            sys.stdout.write(chunk)
    """,
        )
    )
    text, line = run_call(r, {"type": "function_call", "call_id": "c", "name": "t", "arguments": "{}"}, 60)
    assert len(text) <= MAX_TEXT
    assert text.endswith(f"\n[output cut at {MAX_TEXT:,} characters]")
    assert text.startswith("0123456789" * 1000)


@pytest.mark.parametrize("count", [6_000_000, 11_000_000])
def test_the_output_limit_counts_characters_not_bytes(tmp_path, count):
    """ "é" is two bytes in UTF-8: 6,000,000 of them (12 MB) are under the API's limit of
    10,485,760 characters and come back whole; 11,000,000 are cut, on a character boundary."""
    r = runner("t=" + script(tmp_path, "accents", f'sys.stdout.write("é" * {count})'))
    text, line = run_call(r, {"type": "function_call", "call_id": "c", "name": "t", "arguments": "{}"}, 60)
    assert "\ufffd" not in text
    if count <= MAX_TEXT:
        assert text == "é" * count and line == f"exit 0, {count:,} characters"
    else:
        note = f"\n[output cut at {MAX_TEXT:,} characters]"
        assert text == "é" * (MAX_TEXT - 200) + note


def test_a_failing_tool_reports_only_the_tail_of_its_stderr(tmp_path):
    r = runner(
        "t="
        + script(
            tmp_path,
            "noisy",
            """
        sys.stderr.write("noise " * 200_000 + "THE END")
        sys.exit(3)
    """,
        )
    )
    text, line = run_call(r, {"type": "function_call", "call_id": "c", "name": "t", "arguments": "{}"}, 60)
    assert line == "exit 3"
    assert text.startswith("error: the tool exited with status 3\nstderr:\n") and text.endswith("THE END")
    assert len(text) < STDERR_TAIL + 100


def test_huge_arguments_to_a_tool_that_never_reads_them(tmp_path):
    r = runner("t=" + script(tmp_path, "deaf", 'print("did not read")'))
    arguments = orjson.dumps({"blob": "x" * 5_000_000}).decode()
    started = time.monotonic()
    text, line = run_call(r, {"type": "function_call", "call_id": "c", "name": "t", "arguments": arguments}, 30)
    assert text == "did not read\n" and time.monotonic() - started < 20


def test_binary_and_nul_output_is_stored_as_valid_text(cli, api, tmp_path):
    from fakeapi import Turn, function_call, message

    chat = tmp_path / "c.jsonl"
    tool = script(tmp_path, "binary", 'sys.stdout.buffer.write(b"ok\\x00\\xff\\xfe\\x1b[31m\\n")')
    api.script(Turn([function_call("bin", "{}", call_id="call_b")]), Turn([message("Got it.")]))
    r = cli(
        "start", chat, "go", "-m", "gpt-5-mini", "--tools", tools_file(tmp_path, "bin"), "--run-tool", f"bin={tool}"
    )
    assert r.code == 0, r.err
    outputs = [orjson.loads(x) for x in chat.read_bytes().splitlines() if b"function_call_output" in x]
    assert outputs == [{"type": "function_call_output", "call_id": "call_b", "output": "ok\x00\ufffd\ufffd\x1b[31m\n"}]
    assert api.rejected == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["INT", "TERM", "HUP"])
def test_a_tool_never_outlives_respctl(api, env, tmp_path, signum):
    """respctl stopped by a signal while a --run-tool command runs: the command's group goes too,
    and the line says the first turn (its call waiting) is in the file."""
    import subprocess

    from fakeapi import Turn, function_call

    pids = tmp_path / "pids"
    tool = script(
        tmp_path,
        "lingers",
        f"""
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open({str(pids)!r}, "w").write(f"{{os.getpid()}} {{child.pid}}")
        time.sleep(60)
    """,
    )
    api.script(Turn([function_call("get_weather", '{"city":"Rome"}', call_id="call_1")]))
    chat = tmp_path / "c.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "respctl",
            "start",
            chat,
            "Rome?",
            "-m",
            "gpt-5-mini",
            "--tools",
            tools_file(tmp_path, "get_weather"),
            "--run-tool",
            f"get_weather={tool}",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not (pids.exists() and len(pids.read_text().split()) == 2) and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signum)
        code = proc.wait(timeout=10)
        err = proc.stderr.read().decode()
        assert code == 3 and len(err.splitlines()) == 1 and "do not send it again" in err, err
        for pid in map(int, pids.read_text().split()):
            deadline = time.monotonic() + 5
            while not _gone(pid) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert _gone(pid), f"process {pid} of the tool outlived respctl"
    finally:
        proc.kill()
        if pids.exists():
            for pid in map(int, pids.read_text().split()):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
