"""The loopback server's Files and Batch APIs (tests/fakeapi.py), through the real openai SDK over HTTP:
a batch of `/v1/responses` requests, each run through the same handler as `POST /responses`."""

from __future__ import annotations

import json

import openai
import pytest
from fakeapi import BatchPlan, FakeResponsesAPI, HttpError, Turn, message

MODEL = "gpt-5.4"
TERMINAL = ("completed", "failed", "expired", "cancelled")


@pytest.fixture
def api():
    with FakeResponsesAPI() as server:
        yield server


def sdk(api) -> openai.OpenAI:
    return openai.OpenAI(base_url=api.base_url, api_key="sk-test", max_retries=0)


def request_line(custom_id: str, text: str = "Hello", **body) -> dict:
    body = {"model": MODEL, "input": [{"role": "user", "content": text}], "store": False} | body
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/responses", "body": body}


def jsonl(lines) -> bytes:
    return b"".join((line if isinstance(line, str) else json.dumps(line)).encode() + b"\n" for line in lines)


def submit(client, lines, **options):
    uploaded = client.files.create(file=("requests.jsonl", jsonl(lines)), purpose="batch")
    return client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/responses", completion_window="24h", **options
    )


def poll(client, batch):
    """Poll until the batch ends; returns (the final batch, the statuses seen in order)."""
    seen = [batch.status]
    while batch.status not in TERMINAL:
        batch = client.batches.retrieve(batch.id)
        seen.append(batch.status)
        assert len(seen) < 50
    return batch, seen


def lines_of(client, file_id) -> list[dict]:
    return [json.loads(line) for line in client.files.content(file_id).text.splitlines()]


def test_happy_path_answers_every_request_as_post_responses_would(api):
    client = sdk(api)
    batch = submit(client, [request_line(f"conv-{i}", f"Question {i}") for i in range(3)], metadata={"run": "r1"})
    assert batch.status == "validating" and batch.metadata == {"run": "r1"}
    assert batch.request_counts.total == 0 and batch.output_file_id is None
    batch, seen = poll(client, batch)
    assert seen == ["validating", "in_progress", "finalizing", "completed"]
    assert batch.request_counts.model_dump() == {"total": 3, "completed": 3, "failed": 0}
    assert batch.error_file_id is None and batch.model == MODEL
    assert batch.completed_at and batch.finalizing_at and batch.in_progress_at and not batch.failed_at
    output = client.files.retrieve(batch.output_file_id)
    assert output.purpose == "batch_output" and output.filename == f"{batch.id}_output.jsonl"
    results = lines_of(client, batch.output_file_id)
    assert [r["custom_id"] for r in results] == ["conv-0", "conv-1", "conv-2"]
    for i, result in enumerate(results):
        assert result["id"].startswith("batch_req_") and result["error"] is None
        assert result["response"]["status_code"] == 200
        body = result["response"]["body"]
        assert body["object"] == "response" and body["status"] == "completed" and body["store"] is False
        assert f"Question {i}" in body["output"][-1]["content"][0]["text"]
    # The server received each request as a `POST /responses` (and validated it the same way).
    received = [r for r in api.requests if r.headers.get("x-fakeapi-batch-id") == batch.id]
    assert [r.headers["x-fakeapi-custom-id"] for r in received] == ["conv-0", "conv-1", "conv-2"]
    assert all(r.path == "/v1/responses" and r.error is None for r in received)
    assert batch.usage.input_tokens == sum(r["response"]["body"]["usage"]["input_tokens"] for r in results)


def test_scripted_turns_answer_batch_requests_in_order(api):
    client = sdk(api)
    api.script(Turn([message("first")]), Turn([message("second")], status="incomplete"))
    batch, _ = poll(client, submit(client, [request_line("a"), request_line("b")]))
    bodies = [r["response"]["body"] for r in lines_of(client, batch.output_file_id)]
    assert [b["status"] for b in bodies] == ["completed", "incomplete"]
    assert bodies[0]["output"][0]["content"][0]["text"] == "first"


def test_partial_failure_goes_to_the_error_file_with_the_apis_answer(api):
    client = sdk(api)
    bad = request_line("bad", input=[{"role": "user", "content": "Hi", "status": "done"}])
    api.script_batch(BatchPlan(fail={1: HttpError(429), "timeout": "request_timeout"}))
    lines = [request_line("ok"), request_line("limited"), bad, request_line("timeout")]
    batch, _ = poll(client, submit(client, lines))
    assert batch.status == "completed"
    assert batch.request_counts.model_dump() == {"total": 4, "completed": 1, "failed": 3}
    assert [r["custom_id"] for r in lines_of(client, batch.output_file_id)] == ["ok"]
    errors = {r["custom_id"]: r for r in lines_of(client, batch.error_file_id)}
    # A refused request: its HTTP answer in `response`, `error` null (openai-openapi issue 302).
    with pytest.raises(openai.BadRequestError) as direct:
        client.responses.create(**bad["body"])
    assert errors["bad"]["error"] is None
    assert errors["bad"]["response"]["status_code"] == 400
    assert errors["bad"]["response"]["body"] == {"error": direct.value.body}
    assert errors["limited"]["response"]["status_code"] == 429
    assert errors["limited"]["response"]["body"]["error"]["message"].startswith("Rate limit reached")
    assert errors["timeout"]["response"] is None
    assert errors["timeout"]["error"]["code"] == "request_timeout"


def test_expiry_keeps_what_finished_and_lists_the_rest_as_batch_expired(api):
    client = sdk(api)
    api.script_batch(BatchPlan(expire_after=2))
    batch, seen = poll(client, submit(client, [request_line(f"r{i}") for i in range(5)]))
    assert seen[-1] == "expired" and "finalizing" not in seen and batch.expired_at
    assert batch.request_counts.model_dump() == {"total": 5, "completed": 2, "failed": 3}
    assert [r["custom_id"] for r in lines_of(client, batch.output_file_id)] == ["r0", "r1"]
    expired = lines_of(client, batch.error_file_id)
    assert [r["custom_id"] for r in expired] == ["r2", "r3", "r4"]
    assert expired[0]["response"] is None
    assert expired[0]["error"] == {
        "code": "batch_expired",
        "message": "This request could not be executed before the completion window expired.",
    }
    assert len([r for r in api.requests if r.headers.get("x-fakeapi-batch-id")]) == 2


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([request_line("a"), "{not json"], [("invalid_json_line", 2, "This line is not parseable as valid JSON.")]),
        ([request_line("a"), request_line("a")], [("duplicate_custom_id", 2, None)]),
        ([request_line("a") | {"url": "/v1/chat/completions"}], [("url_mismatch", 1, None)]),
        ([request_line("a"), request_line("b", model="gpt-5.4-mini")], [("model_mismatch", 2, None)]),
        ([{"custom_id": "a", "method": "POST", "url": "/v1/responses"}], [("missing_required_parameter", 1, None)]),
    ],
)
def test_an_invalid_input_file_fails_the_batch_with_its_errors(api, lines, expected):
    client = sdk(api)
    batch, seen = poll(client, submit(client, lines))
    assert seen == ["validating", "failed"] and batch.failed_at
    assert batch.errors.object == "list"
    assert [(e.code, e.line) for e in batch.errors.data] == [(code, line) for code, line, _ in expected]
    for error, (_, _, text) in zip(batch.errors.data, expected, strict=True):
        assert text is None or error.message == text
    assert batch.output_file_id is None and batch.error_file_id is None
    assert batch.request_counts.total == 0 and not [r for r in api.requests if r.headers.get("x-fakeapi-batch-id")]


def test_limits_and_upload_checks(api):
    client = sdk(api)
    api.batch_max_requests = 2
    batch, _ = poll(client, submit(client, [request_line(f"r{i}") for i in range(3)]))
    assert [e.code for e in batch.errors.data] == ["too_many_tasks"]
    api.batch_max_bytes = 100
    with pytest.raises(openai.BadRequestError, match="too large"):
        client.files.create(file=("big.jsonl", b"x" * 101), purpose="batch")
    api.batch_max_bytes = 10_000
    with pytest.raises(openai.BadRequestError, match=r"Invalid file format for Batch API\. Must be \.jsonl"):
        client.files.create(file=("requests.json", b"{}"), purpose="batch")
    with pytest.raises(openai.NotFoundError, match="No such File object: file-nope"):
        client.files.retrieve("file-nope")
    api.script_batch(
        BatchPlan(fail_validation=[{"code": "empty_file", "line": None, "message": "Empty.", "param": None}])
    )
    batch, _ = poll(client, submit(client, [request_line("a")]))
    assert batch.status == "failed" and batch.errors.data[0].code == "empty_file"


def test_hold_keeps_each_state_for_more_polls_and_counts_grow_in_progress(api):
    client = sdk(api)
    api.script_batch(BatchPlan(hold=1))
    batch = submit(client, [request_line(f"r{i}") for i in range(4)])
    statuses, done = [], []
    while batch.status not in TERMINAL:
        batch = client.batches.retrieve(batch.id)
        statuses.append(batch.status)
        done.append(batch.request_counts.completed)
    assert statuses == ["validating", "in_progress", "in_progress", "finalizing", "finalizing", "completed"]
    assert done == [0, 0, 2, 4, 4, 4]
    assert api.batch(batch.id)["status"] == "completed"


def test_cancel_keeps_what_finished_and_lists_the_rest_as_batch_cancelled(api):
    client = sdk(api)
    api.script_batch(BatchPlan(hold=1))
    batch = submit(client, [request_line(f"r{i}") for i in range(4)])
    for _ in range(3):  # validating (held), in_progress, then half the requests run
        batch = client.batches.retrieve(batch.id)
    assert batch.status == "in_progress" and batch.request_counts.completed == 2
    batch = client.batches.cancel(batch.id)
    assert batch.status == "cancelling" and batch.cancelling_at
    batch, seen = poll(client, batch)
    assert seen == ["cancelling", "cancelling", "cancelled"] and batch.cancelled_at
    assert [r["custom_id"] for r in lines_of(client, batch.output_file_id)] == ["r0", "r1"]
    left = lines_of(client, batch.error_file_id)
    assert [(r["custom_id"], r["error"]["code"]) for r in left] == [
        ("r2", "batch_cancelled"),
        ("r3", "batch_cancelled"),
    ]
    with pytest.raises(openai.BadRequestError, match="Cannot cancel a batch with status 'cancelled'"):
        client.batches.cancel(batch.id)


def test_create_is_validated(api):
    client = sdk(api)
    uploaded = client.files.create(file=("requests.jsonl", jsonl([request_line("a")])), purpose="batch")
    with pytest.raises(openai.BadRequestError, match="Invalid value: '48h'. Supported values are: '24h'."):
        client.batches.create(input_file_id=uploaded.id, endpoint="/v1/responses", completion_window="48h")
    with pytest.raises(openai.BadRequestError, match="Invalid value: '/v1/nope'"):
        client.batches.create(input_file_id=uploaded.id, endpoint="/v1/nope", completion_window="24h")
    with pytest.raises(openai.NotFoundError, match="No such File object: file-gone"):
        client.batches.create(input_file_id="file-gone", endpoint="/v1/responses", completion_window="24h")
    with pytest.raises(openai.NotFoundError, match="No batch found with id 'batch_nope'"):
        client.batches.retrieve("batch_nope")
    api.script(HttpError(500))
    with pytest.raises(openai.InternalServerError):
        client.batches.create(input_file_id=uploaded.id, endpoint="/v1/responses", completion_window="24h")
    assert client.batches.create(input_file_id=uploaded.id, endpoint="/v1/responses", completion_window="24h").id


def test_reverse_output_lists_results_out_of_input_order(api):
    client = sdk(api)
    api.script_batch(BatchPlan(reverse_output=True))
    batch, _ = poll(client, submit(client, [request_line(f"r{i}") for i in range(3)]))
    assert [r["custom_id"] for r in lines_of(client, batch.output_file_id)] == ["r2", "r1", "r0"]
