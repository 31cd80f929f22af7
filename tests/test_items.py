"""Output -> input on real recorded shapes (tests/fixtures/recordings, sources in SOURCES.md).

The recordings are also served as they were recorded, by a loopback server that answers every
request with the recorded bytes, so that what respctl writes is compared with what the API sent.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest
from conftest import clean_env, line, run_cli, user

from respctl import items as it

RECORDINGS = Path(__file__).parent / "fixtures" / "recordings"


def events(name):
    return [orjson.loads(line) for line in (RECORDINGS / name).read_bytes().splitlines() if line.strip()]


def done_items(name):
    return [e["item"] for e in events(name) if e["type"] == "response.output_item.done"]


def first_response(name: str) -> list[bytes]:
    """The raw event lines of the first response in a recording (some hold several)."""
    lines = [x for x in (RECORDINGS / name).read_bytes().splitlines() if x.strip()]
    end = next(n for n, x in enumerate(lines) if orjson.loads(x)["type"] == "response.completed")
    return lines[: end + 1]


def raw_member(line: bytes, key: bytes) -> bytes:
    """The bytes of one top-level object member's value exactly as they stand in `line`."""
    start = line.index(b'"' + key + b'":') + len(key) + 3
    depth, in_string, escaped = 0, False, False
    for n in range(start, len(line)):
        c = line[n : n + 1]
        if in_string:
            escaped, in_string = (not escaped and c == b"\\"), in_string and (escaped or c != b'"')
        elif c == b'"':
            in_string = True
        elif c in b"{[":
            depth += 1
        elif c in b"}]":
            depth -= 1
            if depth == 0:
                value = line[start : n + 1]
                assert orjson.loads(value) == orjson.loads(line)[key.decode()]
                return value
    raise AssertionError("unterminated value")


class Recorded:
    """A loopback server that answers every POST with one recorded response, streamed as SSE
    (the recorded event lines, byte for byte) or as the recorded JSON body."""

    def __init__(self, events: list[bytes] | None = None, body: bytes | None = None):
        recorded = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                recorded.requests.append(orjson.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                if events is not None:
                    payload = b"".join(
                        b"event: %s\ndata: %s\n\n" % (orjson.loads(e)["type"].encode(), e) for e in events
                    )
                    kind = "text/event-stream"
                else:
                    payload, kind = body or b"", "application/json"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.requests: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    "name",
    [
        "vercel-ai__openai-reasoning-encrypted-content-gpt-5-4-split.1.chunks.txt",
        "vercel-ai__openai-reasoning-encrypted-content.1.chunks.txt",
    ],
)
def test_streamed_items_are_written_byte_for_byte_as_the_api_sent_them(tmp_path, name):
    """A real recorded stream, served as recorded: the file gains exactly the raw bytes of each
    `output_item.done` item (not the truncated `added` copy, not a re-serialization)."""
    events = first_response(name)
    server = Recorded(events=events)
    try:
        env = clean_env(OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="sk-test")
        r = run_cli(["start", "c.jsonl", "hi", "-m", "gpt-5.4", "--stream"], cwd=tmp_path, env=env)
    finally:
        server.close()
    assert r.code in (0, 3), r.err  # 3: the recording ends in a function call, which now waits
    done = [raw_member(e, b"item") for e in events if orjson.loads(e)["type"] == "response.output_item.done"]
    assert (tmp_path / "c.jsonl").read_bytes() == line(user("hi")) + b"".join(x + b"\n" for x in done)
    added = [orjson.loads(e)["item"] for e in events if orjson.loads(e)["type"] == "response.output_item.added"]
    for before, after in zip(added, (orjson.loads(x) for x in done), strict=True):
        if before["type"] == "reasoning":  # the added copy is cut short; the done copy is what replays
            assert len(before["encrypted_content"]) < len(after["encrypted_content"])
    assert server.requests[0]["stream"] is True and server.requests[0]["store"] is False


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
