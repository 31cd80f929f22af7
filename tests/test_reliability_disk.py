"""Disk faults: read-only files and folders, a full disk, a file changed behind respctl's back.

Whether the turn can be written is checked before a request is paid for (exit 2, no request).
A write that still fails after the answer arrived (disk full, folder made read-only meanwhile)
leaves the file unchanged and saves the new items beside it, `FILE.unsaved-<time>-<pid>.jsonl`
(or in the temp folder when the file's folder takes nothing), and the one error line says where:
exit 1. A file replaced, edited or removed by another program during the turn is never
overwritten: its new items are saved beside it the same way.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import CANARY_KEY, read_items, tools_file
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
    unprivileged_prefix,
    user,
    wait_until,
)

SAVED = re.compile(r"the new items were saved to (\S+)$", re.IGNORECASE)


@pytest.fixture(scope="module")
def plain():
    """A zygote for which permission bits bind even when the tests run as root."""
    prefix = unprivileged_prefix()
    if prefix is None:
        pytest.skip("cannot run respctl without root's permission override here (no setpriv)")
    z = Zygote(prefix)
    yield z
    z.close()


def run(z, *args, cwd, env):
    code, out, err = z.run(*args, cwd=cwd, env=env)
    return code, out, err


def conversation(tmp_path, api, env, zygote, name="c.jsonl", size=0) -> Path:
    path = tmp_path / name
    path.write_bytes(line(developer("Notes. " + "x" * size)))
    code, _, err = run(zygote, "say", path, "First", "-m", MODEL, cwd=tmp_path, env=env)
    assert code == 0, err
    return path


@pytest.mark.parametrize("command", ["say", "tool-result"])
def test_read_only_file_is_refused_before_any_request(plain, zygote, api, env, tmp_path, command):
    path = tmp_path / "c.jsonl"
    if command == "say":
        path = conversation(tmp_path, api, env, zygote)
        args = ["say", path, "Second", "-m", MODEL]
    else:
        api.script(Turn([function_call("get_weather", '{"city":"Oslo"}', call_id="call_1")]))
        assert run(zygote, "start", path, "Weather in Oslo?", "-m", MODEL, cwd=tmp_path, env=env)[0] == 3
        args = ["tool-result", path, "call_1", "cold", "-m", MODEL]
    before, seen = path.read_bytes(), len(api.requests)
    path.chmod(0o444)
    try:
        code, out, err = run(plain, *args, cwd=tmp_path, env=env)
    finally:
        path.chmod(0o644)
    assert code == 2 and err.splitlines() == [f"respctl: error: {path}: file is not writable"]
    assert len(api.requests) == seen and path.read_bytes() == before and out == b""


def test_read_only_folder_is_refused_before_any_request(plain, zygote, api, env, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = conversation(folder, api, env, zygote)
    before, seen = path.read_bytes(), len(api.requests)
    folder.chmod(0o555)
    try:
        code, _, err = run(plain, "say", path, "Second", "-m", MODEL, cwd=tmp_path, env=env)
        code_start, _, err_start = run(plain, "start", folder / "new.jsonl", "hi", "-m", MODEL, cwd=tmp_path, env=env)
    finally:
        folder.chmod(0o755)
    assert code == 2 and err.splitlines() == [
        f"respctl: error: {path}: folder {folder} is not writable (the file is replaced atomically)"
    ]
    assert code_start == 2 and len(err_start.splitlines()) == 1 and str(folder / "new.jsonl") in err_start
    assert len(api.requests) == seen and path.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["c.jsonl"]


def _disk_full_run(env, tmp_path, args, limit: int):
    """respctl with a file-size limit: writes past `limit` bytes fail with EFBIG, like a full disk."""

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "respctl", *map(str, args)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limit_file_size,
    )


@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_disk_full_after_the_answer_saves_the_turn_beside_the_file(zygote, api, env, tmp_path, stream):
    path = conversation(tmp_path, api, env, zygote, size=40_000)
    before = path.read_bytes()
    r = _disk_full_run(env, tmp_path, ["say", path, "Second", "-m", MODEL, stream], limit=32_768)
    assert r.returncode == 1, r.stderr
    assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith(
        f"respctl: error: {path}: cannot write: File too large; "
    )
    saved = Path(SAVED.search(r.stderr.strip()).group(1))
    assert saved.parent == tmp_path and saved.name.startswith("c.jsonl.unsaved-")
    new_turn = line(user("Second")) + turn_lines(api.requests[-1])
    assert saved.read_bytes() == new_turn  # the paid answer, exactly, ready to append
    assert path.read_bytes() == before and leftovers(tmp_path, path.name)["tmp"] == []
    # appending the rescued lines by hand gives a file that replays
    path.write_bytes(before + saved.read_bytes())
    assert lint_errors(path) == []
    assert run(zygote, "say", path, "Third", "-m", MODEL, cwd=tmp_path, env=env)[0] == 0 and api.rejected == []


def test_disk_full_with_no_room_even_for_the_rescue_says_so(zygote, api, env, tmp_path):
    path = conversation(tmp_path, api, env, zygote, size=4_000)
    before = path.read_bytes()
    r = _disk_full_run({**env, "TMPDIR": str(tmp_path)}, tmp_path, ["say", path, "Second", "-m", MODEL], limit=1_000)
    assert r.returncode == 1 and r.stderr.splitlines() == [
        f"respctl: error: {path}: cannot write: File too large; the new items could not be saved anywhere"
    ]
    assert path.read_bytes() == before
    assert leftovers(tmp_path, path.name) == {"tmp": [], "unsaved": []}


@pytest.fixture
def small_tmpfs(tmp_path):
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(folder: Path, leave: int) -> None:
    """Fill the file system holding `folder` until about `leave` bytes are free."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    with open(folder / "filler", "ab") as f:
        try:
            f.write(b"\0" * max(0, free - leave))
            f.flush()
            os.fsync(f.fileno())
        except OSError:
            pass


def test_a_really_full_disk_on_a_small_tmpfs(small_tmpfs, zygote, api, env, tmp_path):
    path = conversation(small_tmpfs, api, env, zygote, size=60_000)
    before = path.read_bytes()
    _fill(small_tmpfs, leave=16_384)  # room for the rescue (a few KB), not for the whole file again
    code, _, err = run(zygote, "say", path, "Second", "-m", MODEL, cwd=tmp_path, env=env)
    assert code == 1 and len(err.splitlines()) == 1 and "No space left on device" in err
    saved = Path(SAVED.search(err.strip()).group(1))
    assert saved.parent == small_tmpfs
    assert saved.read_bytes() == line(user("Second")) + turn_lines(api.requests[-1])
    assert path.read_bytes() == before and leftovers(small_tmpfs, path.name)["tmp"] == []
    # nothing left at all: the rescue goes to the temp folder, and the line says so
    saved.unlink()
    _fill(small_tmpfs, leave=0)
    rescue = tmp_path / "rescue"
    rescue.mkdir()
    code, _, err = run(zygote, "say", path, "Third", "-m", MODEL, cwd=tmp_path, env={**env, "TMPDIR": str(rescue)})
    assert code == 1
    saved = Path(SAVED.search(err.strip()).group(1))
    assert saved.parent == rescue and saved.read_bytes() == line(user("Third")) + turn_lines(api.requests[-1])
    assert path.read_bytes() == before


def _edit_during_the_turn(api, env, tmp_path, zygote, edit):
    """Run a say whose answer the server holds back, apply `edit` to the file meanwhile, then answer."""
    path = conversation(tmp_path, api, env, zygote)
    release = threading.Event()
    api.script(Stall(30, release=release))
    pid = zygote.start(
        ["say", path, "Second", "-m", MODEL], cwd=tmp_path, env=env, out=tmp_path / "say.out", err=tmp_path / "say.err"
    )
    assert wait_until(lambda: len(api.requests) == 2, timeout=30)
    edit(path)
    release.set()  # the answer arrives after the edit
    code = zygote.wait(pid)
    return path, code, (tmp_path / "say.err").read_text()


EDITS = {
    "appended": lambda p: p.open("ab").write(line(user("added by hand"))),
    "rewritten-in-place": lambda p: p.write_bytes(p.read_bytes().replace(b"First", b"FIRST")),
    "replaced-by-rename": lambda p: (
        p.with_suffix(".new").write_bytes(p.read_bytes()),
        os.replace(p.with_suffix(".new"), p),
    ),
    "removed": lambda p: p.unlink(),
}


@pytest.mark.parametrize("edit", EDITS, ids=list(EDITS))
def test_a_file_changed_by_another_program_during_the_turn_is_not_overwritten(zygote, api, env, tmp_path, edit):
    theirs: list[bytes | None] = []

    def apply(path: Path) -> None:
        EDITS[edit](path)
        theirs.append(path.read_bytes() if path.exists() else None)

    path, code, err = _edit_during_the_turn(api, env, tmp_path, zygote, apply)
    assert code == 1, err
    assert len(err.splitlines()) == 1
    assert err.startswith(f"respctl: error: {path}: changed by another program meanwhile; not overwritten; ")
    saved = Path(SAVED.search(err.strip()).group(1))
    assert saved.read_bytes() == line(user("Second")) + turn_lines(api.requests[-1])
    assert (path.read_bytes() if path.exists() else None) == theirs[0]  # their version stands


def test_an_edit_right_after_the_read_is_still_seen(tmp_path, monkeypatch):
    """In-process: another program appends in the instant after respctl read the file. The
    identity respctl compares before writing must be the one of the bytes it read (taken before
    the read), or that append would be overwritten."""
    import respctl.conversation as conversation
    from respctl import turn
    from respctl.errors import RespctlError

    path = tmp_path / "c.jsonl"
    path.write_bytes(
        line(user("Weather?")) + line({"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"})
    )
    real_read = conversation.read_bytes

    def read_then_someone_appends(p):
        data = real_read(p)
        with open(p, "ab") as f:
            f.write(line(user("appended by someone else")))
        return data

    monkeypatch.setattr(conversation, "read_bytes", read_then_someone_appends)
    with pytest.raises(RespctlError, match="changed by another program meanwhile"):
        turn.tool_result(str(path), call_id="call_1", output="42", settings=turn.TurnSettings(no_send=True))
    assert path.read_bytes().endswith(line(user("appended by someone else")))


def test_a_symlinked_conversation_stays_a_symlink(zygote, api, env, tmp_path):
    real = tmp_path / "store" / "conv.jsonl"
    real.parent.mkdir()
    real.write_bytes(line(developer("Be brief.")))
    link = tmp_path / "chat.jsonl"
    link.symlink_to(real)
    code, _, err = run(zygote, "say", link, "Hello", "-m", MODEL, cwd=tmp_path, env=env)
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == line(developer("Be brief.")) + line(user("Hello")) + turn_lines(api.requests[-1])
    assert leftovers(tmp_path, link.name)["tmp"] == [] and leftovers(real.parent, real.name)["tmp"] == []


def test_the_file_mode_is_kept(zygote, api, env, tmp_path):
    path = conversation(tmp_path, api, env, zygote)
    path.chmod(0o600)
    assert run(zygote, "say", path, "Second", "-m", MODEL, cwd=tmp_path, env=env)[0] == 0
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_lock_never_leaks_to_a_tool_process(zygote, api, env, tmp_path):
    """A tool the runner started that outlives respctl must not keep the conversation locked."""
    pidfile = tmp_path / "orphan.pid"
    tool = tmp_path / "leaves_a_child.py"
    tool.write_text(
        "import subprocess, sys\n"
        "sys.stdin.read()\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'], start_new_session=True,\n"
        "                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        f"open({str(pidfile)!r}, 'w').write(str(child.pid))\n"
        "print('ok')\n"
    )
    path = tmp_path / "c.jsonl"
    api.script(
        Turn([reasoning(), function_call("get_weather", '{"city":"Rome"}', call_id="call_1")]), Turn([message("Done.")])
    )
    try:
        code, _, err = run(
            zygote,
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
        )
        assert code == 0, err
        import fcntl

        with open(path, "rb") as probe:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free, though the orphan still runs
        assert read_items(path)[-2] == call_output("call_1", "ok\n")
    finally:
        if pidfile.exists():
            try:
                os.kill(int(pidfile.read_text()), signal.SIGKILL)
            except ProcessLookupError:
                pass
    assert CANARY_KEY.encode() not in path.read_bytes()


def test_an_append_while_the_new_file_is_written_is_never_dropped(tmp_path, monkeypatch):
    """In-process: another program appends while respctl writes and fsyncs its temporary file,
    after any earlier look at the file. The check must come right before the rename."""
    from respctl import turn
    from respctl.errors import RespctlError

    path = tmp_path / "race.jsonl"
    path.write_bytes(line(developer("Notes.")))
    appended = line(user("appended by someone else"))
    real_fsync = os.fsync

    def fsync_while_someone_appends(fd):
        if appended not in path.read_bytes():
            with open(path, "ab") as f:
                f.write(appended)
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_while_someone_appends)
    with pytest.raises(RespctlError, match="changed by another program meanwhile") as caught:
        turn.say(str(path), message_item=user("note"), settings=turn.TurnSettings(no_send=True))
    monkeypatch.undo()
    assert path.read_bytes() == line(developer("Notes.")) + appended  # their append stands
    assert Path(SAVED.search(str(caught.value)).group(1)).read_bytes() == line(user("note"))
    assert caught.value.exit_code == 1


@pytest.mark.parametrize("force", [False, True], ids=["new", "force"])
def test_start_saves_the_paid_answer_when_the_write_fails(plain, zygote, api, env, tmp_path, force):
    """The folder turns read-only while `start` waits for its answer: the answer is rescued."""
    folder, rescue = tmp_path / "ro", tmp_path / "rescue"
    folder.mkdir()
    rescue.mkdir()
    path = folder / "new.jsonl"
    if force:
        path.write_bytes(line(developer("Old.")))
    release = threading.Event()
    api.script(Stall(30, release=release))
    args = ["start", path, "hello there", "--instructions", "Be brief.", "-m", MODEL, *(["--force"] if force else [])]
    pid = plain.start(args, cwd=tmp_path, env={**env, "TMPDIR": str(rescue)}, out=tmp_path / "o", err=tmp_path / "e")
    assert wait_until(lambda: len(api.requests) == 1, timeout=30)
    folder.chmod(0o555)
    try:
        release.set()
        code = plain.wait(pid)
    finally:
        folder.chmod(0o755)
    err = (tmp_path / "e").read_text()
    assert code == 1 and len(err.splitlines()) == 1 and "Permission denied" in err, err
    saved = Path(SAVED.search(err.strip()).group(1))
    assert saved.parent == rescue and saved.stat().st_mode & 0o777 == 0o600
    assert saved.read_bytes() == line(developer("Be brief.")) + line(user("hello there")) + turn_lines(api.requests[-1])


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another owner takes root")
def test_a_rescue_belongs_to_the_owner_of_the_conversation(tmp_path, monkeypatch):
    """root runs a turn on a user's private file and the write fails: the rescue beside it is the
    user's, as private as the file, not root's."""
    from respctl import turn
    from respctl.errors import RespctlError

    path = tmp_path / "race.jsonl"
    path.write_bytes(line(developer("Notes.")))
    os.chown(path, 1000, 33)
    path.chmod(0o600)
    real_fsync = os.fsync

    def fsync_while_someone_appends(fd):
        with open(path, "ab") as f:
            f.write(line(user("appended")))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_while_someone_appends)
    with pytest.raises(RespctlError) as caught:
        turn.say(str(path), message_item=user("note"), settings=turn.TurnSettings(no_send=True))
    monkeypatch.undo()
    saved = Path(SAVED.search(str(caught.value)).group(1)).stat()
    assert (saved.st_uid, saved.st_gid, saved.st_mode & 0o777) == (1000, 33, 0o600)
