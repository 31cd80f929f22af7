"""What a turn prints: data on stdout, people's lines on stderr."""

from __future__ import annotations

import os
import re
import shlex
import sys
from typing import TYPE_CHECKING

import orjson

from respctl import terminal
from respctl.errors import ExitCode, RespctlError
from respctl.outcome import Status

if TYPE_CHECKING:
    from respctl.turn import TurnResult

#: -q: errors only; -v: also what respctl does (URL, request size, retries, lock waits, timings).
QUIET, NORMAL, VERBOSE = 0, 1, 2
_verbosity = NORMAL
_color = "auto"


def configure(*, quiet: bool = False, verbose: bool = False, color: str = "auto") -> None:
    """Set once per invocation, from -q/-v and --color."""
    global _verbosity, _color
    _verbosity = QUIET if quiet else VERBOSE if verbose else NORMAL
    _color = color


def stderr_colour() -> bool:
    return terminal.colour_wanted(_color, sys.stderr)


def redact(text: str) -> str:
    """Never show the API key, whatever quoted it (a proxy echoing the Authorization header, say),
    nor the credentials of any URL in the text, nor those of the configured URL wherever they are
    quoted alone (a server echoing the path and query, an HTTP library's complaint)."""
    for name in ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY"):
        key = os.environ.get(name, "").strip()
        text = text.replace(key, "[the API key]") if len(key) >= 8 else text
    if "://" in text:
        text = _URL.sub(lambda m: redact_url(m.group(0)), text)
    for secret in _url_secrets:
        text = text.replace(secret, "***")
    return text


#: The password and query values of the configured API URL, longest first (see hide_url_secrets).
_url_secrets: list[str] = []


def hide_url_secrets(url: str | None) -> None:
    """From now on redact() hides the password and the query values of `url` (--base-url,
    OPENAI_BASE_URL) as literal strings, as it hides the key. The password is taken up to the last
    `@`, so one holding `#`, `/` or `?` (which a URL parser cuts short) is hidden whole."""
    from urllib.parse import parse_qsl, unquote

    if not url or "://" not in url:
        return
    rest = url.partition("://")[2]
    found = []
    if "@" in rest:
        userinfo = rest.rpartition("@")[0]
        found += [userinfo.partition(":")[2], userinfo]
    query = rest.partition("?")[2].partition("#")[0]
    found += [value for _key, value in parse_qsl(query, keep_blank_values=True)]
    found += [part.partition("=")[2] for part in query.split("&")]
    found += [unquote(secret) for secret in found]
    # a value of one or two characters is no secret, and hiding it would garble every line
    _url_secrets.extend(
        sorted({secret for secret in found if len(secret) >= 3} - set(_url_secrets), key=len, reverse=True)
    )


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """`scheme://user:password@host/path?key=value` as `scheme://***@host/path?key=***`: a proxy's
    password or an `?api_key=` in OPENAI_BASE_URL is never shown."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        authority = "***@" + authority.rpartition("@")[2]
    path, q, query = tail.partition("?")
    if q:
        query, hash_, fragment = query.partition("#")
        query = "&".join(part.partition("=")[0] + ("=***" if "=" in part else "") for part in query.split("&"))
        query += hash_ + fragment
    return f"{scheme}://{authority}{path}{q}{query}"


def silence_stdout() -> None:
    """The reader of stdout went away (`respctl say ... | head`): drop what is left to print,
    so that the turn still completes and is written, and Python's exit does not fail either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def error(message: str) -> None:
    """One line, always: newlines in a message (from an API, say) are folded, and control
    characters (in a file name, or an API's text) are shown escaped, never sent to the terminal.
    A streamed answer or summary cut short is ended first (attributes reset, line ended)."""
    end_stream()
    sys.stderr.write(f"respctl: error: {error_text(message)}\n")
    sys.stderr.flush()


def error_text(message: str) -> str:
    """An error message as its line shows it (and --json's `error.message`): one line, redacted,
    controls and what is not text (a lone surrogate from undecodable argv bytes) escaped."""
    return escape_controls(" ".join(redact(message).split()))


def escape_controls(text: str) -> str:
    """Text for one line of respctl's own: what could act on a terminal or end the line is shown
    escaped (`\\x1b`); all other text, tabs, joiners (ZWJ, ZWNJ) and every script included, as it is."""
    return terminal.UNSAFE_IN_A_LINE.sub(lambda m: _escaped(m.group()), text)


def _escaped(c: str) -> str:
    return f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}"


def plural(n: int, word: str) -> str:
    """`1 item`, `2 items`."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def note(message: str, *, level: int = NORMAL) -> None:
    """A line for people on stderr: shown from `level` up (-q shows none, -v all)."""
    if _verbosity < level:
        return
    if _current is not None:
        _current.break_line()
    sys.stderr.write(f"respctl: {escape_controls(redact(message))}\n")  # names and arguments come from the model
    sys.stderr.flush()


def block(title: str, text: str) -> None:
    """A title line, then untrusted text line by line (a server's error page), escaped and redacted."""
    lines = [f"respctl: {title}", *(escape_controls(redact(line)) for line in text.splitlines())]
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()


def detail(message: str) -> None:
    """A line only -v shows."""
    note(message, level=VERBOSE)


class _Stream:
    """Streams text to stdout and reasoning summaries (dimmed on a terminal) to stderr.

    On a terminal the answer is cleaned as `show` cleans it (escape sequences removed, other
    controls shown as U+FFFD; newlines and tabs kept); piped, it is the model's exact text. The
    summary, a line for people on stderr, is always cleaned so, by the same cleaner."""

    def __init__(self, text_to_stdout: bool):
        self.text_to_stdout = text_to_stdout
        self.last = "\n"  # the last character written to stdout
        self.err_last = "\n"  # ... and to stderr
        self.reasoning_open = False
        self.dim = stderr_colour()
        self.cleaner = terminal.StreamCleaner() if terminal.isatty(sys.stdout) else None
        self.summary_cleaner = terminal.StreamCleaner()

    def text(self, delta: str) -> None:
        self._close_reasoning()
        if self.cleaner is not None:
            delta = self.cleaner.feed(delta)
        self._out(delta)

    def _out(self, text: str) -> None:
        if self.text_to_stdout and text:
            try:
                sys.stdout.write(text)
                sys.stdout.flush()
            except BrokenPipeError:  # the turn goes on: the answer is still written to the file
                self.text_to_stdout = False
                silence_stdout()
                return
            self.last = text[-1]

    def reasoning(self, delta: str) -> None:
        if not self.reasoning_open:
            self.reasoning_open = True
            if self.dim:
                sys.stderr.write("\x1b[2m")
        self._err(self.summary_cleaner.feed(delta))  # no escape sequence of the model's gets through

    def _err(self, text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()
        self.err_last = text[-1:] or self.err_last

    def reasoning_break(self) -> None:
        if self.reasoning_open:
            self._err(self.summary_cleaner.flush())
            sys.stderr.write("\n\n")
            self.err_last = "\n"

    def _close_reasoning(self) -> None:
        if self.reasoning_open:
            self._err(self.summary_cleaner.flush())
            self.reasoning_open = False
            sys.stderr.write(terminal.RESET if self.dim else "")
            sys.stderr.flush()

    def break_line(self) -> None:
        """Before a line of respctl's own: attributes off, and the summary's line ended."""
        self._close_reasoning()
        if self.err_last != "\n":
            sys.stderr.write("\n")
            self.err_last = "\n"
        if self.last != "\n" and terminal.isatty(sys.stdout) and _same_terminal():
            self._out("\n")

    def finish(self) -> None:
        self._close_reasoning()
        if self.cleaner is not None:
            self._out(self.cleaner.flush())
        if self.err_last != "\n":
            sys.stderr.write("\n")
            self.err_last = "\n"
        if self.text_to_stdout and self.last != "\n":
            self._out("\n")


def _same_terminal() -> bool:
    try:
        return os.path.samestat(os.fstat(sys.stdout.fileno()), os.fstat(sys.stderr.fileno()))
    except (OSError, ValueError):
        return False


_current: _Stream | None = None


def turn_callbacks(*, json_out: bool, stream: bool):
    """What a turn reports while it runs: streamed text and summaries, retries, -v details."""
    # here, not at the top: lint and show load this module and never need it
    from respctl.callbacks import Callbacks

    global _current
    callbacks = Callbacks(retry=retrying, detail=detail)
    if stream:
        _current = _Stream(text_to_stdout=not json_out)
        callbacks.text, callbacks.reasoning = _current.text, _current.reasoning
        callbacks.reasoning_break = _current.reasoning_break
    return callbacks


def retrying(why: str, seconds: float, number: int, allowed: int) -> None:
    note(f"{why}; retrying in {seconds:.1f}s (retry {number} of {allowed}, --max-retries)")


def end_stream() -> None:
    """After an abnormal end (Ctrl-C, a broken stream): reset the terminal's attributes and end
    the lines the stream left open, so that the error line starts on a line of its own."""
    if _current is not None:
        try:
            _current.break_line()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


def lock_wait(event: str, name: str, seconds: float) -> None:
    """Another respctl holds the file: said once the wait passes a second, in full with -v."""
    if event == "busy":
        detail(f"{name}: another respctl holds the file; waiting for it (--lock-timeout)")
    elif event == "waiting":
        note(f"{name}: waiting for another respctl that holds the file (--lock-timeout)")
    else:
        detail(f"{name}: got the lock after {seconds:.1f}s")


def tool_ran(call: dict, line: str) -> None:
    note(f"ran {call.get('name')} for {call.get('call_id')}: {line}")


def usage_line(usage: dict | None) -> str | None:
    if not isinstance(usage, dict):
        return None
    cached = (usage.get("input_tokens_details") or {}).get("cached_tokens")
    reasoning = (usage.get("output_tokens_details") or {}).get("reasoning_tokens")
    line = f"tokens: {usage.get('input_tokens', 0):,} input"
    if cached:
        line += f" ({cached:,} cached)"
    line += f", {usage.get('output_tokens', 0):,} output"
    if reasoning:
        line += f" ({reasoning:,} reasoning)"
    return line


def turn_result(result: TurnResult, *, json_out: bool, streamed: bool, file: str) -> int:
    """Print a TurnResult the contract's way and return its exit code."""
    try:
        return _print_result(result, json_out=json_out, streamed=streamed, file=file)
    except BrokenPipeError:  # the file is written: the exit status still tells the turn's outcome
        silence_stdout()
        return int(ExitCode.OK) if result.status is Status.DRY_RUN else int(result.exit_code)


def _print_result(result: TurnResult, *, json_out: bool, streamed: bool, file: str) -> int:
    if _current is not None:
        _current.finish()
    on_terminal = terminal.isatty(sys.stdout)
    if result.status is Status.DRY_RUN:
        if result.body is None:
            note("--dry-run: nothing would be sent (no turn runs)")
        else:  # the exact body, but on a terminal the raw C1 and bidi characters a file may hold escaped
            sys.stdout.buffer.write((terminal.escaped_json(result.body) if on_terminal else result.body) + b"\n")
            sys.stdout.flush()
        return int(ExitCode.OK)
    if json_out:
        write_json({**result.as_json(), "exit_code": int(result.exit_code), "error": None})
    elif result.text and not streamed:
        text = terminal.clean(result.text) if on_terminal else result.text
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    _people_lines(result, file)
    return int(result.exit_code)


def compact_result(result, *, json_out: bool, file: str) -> int:
    """Print what `respctl compact` did (a respctl.turn.Compacted); --dry-run: the request body."""
    if result.body is not None:
        on_terminal = terminal.isatty(sys.stdout)
        sys.stdout.buffer.write((terminal.escaped_json(result.body) if on_terminal else result.body) + b"\n")
        sys.stdout.flush()
        return int(ExitCode.OK)
    if json_out:
        write_json({**result.as_json(), "exit_code": 0, "error": None})
        return int(ExitCode.OK)
    usage = result.usage or {}
    tokens = [usage.get(key) for key in ("input_tokens", "output_tokens")]
    sys.stdout.write(
        f"compacted {terminal.clean(file)}: {plural(result.items_before, 'item')} ({_size(result.bytes_before)}) "
        f"-> {plural(result.items_after, 'item')} ({_size(result.bytes_after)})"
        + (f"; tokens: {tokens[0]:,} in, {tokens[1]:,} out" if all(type(t) is int for t in tokens) else "")
        + "\n"
    )
    sys.stdout.flush()
    note(f"{plural(result.archived, 'earlier item')} appended to {terminal.clean(str(result.archive))}")
    return int(ExitCode.OK)


def _size(n: int) -> str:
    return f"{n:,} bytes" if n < 10_000 else f"{n / 1024:,.0f} KB"


def write_json(obj: dict) -> None:
    sys.stdout.buffer.write(terminal.escaped_json(orjson.dumps(obj)) + b"\n")
    sys.stdout.flush()


def failure_json(exc: BaseException, code: int, *, message: str = "", appended: int = 0) -> None:
    """--json: a failed turn is one object too, of the success object's keys, with its error. An
    interrupt's `message` and `appended` are those its error line states."""
    if isinstance(exc, RespctlError):
        error = {"kind": exc.kind, "message": error_text(str(exc)), "http_status": exc.http_status, "body": exc.detail}
        appended = exc.appended
    else:
        error = {"kind": "interrupted", "message": error_text(message), "http_status": None, "body": None}
    saved = not isinstance(exc, RespctlError) and code in (ExitCode.OK, ExitCode.PENDING, ExitCode.INCOMPLETE)
    obj: dict[str, object] = {
        "status": "interrupted" if saved else "error",  # interrupted once the turn was saved: exit code is its own
        "text": "",
        "tool_calls": [],
        "usage": None,
        "response_id": None,
        "appended": appended,
        "exit_code": code,
        "error": error,
    }
    try:
        write_json(obj)
    except BrokenPipeError:
        silence_stdout()


def _people_lines(result: TurnResult, file: str) -> None:
    line = usage_line(result.usage)
    if line:
        note(line)
    if result.dropped:
        note(
            f"compaction: {plural(result.dropped, 'earlier item')} moved to {file}.history.jsonl; "
            "the file holds what the next turn sends"
        )
    if result.status is Status.INCOMPLETE:
        note("the response is incomplete; its complete items were kept and the file replays (exit 4)")
    elif result.status is Status.RECORDED and result.appended:
        note(f"recorded {plural(result.appended, 'item')}; no turn was run")
    if result.exit_code == ExitCode.PENDING:
        for call in result.tool_calls:
            note(f"tool call waiting: {call['name']} {call['call_id']} {call['arguments']}")
        name = shlex.quote(file)
        if result.rounds_limit is not None:
            note(
                f"stopped after {plural(result.rounds_limit, 'round')} of tool calls (--max-tool-rounds "
                f"{result.rounds_limit}); rerun 'respctl say {name}' with the same --tools and --run-tool to continue"
            )
        note(f"answer with 'respctl tool-result {name} CALL_ID OUTPUT' (see 'respctl show {name} --pending')")


# -- respctl batch


def batch_status_line(batch: dict) -> str:
    """`batch_abc  in_progress  12 of 1,000 done (1 failed)`: one line, the server's words escaped."""
    counts = batch.get("request_counts") or {}
    total, completed, failed = (int(counts.get(k) or 0) for k in ("total", "completed", "failed"))
    line = f"{batch.get('id')}  {batch.get('status')}  {completed + failed:,} of {total:,} done"
    if failed:
        line += f" ({failed:,} failed)"
    return escape_controls(redact(line))


def batch_report(report, *, json_out: bool, cwd: str) -> int:
    """collect's and run's report: one line per file (outcome, file, detail), then the counts; the
    exit code of the report. Every name and detail (a file name, a server's message) escaped."""
    try:
        if json_out:
            write_json(report.as_json())
        else:
            width = max((len(f.outcome.value) for f in report.files), default=0)
            lines = []
            for f in report.files:
                name = os.path.relpath(f.path, cwd) if f.path.startswith(cwd + os.sep) else f.path
                detail = f"  ({' '.join(f.detail.split())})" if f.detail else ""
                lines.append(escape_controls(redact(f"{f.outcome.value:<{width}}  {name}{detail}")))
            sys.stdout.write("".join(line + "\n" for line in lines))
            sys.stdout.flush()
            counts = ", ".join(f"{n:,} {what}" for what, n in report.counts().items()) or "no files"
            note(f"{report.batch_id} {report.status}: {counts} (exit {int(report.exit_code)})")
        for line in report.notes:
            note(line)
    except BrokenPipeError:
        silence_stdout()
    return int(report.exit_code)


class Progress:
    """A one-line progress bar on stderr, redrawn in place; only when stderr is a terminal (and not -q)."""

    def __init__(self) -> None:
        self.shown = _verbosity >= NORMAL and terminal.isatty(sys.stderr)
        self.drawn = False

    def update(self, label: str, done: int, total: int) -> None:
        if not self.shown:
            return
        # One line, never wider than the terminal: a line that wraps is not redrawn in place by \r.
        room = terminal.columns((sys.stderr,), least=1) - 1
        label, count = escape_controls(label), f" {done:,}/{total:,}"
        width = min(30, room - terminal.display_width(label) - len(count) - 3)  # the bar gives way first
        if width >= 5:
            filled = width * done // total if total else 0
            count = f" [{'#' * filled}{'.' * (width - filled)}]{count}"
        line = terminal.fit(label, max(1, room - len(count))) + count
        sys.stderr.write(f"\r\x1b[K{terminal.fit(line, room)}")
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.drawn = False
