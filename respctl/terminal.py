"""Untrusted text (a model's, a tool's, a file's) made safe for a terminal; colour and paging choices.

`clean` removes terminal escape sequences and replaces every other control character (C0 but
newline and tab, DEL, C1, bidirectional overrides) with U+FFFD. `StreamCleaner` does the same for
text that arrives in pieces, holding back a sequence split across two pieces until it is complete.
`show` and the answer a turn prints on a terminal both go through here.
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata

#: What may act on a terminal: C0 controls but newline and tab, DEL, C1 controls, bidi overrides.
UNSAFE_CHARS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
UNSAFE = re.compile(f"[{UNSAFE_CHARS}]")
#: ... and, in a line that must stay one line, what ends a line, and lone surrogates (undecodable argv bytes).
UNSAFE_IN_A_LINE = re.compile(f"[{UNSAFE_CHARS}\n\u2028\u2029\ud800-\udfff]")
SEQUENCE = (
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor movement, erasing
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: window title, hyperlinks, clipboard; to BEL or ST
    r"|\x1b[PX^_][^\x1b]*\x1b\\"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]*[0-~]"  # every other escape sequence
    r"|\x9b[0-?]*[ -/]*[@-~]"  # CSI, 8-bit form
    r"|\x9d[^\x07\x9c]*[\x07\x9c]"  # OSC, 8-bit form
)
REPLACEMENT = "\ufffd"

#: The SGR code that turns every attribute off.
RESET = "\x1b[0m"


def clean(text: str) -> str:
    """Untrusted text made safe for a terminal: sequences removed, other controls shown as U+FFFD."""
    if not UNSAFE.search(text):
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(SEQUENCE, "", text)  # compiled on first use (re caches it): most text never needs it
    return UNSAFE.sub(REPLACEMENT, text)


_INTRODUCERS = re.compile("[\x1b\x9b\x9d]")
_CSI_BODY = re.compile(r"[0-?]*[ -/]*")
_CSI_DONE = re.compile(r"[0-?]*[ -/]*[@-~]")


class StreamCleaner:
    """`clean` for text that arrives in pieces (a streamed answer): an escape sequence, or a CR that
    may be half of CRLF, at the end of a piece is held back until the next piece completes it."""

    HOLD = 4096  # a sequence still open after this many characters is cleaned as it is

    def __init__(self) -> None:
        self.held = ""

    def feed(self, text: str) -> str:
        text, self.held = self.held + text, ""
        cut = _open_sequence(text, max(0, len(text) - self.HOLD))
        if cut is not None:
            text, self.held = text[:cut], text[cut:]
        return clean(text)

    def flush(self) -> str:
        text, self.held = self.held, ""
        return clean(text)


def _open_sequence(text: str, start: int) -> int | None:
    """Where a sequence that more text could still complete starts (or a final CR), else None."""
    for match in _INTRODUCERS.finditer(text, start):
        i = match.start()
        if not _complete(text, i):
            return i
    return len(text) - 1 if text.endswith("\r") else None


def _complete(text: str, i: int) -> bool:
    first, rest = text[i], text[i + 1 :]
    if first == "\x9b":
        return _csi_complete(rest)
    if first == "\x9d":
        return "\x07" in rest or "\x9c" in rest
    if not rest:
        return False
    if rest[0] == "[":
        return _csi_complete(rest[1:])
    if rest[0] == "]":
        return "\x07" in rest or "\x1b\\" in rest
    if rest[0] in "PX^_":
        return "\x1b\\" in rest
    return bool(rest.lstrip(" !\"#$%&'()*+,-./"))  # intermediate bytes, then the final one


def _csi_complete(body: str) -> bool:
    """A CSI body is complete once its final byte came, or once a byte no CSI may hold did."""
    return _CSI_DONE.match(body) is not None or _CSI_BODY.fullmatch(body) is None


#: DEL, C1 controls and bidi overrides in UTF-8: orjson escapes C0 controls but writes these raw.
_JSON_UNSAFE = re.compile(rb"\x7f|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]")


def escaped_json(data: bytes) -> bytes:
    """orjson's output with the control characters it leaves raw (DEL, C1, bidi) escaped too."""
    return _JSON_UNSAFE.sub(lambda m: b"\\u%04x" % ord(m.group().decode("utf-8")), data)


def colour_wanted(color: str, stream) -> bool:
    """--color auto|always|never for one output stream: auto means a terminal (not TERM=dumb), and
    NO_COLOR (any non-empty value) turns every attribute off, FORCE_COLOR turns colour on."""
    if color in ("never", "always"):
        return color == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return isatty(stream) and os.environ.get("TERM") != "dumb"


def isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def columns(streams=None, *, least: int = 40, default: int = 80) -> int:
    """The terminal's width: COLUMNS if set, else that of the first of `streams` (stdout, then stderr:
    `--color always | less -R` still measures the terminal) that is a terminal, else `default`;
    never below `least`. The one place respctl measures a terminal."""
    if os.environ.get("COLUMNS", "").isdigit():
        return max(int(os.environ["COLUMNS"]), least)
    for stream in streams if streams is not None else (sys.stdout, sys.stderr):
        try:
            return max(os.get_terminal_size(stream.fileno()).columns, least)
        except (AttributeError, ValueError, OSError):
            continue
    return max(default, least)


def display_width(text: str) -> int:
    """Columns `text` takes on a terminal: wide (East Asian) characters two, combining marks none."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def fit(text: str, room: int) -> str:
    """`text` cut to at most `room` columns, an ellipsis where it was cut."""
    if display_width(text) <= room:
        return text
    out, used = [], 0
    for c in text:
        w = display_width(c)
        if used + w > room - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…"
