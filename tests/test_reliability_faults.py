"""Faults from the API, injected by the loopback server, on `say` and `tool-result`.

What may be retried is what the SDK retries safely: errors that come before any answer
(connection refused or reset before a response, 408/409/429/5xx, a first byte later than
--timeout). Once a 200 response has begun, nothing is retried: a stream that breaks off,
stops without `response.completed`, fails, carries an `error` event or a malformed event is
exit 1 with the file unchanged. Either way the file never holds a turn twice: it is the old
file, or the old file plus exactly one complete turn, the one the server answered last.
(tests/test_turns.py covers the single-attempt error messages; these add retries, request
counts, tool-result, and the faults it does not inject.)
"""

from __future__ import annotations

import re

import pytest
from conftest import CANARY_KEY
from fakeapi import (
    Cut,
    ErrorEvent,
    Failed,
    HttpError,
    Malformed,
    NoCompleted,
    Reset,
    Stall,
    Turn,
    function_call,
    message,
    reasoning,
)
from test_reliability_support import MODEL, call_output, line, lint_errors, turn_lines, user


@pytest.fixture
def chat(cli, api, tmp_path):
    """A conversation with one complete turn."""
    path = tmp_path / "c.jsonl"
    r = cli("start", path, "--instructions", "Be brief.", "First question", "-m", MODEL)
    assert r.code == 0, r.err
    return path


def check_one_turn(path, before: bytes, new_input: bytes, api) -> None:
    """The file holds the old bytes plus exactly one complete turn: the last accepted request's."""
    answered = [r for r in api.requests if r.response is not None and r.error is None]
    assert path.read_bytes() == before + new_input + turn_lines(answered[-1])
    assert lint_errors(path) == []


RETRIED = [
    pytest.param([HttpError(429, headers={"retry-after": "1"})], 1.0, "--stream", id="429-retry-after-1s"),
    pytest.param([HttpError(429, headers={"retry-after-ms": "300"})], 0.3, "--no-stream", id="429-retry-after-ms"),
    pytest.param([HttpError(500)], 0, "--no-stream", id="500"),
    pytest.param([HttpError(502, count=2)], 0, "--stream", id="502-twice"),
    pytest.param([HttpError(503)], 0, "--stream", id="503"),
    pytest.param([Reset()], 0, "--stream", id="connection-closed-before-any-answer"),
    pytest.param([Reset(rst=True)], 0, "--no-stream", id="connection-reset-before-any-answer"),
    pytest.param([Stall(5)], 0, "--stream", id="first-byte-later-than-timeout-stream"),
    pytest.param([Stall(5)], 0, "--no-stream", id="first-byte-later-than-timeout"),
]


@pytest.mark.parametrize("faults, min_gap, stream", RETRIED)
def test_faults_before_an_answer_are_retried_and_the_turn_lands_once(cli, api, chat, faults, min_gap, stream):
    before = chat.read_bytes()
    seen = len(api.requests)
    api.script(*faults)
    r = cli("say", chat, "Second question", "-m", MODEL, stream, "--timeout", "1", "--max-retries", "2")
    assert r.code == 0, r.err
    attempts = api.requests[seen:]
    assert len(attempts) == 1 + sum(getattr(f, "count", 1) for f in faults)
    assert [a.error is None and a.response is not None for a in attempts] == [False] * (len(attempts) - 1) + [True]
    assert attempts[1].received - attempts[0].received >= min_gap  # retry-after honoured
    check_one_turn(chat, before, line(user("Second question")), api)
    assert CANARY_KEY not in r.out + r.err


@pytest.mark.parametrize(
    "fault",
    [HttpError(500, count=2), HttpError(429, headers={"retry-after": "0"}, count=2), Reset(), Stall(5)],
    ids=["500", "429", "reset", "stall"],
)
def test_retries_exhausted_exit_1_file_unchanged(cli, api, chat, fault):
    before = chat.read_bytes()
    seen = len(api.requests)
    api.script(*([fault] * (1 if isinstance(fault, HttpError) else 2)))
    r = cli("say", chat, "Second question", "-m", MODEL, "--timeout", "0.5", "--max-retries", "1")
    assert r.code == 1 and len(r.err_lines) == 2 and r.err_lines[1].startswith("respctl: error: ")
    assert re.fullmatch(r"respctl: .+; retrying in \d+\.\ds \(retry 1 of 1, --max-retries\)", r.err_lines[0])
    assert len(api.requests) - seen == 2  # the first try and one retry, as --max-retries says
    assert chat.read_bytes() == before


NOT_RETRIED = [
    pytest.param(Cut(after_events=0), "broke off", id="reset-right-after-the-headers"),
    pytest.param(Cut(after_events=5), "broke off", id="reset-mid-stream"),
    pytest.param(Cut(after_events=9), "broke off", id="reset-after-the-items-before-completed"),
    pytest.param(NoCompleted(), "ended before the response was complete", id="no-response-completed"),
    pytest.param(Failed(message="The model failed."), "The model failed.", id="response-failed"),
    pytest.param(ErrorEvent("Overloaded mid-stream."), "Overloaded mid-stream.", id="error-event"),
    pytest.param(Malformed(after_events=4), "malformed event", id="malformed-sse"),
]


@pytest.mark.parametrize("fault, words", NOT_RETRIED)
@pytest.mark.parametrize("command", ["say", "tool-result"])
def test_faults_after_the_answer_began_exit_1_not_retried_file_unchanged(cli, api, tmp_path, fault, words, command):
    path = tmp_path / "c.jsonl"
    if command == "tool-result":
        api.script(Turn([reasoning(), function_call("get_weather", '{"city":"Oslo"}', call_id="call_o")]))
        assert cli("start", path, "Weather in Oslo?", "-m", MODEL).code == 3
        args, new_input = ["tool-result", path, "call_o", "minus 4 C"], line(call_output("call_o", "minus 4 C"))
    else:
        assert cli("start", path, "First", "-m", MODEL).code == 0
        args, new_input = ["say", path, "Second"], line(user("Second"))
    before, seen = path.read_bytes(), len(api.requests)
    api.script(fault)
    r = cli(*args, "-m", MODEL, "--stream")  # default retries: a started answer must still not be retried
    assert r.code == 1, r.err
    assert len(r.err_lines) == 1 and r.err.startswith("respctl: error: ") and words in r.err
    assert len(api.requests) == seen + 1
    assert path.read_bytes() == before
    # the same command again completes the turn, once, and the file replays
    r = cli(*args, "-m", MODEL)
    assert r.code == 0, r.err
    check_one_turn(path, before, new_input, api)
    assert api.rejected == []


@pytest.mark.parametrize("fault", [NoCompleted(), Malformed()], ids=["status-in-progress", "truncated-json"])
def test_non_streaming_bodies_that_are_no_response_exit_1_not_retried(cli, api, chat, fault):
    before, seen = chat.read_bytes(), len(api.requests)
    api.script(fault)
    r = cli("say", chat, "Second", "-m", MODEL, "--no-stream")
    assert r.code == 1 and len(r.err_lines) == 1 and r.err.startswith("respctl: error: ")
    assert len(api.requests) == seen + 1 and chat.read_bytes() == before


def test_a_non_streaming_body_cut_short_is_retried_by_the_sdk_and_lands_once(cli, api, chat):
    """The SDK reads a non-streamed body inside its retry loop: a body cut short is a connection
    error, retried; only the answer that arrived whole is stored."""
    before, seen = chat.read_bytes(), len(api.requests)
    api.script(Cut(after_events=0))
    r = cli("say", chat, "Second", "-m", MODEL, "--no-stream")
    assert r.code == 0, r.err
    assert len(api.requests) == seen + 2
    check_one_turn(chat, before, line(user("Second")), api)
    api.script(Cut(after_events=0))
    before = chat.read_bytes()
    r = cli("say", chat, "Third", "-m", MODEL, "--no-stream", "--max-retries", "0")
    assert r.code == 1 and len(r.err_lines) == 1 and "peer closed connection" in r.err
    assert chat.read_bytes() == before


def test_a_stream_that_goes_silent_past_timeout_exits_1(cli, api, chat):
    before = chat.read_bytes()
    seen = len(api.requests)
    api.event_delay = 2.0  # the answer starts, then each event comes later than --timeout
    r = cli("say", chat, "Second", "-m", MODEL, "--stream", "--timeout", "0.5")
    api.event_delay = 0.0
    assert r.code == 1 and r.err_lines == ["respctl: error: the response stream timed out (--timeout)"]
    assert len(api.requests) == seen + 1 and chat.read_bytes() == before


def test_incomplete_retry_chain_never_duplicates_the_user_message(cli, api, chat):
    """Fail, fail, succeed, each as a separate invocation: the message is in the file once."""
    before = chat.read_bytes()
    api.script(Cut(after_events=3))
    assert cli("say", chat, "Again?", "-m", MODEL, "--stream").code == 1
    api.script(HttpError(500, count=2))
    assert cli("say", chat, "Again?", "-m", MODEL, "--max-retries", "1").code == 1
    assert cli("say", chat, "Again?", "-m", MODEL).code == 0
    check_one_turn(chat, before, line(user("Again?")), api)
    assert chat.read_bytes().count(b'"Again?"') == 1
    assert [r.status for r in api.requests] == [200, 200, 500, 500, 200]  # start, cut, 500 + retry, the turn


def test_unreachable_server_exit_1_file_unchanged(cli, api, chat):
    before = chat.read_bytes()
    r = cli(
        "say", chat, "Second", "-m", MODEL, "--max-retries", "0", extra_env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    )
    assert r.code == 1 and r.err_lines[0].startswith(
        "respctl: error: connection to the API at http://127.0.0.1:9/v1 failed"
    )
    assert chat.read_bytes() == before


def test_http_errors_on_tool_result_leave_the_call_waiting(cli, api, tmp_path):
    path = tmp_path / "c.jsonl"
    api.script(Turn([function_call("get_weather", '{"city":"Rome"}', call_id="call_r")]))
    assert cli("start", path, "Weather in Rome?", "-m", MODEL).code == 3
    before = path.read_bytes()
    api.script(HttpError(400, message="Something is off."))
    r = cli("tool-result", path, "call_r", "sunny", "-m", MODEL)
    assert r.code == 1 and r.err_lines == ["respctl: error: HTTP 400: Something is off."]
    assert path.read_bytes() == before
    r = cli("show", path, "--pending", "--format", "json")
    assert r.json() == [
        {"call_id": "call_r", "name": "get_weather", "arguments": '{"city":"Rome"}', "type": "function_call"}
    ]
    api.script(Turn([message("Sunny in Rome.")]))
    assert cli("tool-result", path, "call_r", "sunny", "-m", MODEL).code == 0
    check_one_turn(path, before, line(call_output("call_r", "sunny")), api)


@pytest.mark.parametrize("mode", ["--stream", "--no-stream", "--json"])
def test_a_reader_that_goes_away_does_not_lose_the_turn(api, env, tmp_path, mode):
    """`respctl say ... | head -c 10`: stdout breaks mid-answer; the turn still completes and is written."""
    import subprocess
    import sys

    path = tmp_path / "c.jsonl"
    path.write_bytes(line(user("hello")))
    long = "\n".join(f"Line {i}: " + "word " * 40 for i in range(1500))  # far more than a pipe holds
    api.script(Turn([reasoning(), message(long)]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "respctl", "say", path, "more", "-m", MODEL, mode],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert len(proc.stdout.read(10)) == 10
    proc.stdout.close()  # the reader goes away
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "error" not in err
    assert path.read_bytes() == line(user("hello")) + line(user("more")) + turn_lines(api.requests[-1])
