"""What a turn prints: data on stdout, people's lines on stderr."""

from __future__ import annotations

import os
import re
import sys

import orjson

from respctl.errors import ExitCode


def redact(text: str) -> str:
    """Never show the API key, whatever quoted it (a proxy echoing the Authorization header, say),
    nor the credentials of any URL in the text."""
    for name in ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY"):
        key = os.environ.get(name, "").strip()
        text = text.replace(key, "[the API key]") if len(key) >= 8 else text
    return _URL.sub(lambda m: redact_url(m.group(0)), text) if "://" in text else text


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
    characters (in a file name, or an API's text) are shown escaped, never sent to the terminal."""
    sys.stderr.write(f"respctl: error: {escape_controls(' '.join(redact(message).split()))}\n")
    sys.stderr.flush()


def escape_controls(text: str) -> str:
    return "".join(
        c if c.isprintable() or c == " " else f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}" for c in text
    )


def note(message: str) -> None:
    sys.stderr.write(f"respctl: {escape_controls(redact(message))}\n")  # names and arguments come from the model
    sys.stderr.flush()


def block(title: str, text: str) -> None:
    """A title line, then untrusted text line by line (a server's error page), escaped and redacted."""
    lines = [f"respctl: {title}", *(escape_controls(redact(line)) for line in text.splitlines())]
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()


class _Stream:
    """Streams text to stdout and reasoning summaries (dimmed on a terminal) to stderr."""

    def __init__(self, text_to_stdout: bool):
        self.text_to_stdout = text_to_stdout
        self.last = "\n"
        self.reasoning_open = False
        self.dim = sys.stderr.isatty()

    def text(self, delta: str) -> None:
        self._close_reasoning()
        if self.text_to_stdout and delta:
            try:
                sys.stdout.write(delta)
                sys.stdout.flush()
            except BrokenPipeError:  # the turn goes on: the answer is still written to the file
                self.text_to_stdout = False
                silence_stdout()
                return
            self.last = delta[-1]

    def reasoning(self, delta: str) -> None:
        if not self.reasoning_open:
            self.reasoning_open = True
            if self.dim:
                sys.stderr.write("\x1b[2m")
        # the summary is for people, on their terminal: no escape sequence of the model's gets through
        sys.stderr.write("\n".join(escape_controls(part) for part in delta.split("\n")))
        sys.stderr.flush()

    def reasoning_break(self) -> None:
        if self.reasoning_open:
            sys.stderr.write("\n\n")

    def _close_reasoning(self) -> None:
        if self.reasoning_open:
            self.reasoning_open = False
            sys.stderr.write("\x1b[0m" if self.dim else "")
            sys.stderr.flush()

    def finish(self) -> None:
        self._close_reasoning()
        if self.text_to_stdout and self.last != "\n":
            sys.stdout.write("\n")
            sys.stdout.flush()


_current: _Stream | None = None


def stream_callbacks(json_out: bool):
    from respctl.client import Callbacks

    global _current
    _current = _Stream(text_to_stdout=not json_out)
    return Callbacks(text=_current.text, reasoning=_current.reasoning, reasoning_break=_current.reasoning_break)


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


def turn_result(result, *, json_out: bool, streamed: bool) -> int:
    """Print a TurnResult the contract's way and return its exit code."""
    try:
        return _print_result(result, json_out=json_out, streamed=streamed)
    except BrokenPipeError:  # the file is written: the exit status still tells the turn's outcome
        silence_stdout()
        return int(ExitCode.OK) if result.status == "dry-run" else int(result.exit_code)


def _print_result(result, *, json_out: bool, streamed: bool) -> int:
    if _current is not None:
        _current.finish()
    if result.status == "dry-run":
        if result.body is None:
            note("--dry-run: nothing would be sent (no turn runs)")
        else:
            sys.stdout.buffer.write(result.body + b"\n")
            sys.stdout.flush()
        return int(ExitCode.OK)
    if json_out:
        sys.stdout.buffer.write(orjson.dumps(result.as_json()) + b"\n")
        sys.stdout.flush()
    elif result.text and not streamed:
        sys.stdout.write(result.text if result.text.endswith("\n") else result.text + "\n")
        sys.stdout.flush()
    _people_lines(result)
    return int(result.exit_code)


def _people_lines(result) -> None:
    line = usage_line(result.usage)
    if line:
        note(line)
    if result.status == "incomplete":
        note("the response is incomplete; its complete items were kept and the file replays (exit 4)")
    elif result.status == "recorded" and result.appended:
        note(f"recorded {result.appended} item(s); no turn was run")
    if result.exit_code == ExitCode.PENDING:
        for call in result.tool_calls:
            note(f"tool call waiting: {call['name']} {call['call_id']} {call['arguments']}")
        note("answer with 'respctl tool-result FILE CALL_ID OUTPUT' (see 'respctl show FILE --pending')")
