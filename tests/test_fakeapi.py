"""Tests of the fake Responses API server (tests/fakeapi.py), through the real openai SDK and raw HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import openai
import pytest
from fakeapi import (
    Cut,
    EmptyCompletedOutput,
    ErrorEvent,
    Failed,
    FakeResponsesAPI,
    HttpError,
    ItemRegistry,
    Malformed,
    NoCompleted,
    Stall,
    Turn,
    custom_tool_call,
    function_call,
    message,
    reasoning,
    unseal,
    validate_request,
)

MODEL = "gpt-5.4"
STATELESS = {"store": False, "include": ["reasoning.encrypted_content"]}
USER = {"role": "user", "content": "What's the weather in Paris?"}
WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
    "strict": True,
}
PLANNED = Turn(
    [
        reasoning(["**Checking the weather**\n\nI'll look it up."]),
        message("Let me check the weather.", phase="commentary"),
        function_call("get_weather", '{"city":"Paris","unit":"celsius"}'),
    ]
)


@pytest.fixture
def api():
    with FakeResponsesAPI() as server:
        yield server


def sdk(api, **options) -> openai.OpenAI:
    return openai.OpenAI(base_url=api.base_url, api_key="sk-test", max_retries=options.pop("max_retries", 0), **options)


def post(api, body, *, path="/responses", headers=None) -> tuple[int, bytes]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        api.base_url + path,
        data=data,
        headers={"Content-Type": "application/json", "Authorization": "Bearer sk-test", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def request(input_items, **extra) -> dict:
    return {"model": MODEL, "input": input_items, **STATELESS, **extra}


def sse(raw: bytes) -> list[dict]:
    return [json.loads(line[6:]) for line in raw.decode().splitlines() if line.startswith("data: ")]


def run_turn(api, turn: Turn, input_items=(USER,), **extra) -> list[dict]:
    """Stream ``turn`` and return its items as output_item.done carried them."""
    api.script(turn)
    status, raw = post(api, request(list(input_items), stream=True, **extra))
    assert status == 200, raw
    return [e["item"] for e in sse(raw) if e["type"] == "response.output_item.done"]


def error_of(status_and_raw) -> tuple[int, dict]:
    status, raw = status_and_raw
    return status, json.loads(raw)["error"]


# --------------------------------------------------------------------------- responses and streaming


def test_non_streaming_turn_parses_with_the_sdk(api):
    api.script(PLANNED)
    response = sdk(api).responses.create(model=MODEL, input=[USER], **STATELESS)
    assert response.object == "response" and response.status == "completed" and response.model == MODEL
    assert [o.type for o in response.output] == ["reasoning", "message", "function_call"]
    rs, msg, fc = response.output
    assert rs.encrypted_content.startswith("gAAAAAB") and 1000 <= len(rs.encrypted_content) <= 2500
    assert rs.summary[0].text.startswith("**Checking")
    assert msg.phase == "commentary" and msg.content[0].text == "Let me check the weather."
    assert fc.arguments == '{"city":"Paris","unit":"celsius"}' and fc.call_id.startswith("call_")
    # Ids: prefix per type, and the items of one response end in the response id's last 16 hex.
    assert response.id.startswith("resp_") and len(response.id) == 5 + 48
    assert [o.id.split("_")[0] for o in response.output] == ["rs", "msg", "fc"]
    assert {o.id[-16:] for o in response.output} == {response.id[-16:]}
    usage = response.usage
    assert usage.input_tokens > 0 and usage.input_tokens_details.cached_tokens == 0
    assert usage.output_tokens_details.reasoning_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert api.accepted[0].response["id"] == response.id


def test_stream_follows_the_real_event_order(api):
    api.script(
        Turn(
            [
                reasoning(["First part of the plan", "Second part"]),
                message("The weather in Paris is sunny and warm today.", phase="final_answer"),
                function_call("get_weather", '{"city":"Paris","unit":"celsius"}'),
            ]
        )
    )
    status, raw = post(api, request([USER], stream=True))
    assert status == 200
    assert raw.startswith(b"event: response.created\ndata: {")
    events = sse(raw)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    collapsed = [t for i, t in enumerate(e["type"] for e in events) if i == 0 or t != events[i - 1]["type"]]
    summary_part = [
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
    ]
    assert collapsed == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        *summary_part,
        *summary_part,
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    text_deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert len(text_deltas) > 3 and "".join(text_deltas) == "The weather in Paris is sunny and warm today."
    arg_deltas = [e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"]
    assert len(arg_deltas) > 1 and "".join(arg_deltas) == '{"city":"Paris","unit":"celsius"}'
    added = [e["item"] for e in events if e["type"] == "response.output_item.added"]
    assert added[0]["summary"] == [] and added[1]["status"] == "in_progress" and added[1]["content"] == []
    assert added[1]["phase"] == "final_answer" and added[2]["arguments"] == ""
    completed = events[-1]["response"]
    assert completed["status"] == "completed" and completed["usage"]["total_tokens"] > 0
    assert events[0]["response"]["status"] == "in_progress" and events[0]["response"]["usage"] is None


def test_streamed_encrypted_content_is_truncated_at_added_and_resealed_at_completed(api):
    api.script(PLANNED)
    stream = sdk(api).responses.create(model=MODEL, input=[USER], stream=True, **STATELESS)
    events = list(stream)
    added = next(e.item for e in events if e.type == "response.output_item.added" and e.item.type == "reasoning")
    done = next(e.item for e in events if e.type == "response.output_item.done" and e.item.type == "reasoning")
    completed = events[-1].response.output[0]
    assert events[-1].type == "response.completed"
    assert len(added.encrypted_content) < len(done.encrypted_content)
    assert not done.encrypted_content.startswith(added.encrypted_content)
    assert len(completed.encrypted_content) == len(done.encrypted_content)
    assert completed.encrypted_content != done.encrypted_content
    assert unseal(api.registry.secret, done.encrypted_content)["id"] == done.id
    assert unseal(api.registry.secret, completed.encrypted_content)["id"] == done.id
    assert unseal(api.registry.secret, added.encrypted_content) is None


def test_replaying_a_streamed_turn_is_accepted_from_either_copy(api):
    rs, msg, fc = run_turn(api, PLANNED)
    assert "status" not in rs
    output = {"type": "function_call_output", "call_id": fc["call_id"], "output": '{"temp": 21}'}
    assert post(api, request([USER, rs, msg, fc, output]))[0] == 200
    # The response.completed copy verifies too.
    api.script(PLANNED)
    rs2, msg2, fc2 = json.loads(post(api, request([USER]))[1])["output"]
    output2 = {"type": "function_call_output", "call_id": fc2["call_id"], "output": "21"}
    assert post(api, request([USER, rs2, msg2, fc2, output2]))[0] == 200


def test_custom_tool_call_and_reasoning_text_stream_and_parse(api):
    api.script(
        Turn([reasoning(content=["thinking in the clear"], encrypted=False), custom_tool_call("sql", "SELECT 1")])
    )
    events = list(sdk(api).responses.create(model=MODEL, input=[USER], stream=True, **STATELESS))
    types = [e.type for e in events]
    assert "response.reasoning_text.delta" in types and "response.reasoning_text.done" in types
    assert "response.custom_tool_call_input.delta" in types
    done = next(e for e in events if e.type == "response.custom_tool_call_input.done")
    assert done.input == "SELECT 1"
    rs, call = events[-1].response.output
    assert rs.content[0].text == "thinking in the clear" and rs.encrypted_content is None
    assert call.type == "custom_tool_call" and call.id.startswith("ctc_")


def test_incomplete_turn_ends_with_response_incomplete_and_cannot_be_replayed(api):
    api.script(Turn([reasoning(["Thinking..."])], status="incomplete"))
    status, raw = post(api, request([USER], stream=True))
    events = sse(raw)
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    rs = events[-1]["response"]["output"][0]
    status, error = error_of(post(api, request([USER, rs])))
    assert status == 400
    assert (
        error["message"] == f"Item '{rs['id']}' of type 'reasoning' was provided without its required following item."
    )


# --------------------------------------------------------------------------- the errors, verbatim


def planned_conversation(api):
    rs, msg, fc = run_turn(api, PLANNED)
    output = {"type": "function_call_output", "call_id": fc["call_id"], "output": "21C"}
    return rs, msg, fc, output


def test_e1_unknown_parameters(api):
    rs, msg, fc, out = planned_conversation(api)
    assert error_of(post(api, request([USER, rs | {"status": "completed"}, msg, fc, out]))) == (
        400,
        {
            "message": "Unknown parameter: 'input[1].status'.",
            "type": "invalid_request_error",
            "param": "input[1].status",
            "code": "unknown_parameter",
        },
    )
    # A null does not make it known.
    error = error_of(post(api, request([USER, rs | {"status": None}, msg, fc, out])))[1]
    assert error["message"] == "Unknown parameter: 'input[1].status'."
    error = error_of(post(api, request([USER, rs, msg, fc | {"created_by": "model"}, out])))[1]
    assert (error["message"], error["param"]) == ("Unknown parameter: 'input[3].created_by'.", "input[3].created_by")
    # Nested content parts too, and top-level options.
    bad_part = msg | {"content": [msg["content"][0] | {"parsed": None}]}
    assert error_of(post(api, request([USER, rs, bad_part, fc, out])))[1]["param"] == "input[2].content[0].parsed"
    assert error_of(post(api, request([USER], temprature=0.5)))[1]["message"] == "Unknown parameter: 'temprature'."


def test_null_on_a_non_nullable_field_is_invalid_type(api):
    rs, msg, fc, out = planned_conversation(api)
    assert error_of(post(api, request([USER, rs, msg, fc | {"namespace": None}, out]))) == (
        400,
        {
            "message": "Invalid type for 'input[3].namespace': expected a string, but got null instead.",
            "type": "invalid_request_error",
            "param": "input[3].namespace",
            "code": "invalid_type",
        },
    )
    # Nullable fields take null: phase, encrypted_content (then E4 applies), caller.
    assert post(api, request([USER, rs, msg | {"phase": None}, fc | {"caller": None}, out]))[0] == 200


def test_e2_reasoning_without_its_following_item(api):
    rs, *_ = planned_conversation(api)
    for items in ([USER, rs], [USER, rs, USER]):
        assert error_of(post(api, request(items))) == (
            400,
            {
                "message": f"Item '{rs['id']}' of type 'reasoning' was provided without its required following item.",
                "type": "invalid_request_error",
                "param": "input",
                "code": None,
            },
        )


def test_e3_message_or_call_replayed_with_its_id_but_without_its_reasoning(api):
    rs, msg, fc, out = planned_conversation(api)
    status, error = error_of(post(api, request([USER, msg, fc, out])))
    assert (status, error["param"], error["code"]) == (400, "input", None)
    assert error["message"] == (
        f"Item '{msg['id']}' of type 'message' was provided without its required 'reasoning' item: '{rs['id']}'."
    )
    assert error_of(post(api, request([USER, fc, out])))[1]["message"] == (
        f"Item '{fc['id']}' of type 'function_call' was provided without its required 'reasoning' item: '{rs['id']}'."
    )
    # The mend: drop the ids of the message and the call.
    assert post(api, request([USER, dict_without(msg, "id"), dict_without(fc, "id"), out]))[0] == 200


def dict_without(d: dict, *keys) -> dict:
    return {k: v for k, v in d.items() if k not in keys}


def test_e4_reasoning_id_without_encrypted_content_is_404(api):
    rs, msg, fc, out = planned_conversation(api)
    expected = (
        404,
        {
            "message": f"Item with id '{rs['id']}' not found. Items are not persisted when `store` is set to false. "
            "Try again with `store` set to true, or remove this item from your input.",
            "type": "invalid_request_error",
            "param": "input",
            "code": None,
        },
    )
    assert error_of(post(api, request([USER, dict_without(rs, "encrypted_content"), msg, fc, out]))) == expected
    assert error_of(post(api, request([USER, rs | {"encrypted_content": None}, msg, fc, out]))) == expected


def test_e5_e6_calls_and_outputs_pair_up(api):
    rs, msg, fc, out = planned_conversation(api)
    assert error_of(post(api, request([USER, rs, msg, fc]))) == (
        400,
        {
            "message": f"No tool output found for function call {fc['call_id']}.",
            "type": "invalid_request_error",
            "param": "input",
            "code": None,
        },
    )
    custom = {"type": "custom_tool_call", "call_id": "call_sql1", "name": "sql", "input": "SELECT 1"}
    assert error_of(post(api, request([USER, custom])))[1]["message"] == (
        "No tool output found for custom tool call call_sql1."
    )
    orphan = {"type": "function_call_output", "call_id": "call_nope", "output": "x"}
    assert error_of(post(api, request([USER, orphan])))[1]["message"] == (
        "No tool call found for function call output with call_id call_nope."
    )
    # An output before its call has no call either.
    assert error_of(post(api, request([USER, out, rs, msg, fc])))[1]["message"].startswith("No tool call found")
    status, error = error_of(post(api, request([USER, rs, msg, fc, out, out])))
    assert status == 400 and error["message"].startswith("Duplicate function_call_output for call_id")


def test_e7_duplicate_item_ids(api):
    rs, msg, fc, out = planned_conversation(api)
    assert error_of(post(api, request([USER, rs, msg, fc, out, msg]))) == (
        400,
        {
            "message": f"Duplicate item found with id {msg['id']}. "
            "Remove duplicate items from your input and try again.",
            "type": "invalid_request_error",
            "param": "input",
            "code": None,
        },
    )


def test_e8_encrypted_content_must_verify(api):
    rs, msg, fc, out = planned_conversation(api)
    token = rs["encrypted_content"]
    undecryptable = {
        "message": f"The encrypted content for item {rs['id']} could not be verified. "
        "Reason: Encrypted content could not be decrypted or parsed.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_encrypted_content",
    }
    edited = token[:500] + ("A" if token[500] != "A" else "B") + token[501:]
    for bad in (edited, token[:-8], token + "AAAA"):
        assert error_of(post(api, request([USER, rs | {"encrypted_content": bad}, msg, fc, out]))) == (
            400,
            undecryptable,
        )
    # Another model cannot read it.
    assert error_of(post(api, request([USER, rs, msg, fc, out]) | {"model": "gpt-5-mini"})) == (400, undecryptable)
    # Bound to its item id.
    other_id = "rs_" + "0" * 48
    status, error = error_of(post(api, request([USER, rs | {"id": other_id}, msg, fc, out])))
    assert status == 400 and error["message"] == (
        f"The encrypted content for item {other_id} could not be verified. "
        "Reason: Encrypted content item_id did not match the target item id."
    )
    # Without an id the token is named by its ends.
    error = error_of(post(api, request([USER, dict_without(rs, "id") | {"encrypted_content": edited}, msg, fc, out])))[
        1
    ]
    assert error["message"] == (
        f"The encrypted content {edited[:4]}...{edited[-4:]} could not be verified. "
        "Reason: Encrypted content could not be decrypted or parsed."
    )


def test_e9_encrypted_content_on_a_non_reasoning_model(api):
    for model in ("gpt-4.1", "gpt-4o-mini", "gpt-3.5-turbo", "chatgpt-4o-latest", "gpt-5-chat-latest"):
        assert error_of(post(api, request([USER]) | {"model": model})) == (
            400,
            {
                "message": "Encrypted content is not supported with this model.",
                "type": "invalid_request_error",
                "param": "include",
                "code": None,
            },
        )
    status, raw = post(api, {"model": "gpt-4.1", "input": [USER], "store": False})
    assert status == 200 and [o["type"] for o in json.loads(raw)["output"]] == ["message"]


def test_e10_id_prefix_must_match_the_item_type(api):
    rs, msg, fc, out = planned_conversation(api)
    wrong = "ctco_" + fc["id"][3:]
    assert error_of(post(api, request([USER, rs, msg, fc | {"id": wrong}, out]))) == (
        400,
        {
            "message": f"Invalid 'input[3].id': '{wrong}'. Expected an ID that begins with 'fc'.",
            "type": "invalid_request_error",
            "param": "input[3].id",
            "code": "invalid_value",
        },
    )


def test_e11_input_text_in_an_assistant_message(api):
    assistant = {"role": "assistant", "content": [{"type": "input_text", "text": "Hi"}]}
    assert error_of(post(api, request([USER, assistant]))) == (
        400,
        {
            "message": "Invalid value: 'input_text'. Supported values are: 'output_text' and 'refusal'.",
            "type": "invalid_request_error",
            "param": "input[1].content[0]",
            "code": "invalid_value",
        },
    )


def test_e12_missing_required_parameters(api):
    rs, msg, fc, out = planned_conversation(api)
    assert error_of(post(api, request([USER, rs, msg, dict_without(fc, "arguments"), out]))) == (
        400,
        {
            "message": "Missing required parameter: 'input[3].arguments'.",
            "type": "invalid_request_error",
            "param": "input[3].arguments",
            "code": "missing_required_parameter",
        },
    )
    assert (
        error_of(post(api, {"input": [USER], "store": False}))[1]["message"] == "Missing required parameter: 'model'."
    )
    status, error = error_of(post(api, request("hello")))
    assert (status, error["param"], error["code"]) == (400, "input", "invalid_type")


def test_e13_namespaced_function_call_without_its_namespace(api):
    tools = [
        {
            "type": "namespace",
            "name": "widgets",
            "description": "Widget tools.",
            "tools": [
                {"type": "function", "name": "create_widget", "parameters": {"type": "object", "properties": {}}}
            ],
        }
    ]
    call = {"type": "function_call", "call_id": "call_w1", "name": "create_widget", "arguments": "{}"}
    output = {"type": "function_call_output", "call_id": "call_w1", "output": "ok"}
    assert error_of(post(api, request([USER, call, output], tools=tools))) == (
        400,
        {
            "message": "Missing namespace for function_call 'create_widget'. It does not exist in the default "
            "namespace. Round-trip the model's function_call item with its namespace field included.",
            "type": "invalid_request_error",
            "param": "input[1].namespace",
            "code": None,
        },
    )
    assert post(api, request([USER, call | {"namespace": "widgets"}, output], tools=tools))[0] == 200


def test_reasoning_effort_on_a_non_reasoning_model(api):
    status, error = error_of(
        post(api, {"model": "gpt-4.1", "input": [USER], "store": False, "reasoning": {"effort": "low"}})
    )
    assert (status, error["param"], error["code"]) == (400, "reasoning.effort", "unsupported_parameter")


GPT_OSS_REASONING = {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": "hm"}]}
USER_PARTS = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]}


def test_shapes_the_real_api_accepts(api):
    rs, msg, fc, out = planned_conversation(api)
    accepted = [
        [USER, dict_without(rs, "id"), msg, fc, out],  # reasoning without id, with its encrypted content
        # gpt-oss style: self-contained reasoning text, no id, no encrypted content.
        [USER, GPT_OSS_REASONING, dict_without(msg, "id"), dict_without(fc, "id"), out],
        [USER, rs | {"summary": []}, msg | {"content": [{"type": "output_text", "text": "no annotations"}]}, fc, out],
        [{"role": "developer", "content": "Be brief."}, USER_PARTS, {"role": "assistant", "content": "Hello."}, USER],
    ]
    for items in accepted:
        status, raw = post(api, request(items))
        assert status == 200, raw


def test_store_false_is_required_unless_disabled(api):
    for body in ({"model": MODEL, "input": [USER]}, {"model": MODEL, "input": [USER], "store": True}):
        status, error = error_of(post(api, body))
        assert (status, error["param"], error["code"]) == (400, "store", "fakeapi_store_must_be_false")
        assert "store: false" in error["message"]
    api.require_store_false = False
    assert post(api, {"model": MODEL, "input": [USER]})[0] == 200


def test_other_paths_auth_and_bad_json(api):
    status, error = error_of(post(api, request([USER]), path="/chat/completions"))
    assert (status, error["message"]) == (404, "Invalid URL (POST /v1/chat/completions)")
    status, error = error_of(post(api, request([USER]), headers={"Authorization": ""}))
    assert status == 401 and "API key" in error["message"]
    status, error = error_of(post(api, b"{not json"))
    assert status == 400 and error["message"].startswith("We could not parse the JSON body of your request.")


def test_validate_request_checks_a_conversation_offline(api):
    rs, msg, fc, out = planned_conversation(api)
    body = request([USER, rs, msg, fc, out])
    assert validate_request(body, api.registry) is None
    assert validate_request(body) is None  # the same secret: any fake server's items verify
    foreign = validate_request(body, ItemRegistry(secret=b"another account"))
    assert foreign.code == "invalid_encrypted_content" and foreign.status == 400
    # E3 needs to know what was issued: a fresh registry cannot tell that msg lost its reasoning.
    assert validate_request(request([USER, msg, fc, out])) is None
    assert validate_request(request([USER, msg, fc, out]), api.registry).message.startswith(f"Item '{msg['id']}'")


# --------------------------------------------------------------------------- scripted failures


def test_429_twice_then_success_through_the_sdk_retries(api):
    api.script(HttpError(429, headers={"retry-after-ms": "1"}, count=2), Turn([message("ok")]))
    response = sdk(api, max_retries=2).responses.create(model=MODEL, input=[USER], **STATELESS)
    assert response.output_text == "ok"
    assert [r.status for r in api.requests] == [429, 429, 200]
    assert api.rejected[0].error["type"] == "requests" and len(api.accepted) == 1


def test_http_errors_surface_as_sdk_errors(api):
    api.script(HttpError(503, message="Overloaded", headers={"retry-after": "0"}), HttpError(400, code="bad"))
    with pytest.raises(openai.InternalServerError) as info:
        sdk(api).responses.create(model=MODEL, input=[USER], **STATELESS)
    assert info.value.status_code == 503 and info.value.body["message"] == "Overloaded"
    with pytest.raises(openai.BadRequestError) as info:
        sdk(api).responses.create(model=MODEL, input=[USER], **STATELESS)
    assert info.value.code == "bad"


def test_cut_stream_raises_api_connection_error(api):
    api.script(Cut(after_events=3), Cut(after_events=0))
    received = []
    with pytest.raises(openai.APIConnectionError):
        for event in sdk(api).responses.create(model=MODEL, input=[USER], stream=True, **STATELESS):
            received.append(event.type)
    assert received == ["response.created", "response.in_progress", "response.output_item.added"]
    with pytest.raises(openai.APIConnectionError):
        sdk(api).responses.create(model=MODEL, input=[USER], **STATELESS)  # non-streaming: half a body


def test_stall_lets_the_client_time_out(api):
    api.script(Stall(5))
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        sdk(api, timeout=0.2).responses.create(model=MODEL, input=[USER], **STATELESS)
    assert time.monotonic() - started < 2


def test_failed_and_error_event(api):
    api.script(
        Failed(), ErrorEvent("You exceeded your current quota.", code="insufficient_quota"), Failed("boom", "Boom.")
    )
    events = list(sdk(api).responses.create(model=MODEL, input=[USER], stream=True, **STATELESS))
    assert [e.type for e in events] == ["response.created", "response.in_progress", "response.failed"]
    assert events[-1].response.status == "failed" and events[-1].response.error.code == "server_error"
    with pytest.raises(openai.APIError, match=r"You exceeded your current quota\."):
        list(sdk(api).responses.create(model=MODEL, input=[USER], stream=True, **STATELESS))
    response = sdk(api).responses.create(model=MODEL, input=[USER], **STATELESS)
    assert response.status == "failed" and response.error.message == "Boom."


def test_malformed_no_completed_and_empty_completed_output(api):
    api.script(Malformed(), NoCompleted(PLANNED), EmptyCompletedOutput(PLANNED))
    with pytest.raises(ValueError):
        list(sdk(api).responses.create(model=MODEL, input=[USER], stream=True, **STATELESS))
    events = sse(post(api, request([USER], stream=True))[1])
    assert events[-1]["type"] == "response.output_item.done" and events[-1]["item"]["type"] == "function_call"
    events = sse(post(api, request([USER], stream=True))[1])
    assert events[-1]["type"] == "response.completed" and events[-1]["response"]["output"] == []
    assert sum(e["type"] == "response.output_item.done" for e in events) == 3


# --------------------------------------------------------------------------- the auto responder


def test_auto_responder_calls_tools_then_sums_up_their_results(api):
    client = sdk(api)
    ask = {"role": "user", "content": "Compare the weather in Paris and Berlin. Rome too?"}
    first = client.responses.create(
        model=MODEL, input=[ask], tools=[WEATHER_TOOL], reasoning={"summary": "auto"}, **STATELESS
    )
    rs, *calls = first.output
    assert rs.type == "reasoning" and rs.summary and rs.encrypted_content
    # "Compare" and "Rome" start sentences; "Paris" and "Berlin" do not.
    assert [json.loads(c.arguments) for c in calls] == [
        {"city": "Paris", "unit": "celsius"},
        {"city": "Berlin", "unit": "celsius"},
    ]
    items = [ask, *(o.to_dict() for o in first.output)]
    items += [{"type": "function_call_output", "call_id": c.call_id, "output": f"{c.call_id}: 20C"} for c in calls]
    second = client.responses.create(model=MODEL, input=items, tools=[WEATHER_TOOL], **STATELESS)
    answer = second.output[-1]
    assert answer.type == "message" and answer.phase == "final_answer"
    assert answer.content[0].text.startswith("Based on the tool results: ") and "20C" in answer.content[0].text


def test_auto_responder_answers_text_json_and_incomplete(api):
    client = sdk(api)
    plain = client.responses.create(model=MODEL, input=[USER], **STATELESS)
    assert [o.type for o in plain.output] == ["reasoning", "message"]
    assert not plain.output[0].summary  # no summary asked for
    assert "What's the weather in Paris?" in plain.output_text
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}
    structured = client.responses.create(
        model=MODEL, input=[USER], text={"format": {"type": "json_schema", "name": "w", "schema": schema}}, **STATELESS
    )
    assert json.loads(structured.output_text).keys() == {"city", "days"}
    cut = client.responses.create(model=MODEL, input=[USER], max_output_tokens=16, **STATELESS)
    assert cut.status == "incomplete" and cut.incomplete_details.reason == "max_output_tokens"
    assert [o.type for o in cut.output] == ["reasoning"]


def test_auto_responder_is_fast_on_a_10_mb_input(api):
    filler = "lorem ipsum dolor sit amet " * 400  # ~10 KB
    items = [{"role": "user" if i % 2 == 0 else "assistant", "content": filler} for i in range(1000)]
    body = json.dumps(request([*items, USER])).encode()
    assert len(body) > 10_000_000
    started = time.monotonic()
    status, raw = post(api, body)
    assert status == 200 and json.loads(raw)["status"] == "completed"
    assert time.monotonic() - started < 3


def test_prompt_cache_key_reports_cached_tokens(api):
    items = [{"role": "user", "content": "word " * 2000}]
    first = json.loads(post(api, request(items, prompt_cache_key="k"))[1])
    second = json.loads(post(api, request([*items, USER], prompt_cache_key="k"))[1])
    assert first["usage"]["input_tokens_details"]["cached_tokens"] == 0
    cached = second["usage"]["input_tokens_details"]["cached_tokens"]
    assert 0 < cached <= first["usage"]["input_tokens"] and cached % 128 == 0


# --------------------------------------------------------------------------- recording, threads, command line


def test_requests_are_recorded_with_headers_raw_and_body(api):
    body = request([USER], prompt_cache_key="abc", tools=[WEATHER_TOOL], max_output_tokens=500)
    raw = json.dumps(body).encode()
    post(api, raw, headers={"X-Custom": "1"})
    post(api, request([USER]) | {"store": True})
    first, second = api.requests
    assert first.path == "/v1/responses" and first.raw == raw and first.body == body
    assert first.headers["x-custom"] == "1" and first.headers["authorization"] == "Bearer sk-test"
    assert first.status == 200 and first.error is None and first.response["prompt_cache_key"] == "abc"
    assert second.status == 400 and second.error["param"] == "store"
    assert api.accepted == [first] and api.rejected == [second]


def test_concurrent_requests(api):
    results = []

    def ask():
        results.append(json.loads(post(api, request([USER]))[1])["id"])

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 8 and len(api.accepted) == 8


def test_command_line_prints_its_url_first_and_serves():
    script = Path(__file__).with_name("fakeapi.py")
    process = subprocess.Popen(
        [sys.executable, str(script), "--port", "0", "--auto"], stdout=subprocess.PIPE, text=True
    )
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        request_ = urllib.request.Request(
            url + "/responses",
            data=json.dumps(request([USER])).encode(),
            headers={"Content-Type": "application/json", "Authorization": "Bearer sk-test"},
        )
        with urllib.request.urlopen(request_, timeout=10) as response:
            assert json.loads(response.read())["output"][-1]["type"] == "message"
    finally:
        process.terminate()
        process.wait(timeout=5)
