"""Tool calls from the shell: tool-result, pending calls, parallel calls, the opt-in runner."""

from __future__ import annotations

import os
import sys
import textwrap
import time
from pathlib import Path

import orjson
from conftest import read_items
from conftest import tools_file as tools_for
from fakeapi import Turn, custom_tool_call, function_call, message, reasoning

MODEL = "gpt-5-mini"
SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def calls_turn(*call_ids, name="get_weather"):
    return Turn(
        [reasoning(["Calling tools"])]
        + [function_call(name, orjson.dumps({"city": c}).decode(), call_id=c) for c in call_ids]
    )


def tools_file(tmp_path: Path) -> Path:
    path = tmp_path / "tools.json"
    path.write_bytes((SAMPLES / "tools.json").read_bytes())
    return path


def tool_script(tmp_path: Path, name: str, body: str) -> str:
    """A small Python tool; returns the COMMAND for --run-tool."""
    path = tmp_path / f"{name}.py"
    path.write_text("import json, os, sys, time\n" + textwrap.dedent(body))
    return f"{sys.executable} {path}"


def pending(cli, chat):
    r = cli("show", chat, "--pending", "--format", "json")
    assert r.code == 0
    return r.json()


def test_single_call_then_tool_result_runs_the_next_turn(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    api.script(calls_turn("call_paris"), Turn([message("It is sunny in Paris.")]))
    r = cli("start", chat, "Weather in Paris?", "-m", MODEL, "--tools", tools_file(tmp_path))
    assert r.code == 3 and "tool call waiting: get_weather call_paris" in r.err
    assert pending(cli, chat) == [
        {"call_id": "call_paris", "name": "get_weather", "arguments": '{"city":"call_paris"}', "type": "function_call"}
    ]
    r = cli("tool-result", chat, "call_paris", '{"temp_c": 21}', "-m", MODEL, "--tools", "tools.json")
    assert r.code == 0 and r.out == "It is sunny in Paris.\n"
    sent = api.requests[-1].body
    assert sent["input"][-1] == {"type": "function_call_output", "call_id": "call_paris", "output": '{"temp_c": 21}'}
    assert sent["tools"][0]["name"] == "get_weather"
    assert pending(cli, chat) == [] and api.rejected == []


def test_three_parallel_calls_answered_out_of_order(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    api.script(calls_turn("call_a", "call_b", "call_c"), Turn([message("Done.")]))
    assert cli("start", chat, "Paris, Rome and Oslo?", "-m", MODEL).code == 3
    r = cli("tool-result", chat, "call_c", "C", "--no-send")
    assert r.code == 3 and len(api.requests) == 1
    r = cli("tool-result", chat, "call_a", "-", "-m", MODEL, "--json", input="A from stdin")
    assert (
        r.code == 3
        and r.json()["status"] == "recorded"
        and [c["call_id"] for c in r.json()["tool_calls"]] == ["call_b"]
    )
    assert len(api.requests) == 1  # one call still waits: nothing sent
    r = cli("tool-result", chat, "call_b", "B", "-m", MODEL)
    assert r.code == 0 and len(api.requests) == 2 and api.rejected == []
    sent = api.requests[-1].body["input"]
    position = {(i["type"], i["call_id"]): n for n, i in enumerate(sent) if "call_id" in i}
    for cid in ("call_a", "call_b", "call_c"):
        assert position[("function_call", cid)] < position[("function_call_output", cid)]
    outputs = [i["output"] for i in sent if i["type"] == "function_call_output"]
    assert outputs == ["C", "A from stdin", "B"]  # in the order they were given


def test_custom_tool_call_gets_a_custom_output(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    api.script(
        Turn([reasoning(), custom_tool_call("apply_diff", "*** patch ***", call_id="call_x")]),
        Turn([message("Applied.")]),
    )
    r = cli("start", chat, "patch it", "-m", MODEL, "--json")
    assert r.code == 3 and r.json()["tool_calls"] == [
        {"call_id": "call_x", "name": "apply_diff", "arguments": "*** patch ***", "type": "custom_tool_call"}
    ]
    (tmp_path / "out.txt").write_text("patched 3 files")
    assert cli("tool-result", chat, "call_x", "--output-file", "out.txt", "-m", MODEL).code == 0
    assert read_items(chat)[-2] == {"type": "custom_tool_call_output", "call_id": "call_x", "output": "patched 3 files"}
    assert api.rejected == []


def test_unknown_and_answered_call_ids_exit_2_and_write_nothing(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    api.script(calls_turn("call_a", "call_b"))
    cli("start", chat, "q", "-m", MODEL)
    r = cli("tool-result", chat, "call_zzz", "x", "--no-send")
    assert r.code == 2 and r.err_lines == [
        f"respctl: error: {chat}: no tool call with call_id 'call_zzz' (waiting for output: call_a, call_b)"
    ]
    assert cli("tool-result", chat, "call_a", "x", "--no-send").code == 3
    before = chat.read_bytes()
    r = cli("tool-result", chat, "call_a", "again", "--no-send")
    assert r.code == 2 and r.err_lines == [f"respctl: error: {chat}: call 'call_a' already has its output"]
    r = cli("tool-result", chat, "call_b")
    assert r.code == 2 and "missing OUTPUT" in r.err
    assert chat.read_bytes() == before and len(api.requests) == 1


def test_output_above_the_api_limit_is_refused(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    api.script(calls_turn("call_a"))
    cli("start", chat, "q", "-m", MODEL)
    before = chat.read_bytes()
    (tmp_path / "big.txt").write_text("x" * 10_485_761)
    r = cli("tool-result", chat, "call_a", "--output-file", "big.txt", "-m", MODEL)
    assert r.code == 2 and r.err_lines == [
        "respctl: error: the tool output has 10,485,761 characters; the API takes at most 10,485,760"
    ]
    assert chat.read_bytes() == before


def test_runner_answers_three_rounds(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    tool = tool_script(
        tmp_path,
        "weather",
        """
        args = json.load(sys.stdin)
        env = os.environ
        print(json.dumps({"city": args["city"], "id": env["RESPCTL_CALL_ID"], "tool": env["RESPCTL_TOOL_NAME"],
                          "key": env.get("OPENAI_API_KEY")}))
    """,
    )
    api.script(calls_turn("r1"), calls_turn("r2a", "r2b"), calls_turn("r3"), Turn([message("All done.")]))
    r = cli(
        "start",
        chat,
        "plan",
        "-m",
        MODEL,
        "--tools",
        tools_file(tmp_path),
        "--run-tool",
        f"get_weather={tool}",
        "--json",
    )
    assert r.code == 0, r.err
    assert r.json()["text"] == "All done." and r.json()["appended"] == len(read_items(chat))
    outputs = [orjson.loads(i["output"]) for i in read_items(chat) if i["type"] == "function_call_output"]
    assert outputs == [{"city": c, "id": c, "tool": "get_weather", "key": None} for c in ("r1", "r2a", "r2b", "r3")]
    assert len(api.requests) == 4 and api.rejected == []
    assert r.err.count("respctl: ran get_weather") == 4


def test_runner_reports_failure_and_timeout_to_the_model(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    failing = tool_script(
        tmp_path,
        "failing",
        """
        print("partial")
        print("something broke: no such city", file=sys.stderr)
        sys.exit(7)
    """,
    )
    pidfile = tmp_path / "child.pid"
    hanging = tool_script(
        tmp_path,
        "hanging",
        f"""
        import subprocess
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open({str(pidfile)!r}, "w").write(str(child.pid))
        time.sleep(60)
    """,
    )
    api.script(
        Turn([function_call("fail", "{}", call_id="f1"), function_call("hang", "{}", call_id="h1")]),
        Turn([message("Sorry.")]),
    )
    started = time.monotonic()
    r = cli(
        "start",
        chat,
        "go",
        "-m",
        MODEL,
        "--tools",
        tools_for(tmp_path, "fail", "hang"),
        "--run-tool",
        f"fail={failing}",
        "--run-tool",
        f"hang={hanging}",
        "--tool-timeout",
        "1",
    )
    assert r.code == 0, r.err
    assert time.monotonic() - started < 30
    outputs = {i["call_id"]: i["output"] for i in read_items(chat) if i["type"] == "function_call_output"}
    assert (
        outputs["f1"]
        == "error: the tool exited with status 7\nstderr:\nsomething broke: no such city\nstdout:\npartial\n"
    )
    assert outputs["h1"] == "error: the tool timed out after 1s and was stopped"
    child = int(pidfile.read_text())
    time.sleep(0.2)
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]


def test_max_tool_rounds_leaves_calls_pending(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    tool = tool_script(tmp_path, "ok", 'print("ok")')
    api.script(calls_turn("m1"), calls_turn("m2"), calls_turn("m3"))
    r = cli(
        "start",
        chat,
        "loop",
        "-m",
        MODEL,
        "--tools",
        tools_file(tmp_path),
        "--run-tool",
        f"get_weather={tool}",
        "--max-tool-rounds",
        "2",
    )
    assert r.code == 3 and len(api.requests) == 3
    assert [c["call_id"] for c in pending(cli, chat)] == ["m3"]


def test_calls_without_a_runner_stay_pending_for_the_script(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    tool = tool_script(tmp_path, "ok", 'print("ok")')
    api.script(
        Turn([function_call("get_weather", "{}", call_id="w1"), function_call("book_hotel", "{}", call_id="b1")])
    )
    r = cli("start", chat, "go", "-m", MODEL, "--tools", tools_file(tmp_path), "--run-tool", f"get_weather={tool}")
    assert r.code == 3 and [c["call_id"] for c in pending(cli, chat)] == ["w1", "b1"]


def test_sigkill_between_rounds_then_a_rerun_completes(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    marker = tmp_path / "killed-once"
    tool = tool_script(
        tmp_path,
        "killer",
        f"""
        import signal
        marker = {str(marker)!r}
        if json.load(sys.stdin)["city"] == "k2" and not os.path.exists(marker):
            open(marker, "w").close()
            os.kill(os.getppid(), signal.SIGKILL)  # respctl dies while running the second round
            time.sleep(5)
        print("fine")
    """,
    )
    api.script(calls_turn("k1"), calls_turn("k2"), Turn([message("Finished.")]))
    r = cli("start", chat, "go", "-m", MODEL, "--tools", tools_file(tmp_path), "--run-tool", f"get_weather={tool}")
    assert r.code == -9
    assert [c["call_id"] for c in pending(cli, chat)] == ["k2"]  # round 1 complete, round 2 waiting
    assert cli("lint", chat).code == 0
    r = cli("say", chat, "-m", MODEL, "--tools", tools_file(tmp_path), "--run-tool", f"get_weather={tool}")
    assert r.code == 0 and r.out == "Finished.\n"
    assert pending(cli, chat) == [] and api.rejected == [] and len(api.requests) == 3


def test_run_tool_flag_is_checked(cli, api, tmp_path):
    r = cli("start", "c.jsonl", "x", "-m", MODEL, "--run-tool", "nocommand")
    assert r.code == 2 and r.err_lines == ["respctl: error: --run-tool 'nocommand': expected NAME=COMMAND"]
    assert api.requests == []


def test_model_text_never_reaches_a_shell(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    evil = '{"city": "$(touch pwned) `touch pwned2`; touch pwned3"}'
    tool = tool_script(tmp_path, "echo", "print(sys.stdin.read())")
    api.script(Turn([function_call("get_weather", evil, call_id="e1")]), Turn([message("ok")]))
    assert (
        cli("start", chat, "x", "-m", MODEL, "--tools", tools_file(tmp_path), "--run-tool", f"get_weather={tool}").code
        == 0
    )
    assert read_items(chat)[-2]["output"] == evil + "\n"
    assert not any((tmp_path / name).exists() for name in ("pwned", "pwned2", "pwned3"))


def test_weather_sample_script_runs_the_shell_loop(env, api, tmp_path):
    """samples/weather.sh against the loopback API: say -> pending -> tool-result -> say."""
    import subprocess

    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    proc = subprocess.run(
        ["bash", str(SAMPLES / "weather.sh"), "w.jsonl"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**env, "RESPCTL_MODEL": MODEL, "PATH": path},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    items = read_items(tmp_path / "w.jsonl")
    cities = sorted(orjson.loads(i["output"])["city"] for i in items if i["type"] == "function_call_output")
    assert cities == ["Paris", "Rome"]
    assert items[-1]["type"] == "message" and "Paris" in proc.stdout and api.rejected == []


def test_the_model_is_needed_only_when_a_turn_runs(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    api.script(calls_turn("call_a", "call_b"))
    cli("start", chat, "q", "-m", MODEL)
    assert cli("tool-result", chat, "call_a", "A").code == 3  # another call still waits: no turn, no model needed
    before = chat.read_bytes()
    r = cli("tool-result", chat, "call_b", "B")  # the last answer runs a turn: now a model is needed
    assert r.code == 2 and r.err_lines == [
        "respctl: error: a model is required for a turn: pass --model or set RESPCTL_MODEL"
    ]
    assert chat.read_bytes() == before and len(api.requests) == 1


def test_start_in_a_missing_folder_names_the_folder(cli, tmp_path):
    r = cli("start", tmp_path / "nope" / "c.jsonl", "--instructions", "x")
    assert r.code == 2 and r.err_lines == [
        f"respctl: error: {tmp_path / 'nope' / 'c.jsonl'}: folder {tmp_path / 'nope'} does not exist"
    ]


def test_rerun_with_pending_calls_counts_every_line_it_adds(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    api.script(calls_turn("p1", "p2"), Turn([message("Both answered.")]))
    assert cli("start", chat, "go", "-m", MODEL).code == 3  # no runner: the calls stay pending
    before = len(read_items(chat))
    marker = tmp_path / "ran"
    tool = tool_script(tmp_path, "ok", f'open({str(marker)!r}, "a").write("x")\nprint("ok")')
    r = cli("say", chat, "-m", MODEL, "--tools", tools_file(tmp_path), "--run-tool", f"get_weather={tool}", "--dry-run")
    assert r.code == 2 and "waiting for output" in r.err  # a dry run never runs tools: the calls still wait
    assert not marker.exists() and len(read_items(chat)) == before
    r = cli("say", chat, "-m", MODEL, "--tools", tools_file(tmp_path), "--run-tool", f"get_weather={tool}", "--json")
    assert r.code == 0 and r.json()["text"] == "Both answered."
    assert r.json()["appended"] == len(read_items(chat)) - before == 3  # two outputs and the answer
    assert marker.read_text() == "xx" and len(api.requests) == 2
