"""Where a turn's streamed text, retries and details go while it runs (the turn itself never prints).

A module of its own, with no respctl imports: a command builds its callbacks before it checks its
input, so they must not load openai (respctl.client), hashlib (respctl.request) or the turn's code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Callbacks:
    """Where streamed text goes while it arrives."""

    text: Callable[[str], None] = lambda _s: None
    reasoning: Callable[[str], None] = lambda _s: None
    reasoning_break: Callable[[], None] = lambda: None
    #: (why, seconds to wait, retry number, retries allowed): the SDK is about to retry
    retry: Callable[[str, float, int, int], None] = lambda _why, _wait, _n, _of: None
    #: what respctl does, for -v
    detail: Callable[[str], None] = lambda _s: None
