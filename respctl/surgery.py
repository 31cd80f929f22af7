"""Conversation surgery: `rewind`, `fork` and `edit`, and the new-file write that `fork` and `import` share.

    rewind(path, n, to_line, dry_run, json_out)   drop the last turns (or cut after a line), under the lock
    fork(src, dst, at, force)                       a new file holding src up to a turn boundary
    edit(path, target)                              $VISUAL/$EDITOR on a copy; lint it; replace the original
    write_new(dst, lines, force)                    create dst (exclusively, unless force) holding lines

Where a file may be cut is respctl.boundaries' business: every cut here is one of its safe cuts, so no
command leaves a reasoning item without the item it precedes, a call without its output, or half a
compaction window. Files are read and replaced with respctl.conversation's lock and atomic write; the
lines kept are the file's own bytes, never re-serialized. Notes and errors go through respctl.output;
rewind's listing is written to stdout here (escaped by respctl.output.escape_controls), and edit writes
lint's diagnostic lines (respctl.lint.report) and its re-open question to stderr itself. Everything taken
from a file is cleaned (respctl.terminal) before it reaches a terminal.
"""

from __future__ import annotations

import os
import shlex
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from respctl import boundaries as bd
from respctl import output
from respctl.conversation import exclusive_lock, parse_lines, read_bytes, write_atomic
from respctl.errors import BadFileError, ExitCode, UsageError
from respctl.items import item_type
from respctl.terminal import clean, columns, display_width, fit

# --- reading under the lock ------------------------------------------------------------------------


@contextmanager
def held(path: str, lock_timeout: float) -> Iterator[tuple[os.stat_result, bytes]]:
    """The file's stat and bytes, read under its lock (held for the block), as `lint --fix` reads: the
    stat is taken before the bytes, so that a later write with `expect=` sees any change since."""
    with exclusive_lock(path, lock_timeout=lock_timeout, on_wait=output.lock_wait):
        before = os.stat(path)
        yield before, read_bytes(Path(path))


def _body(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in lines)


# --- describing items, one line each ------------------------------------------------------------------


def summary(item: dict) -> tuple[str, str]:
    """(what the item is, its text) for one line: `user`, `assistant`, `reasoning`, `call get_weather`..."""
    kind = item_type(item)
    role = item.get("role")
    if kind == "message" or (kind is None and isinstance(role, str)):
        who = role if isinstance(role, str) else "message"
        return who, _input_text(item.get("content"))
    if kind == "reasoning":
        summary = item.get("summary")
        parts = summary if isinstance(summary, list) else []
        text = " ".join(p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))
        return "reasoning", text or ("(encrypted)" if item.get("encrypted_content") else "")
    if kind in ("function_call", "custom_tool_call"):
        arguments = item.get("arguments") if kind == "function_call" else item.get("input")
        return f"call {_str(item.get('name'))}", f"{_str(item.get('call_id'))} {_str(arguments)}"
    if kind is not None and kind.endswith("_output"):
        out = item.get("output")
        return "output", f"{_str(item.get('call_id'))} {out if isinstance(out, str) else _input_text(out)}"
    if kind == "compaction":
        return "compaction", "(encrypted)"
    return kind or "item", ""


def _input_text(content: object) -> str:
    if isinstance(content, str):
        return content
    pieces = []
    for part in content if isinstance(content, list) else []:
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("text"), str):
            pieces.append(part["text"])
        elif isinstance(part.get("refusal"), str):
            pieces.append(part["refusal"])
        elif part.get("type") == "input_image":
            pieces.append("[image]")
        elif part.get("type") == "input_file":
            pieces.append(f"[file {_str(part.get('filename') or part.get('file_id') or '')}]".replace(" ]", "]"))
    return " ".join(pieces)


def _str(value: object) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def item_lines(items: list[dict], first_line: int, width: int) -> list[str]:
    """One line per item, `  line 5  assistant  Sure, here is a cheaper…`, in aligned columns: terminal-safe
    (what the file holds is cleaned: no escape sequence or control character reaches the terminal),
    at most `width` columns each."""
    rows = [
        (f"line {first_line + i}", clean(" ".join(what.split())), " ".join(clean(text).split()))
        for i, (what, text) in enumerate(summary(item) for item in items)
    ]
    left = max((len(r[0]) for r in rows), default=0)
    middle = min(max((display_width(r[1]) for r in rows), default=0), 24)
    out = []
    for where, what, text in rows:
        head = f"  {where:<{left}}  {what}" + " " * max(0, middle - display_width(what))
        out.append((head + ("  " + fit(text, width - display_width(head) - 2) if text else "")).rstrip())
    return out


def described(items: list[dict], first_line: int) -> list[dict]:
    """--json: each item as {line, type, role | name, call_id, text} (the text whole)."""
    out = []
    for offset, item in enumerate(items):
        what, text = summary(item)
        entry: dict = {"line": first_line + offset, "type": item_type(item) or ("message" if "role" in item else None)}
        for key in ("role", "name", "call_id"):
            if isinstance(item.get(key), str):
                entry[key] = item[key]
        entry["text"] = text
        out.append(entry)
    return out


# --- rewind -------------------------------------------------------------------------------------------


def rewind(
    path: str,
    n: int | None = None,
    *,
    to_line: int | None = None,
    dry_run: bool = False,
    json_out: bool = False,
    lock_timeout: float = 60.0,
) -> int:
    """Drop the last n turns (default 1), or keep lines 1..to_line rounded back to a safe cut."""
    if n is not None and to_line is not None:
        raise UsageError("give N turns or --to-line L, not both")
    with held(path, lock_timeout) as (before, data):
        lines, items = parse_lines(data, path)
        rounded = ""
        if to_line is not None:
            cut = bd.cut_at_line(items, to_line)
            keep, rounded = cut.index, cut.message()
        else:
            keep = len(bd.rewind(items, 1 if n is None else n)[0])
        removed = items[keep:]
        if removed and not dry_run:
            write_atomic(Path(path), _body(lines[:keep]), expect=before)
    if rounded:
        output.note(rounded)
    if json_out:
        output.write_json(
            {
                "file": path,
                "dry_run": dry_run,
                "kept": keep,
                "removed": described(removed, keep + 1),
                "rounded": rounded or None,
            }
        )
        return ExitCode.OK
    if not removed:
        output.note(f"{path}: nothing to remove")
        return ExitCode.OK
    verb = "would remove" if dry_run else "removed"
    span = f"line {keep + 1}" if keep + 1 == len(items) else f"lines {keep + 1}-{len(items)}"
    count = output.plural(len(removed), "item")
    if to_line is None:
        count = ("the last turn" if n in (None, 1) else f"the last {n} turns") + f", {count}"
    head = f"{verb} {span} ({count})"
    _print([head, *item_lines(removed, keep + 1, columns(streams=(sys.stdout,)))])
    return ExitCode.OK


def _print(lines: list[str]) -> None:
    try:
        sys.stdout.write("".join(output.escape_controls(line) + "\n" for line in lines))
        sys.stdout.flush()
    except BrokenPipeError:
        output.silence_stdout()


# --- writing a new file: fork, import ---------------------------------------------------------------------


def write_new(dst: str, body: bytes, *, force: bool, mode: int = 0o644, lock_timeout: float = 60.0) -> None:
    """Create dst holding body: claimed exclusively (O_EXCL) unless `force`, then written atomically
    (temporary file, fsync, rename) under dst's lock. A dst that exists is refused without `force`
    (exit 2). On failure a dst this call created is removed again: nothing half-made is left."""
    target = Path(dst)
    created = False
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode & 0o666)
        os.close(fd)
        created = True
    except FileExistsError:
        if not force:
            raise UsageError(f"{dst}: already exists; --force replaces it") from None
    except FileNotFoundError:
        raise BadFileError(f"{dst}: folder {target.parent} does not exist") from None
    except OSError as exc:
        raise BadFileError(f"{dst}: cannot create: {exc.strerror}") from None
    try:
        with exclusive_lock(dst, lock_timeout=lock_timeout, on_wait=output.lock_wait):
            write_atomic(target, body, expect=os.stat(dst))
    except BaseException:
        if created:
            _remove_if_empty(target)
        raise


def _remove_if_empty(path: Path) -> None:
    try:
        st = path.lstat()
        if stat.S_ISREG(st.st_mode) and st.st_size == 0:
            path.unlink()
    except OSError:
        pass


# --- fork --------------------------------------------------------------------------------------------------


def fork(src: str, dst: str, *, at: int | None = None, force: bool = False, lock_timeout: float = 60.0) -> int:
    """dst holds src's instructions and turns 1..at (all of src when at is None)."""
    if src != "-" and os.path.exists(dst) and os.path.exists(src) and os.path.samefile(src, dst):
        raise UsageError(f"{dst}: is the file being forked; to cut a file where it is, use 'respctl rewind'")
    with held(src, lock_timeout) as (before, data):
        lines, items = parse_lines(data, src)
    keep = bd.fork_point(items, at)
    total = len(bd.turns(items))
    write_new(dst, _body(lines[:keep]), force=force, mode=stat.S_IMODE(before.st_mode), lock_timeout=lock_timeout)
    if at is None:
        what = f"all {output.plural(total, 'turn')} of {src}" if total != 1 else f"the one turn of {src}"
    elif at == 0:
        what = f"the instructions of {src}, no turn"
    else:
        what = f"turn{'s 1-' if at > 1 else ' '}{at} of {src} ({total} in all)"
    output.note(f"wrote {output.plural(keep, 'item')} to {dst}: {what}")
    return ExitCode.OK


# --- edit ---------------------------------------------------------------------------------------------------


def editor_command() -> list[str]:
    """$VISUAL, else $EDITOR, else vi; split as a shell splits words (`code --wait`)."""
    for name in ("VISUAL", "EDITOR"):
        value = os.environ.get(name, "").strip()
        if value:
            try:
                words = shlex.split(value)
            except ValueError as exc:
                raise UsageError(f"{name} cannot be split into words: {exc}") from None
            if words:
                return words
    return ["vi"]


def edit(path: str, *, target: str, lock_timeout: float = 60.0) -> int:
    """Open a private copy of the file in the editor; once it saves a lint-clean file, replace the
    original with it, atomically and under the lock, only if the original still holds what was copied."""
    import tempfile

    from respctl.lint.check import check_file, errors_only
    from respctl.lint.report import text_line

    command = editor_command()
    with held(path, lock_timeout) as (_before, original):
        pass
    fd, copy = tempfile.mkstemp(prefix=f"{Path(path).stem[:60]}.", suffix=".jsonl")  # mode 600
    with os.fdopen(fd, "wb") as out:
        out.write(original)
    done = False  # the edit is saved, or there was nothing to save: the copy goes
    try:
        while True:
            _run_editor(command, copy)
            edited = read_bytes(Path(copy))
            if edited == original:
                output.note(f"{path}: no changes")
                done = True
                return ExitCode.OK
            errors = errors_only(check_file(copy, edited, target).diagnostics)
            if not errors:
                break
            for d in errors:
                sys.stderr.write(text_line(copy, d) + "\n")
            sys.stderr.flush()
            try:
                again = _ask_reopen()
            except KeyboardInterrupt:  # the copy stays: say where, then exit as an interrupt does
                sys.stderr.write("\n")
                output.note(f"{path}: not changed; the edited copy is kept at {copy}")
                raise
            if not again:
                raise UsageError(
                    f"{path}: not changed: lint found {output.plural(len(errors), 'error')} in the edited copy; "
                    f"it is kept at {copy}"
                )
        with held(path, lock_timeout) as (before, now):
            if now != original:
                raise UsageError(
                    f"{path}: changed while it was being edited (a turn ran?); not replaced; "
                    f"the edited copy is kept at {copy}"
                )
            write_atomic(Path(path), edited, expect=before)
        done = True
        old, new = original.count(b"\n"), edited.count(b"\n")
        output.note(f"{path}: saved the edit ({output.plural(new, 'line')}, was {old})")
        return ExitCode.OK
    except _EditorFailed as exc:
        done = read_bytes(Path(copy)) == original  # an edit made before the editor failed is kept
        raise UsageError(
            f"{exc}; {path} not changed" + ("" if done else f"; the edited copy is kept at {copy}")
        ) from None
    finally:
        if done:
            try:
                os.unlink(copy)
            except OSError:
                pass


class _EditorFailed(Exception):
    """The editor could not run, or exited with a failure."""


def _run_editor(command: list[str], copy: str) -> None:
    """Run the editor on the copy, on this terminal. Ctrl-C belongs to the editor meanwhile (vi uses
    it); respctl waits (a handler that does nothing, so the editor starts with the default one)."""
    import signal
    import subprocess

    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: None)
    try:
        code = subprocess.call([*command, copy])
    except FileNotFoundError:
        raise _EditorFailed(f"editor {_quoted(command[0])} not found (set VISUAL or EDITOR)") from None
    except OSError as exc:
        raise _EditorFailed(f"cannot run the editor {_quoted(command[0])}: {exc.strerror}") from None
    finally:
        signal.signal(signal.SIGINT, previous)
    if code != 0:
        raise _EditorFailed(f"the editor {_quoted(command[0])} exited with status {code}")


def _quoted(word: str) -> str:
    return shlex.quote(word)


def _ask_reopen() -> bool:
    """On a terminal, ask whether to edit again (default yes); elsewhere, no."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return False
    sys.stderr.write("Re-open the editor? [Y/n] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    if not answer:  # end of input (Ctrl-D)
        sys.stderr.write("\n")
        return False
    return answer.strip().lower() in ("", "y", "yes")
