"""Output -> input on real recorded shapes (tests/fixtures/recordings, sources in SOURCES.md)."""

from pathlib import Path

import orjson
import pytest

from respctl import items as it

RECORDINGS = Path(__file__).parent / "fixtures" / "recordings"


def events(name):
    return [orjson.loads(line) for line in (RECORDINGS / name).read_bytes().splitlines() if line.strip()]


def done_items(name):
    return [e["item"] for e in events(name) if e["type"] == "response.output_item.done"]


@pytest.mark.parametrize(
    "name",
    [
        "vercel-ai__openai-reasoning-encrypted-content-gpt-5-4-split.1.chunks.txt",
        "vercel-ai__openai-reasoning-encrypted-content.1.chunks.txt",
    ],
)
def test_done_items_are_kept_byte_for_byte(name):
    for item in done_items(name):
        # real output items carry nothing the API rejects, so cleaning changes no byte
        assert orjson.dumps(it.clean_output_item(item)) == orjson.dumps(item)


def test_added_copy_of_encrypted_content_is_truncated_and_done_copy_is_kept():
    evs = events("vercel-ai__openai-reasoning-encrypted-content-gpt-5-4-split.1.chunks.txt")
    added = next(
        e["item"] for e in evs if e["type"] == "response.output_item.added" and e["item"]["type"] == "reasoning"
    )
    done = next(e["item"] for e in evs if e["type"] == "response.output_item.done" and e["item"]["type"] == "reasoning")
    assert len(added["encrypted_content"]) == 844
    assert len(it.clean_output_item(done)["encrypted_content"]) == 17060


def test_non_streaming_body_items_keep_ids_summary_and_annotations():
    body = orjson.loads((RECORDINGS / "vercel-ai__openai-reasoning-encrypted-content.1.json").read_bytes())
    reasoning, message = (it.clean_output_item(item) for item in body["output"])
    assert list(reasoning) == ["id", "type", "encrypted_content", "summary"]
    assert reasoning["encrypted_content"] == body["output"][0]["encrypted_content"]
    assert message["status"] == "completed" and message["content"][0]["annotations"] == []


def test_compaction_item_is_kept_whole():
    body = orjson.loads((RECORDINGS / "vercel-ai__openai-compaction.1.json").read_bytes())
    compaction = next(item for item in body["output"] if item["type"] == "compaction")
    assert it.clean_output_item(compaction) == compaction


def test_what_a_model_dump_invents_is_dropped():
    dumped = {
        "id": "rs_1",
        "type": "reasoning",
        "summary": [],
        "encrypted_content": "gAAA",
        "content": None,
        "status": None,
        "created_by": {"id": "x"},
    }
    assert it.clean_output_item(dumped) == {
        "id": "rs_1",
        "type": "reasoning",
        "summary": [],
        "encrypted_content": "gAAA",
    }
    call = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "c",
        "name": "f",
        "arguments": "{}",
        "status": "completed",
        "namespace": None,
        "parsed_arguments": {},
        "caller": {"type": "direct"},
    }
    assert it.clean_output_item(call) == {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "c",
        "name": "f",
        "arguments": "{}",
        "status": "completed",
        "caller": {"type": "direct"},
    }


def test_status_on_reasoning_is_dropped_even_when_completed():
    assert "status" not in it.clean_output_item(
        {"type": "reasoning", "id": "rs_1", "summary": [], "status": "completed"}
    )


def test_required_nullable_fields_keep_their_null():
    item = {"type": "image_generation_call", "id": "ig_1", "status": "generating", "result": None}
    assert it.clean_output_item(item)["result"] is None


def test_phase_namespace_and_nested_order_are_kept():
    msg = {
        "id": "msg_1",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "phase": "commentary",
        "content": [{"type": "output_text", "annotations": [], "text": "hé \u2603", "logprobs": None}],
    }
    cleaned = it.clean_output_item(msg)
    assert orjson.dumps(cleaned) == orjson.dumps(msg).replace(b',"logprobs":null', b"")


def test_pending_calls_follow_outputs_by_call_id():
    items = [
        {"type": "function_call", "call_id": "a", "name": "f", "arguments": "{}"},
        {"type": "custom_tool_call", "call_id": "b", "name": "g", "input": "x"},
        {"type": "function_call_output", "call_id": "a", "output": "1"},
    ]
    assert [c["call_id"] for c in it.pending_calls(items)] == ["b"]
    assert it.call_summary(items[1]) == {"call_id": "b", "name": "g", "arguments": "x", "type": "custom_tool_call"}
    assert it.tool_output(items[1], "out") == {"type": "custom_tool_call_output", "call_id": "b", "output": "out"}


def test_fields_no_input_shape_accepts_are_dropped():
    # the API sends `status` on custom tool calls; the input side (the SDK's param types) has none
    item = {
        "id": "ctc_1",
        "type": "custom_tool_call",
        "status": "completed",
        "call_id": "c",
        "name": "patch",
        "input": "x",
    }
    assert it.clean_output_item(item) == {
        "id": "ctc_1",
        "type": "custom_tool_call",
        "call_id": "c",
        "name": "patch",
        "input": "x",
    }
    unknown_type = {"type": "some_future_item", "id": "x_1", "status": "completed", "extra": {"a": None}}
    assert it.clean_output_item(unknown_type) == {
        "type": "some_future_item",
        "id": "x_1",
        "status": "completed",
        "extra": {},
    }
