"""Other Responses servers: gpt-oss (OpenAI's reference server), Azure OpenAI, error bodies, --target.

The gpt-oss dialect of the loopback server is checked against real traffic first
(fixtures/recordings/gpt-oss-exchanges.jsonl), then whole conversations run through it.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from conftest import CANARY_KEY, clean_env, line, read_items, run_cli, turn_lines, user
from fakeapi import FakeResponsesAPI, HttpError, Raw, Turn, function_call, gpt_oss_detail, message, reasoning

from respctl import apierror
from respctl import target as tg

RECORDINGS = Path(__file__).parent / "fixtures" / "recordings" / "gpt-oss-exchanges.jsonl"
EXCHANGES = [orjson.loads(x) for x in RECORDINGS.read_bytes().splitlines()]
MODEL = "gpt-oss-120b"
WEATHER = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]


def system(text: str) -> dict:
    return {"type": "message", "role": "system", "content": [{"type": "input_text", "text": text}]}


# --------------------------------------------------------------------------- the dialect against the recordings


@dataclass
class _Reply:
    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode()


def _post(url: str, body: dict) -> _Reply:
    request = urllib.request.Request(url, orjson.dumps(body), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return _Reply(answer.status, answer.read())
    except urllib.error.HTTPError as exc:
        return _Reply(exc.code, exc.read())


_IDS = re.compile(rb'"(rs|item|fc|call|resp)_[0-9a-f]{32}"')


def _skeleton(data: bytes) -> bytes:
    """Ids, times and token counts out; what is left must match byte for byte."""
    data = _IDS.sub(rb'"\1_ID"', data)
    data = re.sub(rb'"created_at":\d+', b'"created_at":0', data)
    return re.sub(rb'"(input|output|total)_tokens":\d+', rb'"\1_tokens":0', data)


def _events(stream: str) -> list[dict]:
    return [orjson.loads(x[6:]) for x in stream.splitlines() if x.startswith("data: ")]


def _merged(events: list[dict]) -> list[bytes]:
    """The events with consecutive deltas of one kind merged (token boundaries differ) and renumbered."""
    out: list[dict] = []
    for event in events:
        if out and event["type"].endswith(".delta") and out[-1]["type"] == event["type"]:
            out[-1]["delta"] += event["delta"]
        else:
            out.append(dict(event))
    for n, event in enumerate(out):
        event["sequence_number"] = n
    return [_skeleton(orjson.dumps(e)) for e in out]


RECORDED_TURNS = {  # what the scripted token function made the model say in exchanges 1-4 / 5-8
    0: Turn([reasoning(content=["User said: Hello gpt-oss"]), message("Echo: Hello gpt-oss")]),
    1: Turn([reasoning(content=["Need to call get_weather."]), function_call("get_weather", '{"city": "Paris"}')]),
    2: Turn([reasoning(content=["Got the tool result."]), message('Tool said: {"temp_c": 21}')]),
    3: Turn([reasoning(content=["User said: thanks"]), message("Echo: thanks")]),
}


@pytest.fixture
def oss():
    with FakeResponsesAPI(dialect="gpt-oss") as server:
        yield server


@pytest.mark.parametrize("n", range(8))
def test_gpt_oss_dialect_answers_byte_for_byte_like_the_reference_server(oss, n):
    exchange = EXCHANGES[n]
    oss.script(RECORDED_TURNS[n % 4])
    r = _post(oss.base_url + "/responses", exchange["request"])
    assert r.status_code == exchange["status"] == 200
    if exchange["request"]["stream"]:
        assert _merged(_events(r.text)) == _merged(_events(exchange["response_text"]))
    else:
        assert _skeleton(r.content) == _skeleton(exchange["response_text"].encode())


def test_gpt_oss_dialect_refuses_the_developer_role_with_the_recorded_422_body(oss):
    exchange = EXCHANGES[8]
    r = _post(oss.base_url + "/responses", exchange["request"])
    assert r.status_code == exchange["status"] == 422
    assert r.content == exchange["response_text"].encode()  # FastAPI's 3.4 KB detail array, byte for byte
    assert gpt_oss_detail(exchange["request"] | {"input": [system("Be brief.")]}) is None


def test_gpt_oss_server_takes_its_own_output_back_verbatim(oss):
    """What the recordings README says: item_ ids and part status replayed unchanged are accepted."""
    history = EXCHANGES[3]["request"]["input"] + orjson.loads(EXCHANGES[3]["response_text"])["output"]
    assert any(item.get("id", "").startswith("item_") for item in history)
    assert gpt_oss_detail({"model": MODEL, "input": history + [user("more")]}) is None


# --------------------------------------------------------------------------- a whole conversation through it


@pytest.fixture
def oss_cli(tmp_path, oss):
    """respctl against the gpt-oss dialect, the target left to its default (a loopback URL: compatible)."""
    env = clean_env(OPENAI_BASE_URL=oss.base_url, OPENAI_API_KEY=CANARY_KEY)

    def run(*args, extra_env=None, input=None):
        return run_cli(args, cwd=tmp_path, env={**env, **(extra_env or {})}, input=input)

    return run


def _sent_verbatim(record, lines: bytes) -> None:
    """The request's input is the file's bytes, lines joined by commas, nothing re-serialized."""
    assert record.raw.endswith(b',"input":[' + b",".join(lines.splitlines()) + b"]}")


@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_gpt_oss_tool_conversation_every_request_sent_verbatim_and_lint_clean(oss, oss_cli, tmp_path, stream):
    chat, tools = tmp_path / "chat.jsonl", tmp_path / "tools.json"
    tools.write_bytes(orjson.dumps(WEATHER))
    turn = ("-m", MODEL, "--tools", tools, stream)

    r = oss_cli("start", chat, "--role", "system", "--instructions", "Be brief.", "Hello gpt-oss", *turn)
    assert r.code == 0, r.err
    assert r.out == "Echo: Hello gpt-oss\n"
    expected = line(system("Be brief.")) + line(user("Hello gpt-oss"))
    _sent_verbatim(oss.requests[-1], expected)
    expected += turn_lines(oss.requests[-1])
    assert chat.read_bytes() == expected
    if stream == "--stream":  # raw reasoning streams to stderr like a summary
        assert "User said: Hello gpt-oss" in r.err
    stored = read_items(chat)[-1]
    assert stored["id"].startswith("item_") and stored["content"][0]["status"] == "completed"

    r = oss_cli("say", chat, "What's the weather in Paris?", *turn)
    assert r.code == 3, r.err  # a call waits for its output
    _sent_verbatim(oss.requests[-1], expected + line(user("What's the weather in Paris?")))
    expected += line(user("What's the weather in Paris?")) + turn_lines(oss.requests[-1])
    assert chat.read_bytes() == expected
    call = read_items(chat)[-1]
    assert call["type"] == "function_call" and call["arguments"] == '{"city": "Paris"}'

    r = oss_cli("tool-result", chat, call["call_id"], '{"temp_c": 21}', *turn)
    assert r.code == 0, r.err
    output = {"type": "function_call_output", "call_id": call["call_id"], "output": '{"temp_c": 21}'}
    _sent_verbatim(oss.requests[-1], expected + line(output))
    expected += line(output) + turn_lines(oss.requests[-1])
    assert r.out == 'Tool said: {"temp_c": 21}\n' and chat.read_bytes() == expected

    r = oss_cli("say", chat, "thanks", *turn)
    assert r.code == 0, r.err
    _sent_verbatim(oss.requests[-1], expected + line(user("thanks")))
    assert r.out == "Echo: thanks\n"
    assert len(oss.requests) == 4 and oss.rejected == []

    r = oss_cli("lint", chat)
    assert (r.code, r.out) == (0, "All checks passed!\n"), r.out
    assert "--target compatible (base URL 127.0.0.1 is not api.openai.com)" in r.err
    # The OpenAI API's rules still see what is not OpenAI's: the message ids and the part status.
    r = oss_cli("lint", chat, "--target", "openai")
    assert r.code == 1
    assert {m for m in re.findall(r" (RSP\d+) ", r.out)} == {"RSP112", "RSP103"}
    assert "Need to call get_weather." in oss_cli("show", chat).out  # the raw reasoning, shown
    r = oss_cli("say", chat, "again", *turn, extra_env={"RESPCTL_TARGET": "openai"})
    assert r.code == 2 and len(oss.requests) == 4
    assert "RSP112" in r.err and "--target compatible" in r.err


def test_raw_reasoning_streams_to_stderr_cleaned(oss, oss_cli, tmp_path):
    oss.script(Turn([reasoning(content=["think \x1b]0;pwned\x07 \x1b[31mred"]), message("ok")]))
    r = oss_cli("start", tmp_path / "chat.jsonl", "hi", "-m", MODEL, "--stream")
    assert r.code == 0 and r.out == "ok\n"
    assert "think  red" in r.err and "\x1b" not in r.err and "\x07" not in r.err  # cleaned as show cleans it


def without_progress(lines: list[str]) -> list[str]:
    """stderr without the lines -v adds about the request itself (its URL and size, its time)."""
    return [line for line in lines if not line.startswith(("respctl: POST ", "respctl: the API took "))]


def test_gpt_oss_refusing_the_developer_role_is_one_line_with_a_hint(oss, oss_cli, tmp_path):
    chat = tmp_path / "chat.jsonl"
    r = oss_cli("start", chat, "--instructions", "Be brief.", "hi", "-m", MODEL, "--no-stream")
    assert r.code == 1 and not chat.exists()
    assert r.err_lines == [
        "respctl: error: HTTP 422: input[0].role: Input should be 'user', 'assistant' or 'system' (got 'developer') "
        "(and 12 more); the server refuses the developer role: try --role system"
    ]
    r = oss_cli("start", chat, "--instructions", "Be brief.", "hi", "-m", MODEL, "--no-stream", "-v")
    errs = without_progress(r.err_lines)
    assert r.code == 1 and len(errs) == 3 and errs[1] == "respctl: the server's whole answer:"
    body = orjson.loads(errs[2])
    assert len(body["detail"]) == 13 and body["detail"][1]["loc"][-1] == "role"


# --------------------------------------------------------------------------- error bodies of other servers


def test_error_lines_for_fastapi_html_plain_and_openai_bodies():
    detail = EXCHANGES[8]["response_text"]
    assert apierror.status_line(422, detail) == (
        "HTTP 422: input[0].role: Input should be 'user', 'assistant' or 'system' (got 'developer') (and 12 more)"
    )
    missing = orjson.dumps({"detail": [{"type": "missing", "loc": ["body", "model"], "msg": "Field required"}]})
    assert apierror.status_line(422, missing.decode()) == "HTTP 422: model: Field required"
    assert apierror.status_line(404, '{"detail":"Not Found"}') == "HTTP 404: Not Found"
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad &amp; gone</h1>" + "x" * 5000
    assert apierror.status_line(502, page, "text/html") == "HTTP 502: 502 Bad Gateway (an HTML page)"
    assert apierror.status_line(503, "\n  upstream connect error\nmore\n") == "HTTP 503: upstream connect error"
    long = apierror.status_line(400, "word " * 400)
    assert len(long) <= len("HTTP 400: ") + apierror.MAX and long.endswith("…")
    openai_body = '{"error":{"message":"Unknown parameter: \'input[1].x\'.","param":"input[1].x","code":null}}'
    assert apierror.status_line(400, openai_body) == "HTTP 400: Unknown parameter: 'input[1].x'."
    assert apierror.status_line(400, "") == "HTTP 400: no explanation given"


@pytest.mark.parametrize(
    "status, body, content_type, shown",
    [
        (
            502,
            b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
            "text/html",
            "502 Bad Gateway (an HTML page)",
        ),
        (
            400,
            b"model 'llama3' not found, try pulling it first\n",
            "text/plain",
            "model 'llama3' not found, try pulling it first",
        ),
    ],
)
def test_gateway_error_bodies_become_one_line_and_whole_with_verbose(
    cli, api, tmp_path, status, body, content_type, shown
):
    chat = tmp_path / "chat.jsonl"
    chat.write_bytes(line(user("hi")))
    api.script(Raw(status, body, content_type))
    r = cli("say", chat, "-m", "gpt-5-mini", "--no-stream", "--max-retries", "0")
    assert (r.code, r.err_lines) == (1, [f"respctl: error: HTTP {status}: {shown}"])
    api.script(Raw(status, body, content_type))
    r = cli("say", chat, "-m", "gpt-5-mini", "--no-stream", "--max-retries", "0", "--verbose")
    errs = without_progress(r.err_lines)
    assert r.code == 1 and errs[1:] == ["respctl: the server's whole answer:", *body.decode().splitlines()]
    assert chat.read_bytes() == line(user("hi"))  # nothing written


# --------------------------------------------------------------------------- the target


@pytest.mark.parametrize(
    "explicit, base_url, azure, expected",
    [
        (None, None, None, "openai"),
        (None, "https://api.openai.com/v1", None, "openai"),
        (None, "http://localhost:11434/v1", None, "compatible"),
        (None, "https://gateway.example.com/v1", None, "compatible"),
        (None, "https://res.openai.azure.com/openai/v1/", None, "openai"),
        (None, None, "https://res.openai.azure.com", "openai"),
        ("compatible", "https://api.openai.com/v1", None, "compatible"),
        ("openai", "http://localhost:8000/v1", None, "openai"),
    ],
)
def test_target_defaults_from_where_turns_go(monkeypatch, explicit, base_url, azure, expected):
    monkeypatch.delenv("AZURE_OPENAI_ENDPOINT", raising=False)
    monkeypatch.delenv("RESPCTL_TARGET", raising=False)
    if azure:
        monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", azure)
    assert tg.resolve(explicit, base_url)[0] == expected


def test_every_lint_rule_has_a_place_in_the_target_table_and_explain_says_it(tmp_path):
    from respctl.lint.rules import RULES

    assert tg.PORTABLE <= set(RULES)
    r = run_cli(["lint", "--explain", "RSP201"], cwd=tmp_path, env=clean_env())
    assert r.out.endswith("Applies to\n  every server (--target openai and --target compatible)\n")
    r = run_cli(["lint", "--explain", "RSP112"], cwd=tmp_path, env=clean_env())
    assert "Applies to\n  the OpenAI API and Azure OpenAI only (--target openai)" in r.out


def test_compatible_target_keeps_the_portable_rules(tmp_path):
    """Pairing, every call answered, reasoning kept with what follows: refused on any server."""
    chat = tmp_path / "chat.jsonl"
    call = {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"}
    lone = {"type": "reasoning", "id": "rs_1", "summary": [], "content": [{"type": "reasoning_text", "text": "t"}]}
    chat.write_bytes(line(user("hi")) + line(call) + line(user("and?")) + line(lone) + line(user("so")))
    r = run_cli(["lint", "--target", "compatible", chat], cwd=tmp_path, env=clean_env())
    assert r.code == 1 and sorted(re.findall(r" (RSP\d+) ", r.out)) == ["RSP201", "RSP204"]
    r = run_cli(["lint", chat], cwd=tmp_path, env=clean_env(RESPCTL_TARGET="compatible"))
    assert "--target compatible (RESPCTL_TARGET)" in r.err


def test_compatible_target_never_refuses_reasoning_options_on_a_model_name(oss, oss_cli, tmp_path):
    chat = tmp_path / "chat.jsonl"
    r = oss_cli("start", chat, "hi", "-m", "deepseek-chat", "--effort", "low", "--no-stream", "--dry-run")
    assert r.code == 0, r.err
    assert orjson.loads(r.stdout)["reasoning"] == {"effort": "low"}
    r = oss_cli(
        "start", chat, "hi", "-m", "gpt-4o", "--effort", "low", "--dry-run", extra_env={"RESPCTL_TARGET": "openai"}
    )
    assert r.code == 2 and "does not reason" in r.err


# --------------------------------------------------------------------------- Azure OpenAI


@pytest.fixture
def azure():
    with FakeResponsesAPI(azure=True) as server:
        yield server


def _azure_env(endpoint: str, **extra: str) -> dict:
    return clean_env(
        AZURE_OPENAI_ENDPOINT=endpoint,
        AZURE_OPENAI_API_KEY=CANARY_KEY,
        OPENAI_API_VERSION="2025-04-01-preview",
        OPENAI_API_KEY="sk-openai-key-must-not-travel-to-azure",
        **extra,
    )


@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_azure_deployment_url_api_version_and_api_key_header(azure, tmp_path, stream):
    chat = tmp_path / "chat.jsonl"
    env = _azure_env(azure.base_url)
    r = run_cli(["start", chat, "hi", "-m", "my-gpt5-deployment", "--effort", "low", stream], cwd=tmp_path, env=env)
    assert r.code == 0, r.err
    record = azure.requests[-1]
    assert record.path == "/openai/responses?api-version=2025-04-01-preview"
    assert record.headers["api-key"] == CANARY_KEY and "authorization" not in record.headers
    assert record.body["model"] == "my-gpt5-deployment" and record.body["reasoning"] == {"effort": "low"}
    r = run_cli(["say", chat, "more", "-m", "my-gpt5-deployment", stream], cwd=tmp_path, env=env)
    assert r.code == 0 and azure.rejected == []
    assert chat.read_bytes().count(b"\n") == len(read_items(chat))
    assert CANARY_KEY not in r.out + r.err and b"sk-openai" not in b"".join(x.raw for x in azure.requests)


def test_azure_v1_endpoint_needs_no_api_version(azure, tmp_path):
    chat = tmp_path / "chat.jsonl"
    env = _azure_env(azure.base_url + "/openai/v1/")
    del env["OPENAI_API_VERSION"]
    r = run_cli(["start", chat, "hi", "-m", "my-deployment", "--no-stream"], cwd=tmp_path, env=env)
    assert r.code == 0, r.err
    record = azure.requests[-1]
    assert record.path == "/openai/v1/responses"
    assert record.headers["authorization"] == f"Bearer {CANARY_KEY}"


def test_azure_missing_settings_are_usage_errors_and_the_key_is_never_shown(azure, tmp_path):
    chat = tmp_path / "chat.jsonl"
    env = _azure_env(azure.base_url)
    del env["OPENAI_API_VERSION"]
    r = run_cli(["start", chat, "hi", "-m", "d"], cwd=tmp_path, env=env)
    assert r.code == 2 and r.err.startswith("respctl: error: OPENAI_API_VERSION is not set") and not azure.requests
    env = _azure_env(azure.base_url)
    del env["AZURE_OPENAI_API_KEY"]
    r = run_cli(["start", chat, "hi", "-m", "d"], cwd=tmp_path, env=env)
    assert r.code == 2 and r.err_lines == ["respctl: error: AZURE_OPENAI_API_KEY is not set"]
    azure.script(HttpError(401, "Access denied for key " + CANARY_KEY))
    r = run_cli(
        ["start", chat, "hi", "-m", "d", "-v", "--max-retries", "0"], cwd=tmp_path, env=_azure_env(azure.base_url)
    )
    assert r.code == 1 and CANARY_KEY not in r.err and "[the API key]" in r.err


# --------------------------------------------------------------------------- review fixes: what a user runs into


def test_an_unparsable_base_url_is_one_line_for_a_turn_and_lint_does_not_care(tmp_path):
    chat = tmp_path / "chat.jsonl"
    chat.write_bytes(line(user("hi")))
    bad = "http://[bad"
    assert tg.resolve(None, bad)[0] == "compatible"  # not api.openai.com
    env = clean_env(OPENAI_API_KEY=CANARY_KEY)
    for extra in (["--dry-run"], []):
        r = run_cli(["say", chat, "more", "-m", "x", "--base-url", bad, *extra], cwd=tmp_path, env=env)
        assert r.code == 2 and len(r.err_lines) == 1, r.err
        assert r.err.startswith("respctl: error: not a valid API URL (--base-url, OPENAI_BASE_URL): ")
    r = run_cli(["lint", chat], cwd=tmp_path, env=clean_env(OPENAI_BASE_URL=bad))
    assert (r.code, r.out) == (0, "All checks passed!\n") and "internal error" not in r.err
    azure_env = clean_env(
        AZURE_OPENAI_ENDPOINT=bad, AZURE_OPENAI_API_KEY=CANARY_KEY, OPENAI_API_VERSION="2025-04-01-preview"
    )
    r = run_cli(["start", tmp_path / "new.jsonl", "hi", "-m", "d"], cwd=tmp_path, env=azure_env)
    assert r.code == 2 and r.err_lines == [r.err_lines[0]], r.err
    assert r.err.startswith("respctl: error: not a valid API URL (AZURE_OPENAI_ENDPOINT): ")
    assert not (tmp_path / "new.jsonl").exists() and chat.read_bytes() == line(user("hi"))


def test_a_refused_file_names_the_lint_command_that_shows_the_same_findings(oss, oss_cli, tmp_path):
    """lint takes its target from the environment, not from this call's flags: the hint carries it."""
    chat = tmp_path / "chat.jsonl"
    r = oss_cli("start", chat, "hi", "-m", MODEL, "--no-stream")  # item_ ids: fine for gpt-oss, not for OpenAI
    assert r.code == 0, r.err
    r = oss_cli("say", chat, "more", "-m", MODEL, "--target", "openai")
    assert r.code == 2 and len(oss.requests) == 1
    hint = re.search(r"see '(respctl lint [^']*)'", r.err)
    assert hint and hint.group(1) == f"respctl lint --target openai {chat}", r.err
    assert tg.OTHER_SERVER in r.err
    r = oss_cli(*hint.group(1).split()[1:])  # the command the hint names shows the refusal's finding
    assert r.code == 1 and "RSP112" in r.out and tg.OTHER_SERVER in r.err
    r = oss_cli("say", chat, "more", "-m", MODEL, extra_env={"OPENAI_BASE_URL": "https://api.openai.com/v1"})
    assert r.code == 2 and f"see 'respctl lint {chat}'" in r.err  # lint's own default is the turn's: no flag


def test_say_against_a_server_refusing_the_developer_role_names_the_fix_that_exists(oss, oss_cli, tmp_path):
    chat = tmp_path / "chat.jsonl"
    r = oss_cli("start", chat, "--instructions", "Be brief.")  # no message: nothing sent yet
    assert r.code == 0, r.err
    r = oss_cli("say", chat, "hi", "-m", MODEL, "--no-stream")
    assert r.code == 1 and len(r.err_lines) == 1, r.err
    assert "try --role system" not in r.err
    assert r.err_lines[0].endswith(
        f"; the server refuses the developer role: line 1 of {chat} holds one; edit its role to system, "
        "or start over with 'respctl start --force --role system'"
    )
    # Only the first problem's field and value decide: 'developer' as a message's text is no role.
    other = orjson.dumps(
        {
            "detail": [
                {"type": "string_type", "loc": ["body", "input", 0, "content"], "msg": "bad", "input": "developer"}
            ]
        }
    )
    assert apierror.refused_role(other.decode()) is None
    assert apierror.refused_role(EXCHANGES[8]["response_text"]) == 0


def test_plain_text_with_angle_brackets_is_not_an_html_page():
    assert apierror.status_line(400, "expected <int> but got <str>") == "HTTP 400: expected <int> but got <str>"
    assert (
        apierror.status_line(400, "<b>no</b> model", "text/html; charset=utf-8") == "HTTP 400: no model (an HTML page)"
    )
    assert apierror.status_line(502, "\n<!DOCTYPE html><p>gone</p>") == "HTTP 502: gone (an HTML page)"


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
def test_a_streamed_request_answered_with_a_json_body_is_read_as_one(cli, api, tmp_path, content_type):
    chat = tmp_path / "chat.jsonl"
    chat.write_bytes(line(user("hi")))
    answer = {
        "id": "resp_1",
        "object": "response",
        "status": "completed",
        "output": [
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "plain answer", "annotations": []}],
            }
        ],
    }
    api.script(Raw(200, orjson.dumps(answer), content_type))
    r = cli("say", chat, "-m", "gpt-5-mini", "--stream")
    assert (r.code, r.out) == (0, "plain answer\n"), r.err
    assert read_items(chat)[-1]["content"][0]["text"] == "plain answer"


def test_a_streamed_request_answered_with_an_html_page_says_so(cli, api, tmp_path):
    chat = tmp_path / "chat.jsonl"
    chat.write_bytes(line(user("hi")))
    api.script(Raw(200, b"<html><title>Sign in</title></html>", "text/html; charset=utf-8"))
    r = cli("say", chat, "-m", "gpt-5-mini", "--stream", "--max-retries", "0")
    assert (r.code, r.err_lines) == (
        1,
        ["respctl: error: the server answered text/html, not an event stream (try --no-stream)"],
    )
    assert chat.read_bytes() == line(user("hi"))


def test_json_output_keeps_the_error_body_off_stderr(oss, oss_cli, tmp_path):
    """Only -v prints the whole body; --json's failure object is the place for it (issue 12)."""
    chat = tmp_path / "chat.jsonl"
    r = oss_cli("start", chat, "--instructions", "Be brief.", "hi", "-m", MODEL, "--no-stream", "--json")
    assert r.code == 1 and len(r.err_lines) == 1 and r.err_lines[0].startswith("respctl: error: HTTP 422: ")


def test_docs_say_where_each_rule_applies():
    root = Path(__file__).resolve().parent.parent
    commands = (root / "docs" / "commands.md").read_text(encoding="utf-8")
    synopsis = [x for x in commands.splitlines() if x.startswith("respctl lint ") and "#" not in x]
    assert synopsis == [
        "respctl lint FILE... [--format text|json|github] [--fix] [--target openai|compatible]",
        "respctl lint --explain CODE",
    ]
    from respctl.lint.rules import RULES

    rules = (root / "docs" / "rules.md").read_text(encoding="utf-8")
    for code in RULES:
        row = next(x for x in rules.splitlines() if x.startswith(f"| {code} |"))
        assert row.rstrip(" |").endswith("every server" if code in tg.PORTABLE else "OpenAI API")
    servers = (root / "docs" / "servers.md").read_text(encoding="utf-8")
    portable = servers.split("**Portable rules (every server):**", 1)[1].split("\n\n", 1)[0]
    codes = set()
    for a, b in re.findall(r"RSP(\d+)(?:-RSP(\d+))?", portable):
        codes |= {f"RSP{n:03d}" for n in range(int(a), int(b or a) + 1)}
    assert codes == set(tg.PORTABLE)


def test_lint_help_names_the_variables_its_default_comes_from(tmp_path):
    r = run_cli(["lint", "--help"], cwd=tmp_path, env=clean_env(COLUMNS="200"))
    assert "OPENAI_BASE_URL" in r.out and "AZURE_OPENAI_ENDPOINT" in r.out and "base URL" not in r.out


def test_fakeapi_command_line_serves_azure_url_shapes():
    import fakeapi

    server = fakeapi.serve(["--azure"])
    try:
        r = _post(server.base_url + "/openai/responses?api-version=2025-04-01-preview", {"model": "d", "input": "hi"})
        assert r.status_code == 401  # no api-key header: Azure's answer, on Azure's path
        assert server.azure and server.requests[-1].path.startswith("/openai/responses")
    finally:
        server.stop()


@pytest.mark.parametrize("host", ["res.openai.azure.us", "res.openai.azure.cn", "res.cognitiveservices.azure.us"])
def test_sovereign_azure_clouds_are_azure(monkeypatch, host):
    monkeypatch.delenv("AZURE_OPENAI_ENDPOINT", raising=False)
    route = tg.route(None, f"https://{host}/openai/v1/")
    assert (route.target, route.azure) == ("openai", f"https://{host}/openai/v1/")


def test_target_values_are_case_insensitive(tmp_path):
    chat = tmp_path / "chat.jsonl"
    chat.write_bytes(line(user("hi")))
    r = run_cli(["lint", "--target", "Compatible", chat], cwd=tmp_path, env=clean_env())
    assert r.code == 0 and "--target compatible (--target)" in r.err, r.err
    r = run_cli(["lint", chat], cwd=tmp_path, env=clean_env(RESPCTL_TARGET="OPENAI"))
    assert r.code == 0, r.err
