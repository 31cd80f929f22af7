"""The file itself: long names, what must be checked before paying, special files, interrupts
around the commit, deep answers, and what a rewrite keeps (mode of a rescue, owner, group, xattrs).

Each test names the failure it guards against; all run the real CLI (forked from the zygote, or a
fresh interpreter where resource limits or signals are the point) against the loopback API.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from conftest import read_items, tools_file
from fakeapi import Turn, function_call, reasoning
from test_reliability_disk import SAVED, _disk_full_run, plain  # noqa: F401 - the unprivileged zygote
from test_reliability_support import (
    MODEL,
    Hostile,
    Zygote,
    alive,
    developer,
    line,
    lint_errors,
    raw_response,
    turn_lines,
    user,
    wait_until,
)

NAME_MAX = 255


# --- 1. long file names ---------------------------------------------------------------------------


@pytest.mark.parametrize("length", [250, NAME_MAX])
def test_a_long_legal_name_takes_its_turns(cli, api, tmp_path, length):
    name = "a" * (length - len(".jsonl")) + ".jsonl"
    path = tmp_path / name
    r = cli("start", path, "--instructions", "Be brief.", "hi", "-m", MODEL)
    assert r.code == 0, r.err
    r = cli("say", path, "again", "-m", MODEL)
    assert r.code == 0, r.err
    assert read_items(path)[:2] == [developer("Be brief."), user("hi")] and lint_errors(path) == []
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left behind


def test_a_long_name_still_gets_its_rescue(cli, api, env, tmp_path):
    path = tmp_path / ("b" * 249 + ".jsonl")
    assert cli("start", path, "--instructions", "Notes. " + "x" * 4000, "-m", MODEL).code == 0
    r = _disk_full_run(env, tmp_path, ["say", path, "Second", "-m", MODEL], limit=2_000)
    assert r.returncode == 1, r.stderr
    saved = Path(SAVED.search(r.stderr.strip()).group(1))
    assert saved.parent == tmp_path and len(saved.name.encode()) <= NAME_MAX
    assert saved.read_bytes() == line(user("Second")) + turn_lines(api.requests[-1])


# --- 2. what the rename needs, checked before paying ------------------------------------------------


def test_another_users_file_in_a_sticky_folder_is_refused_before_any_request(plain, zygote, api, env, tmp_path):  # noqa: F811
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    os.chown(shared, 2000, 2000)  # like /tmp: neither the folder nor the file is respctl's
    path = shared / "c.jsonl"
    path.write_bytes(line(developer("Be brief.")))
    os.chown(path, 1000, 1000)
    path.chmod(0o666)  # writable by all: only the sticky folder stands in the way of the rename
    code, out, err = plain.run("say", path, "hi", "-m", MODEL, cwd=tmp_path, env=env)
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "sticky" in err and str(path) in err
    assert api.requests == [] and path.read_bytes() == line(developer("Be brief.")) and out == b""
    assert sorted(p.name for p in shared.iterdir()) == ["c.jsonl"]


@contextlib.contextmanager
def chattr(path: Path, flag: str):
    if shutil.which("chattr") is None:
        pytest.skip("no chattr here")
    r = subprocess.run(["chattr", f"+{flag}", str(path)], capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"cannot set +{flag} here: {r.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", f"-{flag}", str(path)], check=False)


@pytest.mark.parametrize("flag", ["a", "i"])
def test_an_append_only_or_immutable_file_is_refused_before_any_request(cli, api, tmp_path, flag):
    path = tmp_path / "c.jsonl"
    path.write_bytes(line(developer("Be brief.")))
    with chattr(path, flag):
        r = cli("say", path, "hi", "-m", MODEL)
    assert r.code == 2 and len(r.err_lines) == 1, r.err
    assert "append-only" in r.err or "immutable" in r.err
    assert api.requests == [] and path.read_bytes() == line(developer("Be brief."))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl"]


@pytest.mark.parametrize("flag", ["a", "i"])
def test_an_append_only_or_immutable_folder_is_refused_before_any_request(cli, api, tmp_path, flag):
    """Checked before the probe: in an append-only folder the probe could not remove its own files."""
    folder = tmp_path / "locked"
    folder.mkdir()
    path = folder / "c.jsonl"
    path.write_bytes(line(developer("Be brief.")))
    with chattr(folder, flag):
        r = cli("say", path, "hi", "-m", MODEL)
    assert r.code == 2 and len(r.err_lines) == 1 and f"folder {folder} is" in r.err, r.err
    assert api.requests == [] and path.read_bytes() == line(developer("Be brief."))
    assert sorted(p.name for p in folder.iterdir()) == ["c.jsonl"]  # no probe left behind


@pytest.mark.parametrize("flag", ["a", "i"])
def test_lint_fix_names_an_append_only_or_immutable_file_as_say_does(cli, tmp_path, flag):
    path = tmp_path / "c.jsonl"
    data = line(developer("Be brief.")).replace(b"\n", b"\r\n")  # something --fix would rewrite
    path.write_bytes(data)
    with chattr(path, flag):
        r = cli("lint", "--fix", path)
    assert r.code == 2 and "append-only or immutable (chattr +a/+i)" in r.err, r.err
    assert path.read_bytes() == data


# --- 3. an interrupt around the commit says what is on disk -----------------------------------------


def test_sigint_during_the_folder_fsync_says_the_turn_was_saved(api, env, tmp_path, monkeypatch):
    """In-process: SIGINT arrives while the folder is fsynced after the rename."""
    from test_reliability_hostile import run_main

    import respctl.conversation as conversation

    path = tmp_path / "c.jsonl"
    path.write_bytes(line(developer("Be brief.")))
    real = conversation._fsync_dir

    def interrupted_fsync(folder):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the signal lands here, between the rename and the end of the write
        real(folder)

    monkeypatch.setattr(conversation, "_fsync_dir", interrupted_fsync)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        code, out, err = run_main(["say", str(path), "hi", "-m", MODEL, "--no-stream"], tmp_path, env=env)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert read_items(path)[:2] == [developer("Be brief."), user("hi")] and len(api.requests) == 1
    assert "nothing was written" not in err and "Traceback" not in err
    assert len(err.splitlines()) == 1 and str(path) in err and "do not send it again" in err, err
    assert code == 0  # the file holds the complete turn, as a run that was not interrupted would say
    assert err.startswith(f"respctl: interrupted after the turn was saved to {path}")  # a note, not an error


def test_sigint_in_a_tool_round_after_the_first_turn_says_what_was_saved(zygote, api, env, tmp_path):
    """The tool interrupts respctl (SIGINT to its parent): the first turn is in the file, its call
    waiting; the line and the exit code say so, and the tool is gone."""
    pidfile = tmp_path / "tool.pid"
    tool = tmp_path / "tool.py"
    tool.write_text(
        "import os, signal, sys, time\n"
        "sys.stdin.read()\n"
        f"open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
        "os.kill(os.getppid(), signal.SIGINT)\n"
        "time.sleep(30)\n"
    )
    path = tmp_path / "c.jsonl"
    api.script(Turn([reasoning(), function_call("get_weather", '{"city":"Rome"}', call_id="call_1")]))
    code, out, err = zygote.run(
        "start",
        path,
        "Rome?",
        "-m",
        MODEL,
        "--tools",
        tools_file(tmp_path, "get_weather"),
        "--run-tool",
        f"get_weather={sys.executable} {tool}",
        cwd=tmp_path,
        env=env,
        timeout=20,
    )
    assert "nothing was written" not in err and len(err.splitlines()) == 1, err
    assert code == 3 and "do not send it again" in err and "call_1" in path.read_text()
    assert err.startswith("respctl: interrupted after the turn was saved")  # a note: exit 3 is no error
    assert f"respctl show {path} --pending" in err and f"respctl tool-result {path} CALL_ID OUTPUT" in err, err
    assert wait_until(lambda: not alive(int(pidfile.read_text())), timeout=5)


def test_ctrl_c_after_the_turn_was_saved_never_turns_it_into_130(env, tmp_path):
    """A fresh interpreter (its teardown is the point): Ctrl-C pressed again and again from the moment
    the turn is on disk. Whatever it hits (the last lines, the interpreter's teardown), the exit code
    is the turn's own and no line says otherwise."""
    path = tmp_path / "c.jsonl"
    path.write_bytes(line(developer("Be brief.")))
    for attempt in range(3):
        before = path.read_bytes()
        proc = subprocess.Popen(
            [sys.executable, "-m", "respctl", "say", path, f"note {attempt}", "--no-send"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        saved_or_gone = lambda p=proc, b=before: path.read_bytes() != b or p.poll() is not None  # noqa: E731
        assert wait_until(saved_or_gone, timeout=30, interval=0)
        while proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGINT)
            time.sleep(0.0002)
        err = proc.stderr.read().decode()
        assert proc.returncode == 0, (proc.returncode, err)
        assert "nothing was written" not in err and "Traceback" not in err, err
        assert path.read_bytes() == before + line(user(f"note {attempt}"))


#: respctl with a Ctrl-C pressed at one fixed moment: just before or just after the command's `_run`,
#: where typer's own code runs. typer 0.29 makes a KeyboardInterrupt it sees a silent exit 130.
_CTRL_C_AROUND_RUN = r"""
import os, signal, sys
import respctl.cli as cli

real = cli._run

def run(fn, *args, **kwargs):
    if os.environ["CTRL_C"] == "before":
        os.kill(os.getpid(), signal.SIGINT)
    try:
        real(fn, *args, **kwargs)
    finally:
        if os.environ["CTRL_C"] == "after":
            os.kill(os.getpid(), signal.SIGINT)

cli._run = run
cli.main()
"""


def _ctrl_c_around_run(env, tmp_path, when: str):
    path = tmp_path / "c.jsonl"
    path.write_bytes(line(developer("Be brief.")))
    proc = subprocess.run(
        [sys.executable, "-c", _CTRL_C_AROUND_RUN, "say", path, "note", "--no-send"],
        cwd=tmp_path,
        env={**env, "CTRL_C": when},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    return proc.returncode, proc.stderr.decode(), path.read_bytes()


def test_ctrl_c_in_typers_code_after_the_turn_is_saved_keeps_the_turns_exit_code(env, tmp_path):
    """A fresh interpreter (signals are the point): the turn is saved and its note said; a Ctrl-C
    landing as the command unwinds through typer must not end it as a silent 130."""
    code, err, data = _ctrl_c_around_run(env, tmp_path, "after")
    assert (code, err) == (0, "respctl: recorded 1 item; no turn was run\n")
    assert data == line(developer("Be brief.")) + line(user("note"))


def test_ctrl_c_in_typers_code_before_the_command_runs_is_told(env, tmp_path):
    """A Ctrl-C that typer catches before the command's own code runs still gets its one line."""
    code, err, data = _ctrl_c_around_run(env, tmp_path, "before")
    assert (code, err) == (130, "respctl: error: interrupted; nothing was written\n")
    assert data == line(developer("Be brief."))


# --- 4. an answer nested deeper than orjson writes ------------------------------------------------


def test_a_deeply_nested_answer_is_kept(cli, tmp_path):
    depth = 300
    text = (
        b'{"type":"message","id":"msg_1","role":"assistant","status":"completed",'
        b'"content":[{"type":"output_text","text":"deep","annotations":[],"logprobs":DEEP}]}'
    )
    item = text.replace(b"DEEP", b"[" * depth + b"1" + b"]" * depth)
    body = b'{"id":"resp_1","object":"response","status":"completed","output":[' + item + b"]}"
    path = tmp_path / "c.jsonl"
    path.write_bytes(line(developer("Be brief.")))
    with Hostile(lambda h, _r: raw_response(h, "200 OK", {"Content-Type": "application/json"}, body)) as server:
        r = cli("say", path, "hi", "-m", MODEL, "--no-stream", extra_env={"OPENAI_BASE_URL": server.base_url})
    assert r.code == 0, r.err
    kept = read_items(path)[-1]
    value = kept["content"][0]["logprobs"]
    for _ in range(depth):
        (value,) = value
    assert value == 1 and kept["content"][0]["text"] == "deep"


RESCUED = re.compile(r"what it sent was saved to (\S+)$")


@pytest.mark.parametrize("stream", [False, True], ids=["body", "stream"])
def test_an_answer_deeper_than_respctl_reads_is_rescued_with_the_limit_named(cli, tmp_path, stream):
    """Past 1,024 levels orjson (every reader of the file) gives up: the item cannot go into the file,
    whose every later read would fail. The line names the limit, and what the server sent is saved."""
    depth = 1_100
    item = (
        b'{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text",'
        b'"text":"deep","annotations":[],"logprobs":' + b"[" * depth + b"1" + b"]" * depth + b"}]}"
    )
    if stream:
        sent = b'{"type":"response.output_item.done","output_index":0,"item":' + item + b"}"
        body, kind = b"data: " + sent + b"\n\n", "text/event-stream"
    else:
        sent = b'{"id":"resp_1","object":"response","status":"completed","output":[' + item + b"]}"
        body, kind = sent, "application/json"
    path = tmp_path / "c.jsonl"
    path.write_bytes(line(developer("Be brief.")))
    with Hostile(lambda h, _r: raw_response(h, "200 OK", {"Content-Type": kind}, body)) as server:
        r = cli(
            "say",
            path,
            "hi",
            "-m",
            MODEL,
            "--stream" if stream else "--no-stream",
            extra_env={"OPENAI_BASE_URL": server.base_url},
        )
    assert r.code == 1 and len(r.err_lines) == 1 and "nested deeper than 1,024 levels" in r.err, r.err
    saved = Path(RESCUED.search(r.err.strip()).group(1))
    assert saved.parent == tmp_path and saved.read_bytes() == sent + b"\n"
    assert path.read_bytes() == line(developer("Be brief."))


# --- 7. rescue files keep the file private ------------------------------------------------------------


def test_a_rescue_file_is_as_private_as_the_conversation(cli, api, env, tmp_path):
    path = tmp_path / "c.jsonl"
    assert cli("start", path, "--instructions", "Notes. " + "x" * 4000, "-m", MODEL).code == 0
    path.chmod(0o600)
    r = _disk_full_run(env, tmp_path, ["say", path, "Second", "-m", MODEL], limit=2_000)
    saved = Path(SAVED.search(r.stderr.strip()).group(1))
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600


# --- 8. owner, group, extended attributes ----------------------------------------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another owner takes root")
def test_owner_group_and_xattrs_survive_a_turn(cli, api, tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(line(developer("Be brief.")))
    os.chown(path, 1000, 33)
    path.chmod(0o660)
    try:
        os.setxattr(path, "user.origin", b"notes")
    except OSError as exc:
        pytest.skip(f"no user xattrs here: {exc}")
    r = cli("say", path, "hi", "-m", MODEL)
    assert r.code == 0, r.err
    st = path.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1000, 33, 0o660)
    assert os.getxattr(path, "user.origin") == b"notes"


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_an_owner_that_cannot_be_kept_is_said_in_a_note(api, env, tmp_path):
    """Without CAP_CHOWN the new file cannot go back to its owner: the turn is written all the same
    (it was paid for), and a note on stderr says what was lost."""
    path = tmp_path / "c.jsonl"
    path.write_bytes(line(developer("Be brief.")))
    os.chown(path, 1000, 1000)
    path.chmod(0o666)
    z = Zygote(["setpriv", "--bounding-set", "-chown", "--inh-caps", "-chown"])
    try:
        code, _out, err = z.run("say", path, "hi", "-m", MODEL, cwd=tmp_path, env=env)
    finally:
        z.close()
    assert code == 0, err
    assert read_items(path)[:2] == [developer("Be brief."), user("hi")]
    notes = [x for x in err.splitlines() if "rewritten without its owner" in x]
    assert notes == [
        f"respctl: {path}: rewritten without its owner and group (uid 1000, gid 1000): this process may not set them"
    ]


# --- 9 and 14. anything but a regular file is refused, before any request, without blocking ------


def _fifo(tmp_path: Path) -> Path:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    return fifo


def _device(tmp_path: Path, minor: int) -> Path:
    node = tmp_path / f"dev{minor}.jsonl"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    except PermissionError as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    return node


NOT_REGULAR = re.compile(r"^respctl: error: \S+: not a regular file \((a FIFO|a device|a socket)\)$")

COMMANDS = {
    "say": lambda p: ["say", p, "hi", "-m", MODEL, "--lock-timeout", "1"],
    "tool-result": lambda p: ["tool-result", p, "call_1", "x", "-m", MODEL],
    "start --force": lambda p: ["start", p, "hi", "-m", MODEL, "--force"],
    "lint": lambda p: ["lint", p],
    "lint --fix": lambda p: ["lint", "--fix", p],
    "show": lambda p: ["show", p],
}


@pytest.mark.parametrize("kind", ["fifo", "null", "zero"])
@pytest.mark.parametrize("command", COMMANDS, ids=list(COMMANDS))
def test_special_files_are_refused_before_any_request(cli, api, tmp_path, kind, command):
    node = _fifo(tmp_path) if kind == "fifo" else _device(tmp_path, 3 if kind == "null" else 5)
    before = os.stat(node)
    r = cli(*COMMANDS[command](node), timeout=10)
    assert r.code == 2, r.err
    assert [x for x in r.err_lines if NOT_REGULAR.match(x)], r.err
    assert api.requests == []
    after = os.stat(node)
    assert (after.st_ino, after.st_mode, after.st_rdev) == (before.st_ino, before.st_mode, before.st_rdev)
    assert sorted(p.name for p in tmp_path.iterdir()) == [node.name]


def test_dev_stdin_from_a_pipe_is_refused(env, tmp_path):
    """`say /dev/stdin` with a pipe on stdin: refused, no `/dev/stdin.unsaved-...` anywhere."""

    def small():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    before = set(Path("/dev").glob("stdin.unsaved-*"))
    r = subprocess.run(
        [sys.executable, "-m", "respctl", "say", "/dev/stdin", "hi", "-m", MODEL],
        input=line(developer("Be brief.")),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=20,
        preexec_fn=small,
    )
    assert r.returncode == 2 and NOT_REGULAR.match(r.stderr.decode().strip()), r.stderr
    assert set(Path("/dev").glob("stdin.unsaved-*")) == before


def test_dev_null_itself_in_a_private_mount_namespace(env, tmp_path):
    """The real /dev/null, in a mount namespace of its own (so that a failure harms nothing)."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "true"]).returncode:
        pytest.skip("no private mount namespaces here (unshare -m)")
    script = (
        f"mount --make-rprivate / && mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 && "
        f'{sys.executable} -m respctl say /dev/null hi -m {MODEL}; echo "code=$?"; '
        "stat -c '%F' /dev/null; ls /dev"
    )
    r = subprocess.run(["unshare", "-m", "sh", "-c", script], env=env, cwd=tmp_path, capture_output=True, timeout=30)
    out = r.stdout.decode()
    assert "code=2" in out and "character special file" in out, (out, r.stderr)
    assert out.split()[-1] == "null"  # nothing created beside it
    assert NOT_REGULAR.match(r.stderr.decode().strip()), r.stderr


def test_a_conversation_whose_json_the_fix_must_keep_is_not_an_excuse_for_orjson():
    """dumps_item writes what orjson cannot (nesting past 254 levels) instead of failing."""
    from respctl.conversation import dumps_item

    deep: object = 1
    for _ in range(400):
        deep = [deep]
    assert orjson.loads(dumps_item({"type": "x", "v": deep}).replace(b"[", b"").replace(b"]", b"")) == {
        "type": "x",
        "v": 1,
    }
