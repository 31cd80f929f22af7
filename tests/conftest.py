"""Shared fixtures: the loopback Responses API and a runner for the real CLI.

The CLI runs as users run it, as a process of its own with its own stdin, stdout, stderr, cwd
and environment, but forked from a "zygote": one python per test worker that has imported
respctl once. A fork costs milliseconds where a fresh `python -m respctl` costs about a second
(openai's import alone), and the suite runs some thousand of them. Tests where the fresh
interpreter is the point (start-up, imports, signals to the real process) start one themselves.

Two budgets: the default keeps `make test` under three minutes on two cores; set
HYPOTHESIS_PROFILE=thorough (`make test-thorough`, which CI runs too) for the full example
counts of the property tests and the soak tests' full numbers of kills and runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

from fakeapi import FakeResponsesAPI

from respctl.items import clean_output_item

#: A fake key that must never show up in any output or file.
CANARY_KEY = "sk-canary-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


@dataclass
class Result:
    code: int
    out: str
    err: str
    stdout: bytes

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()

    def json(self):
        return orjson.loads(self.stdout)


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RESPCTL_", "AZURE_OPENAI_"))}
    for name in ("NO_COLOR", "COLUMNS", "LINES"):  # a terminal's size and colour are each test's own choice
        env.pop(name, None)
    env.update(extra)
    return env


THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
settings.register_profile("default", deadline=None)
settings.register_profile("thorough", deadline=None)
settings.load_profile("thorough" if THOROUGH else "default")


def examples(thorough: int) -> int:
    """A property test's example count: `thorough` under the thorough profile, a tenth (at least
    25) by default. The default run still covers every strategy; the thorough one digs deeper."""
    return thorough if THOROUGH else max(25, thorough // 10)


def soak(thorough: int, default: int) -> int:
    """How many runs, kills or workers a soak test uses under each profile."""
    return thorough if THOROUGH else default


ZYGOTE = r"""
import json, os, sys, traceback
import respctl.cli, respctl.client, respctl.turn, respctl.lint, respctl.output, respctl.runner, respctl.inputs
import respctl.request, respctl.items, respctl.conversation
out = sys.stdout
out.write("ready\n"); out.flush()
for raw in sys.stdin:
    cmd = json.loads(raw)
    if cmd["op"] == "run":
        fd_out = os.open(cmd["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        fd_err = os.open(cmd["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        fd_in = os.open(cmd.get("stdin") or os.devnull, os.O_RDONLY)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.setpgid(0, 0)
                os.dup2(fd_in, 0); os.dup2(fd_out, 1); os.dup2(fd_err, 2)
                os.chdir(cmd["cwd"])
                os.environ.clear(); os.environ.update(cmd["env"])
                sys.argv = ["respctl", *cmd["args"]]
                respctl.cli.main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:
                traceback.print_exc()
            finally:
                try:
                    sys.stdout.flush(); sys.stderr.flush()
                finally:
                    os._exit(code)
        os.close(fd_out); os.close(fd_err); os.close(fd_in)
        out.write(json.dumps({"pid": pid}) + "\n"); out.flush()
    elif cmd["op"] == "wait":
        _, status = os.waitpid(cmd["pid"], 0)
        out.write(json.dumps({"code": os.waitstatus_to_exitcode(status)}) + "\n"); out.flush()
"""


def alive(pid: int) -> bool:
    """True while `pid` runs (not yet exited; a zombie counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


class Zygote:
    """A python that has imported respctl once and forks a respctl per run.

    Each run is a child of its own (own process group, stdin, stdout, stderr, cwd, environment);
    the parent never runs respctl's code, so every child starts from the same clean state."""

    def __init__(self, prefix: list[str] | tuple[str, ...] = ()):
        self.scratch = Path(tempfile.mkdtemp(prefix="respctl-zygote-"))
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline() == "ready\n"
        self.runs = 0

    def _ask(self, **cmd) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def start(self, args, *, cwd: Path, env: dict, out: Path, err: Path, stdin: Path | None = None) -> int:
        return self._ask(
            op="run",
            args=[str(a) for a in args],
            cwd=str(cwd),
            env=env,
            stdout=str(out),
            stderr=str(err),
            stdin=str(stdin) if stdin else None,
        )["pid"]

    def wait(self, pid: int) -> int:
        return self._ask(op="wait", pid=pid)["code"]

    def close(self):
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.scratch, ignore_errors=True)

    def run(self, *args, cwd: Path, env: dict, input: bytes | None = None, timeout: float = 60):
        """Run one respctl to completion; return (exit code, stdout bytes, stderr text).
        Past `timeout` its process group is killed and subprocess.TimeoutExpired raised."""
        self.runs += 1
        out, err = self.scratch / f"out{self.runs}", self.scratch / f"err{self.runs}"
        stdin = None
        if input is not None:
            stdin = self.scratch / f"in{self.runs}"
            stdin.write_bytes(input)
        pid = self.start(args, cwd=cwd, env=env, out=out, err=err, stdin=stdin)
        deadline = time.monotonic() + timeout
        pause = 0.0005
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(pause)
            pause = min(pause * 2, 0.01)
        timed_out = alive(pid)
        if timed_out:
            os.killpg(pid, 9)
        code = self.wait(pid)
        result = (code, out.read_bytes(), err.read_text(errors="replace"))
        for path in (out, err, stdin):
            if path is not None:
                path.unlink()
        if timed_out:
            raise subprocess.TimeoutExpired(["respctl", *map(str, args)], timeout, result[1], result[2])
        return result


_zygote: Zygote | None = None


def shared_zygote() -> Zygote:
    """The zygote of this test process (one per xdist worker), started on first use."""
    global _zygote
    if _zygote is None:
        _zygote = Zygote()
    return _zygote


def pytest_sessionfinish(session, exitstatus):
    if _zygote is not None:
        _zygote.close()


def run_cli(args, *, cwd, env, input: bytes | str | None = None, timeout: float = 60) -> Result:
    """`respctl ARGS` as its own process (forked from the zygote), with `input` on its stdin
    (else /dev/null): the exit code, stdout and stderr."""
    if isinstance(input, str):
        input = input.encode()
    code, out, err = shared_zygote().run(*args, cwd=Path(cwd), env=env, input=input, timeout=timeout)
    return Result(code, out.decode("utf-8", "replace"), err, out)


def run_fresh(args, *, cwd, env, input: bytes | str | None = None, timeout: float = 60) -> Result:
    """`python -m respctl ARGS` in a fresh interpreter: for tests where start-up is the point."""
    if isinstance(input, str):
        input = input.encode()
    proc = subprocess.run(
        [sys.executable, "-m", "respctl", *map(str, args)],
        cwd=cwd,
        env=env,
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,  # as in a script: no message waits on stdin
        capture_output=True,
        timeout=timeout,
    )
    out, err = proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    return Result(proc.returncode, out, err, proc.stdout)


@pytest.fixture
def zygote() -> Zygote:
    """This test worker's zygote, for tests that start several runs at once (`start` and `wait`)."""
    return shared_zygote()


@pytest.fixture
def api():
    with FakeResponsesAPI() as server:
        yield server


@pytest.fixture
def env(api):
    # The loopback server answers as the OpenAI API does: its rules apply (a loopback URL alone
    # would choose --target compatible; tests of other servers use their own environment).
    return clean_env(OPENAI_BASE_URL=api.base_url, OPENAI_API_KEY=CANARY_KEY, RESPCTL_TARGET="openai")


@pytest.fixture
def cli(tmp_path, env):
    """Run `respctl ARGS...` in tmp_path against the loopback API."""

    def run(*args, input=None, extra_env=None, timeout=60) -> Result:
        return run_cli(args, cwd=tmp_path, env={**env, **(extra_env or {})}, input=input, timeout=timeout)

    return run


def user(text: str) -> dict:
    """The user message respctl creates (docs/file-format.md: one documented, stable shape)."""
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def developer(text: str) -> dict:
    return {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": text}]}


def line(item: dict) -> bytes:
    return orjson.dumps(item) + b"\n"


def turn_lines(record) -> bytes:
    """The lines one accepted request must append: the items the server sent, cleaned, in order
    (streamed: the `output_item.done` copies; otherwise the response body's output)."""
    items = record.done_items if record.body.get("stream") else record.response["output"]
    return b"".join(line(clean_output_item(item)) for item in items)


def read_items(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def run_in_pty(
    args, *, env: dict, cwd=None, columns: int = 100, stdin: bytes | None = None, during=None, timeout: float = 60
) -> tuple[int, str]:
    """Run `respctl ARGS...` with a pseudo-terminal as stdout and stderr, as a person at a terminal
    does; `stdin` bytes are typed on that terminal (standard input is the terminal too), else
    standard input is /dev/null. Returns (exit code, what the terminal received).

    Forked from the zygote, with the terminal's device as its stdout and stderr; with `during`,
    a fresh interpreter of its own session instead (signals to the real process are the point),
    and `during(proc, screen)` runs while it does, `screen()` being what the terminal got so far."""
    import fcntl
    import pty
    import struct
    import termios
    import threading

    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 30, columns, 0, 0))
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(controller, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    def screen() -> str:
        return b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if during is not None:
        proc = subprocess.Popen(
            [sys.executable, "-m", "respctl", *map(str, args)],
            stdin=terminal if stdin is not None else subprocess.DEVNULL,
            stdout=terminal,
            stderr=terminal,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        os.close(terminal)
        if stdin is not None:
            os.write(controller, stdin)
        during(proc, screen)
        code = proc.wait(timeout=timeout)
    else:
        device = Path(os.ttyname(terminal))
        zygote = shared_zygote()
        pid = zygote.start(
            args, cwd=Path(cwd or os.getcwd()), env=env, out=device, err=device, stdin=device if stdin else None
        )
        os.close(terminal)
        if stdin is not None:
            os.write(controller, stdin)
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.005)
        if alive(pid):
            os.killpg(pid, 9)
        code = zygote.wait(pid)
    reader.join(timeout=10)
    os.close(controller)
    return code, screen()


def tools_file(folder: Path, *names: str) -> str:
    """A --tools file with one function tool per name (for --run-tool, which needs its tool in --tools)."""
    path = Path(folder) / "run-tools.json"
    path.write_text(json.dumps([{"type": "function", "name": n, "parameters": {}} for n in names]))
    return str(path)
