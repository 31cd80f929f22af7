"""Concurrency: many respctl processes on one conversation file take turns; none is lost.

The lock is an exclusive flock on the file itself, held for the whole turn (request included).
A turn replaces the file by rename, so a waiter re-checks that the path still names the inode
it locked, and a writer that goes on after its first write (the tool runner's rounds) must keep
holding the lock on the file it just put in place.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest
from conftest import CANARY_KEY, read_items, shared_zygote, tools_file
from fakeapi import Stall, Turn, function_call, message, reasoning
from test_reliability_support import (
    MODEL,
    Zygote,
    call_output,
    developer,
    leftovers,
    line,
    lint_errors,
    turn_lines,
    user,
    wait_until,
)

N = 16


def spawn(args, *, cwd, env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "respctl", *map(str, args)],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_sixteen_concurrent_says_each_turn_once_in_order_every_request_accepted(api, env, tmp_path):
    chat = tmp_path / "c.jsonl"
    chat.write_bytes(line(developer("Answer briefly.")))
    api.latency = 0.05  # the lock is held while the API thinks
    texts = [f"Message number {k} from process {k}" for k in range(N)]
    # N processes at once, forked from the shared zygote (each with its own stdout and stderr)
    zygote = shared_zygote()
    outs = [(tmp_path / f"out{k}", tmp_path / f"err{k}") for k in range(N)]
    pids = [
        zygote.start(
            ["say", chat, text, "-m", MODEL, "--json", "--lock-timeout", "120", "--stream" if k % 2 else "--no-stream"],
            cwd=tmp_path,
            env=env,
            out=out,
            err=err,
        )
        for (k, text), (out, err) in zip(enumerate(texts), outs, strict=True)
    ]
    results = [
        (zygote.wait(pid), out.read_bytes(), err.read_bytes()) for pid, (out, err) in zip(pids, outs, strict=True)
    ]
    for code, out, err in results:
        assert code == 0, err
        assert orjson.loads(out)["status"] == "completed" and CANARY_KEY.encode() not in out + err
    requests = api.requests
    assert len(requests) == N and api.rejected == []
    # The file is the turns in the order the server answered them, each complete and exactly once,
    # and each request carried the whole file as it stood when that turn began.
    expected = line(developer("Answer briefly."))
    for record in requests:
        text = record.body["input"][-1]["content"][0]["text"]
        assert record.body["input"] == [orjson.loads(x) for x in expected.splitlines()] + [user(text)]
        expected += line(user(text)) + turn_lines(record)
    assert chat.read_bytes() == expected
    said = [i["content"][0]["text"] for i in read_items(chat) if i.get("role") == "user"]
    assert sorted(said) == sorted(texts)
    assert lint_errors(chat) == [] and leftovers(tmp_path, chat.name) == {"tmp": [], "unsaved": []}


def test_sixteen_concurrent_tool_results_each_output_once_and_one_turn(api, env, tmp_path):
    chat = tmp_path / "c.jsonl"
    ids = [f"call_{k:02d}" for k in range(N)]
    api.script(
        Turn(
            [reasoning(["Sixteen lookups"])] + [function_call("lookup", {"k": k}, call_id=c) for k, c in enumerate(ids)]
        )
    )
    r = subprocess.run(
        [sys.executable, "-m", "respctl", "start", chat, "Look up sixteen things", "-m", MODEL],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert r.returncode == 3, r.stderr
    api.script(Turn([message("All sixteen answered.")]))
    api.latency = 0.05
    zygote = Zygote()
    try:
        pids = [
            zygote.start(
                ["tool-result", chat, c, f"result {c}", "-m", MODEL, "--json", "--lock-timeout", "120"],
                cwd=tmp_path,
                env=env,
                out=tmp_path / f"{c}.out",
                err=tmp_path / f"{c}.err",
            )
            for c in ids
        ]
        codes = [zygote.wait(pid) for pid in pids]
    finally:
        zygote.close()
    outs = {c: orjson.loads((tmp_path / f"{c}.out").read_bytes()) for c in ids}
    # exactly one invocation found no call left waiting and ran the turn; the others recorded
    assert sorted(codes) == [0] + [3] * (N - 1), [(tmp_path / f"{c}.err").read_text() for c in ids]
    assert sorted(o["status"] for o in outs.values()) == ["completed"] + ["recorded"] * (N - 1)
    assert len(api.requests) == 2 and api.rejected == []
    items = read_items(chat)
    outputs = [i for i in items if i["type"] == "function_call_output"]
    assert sorted(o["call_id"] for o in outputs) == ids  # each once
    assert all(o == call_output(o["call_id"], f"result {o['call_id']}") for o in outputs)
    assert items[-1]["content"][0]["text"] == "All sixteen answered." and lint_errors(chat) == []
    assert api.requests[-1].body["input"] == items[:-1]


def test_a_busy_file_gives_one_clear_line_exit_1_and_nothing_written(api, env, tmp_path):
    chat = tmp_path / "c.jsonl"
    chat.write_bytes(line(user("hello")))
    before = chat.read_bytes()
    with open(chat, "rb") as held:  # someone holds the lock (any flock holder, as respctl is)
        fcntl.flock(held, fcntl.LOCK_EX)
        started = time.monotonic()
        r = subprocess.run(
            [sys.executable, "-m", "respctl", "say", chat, "more", "-m", MODEL, "--lock-timeout", "0.5"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        waited = time.monotonic() - started
    assert r.returncode == 1
    assert r.stderr.splitlines() == [
        f"respctl: error: {chat}: conversation is busy (another respctl holds it); gave up after 0.5s (--lock-timeout)"
    ]
    assert r.stdout == "" and waited >= 0.5
    assert chat.read_bytes() == before and api.requests == []


def test_a_turn_waiting_for_the_api_keeps_others_out(api, env, tmp_path):
    """A second say and a tool-result on a file whose turn is waiting for the API: busy, exit 1, nothing written."""
    chat = tmp_path / "c.jsonl"
    api.script(Turn([function_call("get_weather", '{"city":"Oslo"}', call_id="call_1")]))
    assert (
        subprocess.run(
            [sys.executable, "-m", "respctl", "start", chat, "Weather?", "-m", MODEL],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            timeout=60,
        ).returncode
        == 3
    )
    release = threading.Event()
    api.script(Stall(30, release=release))
    first = spawn(["tool-result", chat, "call_1", "cold", "-m", MODEL], cwd=tmp_path, env=env)
    assert wait_until(lambda: len(api.requests) == 2, timeout=30)
    before = chat.read_bytes()
    for args in (["say", chat, "hello?"], ["tool-result", chat, "call_1", "warm"]):
        r = subprocess.run(
            [sys.executable, "-m", "respctl", *map(str, args), "-m", MODEL, "--lock-timeout", "0.3"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 1 and r.stderr.splitlines() == [
            f"respctl: error: {chat}: conversation is busy (another respctl holds it); gave up after 0.3s "
            "(--lock-timeout)"
        ]
        assert chat.read_bytes() == before
    assert len(api.requests) == 2
    release.set()
    assert first.wait(timeout=60) == 0
    assert read_items(chat)[-3] == call_output("call_1", "cold")


def test_the_lock_is_kept_across_the_runner_rounds(api, env, tmp_path):
    """The runner writes the file several times in one invocation; after its first write (a rename)
    the lock must still be held on the file now in place, or a second invocation walks in."""
    chat = tmp_path / "c.jsonl"
    started, release = tmp_path / "tool-started", tmp_path / "tool-release"
    tool = tmp_path / "slow_tool.py"
    tool.write_text(
        "import os, sys, time\n"
        "sys.stdin.read()\n"
        f"open({str(started)!r}, 'w').close()\n"
        "deadline = time.monotonic() + 30\n"
        f"while not os.path.exists({str(release)!r}) and time.monotonic() < deadline:\n"
        "    time.sleep(0.02)\n"
        "print('done')\n"
    )
    api.script(
        Turn([reasoning(), function_call("get_weather", '{"city":"Rome"}', call_id="call_r")]),
        Turn([message("Sunny.")]),
    )
    chat.write_bytes(line(developer("Be brief.")))
    first = spawn(
        [
            "say",
            chat,
            "Weather in Rome?",
            "-m",
            MODEL,
            "--tools",
            tools_file(tmp_path, "get_weather"),
            "--run-tool",
            f"get_weather={sys.executable} {tool}",
        ],
        cwd=tmp_path,
        env=env,
    )
    try:
        assert wait_until(started.exists, timeout=30), "the tool never started"
        # the first turn (message + call) is on disk; the tool is running; the lock must be held
        assert b"call_r" in chat.read_bytes()
        with open(chat, "rb") as probe:
            with pytest.raises(BlockingIOError):
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        before = chat.read_bytes()
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "respctl",
                "tool-result",
                chat,
                "call_r",
                "from a script",
                "--no-send",
                "--lock-timeout",
                "0.3",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 1 and "conversation is busy" in r.stderr
        assert chat.read_bytes() == before
    finally:
        release.touch()
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    items = read_items(chat)
    assert [i["type"] for i in items] == [
        "message",
        "message",
        "reasoning",
        "function_call",
        "function_call_output",
        "message",
    ]
    assert items[4] == call_output("call_r", "done\n")
    assert leftovers(tmp_path, chat.name)["unsaved"] == [] and api.rejected == []


def test_a_waiter_reads_the_file_that_replaced_the_one_it_locked(tmp_path):
    """In-process: a waiter blocked on the old inode must start over on the new file (no stale read)."""
    from respctl.conversation import locked_conversation

    chat = tmp_path / "c.jsonl"
    chat.write_bytes(line(user("one")))
    seen: list[bytes] = []
    with locked_conversation(chat, lock_timeout=5) as conv:
        waiter = threading.Thread(target=lambda: seen.append(_read_locked(chat)))
        waiter.start()
        time.sleep(0.05)  # let the waiter block on this inode (the check below does not depend on it)
        conv.append([user("two")])
    waiter.join(timeout=10)
    assert seen == [line(user("one")) + line(user("two"))]


def _read_locked(path: Path) -> bytes:
    from respctl.conversation import locked_conversation

    with locked_conversation(path, lock_timeout=5) as conv:
        return conv.data
