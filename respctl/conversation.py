"""The conversation file: strict reading (respctl.jsonl), an exclusive lock, atomic appends.

The file is UTF-8 JSON Lines, one input item per line, each line ending in a newline.
A turn rewrites the file through a temporary file in the same folder (write, fsync,
rename), so a crash leaves either the old file or the new one, never a torn line.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from respctl.errors import BadFileError, BusyError, ExitCode, RespctlError
from respctl.jsonl import read_strict


def dumps_item(item: dict) -> bytes:
    """One item as one compact, deterministic line (without the newline)."""
    try:
        return orjson.dumps(item)
    except TypeError as exc:  # nested deeper than orjson writes (254), or text that is not UTF-8
        if "Recursion" not in str(exc):
            raise BadFileError(f"cannot write an item as JSON: {exc}") from None
    # A server's answer may nest deeper than orjson writes; what orjson read (up to 1024 levels) is
    # written by the standard library instead, in the same compact form, never dropped.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        return json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except (RecursionError, ValueError, UnicodeEncodeError) as exc:
        raise BadFileError(f"cannot write an item as JSON: {exc}") from None
    finally:
        sys.setrecursionlimit(limit)


def parse_lines(data: bytes, name: str) -> tuple[list[bytes], list[dict]]:
    """Split and parse a conversation strictly; raise BadFileError naming file and line (respctl.jsonl)."""
    return read_strict(data, name)


@dataclass
class Saved:
    """What this process has written to a conversation so far (for the line an interrupt prints)."""

    name: str
    items: int = 0  # new items written, over every write of the turn
    outcome: ExitCode | None = None  # the turn's exit code if the last write held the model's answer
    archive: str | None = None  # set by a saved `respctl compact`: where the history went


#: Writes that reached the disk in this process, by file; notes about what a rewrite could not keep;
#: every file write_atomic replaced (lint --fix among them), in order.
_saved: dict[str, Saved] = {}
_notes: list[str] = []
_rewritten: dict[str, None] = {}


def saved() -> Saved | None:
    """The last conversation this process wrote to, if any."""
    return next(reversed(_saved.values()), None)


def rewritten() -> list[str]:
    """Every file this process replaced, in order (for the line an interrupt prints)."""
    return list(_rewritten)


def add_note(text: str) -> None:
    """A line to say once the command ends (after its result): something kept, not an error."""
    _notes.append(text)


def notes() -> list[str]:
    """Lines for people about what a rewrite could not keep (owner, group, xattrs); emptied when read."""
    taken = list(_notes)
    _notes.clear()
    return taken


@dataclass
class Conversation:
    """A conversation file as read under its lock."""

    path: Path
    data: bytes  # the file as read
    lines: list[bytes]
    items: list[dict]
    _stat: os.stat_result | None = field(default=None, repr=False)
    _lock: FileLock | None = field(default=None, repr=False)  # the lock held on the file, if any
    #: What this invocation wrote after `data`, in pieces: the file is `data` + these, never joined
    #: into one more copy of a large file.
    _added: list[bytes] = field(default_factory=list, repr=False)

    @property
    def name(self) -> str:
        return str(self.path)

    def append(self, new_items: list[dict], outcome: ExitCode | None = None) -> None:
        """Append items atomically. `outcome`: the turn's exit code when they end with the model's answer."""
        new_lines = [dumps_item(item) for item in new_items]
        if not new_lines:
            return
        unterminated = self.data and not self._added and not self.data.endswith(b"\n")
        added = [b"\n"] if unterminated else []
        added.append(b"\n".join(new_lines) + b"\n")
        self._write([self.data, *self._added, *added], added, new_lines, new_items, outcome, rescue=new_lines)

    def replace(self, new_items: list[dict], outcome: ExitCode | None = None) -> None:
        """Replace the whole file (start, and start --force)."""
        new_lines = [dumps_item(item) for item in new_items]
        body = b"".join(line + b"\n" for line in new_lines)
        self.lines, self.items, self.data, self._added = [], [], b"", []
        self._write([body], [body], new_lines, new_items, outcome, rescue=new_lines)

    def _write(
        self,
        parts: list[bytes],
        added: list[bytes],
        new_lines: list[bytes],
        new_items: list[dict],
        outcome: ExitCode | None,
        rescue: list[bytes],
    ) -> None:
        # An interrupt while the file is replaced waits until the write and its record are done,
        # so that what respctl then says ("saved", "nothing was written") is what is on disk.
        with signals_deferred():
            try:
                held = write_atomic(
                    self.path, parts, rescue=rescue, keep_lock=self._lock is not None, expect=self._stat
                )
            except RespctlError as exc:
                exc.exit_code = ExitCode.FAILED  # like a failed request: the file is unchanged, try again later
                raise
            if held is not None and self._lock is not None:
                # After the rename the path names a new inode: hold the lock on that one from now on
                # (the runner writes several times in one turn; a waiter must not walk in between).
                self._lock.move_to(held)
            self._added += added
            self.lines.extend(new_lines)
            self.items.extend(new_items)
            self._stat = _stat_or_none(self.path)
            record = _saved.setdefault(self.name, Saved(self.name))
            record.items += len(new_items)
            record.outcome = outcome

    def compacted(self, archive: str) -> None:
        """Record that `respctl compact` has saved its work (for the line an interrupt prints, and its
        exit code: 0, the compaction is done)."""
        _saved[self.name] = Saved(self.name, len(self.items), ExitCode.OK, archive)

    def rewrite(self, lines: list[bytes], items: list[dict]) -> None:
        """Replace the file with these lines, written as they are (what a compaction leaves)."""
        body = b"".join(line + b"\n" for line in lines)
        with signals_deferred():
            held = write_atomic(self.path, [body], keep_lock=self._lock is not None, expect=self._stat)
            if held is not None and self._lock is not None:
                self._lock.move_to(held)
            self.data, self._added, self.lines, self.items = body, [], lines, items
            self._stat = _stat_or_none(self.path)


def check_replaceable(path: Path) -> None:
    """Raise BadFileError (exit 2) unless write_atomic can replace `path`; called before a request is
    paid for. The rename over the file must be allowed (permissions, a sticky folder, append-only or
    immutable flags, on the file or its folder), and a temporary file must be creatable and renamable in
    the folder (a read-only mount, the name's length: the probe finds them)."""
    target = Path(os.path.realpath(path))  # a symlinked file is written where it lives
    folder = target.parent
    st = _stat_or_none(target)
    if st is not None and _inode_flags(target) & (_APPEND_FL | _IMMUTABLE_FL):
        raise BadFileError(f"{path}: file is append-only or immutable (chattr +a/+i); it cannot be replaced")
    if st is not None and not os.access(target, os.W_OK):
        raise BadFileError(f"{path}: file is not writable")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BadFileError(f"{path}: folder {folder} is not writable (the file is replaced atomically)")
    if _inode_flags(folder) & (_APPEND_FL | _IMMUTABLE_FL):  # not left to the probe: in an append-only
        # folder it could not remove its own files, and would leave them behind
        raise BadFileError(f"{path}: folder {folder} is append-only or immutable (chattr); the file cannot be replaced")
    if st is not None:
        folder_st = os.stat(folder)
        if _sticky_blocks(folder_st, st):
            raise BadFileError(
                f"{path}: the file belongs to another user and folder {folder} is sticky (like /tmp); "
                "it cannot be replaced there"
            )
    import tempfile  # here, not at the top: lint and show load this module and never write (4 ms of import)

    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=_temp_prefix(folder, target.name), suffix=".tmp")
        os.close(fd)
        try:
            fd, other = tempfile.mkstemp(dir=folder, prefix=_temp_prefix(folder, target.name), suffix=".tmp")
            os.close(fd)
            os.replace(probe, other)  # what the turn will do: rename a file of ours over another
            probe = other
        finally:
            _unlink_quietly(probe)
    except OSError as exc:
        raise BadFileError(f"{path}: cannot write in folder {folder}: {exc.strerror or exc}") from None


#: Inode flags (chattr) that forbid replacing a file: FS_IMMUTABLE_FL, FS_APPEND_FL.
_IMMUTABLE_FL, _APPEND_FL = 0x10, 0x20
_FS_IOC_GETFLAGS = 0x80086601
_CAP_FOWNER = 3


def _inode_flags(path: Path) -> int:
    if not sys.platform.startswith("linux"):
        return 0
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return 0
    try:
        return int.from_bytes(fcntl.ioctl(fd, _FS_IOC_GETFLAGS, bytes(8))[:4], sys.byteorder)
    except OSError:
        return 0
    finally:
        os.close(fd)


def _sticky_blocks(folder: os.stat_result, st: os.stat_result) -> bool:
    """In a sticky folder only the file's owner, the folder's owner or CAP_FOWNER may rename over it."""
    if not folder.st_mode & stat.S_ISVTX or os.geteuid() in (st.st_uid, folder.st_uid):
        return False
    return not _has_capability(_CAP_FOWNER)


def _has_capability(bit: int) -> bool:
    try:
        with open("/proc/self/status", "rb") as f:
            for status_line in f:
                if status_line.startswith(b"CapEff:"):
                    return bool(int(status_line.split()[1], 16) >> bit & 1)
    except (OSError, ValueError, IndexError):
        pass
    return os.geteuid() == 0


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _fit(name: str, room: int) -> str:
    """`name`, cut at a character boundary if need be, in at most `room` bytes."""
    raw = os.fsencode(name)
    if len(raw) <= room:
        return name
    cut = raw[: max(room, 1)]
    while len(cut) > 1:
        try:
            cut.decode("utf-8")
            break
        except UnicodeDecodeError:
            cut = cut[:-1]
    return os.fsdecode(cut)


def _temp_prefix(folder: Path, name: str) -> str:
    """`.NAME.` for the temporary file `.NAME.XXXXXXXX.tmp`, NAME cut so the whole name fits the folder."""
    return f".{_fit(name, _name_max(folder) - len('..XXXXXXXX.tmp'))}."


def _stat_or_none(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def _identity(st: os.stat_result | None) -> tuple | None:
    return None if st is None else (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns)


def _kind(st: os.stat_result) -> str:
    if stat.S_ISFIFO(st.st_mode):
        return "a FIFO"
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        return "a device"
    if stat.S_ISSOCK(st.st_mode):
        return "a socket"
    return "not a file"


def open_regular(path: Path, *, create: bool = False, missing: str = "no such file") -> int:
    """Open `path` for reading without ever blocking (a FIFO would, until a writer comes) and
    refuse anything but a regular file, before a byte is read: /dev/zero would never end."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | (os.O_CREAT if create else 0)
    try:
        fd = os.open(path, flags, 0o644)
    except FileNotFoundError:
        if create:
            raise BadFileError(f"{path}: folder {path.parent} does not exist") from None
        raise BadFileError(f"{path}: {missing}") from None
    except OSError as exc:  # a device on a nodev mount, say: still name what it is
        st = _stat_or_none(path) if exc.errno != errno.ELOOP else None
        if st is not None and not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
            raise BadFileError(f"{path}: not a regular file ({_kind(st)})") from None
        raise BadFileError(f"{path}: cannot open: {exc.strerror}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        if stat.S_ISDIR(st.st_mode):
            raise BadFileError(f"{path}: is a directory")
        raise BadFileError(f"{path}: not a regular file ({_kind(st)})")
    return fd


def read_bytes(path: Path) -> bytes:
    fd = open_regular(Path(path))
    try:
        with os.fdopen(fd, "rb") as f:
            return f.read()
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


def _no_wait_report(_event: str, _name: str, _seconds: float) -> None:
    pass


@contextmanager
def exclusive_lock(
    path: str | os.PathLike, *, lock_timeout: float = 30.0, create: bool = False, on_wait=_no_wait_report
) -> Iterator[FileLock]:
    """Hold an exclusive lock on the file itself (no lock file), waiting up to lock_timeout.

    Because respctl replaces the file by rename, a waiter that finally gets the lock checks
    that the path still names the inode it locked, and starts over on the new file if not.
    `on_wait(event, path, seconds)` hears of a wait: "busy" when it begins, "waiting" once it has
    lasted a second, "got" when the lock came after one.
    """
    p = Path(path)
    deadline = time.monotonic() + max(lock_timeout, 0.0)
    while True:
        fd = open_regular(p, create=create, missing="no such file (create it with 'respctl start')")
        try:
            _flock(fd, p, deadline, lock_timeout, on_wait)
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
    path: str | os.PathLike, *, lock_timeout: float = 30.0, create: bool = False, on_wait=_no_wait_report
) -> Iterator[Conversation]:
    """The conversation as read under its lock, which is held for the whole turn."""
    p = Path(path)
    with exclusive_lock(p, lock_timeout=lock_timeout, create=create, on_wait=on_wait) as lock:
        before = _stat_or_none(p)  # before reading: an edit in between then shows as a change, never as none
        data = read_bytes(p)
        lines, items = parse_lines(data, str(p))
        yield Conversation(p, data, lines, items, before, lock)


#: A lock wait longer than this is reported (a person at a terminal should not sit on a blank line).
LOCK_WAIT_NOTICE = 1.0


def _flock(fd: int, path: Path, deadline: float, timeout: float, on_wait=_no_wait_report) -> None:
    delay = 0.005
    began = None
    noticed = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if began is not None:
                on_wait("got", str(path), time.monotonic() - began)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise BadFileError(f"{path}: cannot lock: {exc.strerror}") from None
        now = time.monotonic()
        if began is None:
            began = now
            on_wait("busy", str(path), 0.0)
        elif not noticed and now - began >= LOCK_WAIT_NOTICE:
            noticed = True
            on_wait("waiting", str(path), now - began)
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


#: Signals that end respctl politely; a write that has begun finishes first.
_DEFERRED = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold back Ctrl-C, SIGTERM and SIGHUP: they are recorded, and act when the block ends.

    (Python-level, not a signal mask: a process-directed signal goes to any thread that does not
    block it, and Python then raises in the main thread all the same.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, _frame: caught.append(signum)) for signum in _DEFERRED}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if caught:
            handler = previous[caught[0]]
            if callable(handler):
                handler(caught[0], None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(caught[0])


def write_atomic(
    path: Path,
    data: bytes | list[bytes],
    *,
    rescue: list[bytes] | None = None,
    keep_lock: bool = False,
    expect: os.stat_result | None = None,
    like: os.stat_result | None = None,
) -> int | None:
    """Replace path with data (bytes, or pieces written one after another): temp file in the same
    folder, fsync, rename, fsync folder.

    If the write fails and `rescue` lines are given, they are saved beside the file so
    that a paid-for answer is never silently lost; the error names where. With `keep_lock`,
    the new file is locked before it takes the name, and the descriptor holding that lock is
    returned. A symlink is kept: the file it names is the one replaced, with its mode, owner,
    group and extended attributes where the process may set them (a note says what was not).
    With `expect`, the file must still be the one `expect` describes, or nothing is written. A new file
    takes the mode, owner and group of `like` (a conversation's archive, those of the conversation).
    """
    import tempfile

    target = Path(os.path.realpath(path))
    folder = target.parent
    tmp = None
    held = None
    with signals_deferred():
        try:
            original = _stat_or_none(target) or like
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=_temp_prefix(folder, target.name), suffix=".tmp")
            try:
                if keep_lock:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # no one else knows this file yet
                    held = os.dup(fd)
                _copy_metadata(fd, original, target, path)
            except BaseException:
                os.close(fd)
                raise
            with os.fdopen(fd, "wb") as out:
                for part in [data] if isinstance(data, bytes) else data:
                    out.write(part)
                out.flush()
                os.fsync(out.fileno())
            if expect is not None and _identity(_stat_or_none(path)) != _identity(expect):
                # checked last, right before the rename: an append made while the temp file was written is seen
                raise _Changed(f"{path}: changed by another program meanwhile; not overwritten")
            os.replace(tmp, target)
            tmp = None
            _rewritten[str(path)] = None
            _fsync_dir(folder)
        except BaseException as exc:
            if held is not None:
                os.close(held)
            if tmp is not None:
                _unlink_quietly(tmp)
            if not isinstance(exc, (OSError, _Changed)):
                raise
            where = ""
            if rescue:
                saved = save_beside(path, rescue)
                where = (
                    f"; the new items were saved to {saved}" if saved else "; the new items could not be saved anywhere"
                )
            if isinstance(exc, _Changed):
                raise RespctlError(f"{exc}{where}", kind="write") from None
            raise RespctlError(f"{path}: cannot write: {exc.strerror or exc}{where}", kind="write") from None
    return held


class _Changed(Exception):
    """The file is no longer the one read: another program appended, edited, replaced or removed it."""


def _copy_metadata(fd: int, original: os.stat_result | None, target: Path, shown: Path) -> None:
    """Give the new file the original's owner, group, extended attributes and mode (a new file: 644
    less the umask). What the process may not set is left as it comes, and a note says so."""
    if original is None:
        os.fchmod(fd, 0o644 & ~_umask())
        return
    lost = []
    try:
        names = os.listxattr(target)
    except OSError:
        names = []
    for name in names:
        try:
            os.setxattr(fd, name, os.getxattr(target, name))
        except OSError:
            lost.append(f"extended attribute {name}")
    os.fchmod(fd, stat.S_IMODE(original.st_mode))  # while the file is still ours to chmod
    mine = os.fstat(fd)
    if (mine.st_uid, mine.st_gid) != (original.st_uid, original.st_gid):
        try:
            os.fchown(fd, original.st_uid, original.st_gid)
        except OSError:
            try:
                os.fchown(fd, -1, original.st_gid)
                lost.append(f"owner (uid {original.st_uid})")
            except OSError:
                lost.append(f"owner and group (uid {original.st_uid}, gid {original.st_gid})")
    if lost:
        _notes.append(f"{shown}: rewritten without its {', '.join(lost)}: this process may not set them")


def save_beside(path: Path, lines: list[bytes], ext: str = ".jsonl") -> str | None:
    """Last resort: write lines next to the file (or in the temp folder) and return where.
    Beside the file the rescue takes the file's mode (600 if unknown); in the temp folder, 600."""
    import tempfile

    body = b"".join(line + b"\n" for line in lines)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    original = _stat_or_none(path)
    beside = stat.S_IMODE(original.st_mode) & 0o666 if original is not None else 0o600
    for folder, mode in ((path.parent, beside), (Path(tempfile.gettempdir()), 0o600)):
        suffix = f".unsaved-{stamp}-{os.getpid()}{ext}"
        target = folder / (_fit(path.name, _name_max(folder) - len(suffix)) + suffix)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
            with os.fdopen(fd, "wb") as out:
                try:
                    os.fchmod(out.fileno(), mode)
                    if original is not None:  # root rescuing a user's file: the rescue is theirs too
                        _chown_quietly(out.fileno(), original)
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


def _chown_quietly(fd: int, original: os.stat_result) -> None:
    mine = os.fstat(fd)
    if (mine.st_uid, mine.st_gid) == (original.st_uid, original.st_gid):
        return
    for uid in (original.st_uid, -1):  # the owner and group if the process may; else the group alone
        try:
            os.fchown(fd, uid, original.st_gid)
            return
        except OSError:
            continue


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
