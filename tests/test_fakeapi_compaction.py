"""The loopback server's compaction (tests/fakeapi.py): server-side compaction on `POST /responses`
(`context_management`), the standalone `POST /responses/compact`, and `compaction_trigger`, through
the real openai SDK over HTTP."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import openai
import pytest
from fakeapi import FakeResponsesAPI, ItemRegistry, Turn, function_call, message, reasoning, unseal

MODEL = "gpt-5.4"
STATELESS = {"store": False, "include": ["reasoning.encrypted_content"]}
RECORDING = Path(__file__).parent / "fixtures" / "recordings" / "vercel-ai__openai-compaction.1.json"


def compaction(threshold: int) -> dict:
    return {"context_management": [{"type": "compaction", "compact_threshold": threshold}]}


@pytest.fixture
def api():
    with FakeResponsesAPI() as server:
        yield server


def sdk(api) -> openai.OpenAI:
    return openai.OpenAI(base_url=api.base_url, api_key="sk-test", max_retries=0)


def create(client, items, **options):
    """One non-streamed turn; returns the raw response JSON (what a replaying client keeps)."""
    raw = client.responses.with_raw_response.create(model=MODEL, input=items, **STATELESS, **options)
    return json.loads(raw.text)


def window(history: list) -> list:
    """What the compaction guide allows a client to keep: the items from the latest compaction item on."""
    starts = [i for i, item in enumerate(history) if item.get("type") == "compaction"]
    return history[starts[-1] :] if starts else history


def test_200_turns_with_a_threshold_stay_bounded_and_every_request_is_accepted(api):
    client = sdk(api)
    history: list = []
    for turn in range(200):
        history.append({"role": "user", "content": f"Turn {turn}: tell me more about Lisbon and Porto."})
        response = create(client, history, extra_body=compaction(1500))
        history = window(history + response["output"])
    sizes = [len(r.raw) for r in api.requests]
    compactions = [r for r in api.accepted if any(o["type"] == "compaction" for o in r.response["output"])]
    assert len(api.accepted) == 200 and not api.rejected
    assert len(compactions) >= 40
    # Bounded: no request is much more than the threshold's worth of bytes (~4 a token), where
    # 200 turns without compaction would reach ~300 KB.
    assert max(sizes) < 1500 * 4 + 2500
    # The turn after a compaction reports a much smaller input than the one that compacted.
    first = api.accepted.index(compactions[0])
    assert (
        api.accepted[first + 1].response["usage"]["input_tokens"] < compactions[0].response["usage"]["input_tokens"] / 2
    )


def test_the_compaction_item_comes_last_and_looks_like_the_recorded_one(api):
    recorded = json.loads(RECORDING.read_bytes())["output"][-1]
    client = sdk(api)
    response = create(client, [{"role": "user", "content": "Hello"}], extra_body=compaction(1000))
    assert [o["type"] for o in response["output"]][-1] != "compaction"  # below the threshold: none
    api.script(Turn([message("Long answer " * 200)], compact=None))
    history = [{"role": "user", "content": "x " * 3000}]
    response = create(client, history, extra_body=compaction(1000))
    item = response["output"][-1]
    assert [o["type"] for o in response["output"]] == ["message", "compaction"]
    assert list(item) == list(recorded) == ["id", "type", "encrypted_content"]
    assert item["id"].startswith("cmp_") and item["id"][-16:] == response["id"][-16:]
    raw = base64.urlsafe_b64decode(item["encrypted_content"])
    assert raw[0] == 0x80 and (len(raw) - 57) % 16 == 0  # a Fernet envelope, like the recorded one
    sealed = unseal(api.registry.secret, item["encrypted_content"])
    assert sealed["type"] == "compaction" and sealed["items"] == 2 and sealed["summary_tokens"] > 0
    # The summary it samples counts as output; in a later input the item counts for that summary,
    # not for its encrypted bytes (the documented estimate: ~4 bytes of JSON a token).
    assert response["usage"]["output_tokens"] >= sealed["summary_tokens"]
    follow_up = create(client, [item, {"role": "user", "content": "Go on"}])
    raw = len(api.requests[-1].raw) - len(item["encrypted_content"])
    assert follow_up["usage"]["input_tokens"] == raw // 4 + sealed["summary_tokens"]


def test_streamed_compaction_item_is_short_at_added_full_at_done_and_resealed_at_completed(api):
    client = sdk(api)
    events = list(
        client.responses.create(
            model=MODEL, input=[{"role": "user", "content": "y " * 3000}], stream=True, **STATELESS, **compaction(1000)
        )
    )
    added = [e.item for e in events if e.type == "response.output_item.added" and e.item.type == "compaction"]
    done = [e.item for e in events if e.type == "response.output_item.done" and e.item.type == "compaction"]
    completed = events[-1].response.output[-1]
    assert len(added) == len(done) == 1 and completed.type == "compaction"
    assert len(added[0].encrypted_content) < len(done[0].encrypted_content)
    assert unseal(api.registry.secret, added[0].encrypted_content) is None
    assert len(completed.encrypted_content) == len(done[0].encrypted_content)
    assert completed.encrypted_content != done[0].encrypted_content
    assert unseal(api.registry.secret, completed.encrypted_content) is not None
    assert [e.type for e in events].count("response.compaction.compacting") == 0  # only for a trigger


@pytest.mark.parametrize(
    ("entries", "message_"),
    [
        (
            [{"type": "compaction", "compact_threshold": 500}],
            "Invalid 'context_management[0].compact_threshold': integer below minimum value. "
            "Expected a value >= 1000, but got 500 instead.",
        ),
        ([{"type": "truncation"}], "Invalid value: 'truncation'. Supported values are: 'compaction'."),
        ([{"compact_threshold": 2000}], "Missing required parameter: 'context_management[0].type'."),
        ([{"type": "compaction", "threshold": 2000}], "Unknown parameter: 'context_management[0].threshold'."),
    ],
)
def test_context_management_is_validated(api, entries, message_):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(api).responses.create(
            model=MODEL,
            input=[{"role": "user", "content": "Hi"}],
            **STATELESS,
            extra_body={"context_management": entries},
        )
    assert caught.value.body["message"] == message_


def test_a_tampered_or_foreign_compaction_item_is_refused(api):
    client = sdk(api)
    api.script(Turn([message("Sure.")], compact=True))
    item = create(client, [{"role": "user", "content": "Hi"}])["output"][-1]
    follow_up = {"role": "user", "content": "And then?"}
    create(client, [item, follow_up])  # the untouched item is accepted

    token = item["encrypted_content"]
    tampered = item | {"encrypted_content": token[:40] + ("A" if token[40] != "A" else "B") + token[41:]}
    with pytest.raises(openai.BadRequestError) as caught:
        create(client, [tampered, follow_up])
    assert caught.value.body == {
        "message": f"The encrypted content for item {item['id']} could not be verified. "
        "Reason: Encrypted content could not be decrypted or parsed.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_encrypted_content",
    }
    with FakeResponsesAPI(registry=ItemRegistry(secret=b"another account")) as foreign:
        with pytest.raises(openai.BadRequestError, match="could not be decrypted or parsed"):
            create(sdk(foreign), [item, follow_up])

    # A reasoning item's token in a compaction item is not a compaction.
    thought = next(o for o in create(client, [follow_up])["output"] if o["type"] == "reasoning")
    with pytest.raises(openai.BadRequestError, match="could not be decrypted or parsed"):
        create(client, [{"type": "compaction", "encrypted_content": thought["encrypted_content"]}, follow_up])


def test_a_call_open_at_compaction_may_be_answered_after_the_items_before_it_are_dropped(api):
    client = sdk(api)
    api.script(Turn([reasoning(), function_call("lookup", {"q": "Oslo"})], compact=True))
    output = create(client, [{"role": "user", "content": "Look up Oslo"}])["output"]
    assert [o["type"] for o in output] == ["reasoning", "function_call", "compaction"]
    answer = {"type": "function_call_output", "call_id": output[1]["call_id"], "output": "cold"}
    create(client, [output[-1], answer])  # the compaction item carries the call
    with pytest.raises(openai.BadRequestError, match="No tool call found for function call output"):
        create(client, [answer])


def test_an_item_replayed_after_a_compaction_may_leave_its_reasoning_behind(api):
    client = sdk(api)
    api.script(Turn([reasoning(), message("Answer.")]), Turn([message("Noted.")], compact=True))
    first = create(client, [{"role": "user", "content": "Q1"}])["output"]
    second = create(client, [{"role": "user", "content": "Q1"}, *first, {"role": "user", "content": "Q2"}])["output"]
    with pytest.raises(openai.BadRequestError, match="without its required 'reasoning' item"):
        create(client, [first[1], {"role": "user", "content": "Q3"}])
    create(client, [second[-1], first[1], {"role": "user", "content": "Q3"}])  # covered by the compaction


def test_standalone_compact_returns_the_user_messages_then_one_compaction_item(api):
    client = sdk(api)
    history = [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Tell me about Lima."}]
    history += create(client, history)["output"]
    history.append({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "And Quito?"}]})
    typed = client.responses.compact(model=MODEL, input=history, instructions="Keep names.", prompt_cache_key="k1")
    assert typed.object == "response.compaction" and typed.output[-1].type == "compaction"
    assert (
        typed.usage.input_tokens > 0
        and typed.usage.total_tokens == typed.usage.input_tokens + typed.usage.output_tokens
    )

    compacted = json.loads(client.responses.with_raw_response.compact(model=MODEL, input=history).text)
    assert list(compacted) == ["id", "object", "created_at", "output", "usage"]
    users, last = compacted["output"][:-1], compacted["output"][-1]
    assert [u["content"][0]["text"] for u in users] == ["Tell me about Lima.", "And Quito?"]
    assert all(u["role"] == "user" and u["type"] == "message" and u["id"].startswith("msg_") for u in users)
    assert last["type"] == "compaction" and last["id"].startswith("cmp_")
    # The window is the next input: accepted, and smaller.
    nxt = create(client, [*compacted["output"], {"role": "user", "content": "And Bogota?"}])
    full = create(client, [*history, {"role": "user", "content": "And Bogota?"}])
    assert nxt["usage"]["input_tokens"] < full["usage"]["input_tokens"]


def test_standalone_compact_validates_its_input_as_responses_does(api):
    client = sdk(api)
    thought = next(o for o in create(client, [{"role": "user", "content": "Hi"}])["output"] if o["type"] == "reasoning")
    bad = [{"role": "user", "content": "Hi"}, thought]
    with pytest.raises(openai.BadRequestError) as by_create:
        create(client, bad)
    with pytest.raises(openai.BadRequestError) as by_compact:
        client.responses.compact(model=MODEL, input=bad)
    assert by_compact.value.body == by_create.value.body
    assert "without its required following item" in by_compact.value.body["message"]
    with pytest.raises(openai.BadRequestError, match="Unknown parameter: 'store'"):
        client.responses.compact(model=MODEL, input="Hi", extra_body={"store": False})
    with pytest.raises(openai.BadRequestError, match="Previous response with id 'resp_x' not found"):
        client.responses.compact(model=MODEL, previous_response_id="resp_x")


def test_compaction_trigger_compacts_as_the_last_item_only(api):
    client = sdk(api)
    history = [{"role": "user", "content": "Hi"}]
    history += create(client, history)["output"]
    events = list(
        client.responses.create(model=MODEL, input=[*history, {"type": "compaction_trigger"}], stream=True, **STATELESS)
    )
    kinds = [e.type for e in events]
    assert kinds.index("response.output_item.added") < kinds.index("response.compaction.compacting")
    assert [o.type for o in events[-1].response.output] == ["compaction"]
    create(client, [events[-1].response.output[0].to_dict(), {"role": "user", "content": "Go on"}])
    # Elsewhere it is accepted and does nothing (no refusal observed; lint warns, RSP209).
    misplaced = create(client, [{"type": "compaction_trigger"}, {"role": "user", "content": "Hi"}])
    assert [o["type"] for o in misplaced["output"]] == ["reasoning", "message"]
