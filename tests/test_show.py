"""respctl show, run as a user runs it: the real CLI in a subprocess, exact lines and exit codes.

samples/potatoland.jsonl is a real recorded conversation (pydantic-ai's gpt-5.5 cassette, see the
sample list in docs/show.md); the other files are built here, one shape at a time.
"""

from __future__ import annotations

import ast
import base64
import graphlib
import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
POTATO = SAMPLES / "potatoland.jsonl"


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "TERM")}
    env.update(extra)
    return env


def show(*args, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "respctl", "show", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env or clean_env(),
        timeout=60,
    )


def write(path: Path, items: list) -> Path:
    path.write_bytes(b"".join((item if isinstance(item, bytes) else orjson.dumps(item)) + b"\n" for item in items))
    return path


def user(text: str, *parts: dict) -> dict:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}, *parts]}


def assistant(text: str, phase: str | None = None, id: str = "msg_1") -> dict:
    item = {
        "id": id,
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": text}],
    }
    if phase:
        item["phase"] = phase
    return item


def developer(text: str) -> dict:
    return {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": text}]}


def call(call_id: str, name: str = "get_weather", arguments: str = '{"city":"Paris"}') -> dict:
    return {
        "id": "fc_" + call_id,
        "type": "function_call",
        "status": "completed",
        "arguments": arguments,
        "call_id": call_id,
        "name": name,
    }


def output(call_id: str, text: str) -> dict:
    return {"type": "function_call_output", "call_id": call_id, "output": text}


def reasoning(*summary: str, encrypted: int | None = 1000, text: str | None = None) -> dict:
    item = {"id": "rs_1", "type": "reasoning", "summary": [{"type": "summary_text", "text": s} for s in summary]}
    if encrypted is not None:
        item["encrypted_content"] = "gAAAAAB" + "x" * (encrypted - 7)
    if text is not None:
        item["content"] = [{"type": "reasoning_text", "text": text}]
    return item


# -- the text view ----------------------------------------------------------------------------------

POTATO_TEXT = """\
── Instructions ──────────────────────────────────────────────────────────────

1  developer
   Briefly narrate what you are about to do before calling each tool.

── Turn 1 ────────────────────────────────────────────────────────────────────

2  user
   What is the capital of PotatoLand?

3  reasoning · no summary · 1.1 KB encrypted

4  assistant · commentary
   I’ll check the capital lookup tool for “PotatoLand.”

5  tool call · get_capital · call_LabG58Uhrq9kZvR52BYKjToD
   {"country": "PotatoLand"}

6  tool output · get_capital · call_LabG58Uhrq9kZvR52BYKjToD
   Potato City

7  assistant · final answer
   The capital of PotatoLand is **Potato City**.
"""


def test_text_of_a_real_conversation_when_piped():
    result = show(POTATO)
    assert result.returncode == 0, result.stderr
    assert result.stdout == POTATO_TEXT
    assert result.stderr == ""


def test_text_never_shows_encrypted_content_or_embedded_data(tmp_path):
    image = base64.b64encode(b"\x89PNG" + bytes(3000)).decode()
    pdf = base64.b64encode(b"%PDF-1.4" + bytes(50_000)).decode()
    path = write(
        tmp_path / "c.jsonl",
        [
            user(
                "Look at these",
                {"type": "input_image", "detail": "auto", "image_url": f"data:image/png;base64,{image}"},
                {"type": "input_image", "detail": "high", "image_url": "https://example.com/cat.jpg"},
                {"type": "input_image", "file_id": "file_abc"},
                {"type": "input_file", "filename": "report.pdf", "file_data": f"data:application/pdf;base64,{pdf}"},
            ),
            reasoning("**Looking**\n\nA cat and a report.", encrypted=17_060),
            assistant("A cat."),
        ],
    )
    for fmt in ("text", "markdown", "json"):
        result = show(path, "--format", fmt)
        assert result.returncode == 0
        assert "gAAAAAB" not in result.stdout and image[:40] not in result.stdout and pdf[:40] not in result.stdout
    lines = show(path).stdout.splitlines()
    assert lines[2:10] == [
        "1  user",
        "   Look at these",
        "",
        "   [image: image/png, 3.0 KB]",
        "   [image: https://example.com/cat.jpg, detail high]",
        "   [image: file_abc]",
        "   [file: report.pdf, application/pdf, 50.0 KB]",
        "",
    ]
    assert lines[10:14] == ["2  reasoning · 17.1 KB encrypted", "   Looking", "   A cat and a report.", ""]


def test_text_file_attachments_are_set_apart_and_shortened(tmp_path):
    body = "\n".join(f"row {n}" for n in range(1, 41))
    path = write(
        tmp_path / "c.jsonl",
        [user("My notes:", {"type": "input_text", "text": f'<file name="notes.txt">\n{body}\n</file>'})],
    )
    lines = show(path).stdout.splitlines()
    assert lines[2:8] == ["1  user", "   My notes:", "", "   [text file: notes.txt, 270 B]", "     row 1", "     row 2"]
    assert lines[-2:] == ["     row 20", "   [... 20 more lines, 270 characters in all; --full shows everything]"]
    assert show(path, "--full").stdout.splitlines()[-1] == "     row 40"


def test_reasoning_summary_titles_and_gpt_oss_reasoning_text(tmp_path):
    path = write(
        tmp_path / "c.jsonl",
        [
            user("Is 1001 prime?"),
            reasoning("**Factoring**\n\nTry small primes.", "No title here.", encrypted=None),
            reasoning(encrypted=None, text="1001 = 7 * 11 * 13"),
            reasoning(encrypted=2500),
            assistant("No."),
        ],
    )
    lines = show(path).stdout.splitlines()
    assert lines[5:15] == [
        "2  reasoning",
        "   Factoring",
        "   Try small primes.",
        "",
        "   No title here.",
        "",
        "3  reasoning",
        "   1001 = 7 * 11 * 13",
        "",
        "4  reasoning · no summary · 2.5 KB encrypted",
    ]


def test_tool_calls_show_pretty_arguments_pending_calls_and_long_outputs(tmp_path):
    hourly = [{"hour": h, "temp_c": 10 + h % 7, "sky": "cloudy"} for h in range(40)]
    path = write(
        tmp_path / "c.jsonl",
        [
            user("Weather?"),
            call("call_a", arguments=orjson.dumps({"city": "Oslo", "hours": list(range(30))}).decode()),
            {"id": "ctc_1", "type": "custom_tool_call", "call_id": "call_b", "name": "sql", "input": "SELECT 1;"},
            call("call_c", name="lookup", arguments="not json"),
            output("call_a", orjson.dumps({"hourly": hourly}).decode()),
            {"type": "custom_tool_call_output", "call_id": "call_b", "output": "1"},
            output("call_zzz", ""),
        ],
    )
    text = show(path).stdout
    assert text.splitlines()[5:20] == [
        "2  tool call · get_weather · call_a",
        "   {",
        '     "city": "Oslo",',
        '     "hours": [',
        "       0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,",
        "       21, 22, 23, 24, 25, 26, 27, 28, 29",
        "     ]",
        "   }",
        "",
        "3  tool call · sql · call_b",
        "   SELECT 1;",
        "",
        "4  tool call · lookup · call_c · waiting for output",
        "   not json",
        "",
    ]
    assert (
        '\n5  tool output · get_weather · call_a\n   {\n     "hourly": [\n       {"hour": 0, "temp_c": 10, "sky": '
        '"cloudy"},\n' in text
    )
    assert "   [... 24 more lines, 1,970 characters in all; --full shows everything]\n" in text
    assert '{"hour": 39,' not in text and '{"hour": 39,' in show(path, "--full").stdout
    assert text.endswith(
        "\n6  tool output · sql · call_b\n   1\n\n7  tool output · call_zzz · empty · no call has this call_id\n"
    )


def test_other_item_types_are_outlined_without_their_blobs(tmp_path):
    path = write(
        tmp_path / "c.jsonl",
        [
            user("Search"),
            {
                "id": "ws_1",
                "type": "web_search_call",
                "status": "completed",
                "action": {"type": "search", "query": "ferry"},
            },
            {"id": "cmp_1", "type": "compaction", "encrypted_content": "gAAAA" + "y" * 5000},
            {"id": "ig_1", "type": "image_generation_call", "status": "completed", "result": "iVBOR" + "z" * 9000},
            {"type": 7, "weird": True},
            {"role": "assistant", "content": "a plain string answer"},
        ],
    )
    result = show(path)
    assert result.returncode == 0
    assert result.stdout.splitlines()[5:17] == [
        "2  web_search_call · completed",
        '   {"action": {"type": "search", "query": "ferry"}}',
        "",
        "3  compaction · 5.0 KB encrypted · compacted here",
        "   [replaces 2 earlier items (186 B) above]",  # the user message and the web search, 186 bytes
        "",
        "4  image_generation_call · completed",
        '   {"result": "<9,005 characters>"}',
        "",
        "5  item",
        '   {"weird": true}',
        "",
    ]
    assert result.stdout.endswith("6  assistant\n   a plain string answer\n")


def test_refusals_and_cited_sources(tmp_path):
    message = assistant("See the timetable.")
    message["content"][0]["annotations"] = [
        {"type": "url_citation", "url": "https://ruter.no/", "title": "Ruter", "start_index": 0, "end_index": 3}
    ]
    message["content"].append({"type": "refusal", "refusal": "I can't book it."})
    path = write(tmp_path / "c.jsonl", [user("Book the ferry"), message])
    assert show(path).stdout.splitlines()[5:] == [
        "2  assistant",
        "   See the timetable.",
        "",
        "   refusal: I can't book it.",
        "   [source: Ruter, https://ruter.no/]",
    ]
    md = show(path, "--format", "markdown").stdout
    assert "**Refusal:** I can't book it.\n\n`[source: Ruter, https://ruter.no/]`\n" in md


# -- turns ------------------------------------------------------------------------------------------


def turns_of(path: Path) -> list:
    return [(o["line"], o["turn"]) for o in orjson.loads(show(path, "--format", "json").stdout)]


def test_a_turn_runs_from_a_message_to_the_next_and_keeps_tool_outputs_with_their_calls(tmp_path):
    path = write(
        tmp_path / "c.jsonl",
        [
            developer("Be terse."),  # 1: instructions, turn 0
            {"type": "message", "role": "system", "content": "Also: metric units."},  # 2: still the header
            user("Weather in Paris and Rome?"),  # 3: turn 1
            reasoning("**Two calls**"),  # 4
            call("call_p"),  # 5
            call("call_r"),  # 6
            output("call_p", "18 C"),  # 7: tool outputs stay in the turn of their calls
            output("call_r", "21 C"),  # 8: ...both of them
            assistant("Paris 18, Rome 21."),  # 9
            user("And Oslo?"),  # 10: turn 2
            user("In Fahrenheit."),  # 11: sent with it (say --no-send, then say): same turn
            developer("Answer in one word."),  # 12: input too: same turn
            assistant("50."),  # 13
        ],
    )
    assert turns_of(path) == [
        (1, 0),
        (2, 0),
        (3, 1),
        (4, 1),
        (5, 1),
        (6, 1),
        (7, 1),
        (8, 1),
        (9, 1),
        (10, 2),
        (11, 2),
        (12, 2),
        (13, 2),
    ]
    text = show(path).stdout
    assert [line for line in text.splitlines() if line.startswith("──")] == [
        "── Instructions " + "─" * 62,
        "── Turn 1 " + "─" * 68,
        "── Turn 2 " + "─" * 68,
    ]


def test_a_message_between_a_call_and_its_output_starts_no_turn_as_rewind_counts(tmp_path):
    """Some tools record an interruption as a user message between a call and its output: a turn cannot
    start there (no cut is safe between them), so show numbers turns as rewind and fork count them
    (respctl.boundaries.turns)."""
    path = write(
        tmp_path / "c.jsonl",
        [user("List the files."), call("c1"), user("(interrupted)"), output("c1", "a.txt"), assistant("One file.")],
    )
    assert turns_of(path) == [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1)]
    assert [line[:10] for line in show(path).stdout.splitlines() if line.startswith("──")] == ["── Turn 1 "]


def test_a_file_without_instructions_or_user_message_starts_at_turn_1(tmp_path):
    path = write(
        tmp_path / "c.jsonl", [assistant("Hello."), user("Hi"), assistant("What now?"), developer("late instructions")]
    )
    assert turns_of(path) == [(1, 1), (2, 2), (3, 2), (4, 3)]


def test_last_shows_the_last_turns_and_says_what_it_left_out():
    result = show(SAMPLES / "rome-trip.jsonl", "--last", "1")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        "[... the instructions and 1 earlier turn not shown (lines 1-10)]",
        "",
        "── Turn 2 " + "─" * 68,
        "",
        "11  user",
    ]
    assert "Turn 1" not in result.stdout
    md = show(SAMPLES / "rome-trip.jsonl", "--last", "1", "--format", "markdown").stdout
    assert md.startswith("*... the instructions and 1 earlier turn not shown (lines 1-10)*\n\n## Turn 2\n\n**User**")
    data = orjson.loads(show(SAMPLES / "rome-trip.jsonl", "--last", "1", "--format", "json").stdout)
    assert [o["line"] for o in data] == [11, 12, 13]
    everything = show(SAMPLES / "rome-trip.jsonl", "--last", "99").stdout
    assert everything == show(SAMPLES / "rome-trip.jsonl").stdout


def test_last_must_be_positive():
    result = show(POTATO, "--last", "0")
    assert result.returncode == 2
    assert result.stderr.startswith("respctl: error: ")


# -- markdown ---------------------------------------------------------------------------------------

POTATO_MARKDOWN = """\
## Instructions

**Developer**

> Briefly narrate what you are about to do before calling each tool.

## Turn 1

**User**

What is the capital of PotatoLand?

**Reasoning** · no summary · 1.1 KB encrypted

**Assistant** · commentary

I’ll check the capital lookup tool for “PotatoLand.”

**Tool call** · `get_capital` · `call_LabG58Uhrq9kZvR52BYKjToD`

```json
{"country": "PotatoLand"}
```

**Tool output** · `get_capital` · `call_LabG58Uhrq9kZvR52BYKjToD`

```
Potato City
```

**Assistant** · final answer

The capital of PotatoLand is **Potato City**.
"""


def test_markdown_of_a_real_conversation():
    result = show(POTATO, "--format", "markdown")
    assert result.returncode == 0
    assert result.stdout == POTATO_MARKDOWN


def test_markdown_has_no_colour_even_when_forced():
    for env in (clean_env(FORCE_COLOR="1"), clean_env()):
        result = show(SAMPLES / "rome-trip.jsonl", "--format", "markdown", "--color", "always", env=env)
        assert "\x1b" not in result.stdout


def test_markdown_keeps_the_document_whole(tmp_path):
    path = write(
        tmp_path / "c.jsonl",
        [
            developer("# Role\nYou plan trips."),
            user("Here is code:\n```python\nprint(1)"),  # a fence the user never closed
            reasoning("**Thinking**\n\nAbout ``` fences."),
            assistant("Sure."),
            call("call_1", arguments=orjson.dumps({"code": "```"}).decode()),
            output("call_1", "text with ``` and ```` in it"),
        ],
    )
    md = show(path, "--format", "markdown").stdout
    assert "> # Role\n> You plan trips.\n" in md  # instruction headings stay inside the quote
    assert "Here is code:\n```python\nprint(1)\n```\n\n**Reasoning**" in md
    assert "> **Thinking**\n>\n> About ``` fences.\n" in md
    assert "`````\ntext with ``` and ```` in it\n`````" in md


# -- json -------------------------------------------------------------------------------------------


def test_json_describes_every_line(tmp_path):
    pdf = base64.b64encode(b"%PDF" + bytes(1996)).decode()
    path = write(
        tmp_path / "c.jsonl",
        [
            developer("Be terse."),
            user(
                "Read this",
                {"type": "input_file", "filename": "a.pdf", "file_data": f"data:application/pdf;base64,{pdf}"},
            ),
            reasoning("**Reading**\n\nA PDF.", encrypted=1060),
            assistant("Calling.", phase="commentary"),
            call("call_1"),
            output("call_1", "sunny"),
            {"id": "ctc_1", "type": "custom_tool_call", "call_id": "call_2", "name": "sql", "input": "SELECT 1"},
            {
                "id": "ws_1",
                "type": "web_search_call",
                "status": "completed",
                "action": {"type": "search", "query": "x"},
            },
            b"not json",
        ],
    )
    result = show(path, "--format", "json")
    assert result.returncode == 2
    assert result.stdout.startswith("[\n{") and result.stdout.endswith("}\n]\n")
    assert len(result.stdout.splitlines()) == 11  # one object per line
    data = orjson.loads(result.stdout)
    assert data == [
        {
            "line": 1,
            "turn": 0,
            "type": "message",
            "role": "developer",
            "id": None,
            "phase": None,
            "text": "Be terse.",
            "refusal": None,
            "attachments": [],
        },
        {
            "line": 2,
            "turn": 1,
            "type": "message",
            "role": "user",
            "id": None,
            "phase": None,
            "text": "Read this",
            "refusal": None,
            "attachments": [
                {
                    "type": "input_file",
                    "filename": "a.pdf",
                    "media_type": "application/pdf",
                    "bytes": 2000,
                    "url": None,
                    "file_id": None,
                    "detail": None,
                }
            ],
        },
        {
            "line": 3,
            "turn": 1,
            "type": "reasoning",
            "role": None,
            "id": "rs_1",
            "summary": ["**Reading**\n\nA PDF."],
            "text": None,
            "encrypted_bytes": 1060,
        },
        {
            "line": 4,
            "turn": 1,
            "type": "message",
            "role": "assistant",
            "id": "msg_1",
            "phase": "commentary",
            "text": "Calling.",
            "refusal": None,
            "attachments": [],
        },
        {
            "line": 5,
            "turn": 1,
            "type": "function_call",
            "role": None,
            "id": "fc_call_1",
            "call_id": "call_1",
            "name": "get_weather",
            "namespace": None,
            "arguments": '{"city":"Paris"}',
            "pending": False,
            "output_line": 6,
        },
        {
            "line": 6,
            "turn": 1,
            "type": "function_call_output",
            "role": None,
            "id": None,
            "call_id": "call_1",
            "name": "get_weather",
            "output": "sunny",
            "attachments": [],
            "call_line": 5,
        },
        {
            "line": 7,
            "turn": 1,
            "type": "custom_tool_call",
            "role": None,
            "id": "ctc_1",
            "call_id": "call_2",
            "name": "sql",
            "namespace": None,
            "arguments": "SELECT 1",
            "pending": True,
            "output_line": None,
        },
        {"line": 8, "turn": 1, "type": "web_search_call", "role": None, "id": "ws_1", "call_id": None},
        {
            "line": 9,
            "turn": None,
            "type": None,
            "role": None,
            "id": None,
            "error": "invalid JSON: invalid literal, expected 'null' at column 1",
        },
    ]


def test_pending_json_is_the_contract_shape():
    result = show(SAMPLES / "weather-tools.jsonl", "--pending", "--format", "json")
    assert result.returncode == 0
    assert orjson.loads(result.stdout) == [
        {
            "call_id": "call_Bv3gNw6QeT1mKs9YpL2ZdHxR",
            "name": "get_weather",
            "arguments": '{"city":"Bergen","date":"2025-05-02"}',
            "type": "function_call",
        },
        {
            "call_id": "call_Hk7dRz4VwP0nJc2TqM8XbLsE",
            "name": "get_weather",
            "arguments": '{"city":"Tromsø","date":"2025-05-02"}',
            "type": "function_call",
        },
    ]
    none = show(POTATO, "--pending", "--format", "json")
    assert (none.returncode, none.stdout) == (0, "[]\n")


def test_pending_text_and_markdown():
    result = show(SAMPLES / "weather-tools.jsonl", "--pending")
    assert result.stdout == (
        '12  tool call · get_weather · call_Bv3gNw6QeT1mKs9YpL2ZdHxR · waiting for output\n    {"city": "Bergen", '
        '"date": "2025-05-02"}\n\n'
        '13  tool call · get_weather · call_Hk7dRz4VwP0nJc2TqM8XbLsE · waiting for output\n    {"city": "Tromsø", '
        '"date": "2025-05-02"}\n'
    )
    assert show(POTATO, "--pending").stdout == "No tool calls are waiting for output.\n"
    md = show(SAMPLES / "weather-tools.jsonl", "--pending", "--format", "markdown").stdout
    assert md.startswith(
        "**Tool call** · `get_weather` · `call_Bv3gNw6QeT1mKs9YpL2ZdHxR` · **waiting for output**\n\n```json\n"
    )
    assert show(POTATO, "--pending", "--format", "markdown").stdout == "*No tool calls are waiting for output.*\n"


def test_pending_with_last_keeps_the_calls_of_those_turns(tmp_path):
    path = write(tmp_path / "c.jsonl", [user("a"), call("call_old"), user("b"), call("call_new")])
    data = orjson.loads(show(path, "--pending", "--format", "json", "--last", "1").stdout)
    assert [c["call_id"] for c in data] == ["call_new"]


# -- damaged and missing files ----------------------------------------------------------------------


def test_damaged_lines_are_shown_in_place_and_exit_2(tmp_path):
    lines = POTATO.read_bytes().splitlines()
    path = tmp_path / "conflict.jsonl"
    path.write_bytes(
        b"\n".join(
            [
                *lines[:3],
                b"<<<<<<< HEAD",
                b"",
                b"[1, 2]",
                b'{"type":"message","role":"user","content":"caf\xe9"}',
                lines[3] + b"\r",
                *lines[4:],
            ]
        )
        + b"\n"
    )
    result = show(path)
    assert result.returncode == 2
    assert result.stderr == (
        f"respctl: error: {path}: 5 damaged lines (lines 4, 5, 6, 7, 8), shown as far as possible; see 'respctl lint "
        f"{path}'\n"
    )
    out = result.stdout.splitlines()
    assert out[12:23] == [
        " 4  damaged line · invalid JSON: unexpected character, expected a JSON value at column 1",
        "    <<<<<<< HEAD",
        "",
        " 5  damaged line · blank line (run 'respctl lint --fix')",
        "",
        " 6  damaged line · expected a JSON object (one input item), got an array",
        "    [1, 2]",
        "",
        " 7  damaged line · invalid JSON: invalid UTF-8 at byte 47",
        '    {"type":"message","role":"user","content":"caf\ufffd"}',
        "",
    ]
    assert out[23] == " 8  assistant · commentary · CRLF line ending (run 'respctl lint --fix')"
    assert out[-1] == "    The capital of PotatoLand is **Potato City**."  # everything after is still shown
    quiet = show(path, "--exit-zero", "--format", "markdown")
    assert (quiet.returncode, quiet.stderr) == (0, "")
    assert (
        "**Damaged line 4** · *invalid JSON: unexpected character, expected a JSON value at column "
        "1*\n\n```text\n<<<<<<< HEAD\n```" in quiet.stdout
    )
    assert "**Assistant** · commentary · *line 8: CRLF line ending (run 'respctl lint --fix')*" in quiet.stdout


def test_a_byte_order_mark_is_reported_and_the_line_still_shown(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + orjson.dumps(user("hello")) + b"\n")
    result = show(path)
    assert result.returncode == 2
    assert result.stdout.splitlines()[2:4] == [
        "1  user · file starts with a byte order mark (run 'respctl lint --fix')",
        "   hello",
    ]


def test_missing_file_and_directory_are_exit_2(tmp_path):
    result = show(tmp_path / "nope.jsonl")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"respctl: error: {tmp_path / 'nope.jsonl'}: no such file\n"
    assert show(tmp_path).stderr == f"respctl: error: {tmp_path}: is a directory\n"


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    result = show(path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "respctl: the conversation is empty\n")
    assert show(path, "--format", "json").stdout == "[]\n"
    assert show(path, "--format", "markdown").stdout == ""


def test_a_file_without_final_newline_is_fine(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(orjson.dumps(user("hi")))
    assert show(path).returncode == 0


# -- colour, terminals, imports ---------------------------------------------------------------------


def test_piped_output_is_plain_and_colour_can_be_forced():
    assert "\x1b" not in show(SAMPLES / "rome-trip.jsonl").stdout
    forced = show(SAMPLES / "rome-trip.jsonl", "--color", "always").stdout
    assert "\x1b[" in forced
    assert show(SAMPLES / "rome-trip.jsonl", env=clean_env(FORCE_COLOR="1")).stdout.count("\x1b[") > 10
    assert not colours(show(SAMPLES / "rome-trip.jsonl", env=clean_env(FORCE_COLOR="1", NO_COLOR="1")).stdout)


def run_in_terminal(args: list, env: dict, columns: int = 100) -> str:
    """Run show with a pseudo-terminal as stdout, as a person at a terminal does."""
    import pty

    controller, terminal = pty.openpty()
    import fcntl
    import struct
    import termios

    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "respctl", "show", *map(str, args), "--no-pager"],
        stdout=terminal,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            data = os.read(controller, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(controller)
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


SGR = re.compile("\x1b\\[[0-9;]*m")


def colours(text: str) -> set:
    """The colour parameters (30-37, 38;..., 90-97) of the SGR codes in text."""
    found = set()
    for code in SGR.findall(text):
        params = code[2:-1].split(";")
        found.update(p for p in params if p.isdigit() and (30 <= int(p) <= 38 or 90 <= int(p) <= 97))
    return found


def test_on_a_terminal_markdown_is_rendered_in_colour_and_no_color_is_respected():
    env = clean_env(TERM="xterm-256color")
    coloured = run_in_terminal([SAMPLES / "rome-trip.jsonl"], env)
    assert colours(coloured)
    assert " • Colosseum at opening time" in SGR.sub("", coloured)  # rendered markdown, not "- Colosseum"
    assert "- Colosseum" not in coloured
    plain_colours = run_in_terminal([SAMPLES / "rome-trip.jsonl"], {**env, "NO_COLOR": "1"})
    assert " • Colosseum at opening time" in SGR.sub("", plain_colours)
    assert not colours(plain_colours)
    never = run_in_terminal([SAMPLES / "rome-trip.jsonl", "--color", "never"], env)
    assert "\x1b" not in never and "- Colosseum at opening time" in never


def imported_modules(args: list) -> set:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "respctl", "show", *map(str, args)],
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    return {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.parametrize(
    "args", [["--format", "text"], ["--format", "markdown"], ["--format", "json"], ["--pending", "--format", "json"]]
)
def test_show_never_imports_openai_nor_rich_when_piped(args):
    modules = imported_modules([SAMPLES / "rome-trip.jsonl", *args])
    assert "respctl.show" in modules
    assert "openai" not in modules and "rich" not in modules and "pydantic" not in modules


def test_show_never_imports_openai_even_on_the_terminal_path():
    modules = imported_modules([SAMPLES / "rome-trip.jsonl", "--color", "always"])
    assert "rich" in modules and "openai" not in modules


def module_path(module: str) -> Path | None:
    path = ROOT.joinpath(*module.split("."))
    return next((p for p in (path / "__init__.py", path.with_suffix(".py")) if p.exists()), None)


def module_imports(module: str) -> list[tuple[str, bool]]:
    """The modules a respctl module imports when it runs (not `if TYPE_CHECKING:`), by absolute name, each
    with whether inside a function."""
    path = module_path(module)
    assert path, module
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend((alias.name, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                assert child.level == 0 and child.module, f"{module}: relative import"
                for alias in child.names:  # `from respctl import items` imports the module respctl.items
                    name = f"{child.module}.{alias.name}"
                    found.append((name if module_path(name) else child.module, in_function))
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                visit(ast.Module(body=child.orelse, type_ignores=[]), in_function)  # the body is for mypy only
                continue
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


SHOW_MODULES = sorted(
    "respctl.show" if p.name == "__init__.py" else f"respctl.show.{p.stem}"
    for p in (ROOT / "respctl" / "show").glob("*.py")
)


def test_the_show_package_has_no_import_cycle_and_loads_only_rich_lazily():
    graph = {m: {name for name, _ in module_imports(m) if name in SHOW_MODULES and name != m} for m in SHOW_MODULES}
    graph["respctl.show"] -= set(SHOW_MODULES)  # a package's own submodules load it first, not the other way round
    assert sorted(graphlib.TopologicalSorter(graph).static_order()) == SHOW_MODULES  # CycleError on a cycle
    lazy = {name for m in SHOW_MODULES for name, in_function in module_imports(m) if in_function}
    assert lazy and all(name == "rich" or name.startswith("rich.") for name in lazy), lazy


def test_nothing_show_imports_reaches_the_api_client_even_lazily():
    """What any function of show may load, followed through every respctl module: never the client, never openai."""
    seen: set[str] = set()
    todo = list(SHOW_MODULES)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for name, _ in module_imports(module):
            assert name.split(".")[0] != "openai" and name != "respctl.client", f"{module} imports {name}"
            if name.split(".")[0] == "respctl":
                parts = name.split(".")
                todo.extend(".".join(parts[:i]) for i in range(1, len(parts) + 1))  # a module loads its packages
    assert {"respctl.show.model", "respctl.conversation", "respctl.output"} <= seen


def test_a_closed_pipe_is_not_an_error(tmp_path):
    path = write(tmp_path / "c.jsonl", [user(f"message {n}") for n in range(20000)])
    proc = subprocess.Popen(
        f"'{sys.executable}' -m respctl show '{path}' | head -n 3",
        shell=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(),
    )
    out, err = proc.communicate(timeout=60)
    assert out.decode().splitlines()[2] == "    1  user"
    assert err == b""


def test_deeply_nested_json_is_shown_without_crashing(tmp_path):
    deep = 600  # past Python's recursion limit when laid out, past orjson's when written back
    path = tmp_path / "deep.jsonl"
    path.write_text(
        "\n".join(
            [
                '{"type":"function_call","call_id":"c","name":"n","arguments":'
                + orjson.dumps("[" * deep + "]" * deep).decode()
                + "}",
                '{"type":"web_search_call","action":' + "[" * deep + "]" * deep + "}",
                '{"type":"function_call_output","call_id":"c","output":'
                + orjson.dumps('{"a":' * deep + "1" + "}" * deep).decode()
                + "}",
            ]
        )
        + "\n"
    )
    for fmt in ("text", "markdown", "json"):
        result = show(path, "--format", fmt)
        assert (result.returncode, result.stderr) == (0, ""), fmt
    assert "2  web_search_call\n   [nested too deep to show]\n" in show(path).stdout
