"""show's pager: long output on a terminal goes through one, as git's does."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paged(wanted: bool) -> Iterator[None]:
    """Send stdout through a pager while the body runs, as git does: $RESPCTL_PAGER, else $PAGER,
    else `less` (with LESS=FRX when LESS is unset: quit when it fits one screen, keep colours, leave
    the screen as it is). An empty pager, or `cat`, means none."""
    command = os.environ.get("RESPCTL_PAGER", os.environ.get("PAGER", "less")) if wanted else ""
    if command.strip() in ("", "cat") or (command == "less" and shutil.which("less") is None):
        yield
        return
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    env.setdefault("LV", "-c")
    sys.stdout.flush()
    try:
        proc = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, env=env)
    except OSError:
        yield
        return
    real = sys.stdout
    sys.stdout = io.TextIOWrapper(proc.stdin, encoding="utf-8", errors="surrogateescape")
    try:
        yield
        sys.stdout.flush()
    finally:
        try:
            sys.stdout.close()
        except OSError:  # the pager quit before reading everything
            pass
        sys.stdout = real
        proc.wait()
