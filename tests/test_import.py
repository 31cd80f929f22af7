"""`respctl import` and `respctl export` as users run them: Chat Completions messages, codex rollouts and
stored responses (fetched from the loopback API, every page of their input items) become lint-clean
files that the next turn replays exactly; export is the way back."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import orjson
import pytest
from conftest import CANARY_KEY, line, read_items, user
from fakeapi import FakeResponsesAPI, Turn, function_call, message, reasoning

from respctl.convert import chat_to_items, codex_rollout_to_items
from respctl.lint import gate

MODEL = "gpt-5-mini"
FIXTURES = Path(__file__).parent / "fixtures"
ROLLOUT = FIXTURES / "codex" / "rollout-2025-10-29T00-59-38-019a2d7a-41c4-78b1-b7cc-a45d62a89cd5.jsonl"
PNG_URL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgAAAAAgAB4iG8MwAAAABJRU5ErkJggg=="
)

MESSAGES = [
    {"role": "system", "content": "Be terse."},
    {
        "role": "user",
        "content": [{"type": "text", "text": "What is here?"}, {"type": "image_url", "image_url": {"url": PNG_URL}}],
    },
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}},
            {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'}},
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "4 C"},
    {"role": "tool", "tool_call_id": "call_2", "content": "24 C"},
    {"role": "assistant", "content": "Oslo is cold, Rome warm.", "name": "bot"},
]


@pytest.fixture
def stored_api():
    """A loopback API that takes `store: true` and keeps those responses."""
    with FakeResponsesAPI(require_store_false=False) as server:
        yield server


def lint_errors(path: Path) -> list[str]:
    lines = path.read_bytes().splitlines()
    return gate(str(path), lines, [orjson.loads(x) for x in lines])


def accepted_next_turn(cli, api, path: Path) -> None:
    before = read_items(path)
    r = cli("say", path, "next", "-m", MODEL)
    assert r.code == 0, r.err
    assert api.requests[-1].body["input"] == [*before, user("next")] and api.requests[-1].error is None


# --- Chat Completions ------------------------------------------------------------------------------------


def test_chat_messages_become_a_file_the_next_turn_replays(cli, api, tmp_path):
    source = tmp_path / "messages.json"
    source.write_text(json.dumps(MESSAGES))
    r = cli("import", source, "chat.jsonl")
    assert r.code == 0, r.err
    path = tmp_path / "chat.jsonl"
    assert read_items(path) == chat_to_items(MESSAGES).items
    assert [i.get("role") or i["type"] for i in read_items(path)] == [
        *["system", "user", "function_call", "function_call", "function_call_output", "function_call_output"],
        "assistant",
    ]
    assert r.out == ""
    assert r.err_lines == [
        "respctl: note: 'name' on messages dropped: the Responses API has no participant names",
        "respctl: wrote 7 items to chat.jsonl from Chat Completions messages",
    ]
    assert lint_errors(path) == []
    accepted_next_turn(cli, api, path)


def test_a_request_body_on_standard_input_is_chat(cli, api, tmp_path):
    body = json.dumps({"model": "gpt-4.1", "messages": MESSAGES[:2]})
    r = cli("import", "-", "chat.jsonl", input=body)
    assert r.code == 0, r.err
    assert len(read_items(tmp_path / "chat.jsonl")) == 2
    accepted_next_turn(cli, api, tmp_path / "chat.jsonl")


@pytest.mark.parametrize("depth", [300, 1015])
def test_tool_call_arguments_nested_deeply_are_carried_or_one_line(cli, api, tmp_path, depth):
    """Arguments given as parsed JSON are written back as a string: 300 levels are carried over as they
    are; nesting too deep for that (orjson stops at 254 levels, Python's encoder near 1,000) is one line."""
    nested = '{"a":' * depth + "1" + "}" * depth
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "ARGS"}}
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
    ]
    (tmp_path / "src.json").write_text(json.dumps(messages).replace('"ARGS"', nested))  # too deep for json.dumps
    r = cli("import", "src.json", "out.jsonl")
    if depth == 300:
        assert r.code == 0, r.err
        assert read_items(tmp_path / "out.jsonl")[1]["arguments"] == nested
        accepted_next_turn(cli, api, tmp_path / "out.jsonl")
    else:
        message = "src.json: messages[1].tool_calls[0].function.arguments: nested too deeply to write back as JSON"
        assert (r.code, r.err_lines, r.out) == (2, [f"respctl: error: {message}"], "")
        assert not (tmp_path / "out.jsonl").exists()


def test_an_import_ending_in_unanswered_calls_says_how_to_answer_them(cli, tmp_path):
    (tmp_path / "src.json").write_text(json.dumps(MESSAGES[:3]))
    r = cli("import", "src.json", "out.jsonl")
    assert r.code == 0, r.err
    assert "respctl: note: 2 tool calls wait for their outputs: answer with respctl tool-result" in r.err_lines


def test_import_refuses_to_overwrite_without_force(cli, tmp_path):
    source = tmp_path / "messages.json"
    source.write_text(json.dumps(MESSAGES))
    target = tmp_path / "chat.jsonl"
    target.write_bytes(b"keep me\n")
    r = cli("import", source, target)
    assert (r.code, r.err_lines) == (2, [f"respctl: error: {target}: already exists; --force replaces it"])
    assert target.read_bytes() == b"keep me\n"
    r = cli("import", source, target, "--force", "-q")
    assert (r.code, r.err) == (0, "") and len(read_items(target)) == 7


def test_standard_input_is_named_so_in_errors(cli, tmp_path):
    r = cli("import", "-", "out.jsonl", input=b'[{"role":')
    assert (r.code, r.err_lines) == (
        2,
        ["respctl: error: standard input: chat messages: not JSON: unexpected end of data (line 1, column 10)"],
    )
    assert not (tmp_path / "out.jsonl").exists()


def test_chat_json_that_starts_with_a_bom_imports(cli, api, tmp_path):
    """JSON written by Windows tools (PowerShell 5's `Out-File -Encoding utf8`) starts with a BOM."""
    (tmp_path / "src.json").write_bytes(b"\xef\xbb\xbf" + orjson.dumps([{"role": "user", "content": "hi"}]))
    r = cli("import", "src.json", "out.jsonl")
    assert (r.code, r.err_lines) == (0, ["respctl: wrote 1 item to out.jsonl from Chat Completions messages"])
    assert read_items(tmp_path / "out.jsonl") == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
    ]


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b"hello", [], "src: cannot tell what it holds; give --from chat, codex or response"),
        (
            b'{"type":"session_meta","payload":{"id":',  # a rollout cut off in its first line
            [],
            "src: rollout line 1: not JSON: unexpected end of data (column 40)",
        ),
        (
            b'[{"role": "user", "content": "hi"}',
            [],
            "src: chat messages: not JSON: unexpected end of data (line 1, column 35)",
        ),
        (
            b'{"messages": [\n  {"role": "user",}\n]}',
            [],
            "src: chat messages: not JSON: trailing comma is not allowed (line 2, column 18)",
        ),
        (
            line(user("hi")),
            [],
            "src: looks like a conversation file already (one input item per line); copy it, "
            "or use 'respctl fork' to take part of it",
        ),
        (
            b'[{"role": "robot", "content": "x"}]',
            [],
            'src: messages[0]: unknown role "robot" '
            "(expected one of system, developer, user, assistant, tool, function)",
        ),
        (b"[]", ["--from", "chat"], "src: messages: the list is empty: nothing to import"),
        (
            b'{"type":"session_meta","payload":{}}',
            ["--from", "codex"],
            "src: codex rollout: no conversation items in it",
        ),
        (b"[1]", ["--from", "response"], "src: not a stored response's id (resp_...)"),
    ],
)
def test_bad_sources_are_one_line_exit_2_and_nothing_written(cli, tmp_path, content, args, message):
    (tmp_path / "src").write_bytes(content)
    r = cli("import", "src", "out.jsonl", *args)
    assert (r.code, r.err_lines, r.out) == (2, [f"respctl: error: {message}"], "")
    assert not (tmp_path / "out.jsonl").exists()


# --- codex ---------------------------------------------------------------------------------------------------


def test_a_real_codex_rollout_imports_lint_clean_with_its_notes(cli, tmp_path):
    r = cli("import", ROLLOUT, "codex.jsonl")
    assert r.code == 0, r.err
    assert read_items(tmp_path / "codex.jsonl") == codex_rollout_to_items(ROLLOUT.read_bytes()).items
    assert "respctl: note: turns that codex rolled back (thread_rolled_back) left out, as codex resumes" in r.err_lines
    assert r.err_lines[-1] == (
        "respctl: wrote 12 items to codex.jsonl from a codex rollout "
        "(model gpt-5-codex: 'respctl say' takes it with -m)"
    )
    assert lint_errors(tmp_path / "codex.jsonl") == []


def test_a_rollout_whose_last_line_is_cut_off_imports_what_came_before(cli, tmp_path):
    """A session still running (or one that crashed) leaves its last line half written: codex's own loader
    (RolloutRecorder::load_rollout_items) skips lines it cannot parse, so import does too, and says so."""
    lines = ROLLOUT.read_bytes().splitlines(keepends=True)
    whole = b"".join(lines[:-1])
    (tmp_path / "cut.jsonl").write_bytes(whole + lines[-1][: len(lines[-1]) // 2])
    r = cli("import", "cut.jsonl", "codex.jsonl")
    assert r.code == 0, r.err
    assert read_items(tmp_path / "codex.jsonl") == codex_rollout_to_items(whole).items
    assert (
        f"respctl: note: rollout line {len(lines)}, the last, is cut off (a session still running, or one that "
        "crashed): skipped, as codex skips it on resume" in r.err_lines
    )
    assert lint_errors(tmp_path / "codex.jsonl") == []


def test_a_rollout_line_that_is_not_json_in_the_middle_is_skipped_as_codex_does(cli, tmp_path):
    lines = ROLLOUT.read_bytes().splitlines(keepends=True)
    (tmp_path / "bad.jsonl").write_bytes(b"".join([*lines[:3], b"{not json\n", b"\xff\n", *lines[3:]]))
    r = cli("import", "bad.jsonl", "codex.jsonl")
    assert r.code == 0, r.err
    assert read_items(tmp_path / "codex.jsonl") == codex_rollout_to_items(b"".join(lines)).items
    assert "respctl: note: rollout lines 4, 5 are not JSON: skipped, as codex skips them on resume" in r.err_lines


def test_a_codex_rollout_of_the_apis_own_items_replays(cli, api, tmp_path):
    """A rollout as codex writes it (envelope lines, response_item payloads, event lines), of items the
    loopback API issued: the imported file is accepted and sent exactly."""
    client = openai.OpenAI(base_url=api.base_url, api_key="sk-test", max_retries=0)
    api.script(
        Turn([reasoning(), function_call("shell", {"cmd": "ls"}, call_id="call_ls")]),
        Turn([reasoning(), message("Two files.")]),
    )
    history = [user("list the files")]
    stateless = {"model": MODEL, "store": False, "include": ["reasoning.encrypted_content"]}
    history += orjson.loads(client.responses.with_raw_response.create(input=history, **stateless).text)["output"]
    history.append({"type": "function_call_output", "call_id": "call_ls", "output": "a b"})
    history += orjson.loads(client.responses.with_raw_response.create(input=history, **stateless).text)["output"]
    rows = [{"timestamp": "t", "type": "session_meta", "payload": {"id": "s"}}]
    rows += [{"timestamp": "t", "type": "turn_context", "payload": {"model": MODEL}}]
    for item in history:
        rows.append({"timestamp": "t", "type": "response_item", "payload": item})
        rows.append({"timestamp": "t", "type": "event_msg", "payload": {"type": "agent_message"}})
    (tmp_path / "rollout-1.jsonl").write_bytes(b"".join(line(row) for row in rows))
    r = cli("import", "rollout-1.jsonl", "chat.jsonl")
    assert r.code == 0, r.err
    assert [i["type"] for i in read_items(tmp_path / "chat.jsonl")] == [
        *["message", "reasoning", "function_call", "function_call_output", "reasoning", "message"]
    ]
    assert lint_errors(tmp_path / "chat.jsonl") == []
    accepted_next_turn(cli, api, tmp_path / "chat.jsonl")


# --- a stored response -----------------------------------------------------------------------------------------


def test_a_stored_response_and_all_its_input_pages_import_and_replay(cli, stored_api, tmp_path):
    """130 input items take two pages of 100; respctl asks oldest first and follows `after`."""
    client = openai.OpenAI(base_url=stored_api.base_url, api_key="sk-test", max_retries=0)
    given = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"m{i}"} for i in range(130)]
    stored_api.script(Turn([reasoning(["Counting"]), message("130 messages.")]))
    response = client.responses.create(
        model=MODEL, instructions="Be terse.", input=given, include=["reasoning.encrypted_content"]
    )
    extra = {"OPENAI_BASE_URL": stored_api.base_url}
    r = cli("import", response.id, "chat.jsonl", "-v", extra_env=extra)
    assert r.code == 0, r.err
    gets = [q.path for q in stored_api.requests if q.path.startswith("/v1/responses/")]
    assert gets[0] == f"/v1/responses/{response.id}?include%5B%5D=reasoning.encrypted_content"
    assert [p.split("?")[1] for p in gets[1:]] == [
        "order=asc&limit=100&include%5B%5D=reasoning.encrypted_content",
        f"order=asc&limit=100&include%5B%5D=reasoning.encrypted_content&after={stored_api.stored[response.id].input[99]['id']}",
    ]
    items = read_items(tmp_path / "chat.jsonl")
    assert items[0] == {
        "type": "message",
        "role": "developer",
        "content": [{"type": "input_text", "text": "Be terse."}],
    }
    assert [i["content"][0]["text"] for i in items[1:131]] == [f"m{i}" for i in range(130)]
    assert [i["type"] for i in items[131:]] == ["reasoning", "message"] and items[131]["encrypted_content"]
    assert "respctl: note: the response's instructions carried over as a developer message at the start" in r.err_lines
    assert CANARY_KEY not in r.err + r.out and "sk-test" not in r.err
    assert lint_errors(tmp_path / "chat.jsonl") == []
    r = cli("say", tmp_path / "chat.jsonl", "next", "-m", MODEL, extra_env=extra)
    assert r.code == 0, r.err
    assert stored_api.requests[-1].body["input"] == [*items, user("next")] and stored_api.requests[-1].error is None


def test_a_chain_of_previous_responses_imports_oldest_first(cli, stored_api, tmp_path):
    """A response that continued others (previous_response_id) brings their input and output too, oldest
    first: its own input items are only what its request sent."""
    client = openai.OpenAI(base_url=stored_api.base_url, api_key="sk-test", max_retries=0)
    previous = None
    for n in (1, 2, 3):
        stored_api.script(Turn([message(f"a{n}")]))
        previous = client.responses.create(
            model=MODEL, instructions="Be terse.", input=[user(f"u{n}")], previous_response_id=previous and previous.id
        )
    assert client.responses.retrieve(previous.id).previous_response_id is not None
    extra = {"OPENAI_BASE_URL": stored_api.base_url}
    r = cli("import", previous.id, "chat.jsonl", extra_env=extra)
    assert r.code == 0, r.err
    items = read_items(tmp_path / "chat.jsonl")
    texts = [(i["role"], i["content"][0]["text"]) for i in items]
    assert texts == [
        ("developer", "Be terse."),
        *[pair for n in (1, 2, 3) for pair in (("user", f"u{n}"), ("assistant", f"a{n}"))],
    ]
    assert (
        "respctl: note: the 2 earlier responses it continued (previous_response_id) carried over, oldest first"
        in r.err_lines
    )
    assert lint_errors(tmp_path / "chat.jsonl") == []
    r = cli("say", tmp_path / "chat.jsonl", "next", "-m", MODEL, extra_env=extra)
    assert r.code == 0 and stored_api.requests[-1].body["input"] == [*items, user("next")]


def test_a_server_that_lists_the_chain_in_the_input_items_is_not_followed_twice(cli, stored_api, tmp_path):
    """Some servers (DashScope documents it) list a continued response's earlier turns among its input
    items: the walk stops at the first previous response whose output is already listed."""
    client = openai.OpenAI(base_url=stored_api.base_url, api_key="sk-test", max_retries=0)
    first = None
    responses = []
    for n in (1, 2):
        stored_api.script(Turn([message(f"a{n}")]))
        first = client.responses.create(model=MODEL, input=[user(f"u{n}")], previous_response_id=first and first.id)
        responses.append(stored_api.stored[first.id])
    responses[1].input[:0] = [*responses[0].input, *responses[0].response["output"]]
    r = cli("import", first.id, "chat.jsonl", extra_env={"OPENAI_BASE_URL": stored_api.base_url})
    assert r.code == 0, r.err
    texts = [i["content"][0]["text"] for i in read_items(tmp_path / "chat.jsonl")]
    assert texts == ["u1", "a1", "u2", "a2"]
    assert not [q for q in stored_api.requests if q.path.startswith(f"/v1/responses/{responses[0].response['id']}/")]


def test_reasoning_stored_without_encrypted_content_is_dropped_and_said(cli, stored_api, tmp_path):
    client = openai.OpenAI(base_url=stored_api.base_url, api_key="sk-test", max_retries=0)
    stored_api.script(Turn([reasoning(), message("Hi.")]))
    response = client.responses.create(model=MODEL, input=[user("hello")])  # stored, no encrypted reasoning asked for
    extra = {"OPENAI_BASE_URL": stored_api.base_url}
    r = cli("import", response.id, "chat.jsonl", extra_env=extra)
    assert r.code == 0, r.err
    assert (
        r.err_lines[0]
        == "respctl: note: reasoning without encrypted content dropped (the model's earlier reasoning is lost)"
    )
    items = read_items(tmp_path / "chat.jsonl")
    assert [i.get("role") or i["type"] for i in items] == ["user", "assistant"] and "id" not in items[1]
    r = cli("say", tmp_path / "chat.jsonl", "next", "-m", MODEL, extra_env=extra)
    assert r.code == 0 and stored_api.requests[-1].body["input"] == [*items, user("next")]


def test_an_unknown_response_id_is_the_apis_404_and_nothing_is_written(cli, stored_api, tmp_path):
    r = cli("import", "resp_0123abc", "chat.jsonl", "-v", extra_env={"OPENAI_BASE_URL": stored_api.base_url})
    assert r.code == 1
    assert "respctl: error: HTTP 404: Response with id 'resp_0123abc' not found. (param response_id)" in r.err_lines
    assert CANARY_KEY not in r.err and not (tmp_path / "chat.jsonl").exists()


def test_a_response_id_needs_the_key_as_a_turn_does(cli, stored_api, tmp_path):
    r = cli("import", "resp_0123abc", "chat.jsonl", extra_env={"OPENAI_API_KEY": ""})
    assert (r.code, r.err_lines) == (2, ["respctl: error: OPENAI_API_KEY is not set"])


# --- export ----------------------------------------------------------------------------------------------------


def test_export_prints_chat_messages_and_says_what_was_lost(cli, api, tmp_path):
    api.script(
        Turn([reasoning(), function_call("get_weather", {"city": "Oslo"}, call_id="call_o")]),
        Turn([reasoning(), message("Cold.")]),
    )
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([{"type": "function", "name": "get_weather", "parameters": {}}]))
    assert cli("start", "c.jsonl", "--instructions", "Be terse.", "Weather?", "-m", MODEL, "--tools", tools).code == 3
    assert cli("tool-result", "c.jsonl", "call_o", "4 C", "-m", MODEL, "--tools", tools).code == 0
    r = cli("export", "c.jsonl")
    assert r.code == 0, r.err
    assert r.json() == [
        {"role": "developer", "content": "Be terse."},
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_o",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_o", "content": "4 C"},
        {"role": "assistant", "content": "Cold."},
    ]
    assert r.err_lines[0].startswith("respctl: note: reasoning items dropped")
    # and back: the same conversation without its reasoning
    (tmp_path / "m.json").write_bytes(r.stdout)
    assert cli("import", "m.json", "back.jsonl").code == 0
    assert [i.get("role") or i["type"] for i in read_items(tmp_path / "back.jsonl")] == [
        *["developer", "user", "function_call", "function_call_output", "assistant"]
    ]
    accepted_next_turn(cli, api, tmp_path / "back.jsonl")


def test_export_escapes_what_could_act_on_a_terminal(cli, tmp_path):
    (tmp_path / "c.jsonl").write_bytes(line(user("a\x9b2Jb\u202ec")))
    r = cli("export", "c.jsonl")
    assert r.code == 0 and "\\u009b" in r.out and "\\u202e" in r.out and "\x9b" not in r.out
    assert orjson.loads(r.stdout)[0]["content"] == "a\x9b2Jb\u202ec"
    r = cli("export", "missing.jsonl")
    assert (r.code, r.err_lines) == (2, ["respctl: error: missing.jsonl: no such file"])
