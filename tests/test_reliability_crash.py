"""Crash safety: SIGKILL respctl at random moments of `say` and `tool-result` turns.

After every kill the conversation file must be byte-identical to what it was before the run,
or hold exactly the complete new turn (the new input line followed by the items the server
sent for that request), and lint must find no error in it. Every later request sends the
whole file to the loopback API, which checks it the way the real API does: one rejected
request anywhere fails the test.

Most kills hit a respctl forked from a "zygote" that has already imported respctl and openai:
the child runs the real `respctl.cli.main()` with real argv, files, lock, HTTP and signals,
without paying the ~1 s import each time, so that hundreds of kills fit in CI. A smaller
set kills real `python -m respctl` processes at random moments as well.

The kill moment is drawn per run from four windows, each anchored on what the server saw:
  early      0-120 ms after start: parsing flags, taking the lock, reading, lint, building
  waiting    after the request reached the server, which holds its answer back (latency)
  streaming  after the answer began streaming, which is slowed down per event
  writing    after the server sent the terminal event: respctl parses, cleans and writes
             (a large file makes the write itself take a while)
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import CANARY_KEY, clean_env, soak
from fakeapi import FakeResponsesAPI
from test_reliability_support import (
    MODEL,
    TOOLS_JSON,
    Zygote,
    alive,
    call_output,
    developer,
    leftovers,
    line,
    lint_errors,
    pending_calls,
    turn_lines,
    user,
    wait_until,
)

from respctl.conversation import parse_lines

#: How many runs must actually die by SIGKILL (runs that finished first do not count):
#: 210 under the thorough profile, 70 by default; the per-stage minimums below scale with it.
TARGET_KILLS = soak(210, 70)
SCALE = TARGET_KILLS / 210
WORKERS = 3
#: The first line of each file: large, so that writing the file takes measurable time.
BIG_INSTRUCTIONS = "Background notes. " * 150_000  # ~2.7 MB


class Worker:
    """One conversation file, one loopback server, one zygote; runs are sequential."""

    def __init__(self, n: int, folder: Path, seed: int):
        self.n, self.folder, self.rng = n, folder, random.Random(seed)
        folder.mkdir()
        (folder / "tools.json").write_bytes(TOOLS_JSON)
        self.chat = folder / "chat.jsonl"
        self.chat.write_bytes(line(developer(f"Worker {n}. " + BIG_INSTRUCTIONS)))
        self.api = FakeResponsesAPI().start()
        self.env = clean_env(OPENAI_BASE_URL=self.api.base_url, OPENAI_API_KEY=CANARY_KEY)
        self.log: list[dict] = []

    def close(self):
        self.api.stop()

    def command(self, run: int) -> tuple[list, bytes, bool]:
        """say when no call waits, tool-result for the first waiting call; the line it adds; whether
        it sends a request (a tool-result that leaves other calls waiting only records its output)."""
        waiting = pending_calls(self.chat.read_bytes())
        common = ["-m", MODEL, "--tools", "tools.json", self.rng.choice(["--stream", "--no-stream"])]
        if self.rng.random() < 0.3:
            common += ["--summary", "auto"]
        if waiting:
            call_id, text = waiting[0]["call_id"], f'{{"temp_c": {run % 40}, "run": {run}}}'
            return (
                ["tool-result", self.chat, call_id, text, *common],
                line(call_output(call_id, text)),
                len(waiting) == 1,
            )
        cities = self.rng.choice(["Paris", "Paris and Oslo"])  # one call, or two calls answered one by one
        text = f"Run {run}: what is the weather in {cities} today?"
        return ["say", self.chat, text, *common], line(user(text)), True

    def one_run(self, run: int, kill: bool, zygote: Zygote | None, phase: str | None = None) -> dict:
        args, new_input, sends = self.command(run)
        before = self.chat.read_bytes()
        if phase is None and not sends:
            phase = "early" if kill else "none"  # a tool-result that only records: kill it around its write
        elif phase is None:
            phase = self.rng.choices(["early", "waiting", "streaming", "writing"], [2, 3, 3, 4])[0] if kill else "none"
        if phase == "streaming":
            args = ["--stream" if a == "--no-stream" else a for a in args]  # only a stream can be cut mid-way
        self.api.latency = 0.25 if phase == "waiting" else 0.0
        self.api.event_delay = 0.012 if phase == "streaming" else 0.0
        seen = len(self.api.requests)
        out, err = self.folder / f"run{run}.out", self.folder / f"run{run}.err"
        if zygote is not None:
            pid = zygote.start(args, cwd=self.folder, env=self.env, out=out, err=err)
            proc = None
        else:  # a real `python -m respctl`
            with open(out, "wb") as fo, open(err, "wb") as fe:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "respctl", *map(str, args)],
                    cwd=self.folder,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=fo,
                    stderr=fe,
                )
            pid = proc.pid
        running = (lambda: proc.poll() is None) if proc else (lambda: alive(pid))
        record = lambda: self.api.requests[seen] if len(self.api.requests) > seen else None  # noqa: E731
        if phase == "early":
            time.sleep(self.rng.uniform(0, 0.12 if zygote else 1.6))
        elif phase == "waiting":
            wait_until(lambda: record() is not None or not running(), timeout=30)
            time.sleep(self.rng.uniform(0, 0.25))
        elif phase == "streaming":
            wait_until(lambda: (record() is not None and record().status is not None) or not running(), timeout=30)
            time.sleep(self.rng.uniform(0, 0.2))
        elif phase == "writing":
            wait_until(lambda: (record() is not None and record().response is not None) or not running(), timeout=30)
            time.sleep(self.rng.uniform(0, 0.015))  # respctl is done within a few ms of the answer's end
        if kill and proc is not None:
            proc.send_signal(signal.SIGKILL)  # a no-op once the process has been reaped
        elif kill:
            os.kill(pid, signal.SIGKILL)  # the zygote reaps only when asked: the pid is still ours
        code = proc.wait(timeout=60) if proc else zygote.wait(pid)
        after = self.chat.read_bytes()
        rec = record()
        result = {
            "run": run,
            "phase": phase,
            "code": code,
            "changed": after != before,
            "cmd": args[0],
            "reached_server": rec is not None,
            "streamed": rec is not None and rec.status is not None,
            "responded": rec is not None and rec.response is not None,
            "tmp_left": bool(leftovers(self.folder, self.chat.name)["tmp"]),
        }
        # The guarantee: the file as it was, or exactly the complete new turn; and it lints clean.
        if after != before and not sends:
            assert rec is None and after == before + new_input, f"run {run}: not exactly the recorded output"
        elif after != before:
            assert rec is not None and rec.error is None, f"run {run}: the file changed but no request was answered"
            assert after == before + new_input + turn_lines(rec), (
                f"run {run} ({phase}, exit {code}): not the complete turn"
            )
        assert code in (-signal.SIGKILL, 0, 3), f"run {run}: exit {code}: {err.read_text()}"
        if code != -signal.SIGKILL:
            assert after != before, f"run {run} finished with exit {code} but wrote nothing"
        assert lint_errors(self.chat) == [], f"run {run} ({phase}): lint errors after the kill"
        assert not leftovers(self.folder, self.chat.name)["unsaved"], "a rescue file appeared: the write was refused"
        assert CANARY_KEY not in out.read_text() + err.read_text()
        for leftover in leftovers(self.folder, self.chat.name)["tmp"]:
            leftover.unlink()  # the hidden temp file of a write cut short: never read, safe to delete
        out.unlink(), err.unlink()
        self.log.append(result)
        return result

    def finish(self) -> None:
        """A last, unkilled turn: the file still replays, and the server accepted every request."""
        for _ in range(2):  # answer a waiting call if the last kill left one, then say
            args, new_input, sends = self.command(10_000 + len(self.log))
            before, seen = self.chat.read_bytes(), len(self.api.requests)
            r = subprocess.run(
                [sys.executable, "-m", "respctl", *map(str, args)],
                cwd=self.folder,
                env=self.env,
                capture_output=True,
                timeout=60,
            )
            assert r.returncode in (0, 3), r.stderr
            turn = turn_lines(self.api.requests[-1]) if sends else b""
            assert len(self.api.requests) == seen + sends and self.chat.read_bytes() == before + new_input + turn
        assert self.api.rejected == [], [r.error for r in self.api.rejected]
        assert self.api.accepted, "no request was ever answered"


def _kill_many(
    tmp_path: Path, target: int, *, workers: int, real_cli: bool, seed: int, deadline_s: float
) -> list[dict]:
    pool_workers = [Worker(n, tmp_path / f"w{n}", seed * 100 + n) for n in range(workers)]
    kills = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + deadline_s

    def drive(worker: Worker) -> None:
        zygote = None if real_cli else Zygote()
        try:
            run = 0
            while True:
                with lock:
                    if kills["killed"] >= target or time.monotonic() > deadline:
                        return
                run += 1
                # one run in eight is left to finish: the file grows and the calls get answered
                result = worker.one_run(run, kill=worker.rng.random() >= 0.125, zygote=zygote)
                with lock:
                    kills["killed" if result["code"] == -signal.SIGKILL else "finished"] += 1
        finally:
            if zygote:
                zygote.close()

    try:
        with ThreadPoolExecutor(workers) as pool:
            for future in [pool.submit(drive, w) for w in pool_workers]:
                future.result()
        for w in pool_workers:
            w.finish()
    finally:
        for w in pool_workers:
            w.close()
    log = [r for w in pool_workers for r in w.log]
    assert kills["killed"] >= target, f"only {kills['killed']} kills before the deadline"
    return log


def _where(r: dict) -> str:
    """Where a kill landed, judged by what the server saw and what was on disk."""
    if r["code"] != -signal.SIGKILL:
        return "finished"
    if r["changed"]:
        return "after the write"
    if r["tmp_left"]:
        return "during the write"
    if r["responded"]:
        return "after the response, before the write"
    if r["streamed"]:
        return "while streaming"
    if r["reached_server"]:
        return "waiting for the API"
    return "before the request"


def test_sigkill_at_random_moments_leaves_the_old_file_or_the_complete_turn(tmp_path):
    log = _kill_many(
        tmp_path,
        TARGET_KILLS,
        workers=WORKERS,
        real_cli=False,
        seed=int(os.environ.get("RESPCTL_KILL_SEED", "6")),
        deadline_s=170,
    )
    where = Counter(_where(r) for r in log)
    commands = Counter(r["cmd"] for r in log if r["code"] == -signal.SIGKILL)
    print(f"\n{sum(v for k, v in where.items() if k != 'finished')} kills: {dict(where)}; by command: {dict(commands)}")
    # The harness itself must reach every stage, or it proves less than it claims.
    for stage in ("before the request", "waiting for the API", "while streaming"):
        assert where[stage] >= 10 * SCALE, f"too few kills {stage}: {dict(where)}"
    after_the_answer = (
        where["after the response, before the write"] + where["during the write"] + where["after the write"]
    )
    assert after_the_answer >= 10 * SCALE and where["during the write"] >= 3 * SCALE, (
        f"too few kills after the answer: {dict(where)}"
    )
    assert commands["say"] >= 50 * SCALE and commands["tool-result"] >= 50 * SCALE, dict(commands)


def test_sigkill_of_the_real_cli_process(tmp_path):
    """The same check on real `python -m respctl` processes (imports and all), fewer of them."""
    kills = soak(12, 4)
    log = _kill_many(tmp_path, kills, workers=2, real_cli=True, seed=7, deadline_s=120)
    assert sum(r["code"] == -signal.SIGKILL for r in log) >= kills


@pytest.mark.parametrize("command", ["say", "tool-result"])
def test_kill_in_the_write_window_with_a_reader_watching(tmp_path, command):
    """A reader that polls the file while turns are killed during their write never sees a torn file:
    every snapshot parses strictly and is the old file or the new one."""
    worker = Worker(0, tmp_path / "w", 11)
    zygote = Zygote()
    snapshots: set[bytes] = set()
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                snapshots.add(worker.chat.read_bytes())
            except FileNotFoundError:  # never: rename replaces the name atomically
                snapshots.add(b"<missing>")
            time.sleep(0.001)

    thread = threading.Thread(target=reader, daemon=True)
    try:
        if command == "tool-result":
            worker.one_run(0, kill=False, zygote=zygote)  # leaves a call waiting
        thread.start()
        states = {worker.chat.read_bytes()}
        for run in range(1, 9):
            if command == "tool-result" and not pending_calls(worker.chat.read_bytes()):
                worker.one_run(100 + run, kill=False, zygote=zygote)
            worker.one_run(run, kill=run % 4 != 0, zygote=zygote, phase="writing")
            states.add(worker.chat.read_bytes())
        stop.set()
        thread.join()
    finally:
        stop.set()
        zygote.close()
        worker.close()
    assert b"<missing>" not in snapshots
    # every snapshot a reader saw is a whole state of the file, never a torn one
    final = worker.chat.read_bytes()
    assert len(snapshots) >= 2
    for snap in snapshots:
        assert final.startswith(snap) and snap.endswith(b"\n")
        parse_lines(snap, "snapshot")  # strictly parseable: never a torn line
