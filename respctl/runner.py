"""The opt-in tool runner: answer calls of NAME by running COMMAND, never through a shell.

COMMAND is split with shlex into an argument vector once, from the user's flag; the
model's arguments only ever reach the process on standard input. The process runs in
its own process group, so a timeout kills everything it started.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass

from respctl.errors import UsageError
from respctl.inputs import MAX_TEXT

#: How much of a failing command's stderr the model gets to see.
STDERR_TAIL = 2000


@dataclass(frozen=True)
class Runner:
    name: str
    argv: tuple[str, ...]


def keep_environment_private() -> None:
    """Make this process non-dumpable (Linux: prctl PR_SET_DUMPABLE 0), so that processes of the same
    user, a tool among them, can neither read /proc/PID/environ (which holds OPENAI_API_KEY) nor
    attach a debugger, and no core dump holds the key. Elsewhere, or if refused, nothing changes."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


def parse_runners(specs: list[str], tool_names: set[str] | None = None) -> dict[str, Runner]:
    """`NAME=COMMAND` flags into runners, checked before anything is sent (or paid for): COMMAND
    must be a program that exists and may be run, and NAME one of `tool_names`, the tools given
    with --tools (None: no --tools, so no call can come)."""
    runners: dict[str, Runner] = {}
    for spec in specs:
        name, sep, command = spec.partition("=")
        name = name.strip()
        if not sep or not name or not command.strip():
            raise UsageError(f"--run-tool {spec!r}: expected NAME=COMMAND")
        try:
            argv = tuple(shlex.split(command))
        except ValueError as exc:
            raise UsageError(f"--run-tool {name}: cannot split COMMAND: {exc}") from None
        if name in runners:
            raise UsageError(f"--run-tool {name}: given twice")
        if not argv:
            raise UsageError(f"--run-tool {spec!r}: expected NAME=COMMAND")
        _check_program(name, argv[0])
        if tool_names is None:
            raise UsageError(f"--run-tool {name}: no --tools given, so no call of {name} can come")
        if name not in tool_names:
            known = ", ".join(sorted(tool_names)) or "none"
            raise UsageError(f"--run-tool {name}: no tool of that name in --tools (function and custom tools: {known})")
        runners[name] = Runner(name, argv)
    return runners


def _check_program(name: str, program: str) -> None:
    if shutil.which(program) is not None:
        return
    if os.sep in program and os.path.isfile(program):
        raise UsageError(f"--run-tool {name}: {program!r} is not executable (chmod +x {shlex.quote(program)}?)")
    where = "no such file" if os.sep in program else "not found on PATH"
    raise UsageError(f"--run-tool {name}: command {program!r}: {where}")


def run_call(runner: Runner, call: dict, timeout: float) -> tuple[str, str]:
    """Run one call; return (output for the model, one line for people)."""
    arguments = call.get("arguments") if call.get("type") == "function_call" else call.get("input")
    env = dict(os.environ, RESPCTL_CALL_ID=str(call.get("call_id")), RESPCTL_TOOL_NAME=runner.name)
    env.pop("OPENAI_API_KEY", None)  # a tool has no business with the key
    env.pop("AZURE_OPENAI_API_KEY", None)
    try:
        proc = subprocess.Popen(
            runner.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
    except OSError as exc:
        text = f"error: could not run the tool command {runner.argv[0]!r}: {exc.strerror or exc}"
        return text, text
    try:
        # The limit is in characters; a UTF-8 character takes up to 4 bytes, so keep 4 bytes for each.
        out, err = _Capped(proc.stdout, 4 * MAX_TEXT), _Capped(proc.stderr, STDERR_TAIL, keep_tail=True)
        _feed(proc, (arguments or "").encode("utf-8"))
        try:
            status = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out.join()
            err.join()
            text = f"error: the tool timed out after {timeout:g}s and was stopped"
            return text, text
    except BaseException:  # Ctrl-C, SIGTERM, SIGHUP, anything: the tool's whole group goes with respctl
        _kill_group(proc)
        raise
    out.join()
    err.join()
    stdout = out.text()
    if out.truncated or len(stdout) > MAX_TEXT:  # the cut also drops a character split by the byte cap
        stdout = stdout[: MAX_TEXT - 200] + f"\n[output cut at {MAX_TEXT:,} characters]"
    if status != 0:
        tail = err.text().strip()
        text = f"error: the tool exited with status {status}" + (f"\nstderr:\n{tail}" if tail else "")
        if stdout.strip():
            text += f"\nstdout:\n{stdout}"
        return text, f"exit {status}"
    return stdout, f"exit 0, {len(stdout):,} characters"


def _feed(proc: subprocess.Popen, data: bytes) -> None:
    """Write the arguments on a thread so a tool that never reads cannot block us."""

    stdin = proc.stdin
    assert stdin is not None  # started with stdin=PIPE

    def write() -> None:
        try:
            stdin.write(data)
        except OSError:
            pass
        finally:
            try:
                stdin.close()
            except OSError:
                pass

    threading.Thread(target=write, daemon=True).start()


class _Capped:
    """Drain a pipe on a thread, keeping at most `limit` bytes (the head, or the tail)."""

    def __init__(self, pipe, limit: int, keep_tail: bool = False):
        self.data = bytearray()
        self.limit, self.keep_tail, self.truncated = limit, keep_tail, False
        self.thread = threading.Thread(target=self._drain, args=(pipe,), daemon=True)
        self.thread.start()

    def _drain(self, pipe) -> None:
        with pipe:
            for chunk in iter(lambda: pipe.read1(65536), b""):  # read1: what is there now, not a full 64 KB
                if self.keep_tail:
                    self.data = (self.data + chunk)[-self.limit :]
                elif len(self.data) <= self.limit:
                    self.data += chunk[: self.limit + 1 - len(self.data)]
                self.truncated = self.truncated or len(self.data) > self.limit

    def join(self) -> None:
        self.thread.join(timeout=5)

    def text(self) -> str:
        return bytes(self.data).decode("utf-8", errors="replace")


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
