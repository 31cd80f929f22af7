"""The conversation file: strict reading with line numbers, an exclusive lock, atomic appends.

The file is UTF-8 JSON Lines, one input item per line, each line ending in a newline.
A turn rewrites the file through a temporary file in the same folder (write, fsync,
rename), so a crash leaves either the old file or the new one, never a torn line.
"""

from __future__ import annotations

import errno
import fcntl
import gc
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from respctl.errors import BadFileError, BusyError, ExitCode, RespctlError


def dumps_item(item: dict) -> bytes:
    """One item as one compact, deterministic line (without the newline)."""
    try:
        return orjson.dumps(item)
    except TypeError as exc:  # nested deeper than orjson writes (254), or text that is not UTF-8
        raise BadFileError(f"cannot write an item as JSON: {exc}") from None


def parse_lines(data: bytes, name: str) -> tuple[list[bytes], list[dict]]:
    """Split and parse a conversation strictly; raise BadFileError naming file and line."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise BadFileError(f"{name}:1: file starts with a byte order mark (run 'respctl lint --fix')")
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    # Parsed items hold no reference cycles, so the cyclic garbage collector (which would
    # walk every dict built so far, again and again) has nothing to find while they pile up.
    collecting = gc.isenabled()
    gc.disable()
    try:
        items = [parse_line(line, name, number) for number, line in enumerate(lines, 1)]
    finally:
        if collecting:
            gc.enable()
    return lines, items


def parse_line(line: bytes, name: str, number: int) -> dict:
    if not line.strip():
        raise BadFileError(f"{name}:{number}: blank line (run 'respctl lint --fix')")
    if line.endswith(b"\r"):
        raise BadFileError(f"{name}:{number}: CRLF line ending (run 'respctl lint --fix')")
    try:
        item = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise BadFileError(f"{name}:{number}: invalid JSON: {_json_problem(exc, line)}") from None
    if not isinstance(item, dict):
        raise BadFileError(f"{name}:{number}: expected a JSON object (one input item), got {_json_type(item)}")
    return item


def _json_problem(exc: orjson.JSONDecodeError, line: bytes) -> str:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as bad:
        return f"invalid UTF-8 at byte {bad.start + 1}"
    return f"{exc.msg} at column {exc.colno}"


def _json_type(value: object) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


@dataclass
class Conversation:
    """A conversation file as read under its lock."""

    path: Path
    data: bytes
    lines: list[bytes]
    items: list[dict]
    _stat: os.stat_result | None = field(default=None, repr=False)
    _lock: FileLock | None = field(default=None, repr=False)  # the lock held on the file, if any

    @property
    def name(self) -> str:
        return str(self.path)

    def append(self, new_items: list[dict]) -> None:
        """Append items atomically."""
        new_lines = [dumps_item(item) for item in new_items]
        if not new_lines:
            return
        head = self.data if not self.data or self.data.endswith(b"\n") else self.data + b"\n"
        self._check_unchanged(new_lines)
        body = head + b"\n".join(new_lines) + b"\n"
        self._write(body, rescue=new_lines)
        self.data = body
        self.lines.extend(new_lines)
        self.items.extend(new_items)
        self._stat = _stat_or_none(self.path)

    def replace(self, new_items: list[dict]) -> None:
        """Replace the whole file (start, and start --force)."""
        new_lines = [dumps_item(item) for item in new_items]
        self._check_unchanged(new_lines)
        body = b"".join(line + b"\n" for line in new_lines)
        self._write(body)
        self.data = body
        self.lines = new_lines
        self.items = list(new_items)
        self._stat = _stat_or_none(self.path)

    def _write(self, body: bytes, rescue: list[bytes] | None = None) -> None:
        try:
            held = write_atomic(self.path, body, rescue=rescue, keep_lock=self._lock is not None)
        except RespctlError as exc:
            exc.exit_code = ExitCode.FAILED  # like a failed request: the file is unchanged, try again later
            raise
        if held is not None:
            # After the rename the path names a new inode: hold the lock on that one from now on
            # (the runner writes several times in one turn; a waiter must not walk in between).
            self._lock.move_to(held)

    def _check_unchanged(self, new_lines: list[bytes]) -> None:
        """Refuse to overwrite edits made by something that did not take the lock."""
        now = _stat_or_none(self.path)
        if _identity(now) != _identity(self._stat):
            saved = save_beside(self.path, new_lines)
            where = f"The new items were saved to {saved}" if saved else "The new items could not be saved anywhere"
            raise RespctlError(
                f"{self.name}: changed by another program during the turn; not overwritten. {where}",
                ExitCode.FAILED,
            )

    def check_writable(self) -> None:
        """Fail before a request is paid for if the turn could not be written."""
        folder = Path(os.path.realpath(self.path)).parent  # a symlinked file is written where it lives
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise BadFileError(f"{self.name}: file is not writable")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise BadFileError(f"{self.name}: folder {folder} is not writable (the file is replaced atomically)")


def _stat_or_none(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def _identity(st: os.stat_result | None) -> tuple | None:
    return None if st is None else (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns)


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise BadFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadFileError(f"{path}: is a directory") from None
    except OSError as exc:
        raise BadFileError(f"{path}: cannot read: {exc.strerror}") from None


class FileLock:
    """An exclusive flock, held through a descriptor of the file it locks."""

    def __init__(self, fd: int):
        self.fd = fd

    def move_to(self, fd: int) -> None:
        """Hold the lock through `fd` (already locked: the file that replaced ours) from now on."""
        os.close(self.fd)
        self.fd = fd


@contextmanager
def exclusive_lock(path: str | os.PathLike, *, lock_timeout: float = 30.0, create: bool = False) -> Iterator[FileLock]:
    """Hold an exclusive lock on the file itself (no lock file), waiting up to lock_timeout.

    Because respctl replaces the file by rename, a waiter that finally gets the lock checks
    that the path still names the inode it locked, and starts over on the new file if not.
    """
    p = Path(path)
    deadline = time.monotonic() + max(lock_timeout, 0.0)
    while True:
        fd = _open_for_lock(p, create)
        try:
            _flock(fd, p, deadline, lock_timeout)
            if _same_file(fd, p):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    lock = FileLock(fd)
    try:
        yield lock
    finally:
        os.close(lock.fd)  # closing the descriptor releases the lock


@contextmanager
def locked_conversation(
    path: str | os.PathLike, *, lock_timeout: float = 30.0, create: bool = False
) -> Iterator[Conversation]:
    """The conversation as read under its lock, which is held for the whole turn."""
    p = Path(path)
    with exclusive_lock(p, lock_timeout=lock_timeout, create=create) as lock:
        before = _stat_or_none(p)  # before reading: an edit in between then shows as a change, never as none
        data = read_bytes(p)
        lines, items = parse_lines(data, str(p))
        yield Conversation(p, data, lines, items, before, lock)


def _open_for_lock(path: Path, create: bool) -> int:
    flags = os.O_RDONLY | (os.O_CREAT if create else 0)
    try:
        return os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o644)
    except FileNotFoundError:
        if create:
            raise BadFileError(f"{path}: folder {path.parent} does not exist") from None
        raise BadFileError(f"{path}: no such file (create it with 'respctl start')") from None
    except IsADirectoryError:
        raise BadFileError(f"{path}: is a directory") from None
    except OSError as exc:
        raise BadFileError(f"{path}: cannot open: {exc.strerror}") from None


def _flock(fd: int, path: Path, deadline: float, timeout: float) -> None:
    delay = 0.005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise BadFileError(f"{path}: cannot lock: {exc.strerror}") from None
        if time.monotonic() >= deadline:
            raise BusyError(
                f"{path}: conversation is busy (another respctl holds it); gave up after {timeout:g}s (--lock-timeout)"
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def _same_file(fd: int, path: Path) -> bool:
    st = _stat_or_none(path)
    held = os.fstat(fd)
    return st is not None and (st.st_ino, st.st_dev) == (held.st_ino, held.st_dev)


def write_atomic(path: Path, data: bytes, *, rescue: list[bytes] | None = None, keep_lock: bool = False) -> int | None:
    """Replace path with data: temp file in the same folder, fsync, rename, fsync folder.

    If the write fails and `rescue` lines are given, they are saved beside the file so
    that a paid-for answer is never silently lost; the error names where. With `keep_lock`,
    the new file is locked before it takes the name, and the descriptor holding that lock is
    returned. A symlink is kept: the file it names is the one replaced.
    """
    target = Path(os.path.realpath(path))
    folder = target.parent
    mode = _stat_or_none(target)
    tmp = None
    held = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
        if keep_lock:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # no one else knows this file yet
                held = os.dup(fd)
            except BaseException:
                os.close(fd)
                raise
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, (mode.st_mode & 0o7777) if mode else 0o644 & ~_umask())
        os.replace(tmp, target)
        tmp = None
        _fsync_dir(folder)
    except OSError as exc:
        if held is not None:
            os.close(held)
        if tmp is not None:
            _unlink_quietly(tmp)
        where = ""
        if rescue:
            saved = save_beside(path, rescue)
            where = f"; the new items were saved to {saved}" if saved else "; the new items could not be saved anywhere"
        raise RespctlError(f"{path}: cannot write: {exc.strerror or exc}{where}") from None
    return held


def save_beside(path: Path, lines: list[bytes]) -> str | None:
    """Last resort: write lines next to the file (or in the temp folder) and return where."""
    body = b"".join(line + b"\n" for line in lines)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for folder in (path.parent, Path(tempfile.gettempdir())):
        target = folder / f"{path.name}.unsaved-{stamp}-{os.getpid()}.jsonl"
        try:
            with open(target, "xb") as out:
                try:
                    out.write(body)
                    out.flush()
                    os.fsync(out.fileno())
                except OSError:
                    _unlink_quietly(str(target))  # a partial rescue would mislead: none at all
                    raise
            return str(target)
        except OSError:
            continue
    return None


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
