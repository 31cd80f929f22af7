"""Import converters: what comes in passes lint (openai target); the way back keeps text, roles and calls."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest
from conftest import examples, read_items, user
from fakeapi import validate_request
from hypothesis import given, settings
from hypothesis import strategies as st

from respctl.convert import (
    ConvertError,
    chat_to_items,
    codex_rollout_to_items,
    items_to_chat,
    response_to_items,
)
from respctl.errors import ExitCode, RespctlError
from respctl.lint import gate
from respctl.target import OPENAI

FIXTURES = Path(__file__).parent / "fixtures"
ROLLOUT = FIXTURES / "codex" / "rollout-2025-10-29T00-59-38-019a2d7a-41c4-78b1-b7cc-a45d62a89cd5.jsonl"
COMPACTED = FIXTURES / "codex" / "rollout-2025-11-02T10-00-00-compacted.jsonl"


def lint_errors(items: list[dict]) -> list[str]:
    return gate("imported.jsonl", [orjson.dumps(item) for item in items], items, OPENAI)


def accepted(items: list[dict]) -> bool:
    """The loopback server's judgement (tests/fakeapi.py: the real API's rules) of the next turn's request."""
    error = validate_request({"model": "gpt-5", "input": [*items, user("next")], "store": False})
    assert error is None, error
    return True


def text(value: str) -> list[dict]:
    return [{"type": "input_text", "text": value}]


# --- Chat Completions -> items ----------------------------------------------------------------------

#: Shapes as openai.types.chat declares them (ChatCompletion*MessageParam, content parts, tool calls).
WEATHER = [
    {"role": "developer", "content": "Answer briefly."},
    {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Oslo?"}], "name": "ana"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}},
            {"id": "call_b", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}},
        ],
    },
    {"role": "tool", "tool_call_id": "call_a", "content": "18C"},
    {"role": "tool", "tool_call_id": "call_b", "content": [{"type": "text", "text": "9C"}]},
    {"role": "assistant", "content": "Paris 18C, Oslo 9C."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "And this?"},
            {"type": "image_url", "image_url": {"url": "https://example.com/sky.png", "detail": "low"}},
            {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
            {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"}},
        ],
    },
    {"role": "assistant", "content": None, "refusal": "I cannot help with that."},
]


def test_chat_messages_become_the_items_respctl_writes():
    converted = chat_to_items(orjson.dumps({"model": "gpt-4o", "messages": WEATHER}))
    assert converted.items == [
        {"type": "message", "role": "developer", "content": text("Answer briefly.")},
        {"type": "message", "role": "user", "content": text("Weather in Paris and Oslo?")},
        {"type": "function_call", "call_id": "call_a", "name": "get_weather", "arguments": '{"city":"Paris"}'},
        {"type": "function_call", "call_id": "call_b", "name": "get_weather", "arguments": '{"city":"Oslo"}'},
        {"type": "function_call_output", "call_id": "call_a", "output": "18C"},
        {"type": "function_call_output", "call_id": "call_b", "output": text("9C")},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Paris 18C, Oslo 9C.", "annotations": []}],
        },
        {
            "type": "message",
            "role": "user",
            "content": [
                *text("And this?"),
                {"type": "input_image", "image_url": "https://example.com/sky.png", "detail": "low"},
                {"type": "input_file", "file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"},
            ],
        },
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "refusal", "refusal": "I cannot help with that."}],
        },
    ]
    assert converted.notes == [
        "'name' on messages dropped: the Responses API has no participant names",
        "audio parts of user messages dropped: Responses input messages take no audio",
    ]
    assert lint_errors(converted.items) == [] and accepted(converted.items)


def test_legacy_function_calls_custom_tools_and_pending_calls():
    converted = chat_to_items(
        [
            {"role": "system", "content": [{"type": "text", "text": "Be exact."}]},
            {"role": "user", "content": "add 2 and 3"},
            {"role": "assistant", "content": None, "function_call": {"name": "add", "arguments": {"a": 2, "b": 3}}},
            {"role": "function", "name": "add", "content": "5"},
            {"role": "assistant", "content": [{"type": "text", "text": "5. Now patching."}]},
            {"role": "user", "content": "patch it"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": "call_c", "type": "custom", "custom": {"name": "apply_patch", "input": "+x"}}],
            },
        ]
    )
    assert converted.items[2:4] == [
        {"type": "function_call", "call_id": "call_legacy_2", "name": "add", "arguments": '{"a":2,"b":3}'},
        {"type": "function_call_output", "call_id": "call_legacy_2", "output": "5"},
    ]
    assert converted.items[-1] == {
        "type": "custom_tool_call",
        "call_id": "call_c",
        "name": "apply_patch",
        "input": "+x",
    }
    image = chat_to_items([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "u"}}]}])
    assert image.items[0]["content"] == [{"type": "input_image", "image_url": "u", "detail": "auto"}]
    assert converted.notes == []
    assert lint_errors(converted.items) == []  # the custom call at the end is pending, which lint allows


def test_what_the_chat_api_itself_refuses_is_mended_and_said():
    converted = chat_to_items(
        [
            {"role": "user", "content": "hi"},
            {"role": "tool", "tool_call_id": "nobody", "content": "stray"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{oops"}}],
            },
            {"role": "user", "content": "never mind"},
        ]
    )
    assert [i.get("role") or i["type"] for i in converted.items] == ["user", "user"]
    assert converted.notes == [
        'tool message "nobody" answers no earlier tool call: dropped',
        "tool call arguments that were not JSON kept as a JSON string",
        "tool calls without an answer before the conversation went on: dropped",
    ]
    assert lint_errors(converted.items) == []


def test_an_imported_chat_takes_its_next_turn(cli, api, tmp_path):
    converted = chat_to_items(WEATHER[:6])
    chat = tmp_path / "imported.jsonl"
    chat.write_bytes(b"".join(orjson.dumps(item) + b"\n" for item in converted.items))
    r = cli("say", chat, "Thanks", "-m", "gpt-4.1")
    assert r.code == 0, r.err
    assert api.rejected == [] and api.requests[-1].body["input"] == [*converted.items, user("Thanks")]
    assert read_items(chat)[: len(converted.items) + 1] == [*converted.items, user("Thanks")]


# --- the way back ---------------------------------------------------------------------------------------


def test_items_back_to_chat_keep_text_roles_and_calls():
    back = items_to_chat(chat_to_items(WEATHER).items)
    assert back.items == [
        {"role": "developer", "content": "Answer briefly."},
        {"role": "user", "content": "Weather in Paris and Oslo?"},
        {"role": "assistant", "content": None, "tool_calls": WEATHER[2]["tool_calls"]},
        {"role": "tool", "tool_call_id": "call_a", "content": "18C"},
        {"role": "tool", "tool_call_id": "call_b", "content": [{"type": "text", "text": "9C"}]},
        {"role": "assistant", "content": "Paris 18C, Oslo 9C."},
        {"role": "user", "content": WEATHER[6]["content"][:2] + [WEATHER[6]["content"][3]]},
        {"role": "assistant", "content": None, "refusal": "I cannot help with that."},
    ]
    assert back.notes == []


def test_the_way_back_says_what_is_lost():
    items = [
        {"type": "message", "role": "user", "content": text("hi")},
        {"id": "rs_1", "type": "reasoning", "summary": [], "encrypted_content": "gAAAAA=="},
        {"id": "msg_1", "type": "message", "role": "assistant", "phase": "commentary", "content": "Looking."},
        {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}", "namespace": "ns"},
        {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"type": "search"}},
        {"type": "compaction", "encrypted_content": "gAAAAA=="},
    ]
    back = items_to_chat(items)
    assert back.items == [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": "Looking.",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
    ]
    assert back.notes == [
        "reasoning items dropped (with their encrypted content): Chat Completions has no place for them",
        "assistant message phases (commentary, final_answer) dropped",
        "call namespaces dropped: Chat Completions tool calls have none",
        "web_search_call items dropped: Chat Completions has no such item",
        "compaction items dropped: the context they carry is encrypted and Chat Completions cannot take it",
        "tool calls without an output yet: answer them before sending these messages",
    ]


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)


@st.composite
def chats(draw) -> list[dict]:
    """Chat conversations as Chat Completions accepts them: tool messages right after the calls they answer."""
    messages: list[dict] = []
    if draw(st.booleans()):
        messages.append({"role": draw(st.sampled_from(["system", "developer"])), "content": draw(_text)})
    ids = iter(range(10**6))
    for _ in range(draw(st.integers(1, 4))):
        messages.append({"role": "user", "content": draw(_text)})
        for _round in range(draw(st.integers(0, 2))):
            calls = [
                {"id": f"call_{next(ids)}", "type": "function", "function": {"name": "f", "arguments": '{"n":1}'}}
                for _ in range(draw(st.integers(1, 3)))
            ]
            messages.append({"role": "assistant", "content": draw(st.none() | _text.filter(bool)), "tool_calls": calls})
            messages += [{"role": "tool", "tool_call_id": c["id"], "content": draw(_text)} for c in calls]
        messages.append({"role": "assistant", "content": draw(_text.filter(bool))})
    return messages


@settings(max_examples=examples(400), deadline=None)
@given(chats())
def test_chat_to_items_to_chat_is_a_round_trip(messages):
    converted = chat_to_items(messages)
    assert lint_errors(converted.items) == [] and accepted(converted.items)
    assert converted.notes == []
    assert items_to_chat(converted.items).items == messages


# --- codex rollouts -----------------------------------------------------------------------------------


def test_a_codex_rollout_becomes_the_history_codex_would_resume():
    converted = codex_rollout_to_items(ROLLOUT.read_bytes())
    kinds = [(i["type"], i.get("role")) for i in converted.items]
    assert kinds == [
        ("message", "developer"),
        ("message", "user"),  # codex's environment context, as the model saw it
        ("message", "user"),
        ("reasoning", None),
        ("function_call", None),
        ("function_call_output", None),
        ("reasoning", None),  # it preceded a web search (dropped) and then the message: still followed
        ("message", "assistant"),
        ("message", "user"),  # "delete them" and its answer were rolled back
        ("custom_tool_call", None),
        ("custom_tool_call_output", None),
        ("message", "assistant"),
    ]
    assert "content" not in converted.items[3]  # codex writes content: null on reasoning
    assert "status" not in converted.items[9]  # output-only on custom tool calls
    assert converted.model == "gpt-5-codex"
    assert converted.notes == [
        "codex's base instructions (its system prompt for its own tools) not carried over",
        "web_search_call items (recorded by codex without their id) dropped",
        "reasoning items without encrypted content dropped: they cannot be replayed",
        "turns that codex rolled back (thread_rolled_back) left out, as codex resumes",
        "codex's tools are not declared on the next turn: the model sees its past calls but cannot call them",
    ]
    assert lint_errors(converted.items) == []


def test_a_codex_compaction_replaces_the_history_before_it():
    converted = codex_rollout_to_items(COMPACTED.read_text())
    assert [i["type"] for i in converted.items] == ["message", "compaction", "message", "message"]
    assert converted.items[0]["content"] == text("old question")
    assert lint_errors(converted.items) == []


def test_a_local_codex_compaction_and_the_format_before_the_envelope():
    old = b"\n".join(
        orjson.dumps(line)
        for line in [
            {"id": "s1", "timestamp": "2025-05-01T10:00:00Z", "instructions": None},
            {"type": "message", "role": "user", "content": text("first")},
            {"record_type": "state"},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "one"}]},
        ]
    )
    assert [i["role"] for i in codex_rollout_to_items(old).items] == ["user", "assistant"]
    local = old + b"\n" + orjson.dumps({"timestamp": "t", "type": "compacted", "payload": {"message": "we said one"}})
    converted = codex_rollout_to_items(local)
    assert converted.items == [
        {"type": "message", "role": "user", "content": text("first")},
        {"type": "message", "role": "user", "content": text("we said one")},
    ]


def test_a_reasoning_item_left_alone_by_what_was_dropped_is_dropped_too():
    rollout = b"\n".join(
        orjson.dumps({"timestamp": "t", "type": "response_item", "payload": payload})
        for payload in [
            {"type": "message", "role": "user", "content": text("search")},
            {"type": "reasoning", "summary": [], "encrypted_content": "gAAAAA" + "A" * 94},
            {"type": "web_search_call", "status": "completed", "action": {"type": "search", "query": "q"}},
            {"type": "message", "role": "user", "content": text("stop")},
        ]
    )
    converted = codex_rollout_to_items(rollout)
    assert [i["content"] for i in converted.items] == [text("search"), text("stop")]
    assert converted.notes[-1] == "reasoning items left without the item they preceded: dropped"
    assert lint_errors(converted.items) == []


# --- a stored response --------------------------------------------------------------------------------


def test_a_stored_response_with_its_input_items():
    # A real Response body (tests/fixtures/recordings/SOURCES.md): reasoning with encrypted content, a message.
    response = orjson.loads(
        (FIXTURES / "recordings" / "vercel-ai__openai-reasoning-encrypted-content.1.json").read_bytes()
    )
    listed = [{"id": "msg_in1", "type": "message", "role": "user", "status": "completed", "content": text("Hi")}]
    converted = response_to_items(response, listed)
    assert converted.items[0] == {"type": "message", "role": "user", "content": text("Hi")}
    assert [i["type"] for i in converted.items[1:]] == ["reasoning", "message"]
    assert converted.items[1]["encrypted_content"] == response["output"][0]["encrypted_content"]
    assert converted.model == "gpt-5-mini-2025-08-07" and converted.notes == []
    assert lint_errors(converted.items) == []


def test_reasoning_stored_without_encrypted_content_is_dropped_with_the_ids_that_need_it():
    response = orjson.loads(
        (FIXTURES / "recordings" / "vercel-ai__openai-reasoning-encrypted-content.1.json").read_bytes()
    )
    del response["output"][0]["encrypted_content"]
    response["instructions"] = "Be brief."
    converted = response_to_items(orjson.dumps(response), [{"type": "message", "role": "user", "content": "Hi"}])
    assert [(i["type"], i.get("role"), "id" in i) for i in converted.items] == [
        ("message", "developer", False),
        ("message", "user", False),
        ("message", "assistant", False),
    ]
    assert converted.notes == [
        "the response's instructions carried over as a developer message at the start",
        "reasoning without encrypted content dropped (the model's earlier reasoning is lost)",
    ]
    assert lint_errors(converted.items) == [] and accepted(converted.items)


def test_a_response_with_server_side_compaction():
    response = orjson.loads((FIXTURES / "recordings" / "vercel-ai__openai-compaction.1.json").read_bytes())
    converted = response_to_items(response, [{"type": "message", "role": "user", "content": text("Long talk")}])
    assert [i["type"] for i in converted.items] == ["message", "message", "compaction"]
    assert lint_errors(converted.items) == []


# --- bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("convert", "data", "message"),
    [
        (chat_to_items, b"", "chat messages: not JSON: "),
        (chat_to_items, b"\xff[]", "chat messages: not JSON: invalid UTF-8 at byte 1"),
        (chat_to_items, b"[" * 5000 + b"]" * 5000, "chat messages: not JSON: nested too deeply"),
        (chat_to_items, b"{}", "chat messages: expected a list of messages or an object with 'messages'"),
        (chat_to_items, b"[]", "messages: the list is empty: nothing to import"),
        (chat_to_items, b"[3]", "messages[0]: expected a message object, got a number"),
        (chat_to_items, b'[{"role":"robot"}]', 'messages[0]: unknown role "robot" (expected one of'),
        (chat_to_items, b'[{"role":"user","content":7}]', "messages[0].content: expected a string or a list"),
        (chat_to_items, b'[{"role":"user","content":[{"type":"video"}]}]', "messages[0].content[0]: unknown content"),
        (
            chat_to_items,
            b'[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":1}}]}]',
            "messages[0].tool_calls[0].function.name: expected a string, got a number",
        ),
        (
            chat_to_items,
            b'[{"role":"tool","tool_call_id":null}]',
            "messages[0].tool_call_id: expected a string, got null",
        ),
        (codex_rollout_to_items, b"", "codex rollout: the file is empty"),
        (codex_rollout_to_items, b"\nnope\n{", "rollout line 2: not JSON: "),
        (codex_rollout_to_items, b"[1]", "rollout line 1: expected a JSON object, got an array"),
        (codex_rollout_to_items, b'{"type":"session_meta","payload":{}}', "codex rollout: no conversation items in it"),
        (
            codex_rollout_to_items,
            b'{"type":"event_msg","payload":{"type":"thread_rolled_back","num_turns":true}}',
            "rollout line 1.payload.num_turns: expected a number, got a boolean",
        ),
        (response_to_items, b'{"object":"list"}', 'response: expected a Response object, got object "list"'),
        (response_to_items, b'{"output":{}}', "response.output: expected a list of items, got an object"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(convert, data, message):
    with pytest.raises(ConvertError) as caught:
        convert(data)
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, RespctlError) and caught.value.exit_code == ExitCode.USAGE


def test_hostile_strings_stay_on_one_line_in_errors():
    with pytest.raises(ConvertError) as caught:
        chat_to_items([{"role": "x\n\x1b[31mred"}])
    assert "\n" not in str(caught.value) and "\x1b" not in str(caught.value)


def test_a_large_import_is_linear():
    messages = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}] * 10_000
    started = time.perf_counter()
    converted = chat_to_items(orjson.dumps(messages))
    items_to_chat(converted.items)
    assert len(converted.items) == 20_000
    assert time.perf_counter() - started < 2  # 0.4 s on this 2-core machine under load
