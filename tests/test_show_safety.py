"""Terminal safety: model text, tool output and file names are untrusted.

Whatever the file holds, nothing but newline, tab and (in colour) the SGR colour codes show itself
writes reaches stdout: no cursor movement, no window titles, no OSC 8 links or clipboard writes, no
bells, no C1 controls, no bidi overrides. And show never crashes on a JSON object it does not know.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import orjson
import pytest
from conftest import examples
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from respctl import show as show_module
from respctl.show import sanitize

ROOT = Path(__file__).resolve().parent.parent

HOSTILE = (
    "A\x1b[31mRED\x1b[0m"  # colour
    " B\x1b]0;pwned title\x07"  # window title (OSC, BEL)
    " C\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\"  # hyperlink (OSC 8, ST)
    " D\x1b]52;c;cm0gLXJmIH4=\x07"  # clipboard write
    " E\x07bell\x08bs\rCR\x0bvt\x0cff"  # C0
    " F\x9b31mC1\x9d0;t\x9c\x85nel"  # C1 forms
    " G\u202eevil\u202c\u2066iso\u2069"  # bidi overrides
    " H\x00nul\x7fdel"
    " I\x1bP+q\x1b\\ J\x1b[2J\x1b[H\x1b[?1049h\x1b7\x1bc"  # DCS, erase screen, alternate screen, reset
    " K\x1b["
    + "9" * 50  # an unterminated sequence
    + " end"
)

#: What may reach stdout: printable text, newline, tab; in colour, SGR codes.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
SGR = re.compile("\x1b\\[[0-9;]*m")


def env(**extra: str) -> dict:
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "TERM")}
    return {**base, **extra}


def show(*args, environment=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "respctl", "show", *map(str, args)],
        capture_output=True,
        env=environment or env(),
        timeout=60,
    )


def hostile_items(h: str) -> list:
    return [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "instructions " + h}]},
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": "user " + h},
                {"type": "input_image", "detail": h, "image_url": "https://example.com/" + h},
                {
                    "type": "input_file",
                    "filename": "evil" + h + ".pdf",
                    "file_data": f"data:application/{h};base64,AAAA",
                },
                {"type": "input_text", "text": f'<file name="{h.replace(chr(34), "")}.txt">\nfile {h}\n</file>'},
            ],
        },
        {
            "id": "rs_" + h,
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": f"**Title {h}**\n\n{h}"}],
            "content": [{"type": "reasoning_text", "text": h}],
            "encrypted_content": h,
        },
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "phase": h,
            "content": [
                {
                    "type": "output_text",
                    "text": f"# {h}\n\n```\n{h}\n```\n\n- {h}\n\n&#27;[31m &#13; &#x9b; [link]({h})",
                    "annotations": [{"type": "url_citation", "url": "https://e.example/" + h, "title": h}],
                },
                {"type": "refusal", "refusal": h},
            ],
        },
        {
            "id": "fc_1",
            "type": "function_call",
            "call_id": "call_1" + h,
            "name": "name" + h,
            "namespace": h,
            "arguments": orjson.dumps({"k": h}).decode(),
        },
        {"type": "function_call_output", "call_id": "call_1" + h, "output": "output " + h + "\n" * 40},
        {"id": "ctc_1", "type": "custom_tool_call", "call_id": "c2", "name": h, "input": h},
        {
            "type": "custom_tool_call_output",
            "call_id": "c2",
            "output": [{"type": "input_text", "text": h}, {"type": "input_image", "image_url": h}],
        },
        {"id": "x_1", "type": "web_search_call" + h, "status": h, "action": {"query": h}},
        {"id": "fc_2", "type": "function_call", "call_id": "waiting" + h, "name": h, "arguments": h},
    ]


@pytest.fixture(scope="module")
def hostile_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "hostile.jsonl"
    lines = [orjson.dumps(item) for item in hostile_items(HOSTILE)]
    lines.append(("not json " + HOSTILE).encode())  # a damaged line is quoted: it is untrusted too
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def assert_safe(data: bytes, colour: bool) -> str:
    text = data.decode("utf-8")  # valid UTF-8, always
    if colour:
        text = SGR.sub("", text)
    bad = sorted({hex(ord(c)) for c in UNSAFE.findall(text)})
    assert not bad, f"unsafe characters reached stdout: {bad}"
    return text


@pytest.mark.parametrize(
    "args, colour",
    [
        ([], False),
        (["--full"], False),
        (["--color", "always"], True),
        (["--color", "always", "--full"], True),
        (["--format", "markdown"], False),
        (["--format", "markdown", "--color", "always"], False),
        (["--format", "json"], False),
        (["--pending", "--format", "json"], False),
        (["--pending"], False),
        (["--pending", "--color", "always"], True),
        (["--last", "1", "--color", "always"], True),
    ],
)
def test_hostile_content_never_reaches_the_terminal(hostile_file, args, colour):
    result = show(hostile_file, *args)
    assert result.returncode == 2  # the damaged last line
    text = assert_safe(result.stdout, colour)
    assert "nul" in text and "waitingA" in text  # the text itself is still shown
    assert_safe(result.stderr, False)


def test_forced_colour_by_environment_is_just_as_safe(hostile_file):
    result = show(hostile_file, environment=env(FORCE_COLOR="1", TERM="xterm-256color"))
    text = assert_safe(result.stdout, True)
    assert SGR.search(result.stdout.decode()) and "instructions A" in text


def test_escape_sequences_are_removed_and_other_controls_made_visible(hostile_file):
    lines = show(hostile_file).stdout.decode().splitlines()
    user = lines[lines.index("── Turn 1 " + "─" * 68) + 3]
    assert user == "    user ARED B Clink D E\ufffdbell\ufffdbs"  # title, hyperlink target, clipboard: gone
    assert (
        lines[lines.index(user) + 1]
        == "    CR\ufffdvt\ufffdff FC1\ufffdnel G\ufffdevil\ufffd\ufffdiso\ufffd H\ufffdnul\ufffddel I J Knd"
    )  # as a terminal would: ESC [ 999... SP e is one sequence


def test_json_keeps_the_text_exactly_with_every_control_escaped(hostile_file):
    result = show(hostile_file, "--format", "json")
    assert_safe(result.stdout, False)
    assert b"\\u001b" in result.stdout and b"\\u009b" in result.stdout and b"\\u202e" in result.stdout
    data = orjson.loads(result.stdout)
    assert data[1]["text"].startswith("user " + HOSTILE)
    assert data[1]["attachments"][1]["filename"] == "evil" + HOSTILE + ".pdf"
    assert data[5]["output"] == "output " + HOSTILE + "\n" * 40


def test_a_hostile_file_name_in_an_error_is_one_safe_line(tmp_path):
    path = tmp_path / "evil\x1b]0;title\x07.jsonl"
    result = show(path)
    assert result.returncode == 2
    assert result.stderr == f"respctl: error: {tmp_path}/evil\\x1b]0;title\\x07.jsonl: no such file\n".encode()


# -- properties, in process (thousands of cases would take minutes as subprocesses) -----------------


unicode_with_controls = st.text(
    alphabet=st.one_of(
        st.sampled_from("\x1b\x07\x08\r\n\t\x00\x7f\x9b\x9d\x9c\x85\u202e\u2066[];?0123456789mHJ\\P"),
        st.characters(codec="utf-8"),
    ),
    max_size=80,
)


def test_clean_leaves_no_code_point_that_acts_on_a_terminal():
    """Every code point, alone between two letters: none that acts on a terminal survives."""
    for code in range(0x110000):
        if 0xD800 <= code <= 0xDFFF:
            continue  # surrogates: not text
        cleaned = sanitize.clean(f"a{chr(code)}b")
        assert not [c for c in cleaned if acts_on_a_terminal(c)], (hex(code), cleaned)


@given(unicode_with_controls)
@example("\x1b]0;PWNED\x07\u202eevil\x1b[2J\u2066x")
@settings(max_examples=examples(1000), deadline=None)
def test_clean_output_is_always_safe(text):
    cleaned = sanitize.clean(text)
    assert not [c for c in cleaned if acts_on_a_terminal(c)], repr(cleaned)
    assert sanitize.net(cleaned, colour=False) == cleaned
    if not any(acts_on_a_terminal(c) for c in text):
        assert cleaned == text  # harmless text is left alone


#: Bidirectional embeddings, overrides and isolates (U+202A-202E, U+2066-2069): they reorder what follows.
BIDI_CONTROLS = {"LRE", "RLE", "PDF", "LRO", "RLO", "LRI", "RLI", "FSI", "PDI"}


def acts_on_a_terminal(c: str) -> bool:
    """The oracle, from the Unicode database rather than respctl's own pattern: a control
    character (C0, DEL, C1) other than newline and tab, or a bidi control."""
    return (unicodedata.category(c) == "Cc" and c not in "\n\t") or unicodedata.bidirectional(c) in BIDI_CONTROLS


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | unicode_with_controls,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "type",
                    "role",
                    "content",
                    "text",
                    "summary",
                    "output",
                    "call_id",
                    "name",
                    "arguments",
                    "input",
                    "image_url",
                    "file_data",
                    "filename",
                    "encrypted_content",
                    "phase",
                    "annotations",
                    "url",
                    "title",
                ]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=20,
)
item_types = st.sampled_from(
    [
        "message",
        "reasoning",
        "function_call",
        "function_call_output",
        "custom_tool_call",
        "custom_tool_call_output",
        "web_search_call",
        "compaction",
    ]
)


@given(
    st.lists(
        st.tuples(
            item_types,
            st.dictionaries(
                st.sampled_from(
                    [
                        "role",
                        "content",
                        "summary",
                        "output",
                        "call_id",
                        "name",
                        "arguments",
                        "input",
                        "encrypted_content",
                        "phase",
                        "status",
                    ]
                ),
                json_values,
                max_size=6,
            ),
        ),
        max_size=6,
    ),
    st.sampled_from(["text", "markdown", "json"]),
    st.booleans(),
)
@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_json_object_is_shown_without_crashing(tmp_path, items, output_format, pending):
    path = tmp_path / "random.jsonl"
    path.write_bytes(b"".join(orjson.dumps({"type": kind, **fields}) + b"\n" for kind, fields in items))
    out = _Capture()
    real = sys.stdout
    sys.stdout = out
    try:
        assert show_module.run(str(path), output_format=output_format, pending=pending, color="never") == 0
    finally:
        sys.stdout = real
    assert_safe(out.buffer.getvalue() + out.text.encode(), False)
    if output_format == "json":
        orjson.loads(out.buffer.getvalue())


class _Capture:
    """A stand-in stdout with a binary buffer, as json output needs."""

    def __init__(self):
        import io

        self.buffer = io.BytesIO()
        self.text = ""

    def write(self, s):
        self.text += s

    def flush(self):
        pass

    def isatty(self):
        return False

    def fileno(self):
        raise OSError
