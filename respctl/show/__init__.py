"""`respctl show`: a conversation file for people (text, markdown) and for scripts (json).

Every line that can be read is shown, each damaged line is marked in place with its number and its
problem, and the exit status is 2 at the end (0 with `--exit-zero`, which git's textconv needs: any
other status fails the whole diff).

The package, by job: `model` reads the file into entries, numbers the turns and links tool calls to
their outputs; `content` says what an item's content holds; `json` is the whole `--format json`
contract; `blocks` is the view text and markdown share, `layout` lays JSON payloads out for it;
`text` draws it on a terminal or as plain text, `markdown` as a document; `sanitize` keeps untrusted
bytes from acting on a terminal; `pager` pages on a terminal.
"""

from __future__ import annotations

import shlex
import sys

from respctl.errors import BadFileError, RespctlError
from respctl.output import plural, silence_stdout
from respctl.show.json import write_json
from respctl.show.markdown import write_markdown
from respctl.show.model import assign_turns, last_turns, link_calls, mark_compactions, read_entries
from respctl.show.pager import paged
from respctl.show.text import Screen, write_text


def run(
    file: str,
    output_format: str = "text",
    pending: bool = False,
    last: int | None = None,
    full: bool = False,
    color: str = "auto",
    exit_zero: bool = False,
    pager: bool = False,
) -> int:
    """Print FILE ('-': standard input) in the chosen format; damaged lines are shown, then
    reported (exit 2). On a terminal, with `pager`, the output goes through a pager as git's does."""
    if output_format not in ("text", "markdown", "json"):
        raise RespctlError(f"unknown format {output_format!r}")
    entries = read_entries(file)
    mark_compactions(file, entries)
    turns = assign_turns(entries)
    calls = link_calls(entries)
    shown, hidden = (entries, None) if last is None else last_turns(entries, last, turns)
    if pending:
        shown = [e for e in shown if e.item is not None and calls.pending(e)]
    screen = Screen.of_stdout(color)  # decided before a pager takes stdout over
    try:
        with paged(pager and screen.terminal):
            if output_format == "json":
                write_json(shown, calls, pending=pending)
            elif output_format == "markdown":
                write_markdown(shown, calls, pending=pending, hidden=hidden, full=full)
            else:
                write_text(shown, calls, pending=pending, hidden=hidden, full=full, screen=screen, empty=not entries)
            sys.stdout.flush()
    except BrokenPipeError:  # `show | head`, or the pager quit early: the reader has all it wanted
        silence_stdout()
        return 0
    damaged = [e.line for e in entries if e.problem]
    if damaged and not exit_zero:
        lines = ", ".join(map(str, damaged[:10])) + (", ..." if len(damaged) > 10 else "")
        lint = "'respctl lint -' on the same input" if file == "-" else f"'respctl lint {shlex.quote(file)}'"
        raise BadFileError(
            f"{file}: {plural(len(damaged), 'damaged line')} ({'line' if len(damaged) == 1 else 'lines'} {lines}), "
            f"shown as far as possible; see {lint}"
        )
    return 0
