"""show's output safety: nothing a model, a tool or a file wrote acts on the terminal.

Everything a model, a tool or a user wrote is untrusted. `clean` (respctl.terminal, shared with the
answer a turn prints) removes terminal escape sequences and replaces every other control character
(C0 but newline and tab, DEL, C1, bidirectional overrides) with U+FFFD before anything is laid out;
`net` is the last pass over the output, which lets nothing through but newline, tab and, in colour,
the SGR codes rich writes; `escaped_json` escapes what orjson leaves raw.
"""

from __future__ import annotations

import re

from respctl.terminal import REPLACEMENT, clean, escaped_json

__all__ = ["clean", "escaped_json", "net"]

_NET_PLAIN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NET_COLOUR = re.compile("(\x1b\\[[0-9;]*m)|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def net(text: str, colour: bool) -> str:
    """The last check before stdout: only newline, tab and (in colour) SGR codes pass."""
    if colour:
        return _NET_COLOUR.sub(lambda m: m.group(1) or REPLACEMENT, text)
    return _NET_PLAIN.sub(REPLACEMENT, text)
