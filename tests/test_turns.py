"""start / say end to end: the real CLI, the real openai SDK, the loopback API."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import orjson
import pytest
from conftest import CANARY_KEY, line, read_items, turn_lines, user
from fakeapi import (
    Cut,
    EmptyCompletedOutput,
    ErrorEvent,
    Failed,
    HttpError,
    Malformed,
    NoCompleted,
    Stall,
    Turn,
    function_call,
    message,
    reasoning,
)

MODEL = "gpt-5-mini"


def assert_no_key(*results):
    for r in results:
        assert CANARY_KEY not in r.out and CANARY_KEY not in r.err


def test_six_turn_reasoning_conversation_every_request_accepted_and_bytes_exact(cli, api, tmp_path):
    chat = tmp_path / "chat.jsonl"
    instructions = {
        "type": "message",
        "role": "developer",
        "content": [{"type": "input_text", "text": "You are terse."}],
    }
    r = cli(
        "start",
        chat,
        "--instructions",
        "You are terse.",
        "Plan a 3-day trip to Rome",
        "-m",
        MODEL,
        "--effort",
        "low",
        "--summary",
        "auto",
        "--stream",
    )
    assert r.code == 0, r.err
    expected = line(instructions) + line(user("Plan a 3-day trip to Rome")) + turn_lines(api.requests[-1])
    assert chat.read_bytes() == expected
    questions = ["Make day 2 cheaper", "And day 3?", "Any museums?", "Where to eat?", "Thanks, summarise"]
    for n, question in enumerate(questions):
        before = chat.read_bytes()
        stream = "--stream" if n % 2 else "--no-stream"
        r = cli("say", chat, question, "-m", MODEL, "--effort", "low", "--summary", "auto", stream)
        assert r.code == 0, r.err
        record = api.requests[-1]
        assert record.error is None
        # the request is the file as it was plus the new message, sent statelessly
        assert record.body["input"] == [orjson.loads(x) for x in before.splitlines()] + [user(question)]
        assert record.body["store"] is False and record.body["include"] == ["reasoning.encrypted_content"]
        assert record.body["reasoning"] == {"effort": "low", "summary": "auto"}
        assert chat.read_bytes() == before + line(user(question)) + turn_lines(record)
        assert r.out.strip() == record.response["output"][-1]["content"][0]["text"]
        assert_no_key(r)
    assert len(api.requests) == 6 and api.rejected == []
    keys = {req.body["prompt_cache_key"] for req in api.requests}
    assert len(keys) == 1  # one conversation, one cache key
    kinds = [item["type"] for item in read_items(chat)]
    assert kinds.count("reasoning") == 6 and CANARY_KEY.encode() not in chat.read_bytes()


def test_streamed_turn_stores_done_copy_not_added_or_completed(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    api.script(Turn([reasoning(["Thinking about it"]), message("Hello there.", phase="final_answer")]))
    r = cli("start", chat, "hi", "-m", MODEL, "--stream")
    assert r.code == 0 and r.out == "Hello there.\n"
    stored = read_items(chat)[1]
    done = api.requests[-1].done_items[0]
    completed = api.requests[-1].response["output"][0]
    assert stored["encrypted_content"] == done["encrypted_content"]
    assert len(stored["encrypted_content"]) == len(completed["encrypted_content"])
    assert stored["encrypted_content"] != completed["encrypted_content"]
    assert read_items(chat)[2]["phase"] == "final_answer"
    assert cli("say", chat, "again", "-m", MODEL).code == 0 and api.rejected == []


def test_json_output_describes_the_turn(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    api.script(Turn([reasoning(), message("Answer.", phase="final_answer")]))
    r = cli("start", chat, "q", "-m", MODEL, "--json", "--stream")
    assert r.code == 0
    out = r.json()
    resp = api.requests[-1].response
    assert out == {
        "status": "completed",
        "text": "Answer.",
        "tool_calls": [],
        "usage": resp["usage"],
        "response_id": resp["id"],
        "appended": 3,
        "exit_code": 0,
        "error": None,
    }
    assert r.out.count("\n") == 1  # exactly one JSON object, nothing streamed around it
    assert "tokens:" in r.err


def test_message_from_stdin(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    assert cli("start", chat, "--instructions", "Be brief.").code == 0
    r = cli("say", chat, "-", "-m", MODEL, input="What is in question.txt?\nTwo lines.\n")
    assert r.code == 0
    assert api.requests[-1].body["input"][-1] == user("What is in question.txt?\nTwo lines.")  # newlines cut, as $(...)


def test_start_refuses_a_conversation_unless_forced(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    assert cli("start", chat, "hello", "-m", MODEL).code == 0
    before = chat.read_bytes()
    r = cli("start", chat, "--instructions", "new")
    assert r.code == 2 and r.err_lines == [
        f"respctl: error: {chat}: already holds a conversation (3 items); use 'respctl say', or --force to start over"
    ]
    assert chat.read_bytes() == before
    assert cli("start", chat, "--instructions", "new", "--force").code == 0
    assert chat.read_bytes() == line(
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "new"}]}
    )


def test_start_with_system_role_and_instructions_file(cli, tmp_path):
    (tmp_path / "inst.txt").write_text("Rules:\n- short\n")
    r = cli("start", "c.jsonl", "--instructions-file", "inst.txt", "--role", "system")
    assert r.code == 0
    assert read_items(tmp_path / "c.jsonl") == [
        {"type": "message", "role": "system", "content": [{"type": "input_text", "text": "Rules:\n- short"}]}
    ]


def test_dry_run_prints_the_body_and_sends_and_writes_nothing(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    cli("start", chat, "--instructions", "Be terse.")
    before = chat.read_bytes()
    tools = tmp_path / "tools.json"
    tools.write_text('[{"type":"function","name":"f","parameters":{"type":"object","properties":{}}}]')
    r = cli("say", chat, "hi", "-m", MODEL, "--dry-run", "--tools", tools, "--max-output-tokens", "500")
    assert r.code == 0 and api.requests == []
    body = r.json()
    assert body["input"] == [orjson.loads(before), user("hi")]
    assert body["store"] is False and body["tools"][0]["name"] == "f" and body["max_output_tokens"] == 500
    assert chat.read_bytes() == before
    assert_no_key(r)


def test_dry_run_of_start_creates_no_file(cli, api, tmp_path):
    r = cli("start", "new.jsonl", "hi", "-m", MODEL, "--dry-run")
    assert r.code == 0 and r.json()["input"] == [user("hi")]
    assert not (tmp_path / "new.jsonl").exists() and api.requests == []


def test_no_send_records_the_message_only(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    cli("start", chat, "--instructions", "x")
    r = cli("say", chat, "later", "--no-send")
    assert r.code == 0 and api.requests == []
    assert read_items(chat)[-1] == user("later")
    r = cli("say", chat, "-m", MODEL)  # no MESSAGE: a turn on the file as it is
    assert r.code == 0 and api.requests[-1].body["input"][-1] == user("later")


def test_non_reasoning_model_gets_no_include(cli, api, tmp_path):
    r = cli("start", "c.jsonl", "hi", "-m", "gpt-4.1")
    assert r.code == 0, r.err
    assert "include" not in api.requests[-1].body and api.rejected == []
    r = cli("say", "c.jsonl", "hi", "-m", "gpt-4.1", "--effort", "low")
    assert r.code == 2 and "does not reason" in r.err and len(api.requests) == 1


def test_model_is_required(cli, api, tmp_path):
    cli("start", "c.jsonl", "--instructions", "x")
    r = cli("say", "c.jsonl", "hi")
    assert r.code == 2 and r.err_lines == [
        "respctl: error: a model is required for a turn: pass --model or set RESPCTL_MODEL"
    ]
    r = cli("say", "c.jsonl", "hi", extra_env={"RESPCTL_MODEL": MODEL})
    assert r.code == 0 and api.requests[-1].body["model"] == MODEL


@pytest.mark.parametrize(
    "reply, words",
    [
        (
            HttpError(400, message="Something about input[0] is wrong."),
            ["HTTP 400", "Something about input[0] is wrong."],
        ),
        (HttpError(500), ["HTTP 500", "The server had an error"]),
        (Failed(message="The model had a problem."), ["the response failed", "The model had a problem."]),
        (ErrorEvent("Stream exploded."), ["Stream exploded."]),
        (Cut(after_events=6), ["broke off"]),
        (Malformed(), ["malformed event"]),
        (NoCompleted(), ["ended before", "was complete"]),
    ],
)
@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_api_failures_exit_1_with_one_line_and_leave_the_file_unchanged(cli, api, tmp_path, reply, words, stream):
    chat = tmp_path / "c.jsonl"
    cli("start", chat, "first", "-m", MODEL)
    before = chat.read_bytes()
    api.script(reply)
    r = cli("say", chat, "second", "-m", MODEL, stream, "--max-retries", "0")  # retries: see below
    assert r.code == 1, r.err
    assert len(r.err_lines) == 1 and r.err.startswith("respctl: error: ")
    if stream == "--stream" or not isinstance(reply, (ErrorEvent, Cut, Malformed)):
        for word in words:
            assert word in r.err
    assert chat.read_bytes() == before
    assert_no_key(r)


def test_rate_limit_is_retried_then_succeeds(cli, api, tmp_path):
    api.script(HttpError(429, headers={"retry-after": "0"}, count=2))
    r = cli("start", "c.jsonl", "hi", "-m", MODEL, "--max-retries", "2")
    assert r.code == 0, r.err
    assert [req.status for req in api.requests] == [429, 429, 200]


def test_retries_exhausted_names_the_status(cli, api, tmp_path):
    api.script(HttpError(503, count=5))
    r = cli("start", "c.jsonl", "hi", "-m", MODEL, "--max-retries", "1")
    assert r.code == 1 and r.err_lines[-1] == "respctl: error: HTTP 503: The server is overloaded or not ready yet."
    assert re.fullmatch(r"respctl: HTTP 503; retrying in \d\.\ds \(retry 1 of 1, --max-retries\)", r.err_lines[0])
    assert len(r.err_lines) == 2  # one line per retry, even without -v
    assert len(api.requests) == 2 and not (tmp_path / "c.jsonl").exists()
    quiet = cli("start", "c.jsonl", "hi", "-m", MODEL, "--max-retries", "1", "-q")
    assert quiet.err_lines == ["respctl: error: HTTP 503: The server is overloaded or not ready yet."]


def test_empty_completed_output_uses_the_streamed_items(cli, api, tmp_path):
    api.script(EmptyCompletedOutput(Turn([reasoning(), message("From the stream.")])))
    r = cli("start", "c.jsonl", "hi", "-m", MODEL, "--stream")
    assert r.code == 0 and [i["type"] for i in read_items(tmp_path / "c.jsonl")] == ["message", "reasoning", "message"]


def test_incomplete_response_keeps_what_replays_exit_4(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    api.script(Turn([reasoning(), message("Partial answ"), reasoning()], status="incomplete"))
    r = cli("start", chat, "long question", "-m", MODEL, "--json")
    assert r.code == 4 and r.json()["status"] == "incomplete"
    assert [i["type"] for i in read_items(chat)] == ["message", "reasoning", "message"]  # the cut-off reasoning dropped
    api.script(Turn([reasoning(), message("ok")], status="incomplete"))  # nothing to drop here
    r = cli("say", chat, "go on", "-m", MODEL)
    assert r.code == 4 and "incomplete" in r.err
    assert api.rejected == []
    assert cli("say", chat, "and?", "-m", MODEL).code == 0 and api.rejected == []


def test_incomplete_with_only_reasoning_appends_the_message_only(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    r = cli("start", chat, "think hard", "-m", MODEL, "--max-output-tokens", "16")
    assert r.code == 4
    assert read_items(chat) == [user("think hard")]
    assert cli("say", chat, "shorter please", "-m", MODEL).code == 0 and api.rejected == []


def test_tool_calls_end_the_turn_with_exit_3_and_block_say(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    api.script(Turn([reasoning(), function_call("get_weather", '{"city":"Paris"}', call_id="call_1")]))
    r = cli("start", chat, "weather?", "-m", MODEL, "--json")
    assert r.code == 3
    assert r.json()["tool_calls"] == [
        {"call_id": "call_1", "name": "get_weather", "arguments": '{"city":"Paris"}', "type": "function_call"}
    ]
    before = chat.read_bytes()
    r = cli("say", chat, "hello?", "-m", MODEL)
    assert r.code == 2 and "1 tool call(s) waiting for output (call_1)" in r.err and "tool-result" in r.err
    assert chat.read_bytes() == before and len(api.requests) == 1


def test_bad_conversation_file_names_file_and_line_and_sends_nothing(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    chat.write_bytes(b'{"type":"message","role":"user","content":"hi"}\n{"type": oops}\n')
    r = cli("say", chat, "x", "-m", MODEL)
    assert r.code == 2 and r.err_lines[0].startswith(f"respctl: error: {chat}:2: invalid JSON")
    chat.write_bytes(b"[1,2]\n")
    r = cli("say", chat, "x", "-m", MODEL)
    assert r.err_lines == [f"respctl: error: {chat}:1: expected a JSON object (one input item), got an array"]
    assert cli("say", tmp_path / "missing.jsonl", "x", "-m", MODEL).code == 2
    assert api.requests == []


def test_images_and_attachments_are_embedded(cli, api, tmp_path):
    (tmp_path / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (tmp_path / "notes.txt").write_text("line one\n")
    (tmp_path / "doc.pdf").write_bytes(b"%PDF-1.4 \xff\xfe")
    r = cli(
        "start",
        "c.jsonl",
        "look",
        "--image",
        "pic.png",
        "--image",
        "https://example.com/a.jpg",
        "--attach",
        "notes.txt",
        "--attach",
        "doc.pdf",
        "-m",
        MODEL,
    )
    assert r.code == 0, r.err
    content = read_items(tmp_path / "c.jsonl")[0]["content"]
    assert content[0] == {"type": "input_text", "text": "look"}
    assert content[1] == {
        "type": "input_image",
        "detail": "auto",
        "image_url": "data:image/png;base64,iVBORw0KGgpmYWtl",
    }
    assert content[2]["image_url"] == "https://example.com/a.jpg"
    assert content[3] == {"type": "input_text", "text": '<file name="notes.txt">\nline one\n\n</file>'}
    assert content[4] == {
        "type": "input_file",
        "filename": "doc.pdf",
        "file_data": "data:application/pdf;base64,JVBERi0xLjQg//4=",
    }
    r = cli("say", "c.jsonl", "x", "--image", "notes.txt", "-m", MODEL)
    assert r.code == 2 and "not an image" in r.err


def test_bad_tools_and_schema_files_fail_before_any_request(cli, api, tmp_path):
    cli("start", "c.jsonl", "--instructions", "x")
    (tmp_path / "tools.json").write_text('{"type": "function"}')
    r = cli("say", "c.jsonl", "x", "-m", MODEL, "--tools", "tools.json")
    assert r.code == 2 and r.err_lines == [
        "respctl: error: tools.json: tools file must hold a JSON array of tool definitions"
    ]
    (tmp_path / "tools.json").write_text('[{"type": "function", "name": "bad name"}]')
    assert 'needs a "name"' in cli("say", "c.jsonl", "x", "-m", MODEL, "--tools", "tools.json").err
    (tmp_path / "s.json").write_text("{not json")
    r = cli("say", "c.jsonl", "x", "-m", MODEL, "--schema", "s.json")
    assert r.code == 2 and "s.json: schema file is not valid JSON" in r.err
    assert api.requests == []


def test_schema_becomes_text_format(cli, api, tmp_path):
    (tmp_path / "answer.json").write_text(
        '{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}'
    )
    r = cli("start", "c.jsonl", "Where?", "-m", MODEL, "--schema", "answer.json")
    assert r.code == 0
    fmt = api.requests[-1].body["text"]["format"]
    assert fmt["type"] == "json_schema" and fmt["name"] == "answer" and fmt["strict"] is True
    assert "city" in orjson.loads(r.out)


def test_timeout_exits_1_and_unreachable_server_too(cli, api, tmp_path):
    api.script(Stall(5))
    r = cli("start", "c.jsonl", "hi", "-m", MODEL, "--timeout", "0.5", "--max-retries", "0")
    assert r.code == 1 and "timed out" in r.err and not (tmp_path / "c.jsonl").exists()
    r = cli(
        "start",
        "c.jsonl",
        "hi",
        "-m",
        MODEL,
        "--max-retries",
        "0",
        extra_env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"},
    )
    assert r.code == 1 and r.err_lines[0].startswith(
        "respctl: error: connection to the API at http://127.0.0.1:9/v1 failed"
    )


def test_missing_api_key_is_a_usage_error(cli, api, tmp_path):
    r = cli("start", "c.jsonl", "hi", "-m", MODEL, extra_env={"OPENAI_API_KEY": ""})
    assert r.code == 2 and r.err_lines == ["respctl: error: OPENAI_API_KEY is not set"]


def test_ctrl_c_exits_130_and_leaves_the_file_unchanged(env, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    chat.write_bytes(line(user("hello")))
    api.script(Stall(10))
    proc = subprocess.Popen(
        [sys.executable, "-m", "respctl", "say", chat, "more", "-m", MODEL],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while not api.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130
    assert err.decode().splitlines() == ["respctl: error: interrupted; nothing was written"]
    assert chat.read_bytes() == line(user("hello"))


@pytest.mark.parametrize("mode", [[], ["--dry-run"], ["--as-is", "--dry-run"]])
def test_say_on_an_empty_file_without_message_is_a_usage_error(cli, api, tmp_path, mode):
    """--dry-run plans the request the turn would send, so it refuses what the turn refuses."""
    (tmp_path / "c.jsonl").write_bytes(b"")
    r = cli("say", "c.jsonl", "-m", MODEL, *mode)
    assert (r.code, r.out) == (2, "") and r.err_lines == [
        "respctl: error: c.jsonl: nothing to send: the conversation is empty and no MESSAGE was given"
    ]
    assert api.requests == [] and (tmp_path / "c.jsonl").read_bytes() == b""


#: The plan step alone, as a later command (a batch) uses it: the body `say FILE MESSAGE` would send.
PLAN_SAY = r"""
import sys
from respctl import inputs, turn
from respctl.request import RequestOptions

settings = turn.TurnSettings(request=RequestOptions(model=sys.argv[2]))
item = inputs.message_item(sys.argv[3], [], [], stdin_unasked=False)
sys.stdout.buffer.write(turn.plan_say(sys.argv[1], settings=settings, message_item=item).body)
sys.stderr.write(" ".join(sorted(m for m in sys.modules if m.partition(".")[0] in ("openai", "httpx2", "pydantic"))))
"""


def test_the_plan_step_alone_is_the_body_say_sends_and_loads_no_openai(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    api.script(Turn([reasoning(), function_call("f", '{"x":1}', call_id="call_1")]), Turn([reasoning(), message("ok")]))
    assert cli("start", chat, "hi", "-m", MODEL, "--instructions", "Be terse.").code == 3
    assert cli("tool-result", chat, "call_1", "42", "-m", MODEL).code == 0
    before = chat.read_bytes()
    planned = subprocess.run(
        [sys.executable, "-c", PLAN_SAY, str(chat), MODEL, "and now?"], capture_output=True, cwd=tmp_path, timeout=60
    )
    assert planned.returncode == 0 and planned.stderr == b"", planned.stderr[-500:]
    assert chat.read_bytes() == before  # nothing written
    r = cli("say", chat, "and now?", "-m", MODEL)
    assert r.code == 0 and api.requests[-1].raw == planned.stdout


def test_the_plan_step_alone_refuses_what_say_refuses(cli, api, tmp_path):
    from respctl import turn
    from respctl.errors import UsageError
    from respctl.request import RequestOptions

    chat = tmp_path / "c.jsonl"
    assert cli("start", chat, "hi", "-m", MODEL).code == 0
    before = chat.read_bytes()
    settings = turn.TurnSettings(request=RequestOptions(model=MODEL))
    with pytest.raises(UsageError, match="nothing new to answer: the file ends in the model's answer"):
        turn.plan_say(str(chat), settings=settings)
    assert orjson.loads(turn.plan_say(str(chat), settings=settings, as_is=True).body)["input"] == read_items(chat)
    assert chat.read_bytes() == before and len(api.requests) == 1


def test_streamed_reasoning_summary_reaches_stderr_without_escape_sequences(cli, api, tmp_path):
    api.script(Turn([reasoning(["Plan\x1b]0;pwned\x07 the \x1b[2Janswer\nsecond line"]), message("Done.")]))
    r = cli("start", "c.jsonl", "hi", "-m", MODEL, "--stream", "--summary", "auto")
    assert r.code == 0 and r.out == "Done.\n"
    assert "\x1b" not in r.err and "\x07" not in r.err
    assert "Plan the answer\nsecond line" in r.err  # cleaned as show cleans it
