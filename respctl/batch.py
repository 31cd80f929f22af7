"""`respctl batch`: the next turn of many conversation files, through the Batch API or, with
--local, as concurrent requests to the base URL. Never prints (respctl.cli renders the report).

    submit   each file's next request, exactly as `say` would send it (turn.plan_say), one line of
             the batch input each; the input uploaded, the batch created, a manifest written;
    collect  the batch's output and error files read, each answer recorded in its file the way
             `say` records one (turn.record_answer), under the file's lock, and only if the file
             still holds the bytes it was submitted with.

The manifest, `.respctl-batch/<batch id>.json` in the folder `submit` ran in, maps each request's
custom_id to the file's absolute path, the SHA-256 and the size of the bytes the request was built
from. A custom_id is `<index>-<first 48 hex of that SHA-256>`: at most 54 characters. The OpenAI
Batch API documents no length limit; Anthropic's refuses more than 64 characters
(anthropics/anthropic-sdk-python issue 984), so the ids stay within 64 for any server that copies it.
"""

from __future__ import annotations

import hashlib
import os
import queue
import re
import shlex
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import orjson

from respctl import turn
from respctl.conversation import dumps_item, locked_conversation, signals_deferred, write_atomic
from respctl.errors import ApiError, ExitCode, RespctlError, UsageError
from respctl.request import Connection

MANIFEST_DIR = ".respctl-batch"
#: The states after which a batch changes no more (openai.types.Batch.status).
TERMINAL = ("completed", "failed", "expired", "cancelled")
#: Files collect writes at a time (each write atomic and fsynced: time spent waiting on the disk).
APPLY_THREADS = 8
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,200}$")  # a manifest's name: never a path


class Outcome(str, Enum):
    """What collect did with one file, as the report and --json name it."""

    ANSWERED = "answered"  # the answer was appended; exit 0
    WAITING = "calls waiting"  # appended; the model asked for tool calls (exit 3)
    INCOMPLETE = "incomplete"  # appended, the answer cut short (exit 4)
    FAILED = "failed"  # no answer: the request failed, expired, or the batch did (exit 1)
    CHANGED = "changed meanwhile"  # the file no longer holds the bytes submitted: left as it is (exit 2)
    APPLIED = "already applied"  # an earlier collect appended this very answer: nothing to do
    NOT_SENT = "not sent"  # --local, interrupted before this file's request was sent: left as it is
    NOT_APPLIED = "not applied"  # interrupted before its answer was written (or while --local awaited it)


#: The exit code of a report: the first of these outcomes found, in this order; else 0.
PRECEDENCE = (
    (Outcome.FAILED, ExitCode.FAILED),
    (Outcome.CHANGED, ExitCode.USAGE),
    (Outcome.INCOMPLETE, ExitCode.INCOMPLETE),
    (Outcome.WAITING, ExitCode.PENDING),
)


@dataclass
class Entry:
    custom_id: str
    path: str  # absolute
    sha256: str
    size: int


@dataclass
class Manifest:
    batch_id: str
    mode: str  # "batch" (the Batch API) or "local" (--local)
    created_at: float
    model: str | None
    entries: list[Entry]
    input_file_id: str | None = None
    options: dict = field(default_factory=dict)  # the request's options as sent: model, tools, reasoning...

    def as_json(self) -> dict:
        return {
            "batch_id": self.batch_id,
            "mode": self.mode,
            "created_at": self.created_at,
            "model": self.model,
            "input_file_id": self.input_file_id,
            "options": self.options,
            "entries": {e.custom_id: {"path": e.path, "sha256": e.sha256, "size": e.size} for e in self.entries},
        }

    report: dict | None = None  # --local: the report of the run, once it has ended (or was interrupted)

    def save(self, folder: Path) -> Path:
        path = manifest_path(self.batch_id, folder)
        path.parent.mkdir(exist_ok=True)
        obj = self.as_json()
        if self.report is not None:
            obj["report"] = self.report
        write_atomic(path, orjson.dumps(obj, option=orjson.OPT_INDENT_2) + b"\n")
        return path


def check_manifest_folder(folder: Path) -> None:
    """Before anything is uploaded: the folder the manifest goes in can be made and written, or one
    clear error (a batch whose manifest cannot be written is a paid batch nobody can collect)."""
    where = folder / MANIFEST_DIR
    try:
        where.mkdir(exist_ok=True)
        probe = where / f".probe-{os.getpid()}-{os.urandom(4).hex()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        why = "a file is in the way" if isinstance(exc, FileExistsError) else (exc.strerror or type(exc).__name__)
        raise UsageError(f"cannot write the batch's manifest in {where} ({why}); nothing was submitted") from None


class Orphaned(ApiError):
    """The batch exists (and is paid for) but its manifest could not be written: its id is all there is."""

    def __init__(self, batch_id: str, message: str):
        super().__init__(message)
        self.batch_id = batch_id


def manifest_path(batch_id: str, folder: Path | None = None) -> Path:
    if not _BATCH_ID.match(batch_id):
        raise UsageError(f"{batch_id!r} is not a batch id (letters, digits, '_' and '-')")
    return (folder or Path.cwd()) / MANIFEST_DIR / f"{batch_id}.json"


def load_manifest(batch_id: str, folder: Path | None = None) -> Manifest:
    path = manifest_path(batch_id, folder)
    try:
        obj = orjson.loads(path.read_bytes())
        entries = [Entry(cid, e["path"], e["sha256"], int(e["size"])) for cid, e in obj["entries"].items()]
        return Manifest(
            obj["batch_id"],
            obj["mode"],
            obj["created_at"],
            obj.get("model"),
            entries,
            obj.get("input_file_id"),
            obj.get("options") or {},
            obj.get("report"),
        )
    except FileNotFoundError:
        raise UsageError(
            f"no manifest {path} here: run 'respctl batch' in the folder where the batch was submitted"
        ) from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"{path}: not a manifest respctl wrote ({type(exc).__name__})") from None


def local_summary(manifest: Manifest) -> str:
    """What a --local run did, from its manifest: its answers were applied as it ran."""
    report = manifest.report
    if not report:
        return "it did not end (its report was never saved); each file holds what it holds"
    counts = ", ".join(f"{n:,} {what}" for what, n in (report.get("counts") or {}).items()) or "no files"
    how = "was interrupted" if report.get("interrupted") else "ended"
    where = f"{MANIFEST_DIR}/{manifest.batch_id}.json"
    return f"it {how}: {counts} (exit {report.get('exit_code')}); its report is in {where}"


@dataclass
class Planned:
    """The requests of a batch, worked out, nothing sent: one line of the batch input per file."""

    entries: list[Entry]
    bodies: list[bytes]
    refused: list[tuple[str, str]]  # (file, why), each refused as `say` would refuse it

    def options(self) -> dict:
        """The options every request carries (the first request's body but its input and cache key)."""
        if not self.bodies:
            return {}
        head = orjson.loads(self.bodies[0])
        return {k: v for k, v in head.items() if k not in ("input", "prompt_cache_key")}

    def input_jsonl(self) -> bytes:
        """The batch input file: each body as `say` builds it, byte for byte, inside its request line."""
        return b"".join(
            _LINE_HEAD + orjson.dumps(e.custom_id) + _LINE_MIDDLE + body + _LINE_END
            for e, body in zip(self.entries, self.bodies, strict=True)
        )

    def input_size(self) -> int:
        """len(self.input_jsonl()), without building it."""
        envelope = len(_LINE_HEAD) + len(_LINE_MIDDLE) + len(_LINE_END)
        return sum(
            envelope + len(orjson.dumps(e.custom_id)) + len(b) for e, b in zip(self.entries, self.bodies, strict=True)
        )

    def over_documented_limits(self) -> str | None:
        """A note when the batch input is over what the Batch API documents for one input file, else None.

        The API reference (Create batch, `input_file_id`): "The file can contain up to 50,000 requests,
        and can be up to 200 MB in size." Only a note, never a refusal: the server decides (a limit
        raised, another server's Batch API), and one over them fails validation there at no cost."""
        count, size = len(self.entries), self.input_size()
        if count <= DOCUMENTED_MAX_REQUESTS and size <= DOCUMENTED_MAX_BYTES:
            return None
        return (
            f"{count:,} requests, {size / 1e6:,.1f} MB: over the Batch API's documented limits for one batch "
            f"({DOCUMENTED_MAX_REQUESTS:,} requests, {DOCUMENTED_MAX_BYTES // 10**6} MB); if the batch fails "
            "validation, submit the files in smaller groups"
        )


_LINE_HEAD, _LINE_MIDDLE, _LINE_END = b'{"custom_id":', b',"method":"POST","url":"/v1/responses","body":', b"}\n"
#: The Batch API's documented limits on one input file (see Planned.over_documented_limits).
DOCUMENTED_MAX_REQUESTS = 50_000
DOCUMENTED_MAX_BYTES = 200 * 10**6


def plan(paths: Iterable[str], settings: turn.TurnSettings) -> Planned:
    """Each file's next request, as `respctl say FILE` (no message) would send it now: the same
    checks (lint for the target's rules, no call waiting, something new to answer), the same body."""
    entries, bodies, refused = [], [], []
    seen: set[str] = set()
    for index, name in enumerate(paths):
        path = os.path.abspath(name)
        real = os.path.realpath(path)  # one file under two names (a symlink) is one file
        if real in seen:
            refused.append((name, "given twice (the same file as an earlier name)" if real != path else "given twice"))
            continue
        seen.add(real)
        try:
            arg = shlex.quote(f"./{name}" if name.startswith("-") else name)  # never read as an option
            hint = f"add a user message first: respctl say {arg} MESSAGE --no-send"
            planned = turn.plan_say(name, settings=settings, nothing_new=hint)
        except RespctlError as exc:
            refused.append((name, str(exc)))
            continue
        digest = hashlib.sha256(planned.source).hexdigest()
        entries.append(Entry(f"{index}-{digest[:48]}", path, digest, len(planned.source)))
        bodies.append(planned.body)
    return Planned(entries, bodies, refused)


def submit(planned: Planned, conn: Connection, *, model: str | None, folder: Path) -> Manifest:
    """Upload the batch input, create the batch, write its manifest (after the batch exists: its id
    names it). Returns the manifest.

    The manifest's folder is checked before anything is uploaded. Once the batch exists, a failure
    to write the manifest raises Orphaned (which carries the id), and Ctrl-C while it is written is
    held back until it is written, then raised with the id as its `batch_id`."""
    from respctl import client

    check_manifest_folder(folder)
    data = planned.input_jsonl()
    file_id = client.upload_batch_input(conn, "respctl-batch.jsonl", data)
    batch = client.create_batch(conn, file_id, {"created_by": "respctl"})
    batch_id = str(batch.get("id"))
    try:
        with signals_deferred():
            manifest = Manifest(batch_id, "batch", time.time(), model, planned.entries, file_id, planned.options())
            manifest.save(folder)
    except KeyboardInterrupt as exc:
        exc.batch_id = batch_id  # type: ignore[attr-defined]
        raise
    except (OSError, RespctlError) as exc:
        why = str(exc) if isinstance(exc, RespctlError) else f"{type(exc).__name__}: {exc.strerror or exc}"
        raise Orphaned(
            batch_id,
            f"the batch {batch_id} was created, but its manifest could not be written ({why}); "
            "it runs all the same ('respctl batch status ID' follows it), but 'respctl batch collect' cannot "
            "apply its answers without the manifest",
        ) from None
    return manifest


@dataclass
class FileReport:
    path: str
    custom_id: str
    outcome: Outcome
    detail: str = ""
    appended: int = 0

    def as_json(self) -> dict:
        return {
            "file": self.path,
            "custom_id": self.custom_id,
            "outcome": self.outcome.value,
            "detail": self.detail,
            "appended": self.appended,
        }


@dataclass
class Report:
    batch_id: str
    status: str
    files: list[FileReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    interrupted: int | None = None  # the signal that stopped it (Ctrl-C: SIGINT): exit 128 + it

    @property
    def exit_code(self) -> int:
        if self.interrupted is not None:
            return 128 + self.interrupted
        outcomes = {f.outcome for f in self.files}
        for outcome, code in PRECEDENCE:
            if outcome in outcomes:
                return code
        return ExitCode.OK

    def counts(self) -> dict[str, int]:
        return {o.value: n for o in Outcome if (n := sum(f.outcome is o for f in self.files))}

    def as_json(self) -> dict:
        return {
            "batch_id": self.batch_id,
            "status": self.status,
            "exit_code": int(self.exit_code),
            "counts": self.counts(),
            "files": [f.as_json() for f in self.files],
            "notes": self.notes,
            "interrupted": self.interrupted is not None,
        }


#: A result for one request: the response object, or why there is none.
Result = tuple[dict | None, str | None]


def results_of(data: bytes, known: set[str], notes: list[str]) -> dict[str, Result]:
    """The lines of a batch's output or error file, by custom_id (an id this manifest does not hold,
    or a line that is not JSON, becomes a note)."""
    from respctl import apierror

    found: dict[str, Result] = {}
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
            custom_id = obj.get("custom_id")
        except (orjson.JSONDecodeError, AttributeError):
            notes.append(f"line {n} of a result file is not a JSON object; skipped")
            continue
        if custom_id not in known:
            notes.append(f"line {n} of a result file answers a request this manifest does not hold; skipped")
            continue
        error, response = obj.get("error"), obj.get("response")
        if isinstance(error, dict):
            found[custom_id] = (None, f"{error.get('code') or 'error'}: {error.get('message') or 'no message'}")
        elif not isinstance(response, dict):
            found[custom_id] = (None, "the result holds neither a response nor an error")
        elif response.get("status_code") != 200:
            body = response.get("body")
            text = body if isinstance(body, str) else orjson.dumps(body).decode()
            found[custom_id] = (None, apierror.status_line(int(response.get("status_code") or 0), text))
        elif isinstance(response.get("body"), dict):
            found[custom_id] = (response["body"], None)
        else:
            found[custom_id] = (None, "the result's response has no body")
    return found


def collect(
    batch_id: str,
    conn: Connection,
    *,
    lock_timeout: float,
    batch: dict | None = None,
    on_interrupt: Callable[[], None] = lambda: None,
) -> Report:
    """Apply a batch's results to their files (each at most once), and say what became of each."""
    from respctl import client

    manifest = load_manifest(batch_id)
    if manifest.mode != "batch":
        raise UsageError(f"{batch_id} ran locally (--local), nothing to collect: {local_summary(manifest)}")
    batch = batch or client.retrieve_batch(conn, batch_id)
    status = str(batch.get("status"))
    if status not in TERMINAL:
        counts = batch.get("request_counts") or {}
        raise ApiError(
            f"batch {batch_id} is {status} ({counts.get('completed', 0) + counts.get('failed', 0)} of "
            f"{counts.get('total', 0)} requests done); collect it once it has ended ('respctl batch status {batch_id}')"
        )
    report = Report(batch_id, status)
    known = {e.custom_id for e in manifest.entries}
    results: dict[str, Result] = {}
    for key in ("error_file_id", "output_file_id"):  # an answer wins over an error for the same id
        if batch.get(key):
            results.update(results_of(client.file_content(conn, batch[key]), known, report.notes))
    why = _batch_failure(batch)

    def one(entry: Entry, gate: Gate) -> FileReport:
        answer, failure = results.get(entry.custom_id, (None, why))
        response = None
        if answer is not None:
            try:
                response = client.response_from_body(answer)  # as a turn reads a non-streamed answer
            except ApiError as exc:
                failure = str(exc)
        return apply(entry, response, failure, lock_timeout=lock_timeout, gate=gate)

    # Each file under its own lock; most of a file's time is its two fsyncs, which overlap across threads.
    def not_applied(entry: Entry, _started: bool) -> FileReport:
        return FileReport(
            entry.path, entry.custom_id, Outcome.NOT_APPLIED, f"interrupted first: 'respctl batch collect {batch_id}'"
        )

    report.files, report.interrupted = each(
        manifest.entries, one, workers=APPLY_THREADS, unfinished=not_applied, on_interrupt=on_interrupt
    )
    return report


class Gate:
    """Ctrl-C stops new work; a file being written when it came is written whole first."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._writing = 0
        self._mine = threading.local()
        self.stopped = False

    def enter(self) -> bool:
        """Before a write: False once stopped (write nothing), else the write may go ahead."""
        with self._cond:
            if self.stopped:
                return False
            self._writing += 1
            self._mine.entered = True
            return True

    def release(self) -> None:
        """The worker's result is stored: its write (if it made one) is over."""
        if getattr(self._mine, "entered", False):
            self._mine.entered = False
            with self._cond:
                self._writing -= 1
                self._cond.notify_all()

    def stop(self) -> None:
        """No write starts from now on; returns once those under way have ended."""
        with self._cond:
            self.stopped = True
            self._cond.wait_for(lambda: self._writing == 0)


def each(
    items: Sequence[Entry] | Sequence[tuple[Entry, bytes]],
    work: Callable,
    *,
    workers: int,
    unfinished: Callable[[Entry, bool], FileReport],
    on_done: Callable[[int, int], None] = lambda _done, _total: None,
    on_interrupt: Callable[[], None] = lambda: None,
) -> tuple[list[FileReport], int | None]:
    """work(item, gate) for each item, `workers` at a time, in daemon threads (a request in flight
    does not hold the process when it ends). Ctrl-C (or SIGTERM, SIGHUP): `on_interrupt` (it stops
    further signals), no new item is started, the writes under way end, and each item without a
    result gets unfinished(entry, started). Returns the reports in the items' order and the signal, if any."""
    results: list[FileReport | None] = [None] * len(items)
    started = [False] * len(items)
    finished: queue.Queue[int] = queue.Queue()
    gate = Gate()
    lock = threading.Lock()
    following = iter(range(len(items)))

    def worker() -> None:
        while True:
            with lock:
                i = next(following, None)
                if i is None or gate.stopped:
                    return
                started[i] = True
            try:
                result = work(items[i], gate)
            except BaseException as exc:  # a bug: reported for its file, never a hung run
                result = unfinished(_entry(items[i]), True)
                result.detail = f"{type(exc).__name__}: {exc}"
            results[i] = result
            gate.release()
            finished.put(i)

    for _ in range(min(workers, len(items))):
        threading.Thread(target=worker, daemon=True).start()
    signum = None
    try:
        for done in range(1, len(items) + 1):
            finished.get()
            on_done(done, len(items))
    except KeyboardInterrupt as exc:
        on_interrupt()
        signum = int(getattr(exc, "signum", 2))
        gate.stop()
    reports = [r if r is not None else unfinished(_entry(items[i]), started[i]) for i, r in enumerate(results)]
    return reports, signum


def _entry(item) -> Entry:
    return item[0] if isinstance(item, tuple) else item


def _batch_failure(batch: dict) -> str:
    """Why a request has no result at all: the batch's own errors (a failed validation), or its state."""
    errors = ((batch.get("errors") or {}).get("data")) or []
    if errors:
        first = errors[0]
        where = f" (line {first.get('line')})" if first.get("line") else ""
        more = f" and {len(errors) - 1} more" if len(errors) > 1 else ""
        return f"the batch {batch.get('status')}: {first.get('code')}: {first.get('message')}{where}{more}"
    return f"no result for this request (the batch is {batch.get('status')})"


def apply(entry: Entry, response, failure: str | None, *, lock_timeout: float, gate: Gate | None = None) -> FileReport:
    """One result (a client.RawResponse, or None and why) into its file, under the file's lock, only if
    the file still holds the bytes submitted. With a stopped `gate`, nothing is written (NOT_APPLIED)."""

    def report(outcome: Outcome, detail: str = "", appended: int = 0) -> FileReport:
        return FileReport(entry.path, entry.custom_id, outcome, detail, appended)

    if gate is not None and not gate.enter():
        return report(Outcome.NOT_APPLIED, "interrupted before its answer was written")
    try:
        with locked_conversation(entry.path, lock_timeout=lock_timeout) as conv:
            if hashlib.sha256(conv.data).hexdigest() != entry.sha256:
                if response is not None and _applied(conv.data, entry, response):
                    return report(Outcome.APPLIED, "an earlier collect appended this answer")
                return report(Outcome.CHANGED, "the file changed since it was submitted; left as it is")
            if response is None:
                return report(Outcome.FAILED, failure or "no answer")
            result = turn.record_answer(conv, [], response)
    except RespctlError as exc:
        if response is None:
            return report(Outcome.FAILED, failure or str(exc))
        return report(Outcome.CHANGED if exc.exit_code == ExitCode.USAGE else Outcome.FAILED, str(exc))
    outcome = {
        ExitCode.OK: Outcome.ANSWERED,
        ExitCode.PENDING: Outcome.WAITING,
        ExitCode.INCOMPLETE: Outcome.INCOMPLETE,
    }[result.exit_code]
    detail = ", ".join(c["call_id"] for c in result.tool_calls) if result.tool_calls else ""
    return report(outcome, detail, result.appended)


def _applied(data: bytes, entry: Entry, response) -> bool:
    """The file starts with the bytes submitted followed by exactly the lines this answer appends (what
    came after them, a later `say`, is the conversation going on, not a change to what was submitted)."""
    if len(data) <= entry.size or hashlib.sha256(data[: entry.size]).hexdigest() != entry.sha256:
        return False
    lines = b"".join(dumps_item(item) + b"\n" for item in turn.answer_items(response))
    rest = data[entry.size :]
    return rest.startswith(lines) or rest.startswith(b"\n" + lines)


def run_local(
    planned: Planned,
    conn: Connection,
    *,
    model: str | None,
    folder: Path,
    jobs: int,
    lock_timeout: float,
    on_done: Callable[[int, int], None] = lambda _done, _total: None,
    on_interrupt: Callable[[], None] = lambda: None,
) -> Report:
    """--local: the same requests sent to the base URL, `jobs` at a time, each answer applied as
    collect applies a batch's; the same manifest (its id `local-...`), which, once the run has ended
    or was interrupted, also holds its report (`batch status local-...` prints it)."""
    from respctl import client

    batch_id = f"local-{time.strftime('%Y%m%d-%H%M%S')}-{os.urandom(4).hex()}"
    check_manifest_folder(folder)
    manifest = Manifest(batch_id, "local", time.time(), model, planned.entries, None, planned.options())
    manifest.save(folder)
    report = Report(batch_id, "completed")

    def one(pair: tuple[Entry, bytes], gate: Gate) -> FileReport:
        entry, body = pair
        try:
            response = client.send(body, conn, stream=False)
        except ApiError as exc:
            return apply(entry, None, str(exc), lock_timeout=lock_timeout, gate=gate)
        return apply(entry, response, None, lock_timeout=lock_timeout, gate=gate)

    def unfinished(entry: Entry, started: bool) -> FileReport:
        if started:
            return FileReport(
                entry.path, entry.custom_id, Outcome.NOT_APPLIED, "interrupted while its request was in flight"
            )
        return FileReport(entry.path, entry.custom_id, Outcome.NOT_SENT, "interrupted first")

    pairs = list(zip(planned.entries, planned.bodies, strict=True))
    report.files, report.interrupted = each(
        pairs, one, workers=jobs, unfinished=unfinished, on_done=on_done, on_interrupt=on_interrupt
    )
    if report.interrupted is not None:
        report.status = "interrupted"
    manifest.report = report.as_json()
    try:
        manifest.save(folder)
    except (OSError, RespctlError) as exc:
        report.notes.append(f"the report could not be saved in the manifest of {batch_id}: {exc}")
    return report


def wait(batch_id: str, conn: Connection, *, longest: float, on_poll: Callable[[dict], None] = lambda _b: None) -> dict:
    """Poll the batch until it has ended, the wait doubling from a quarter second (or `longest`, if shorter)
    up to `longest`; returns the ended batch object."""
    from respctl import client

    delay = min(0.25, longest)
    while True:
        obj = client.retrieve_batch(conn, batch_id)
        on_poll(obj)
        if obj.get("status") in TERMINAL:
            return obj
        time.sleep(delay)
        delay = min(delay * 2, longest)
