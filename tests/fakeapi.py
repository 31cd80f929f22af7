"""A loopback fake of the OpenAI Responses API, for respctl's tests, demo and benchmarks.

It serves ``POST /v1/responses`` (and compaction, files and batches, below) on 127.0.0.1 and
answers the way api.openai.com answers a stateless (``store: false``) conversation: the JSON
shapes and SSE event order of real recordings, reasoning ``encrypted_content`` bound to its item
id and model, and the real error texts for a bad replay. The real ``openai`` SDK talks to it
through ``OPENAI_BASE_URL``.

Use::

    with FakeResponsesAPI() as api:
        api.script(Turn([reasoning(["Thinking"]), message("Hi", phase="final_answer")]))
        client = openai.OpenAI(base_url=api.base_url, api_key="sk-test")
        ...
        api.requests[-1].body          # what the client sent (also .raw, .headers, .error)

    python tests/fakeapi.py [--port N] [--auto] [--latency S]
        prints ``http://127.0.0.1:PORT/v1`` as its first line, then serves until killed.

Replies
-------
Each valid request pops one scripted reply (FIFO, ``api.script(...)``); with the queue empty
the auto responder answers. A request that fails validation gets the API's error and does not
consume a reply.

``Turn(items, status="completed", incomplete_reason="max_output_tokens", usage=None)``
    One model response. ``items`` are built with

    - ``reasoning(summary=(), encrypted=True, content=None)``: ``encrypted_content`` is sent
      when ``encrypted`` and the request's ``include`` asks for it; ``content`` is a list of
      reasoning_text strings (gpt-oss style).
    - ``message(text, phase=None)``
    - ``function_call(name, arguments, call_id=None, namespace=None)``: ``arguments`` is a
      JSON string (a dict is serialised).
    - ``custom_tool_call(name, input, call_id=None)``

    ``status="incomplete"`` ends with ``response.incomplete`` and ``incomplete_details.reason``;
    the items may end with a reasoning item, like a real cut-off. ``usage`` holds keys that
    replace the computed usage's.
``HttpError(status, message=None, type=None, code=None, headers={}, count=1)``
    An HTTP error, answered ``count`` times in a row before the queue moves on.
``Raw(status, body, content_type="text/plain; charset=utf-8")``
    An answer whose body is not the API's JSON (a proxy's HTML error page, a line of text).
``Failed(code="server_error", message=...)``
    The response fails: ``response.failed`` (non-streaming: a response with status "failed").
``ErrorEvent(message, code="server_error", type="server_error")``
    An SSE ``error`` event, then ``response.failed`` (non-streaming: like ``Failed``).
``Cut(after_events, turn=None)``
    Streams ``after_events`` events, then drops the connection without the terminating chunk
    (non-streaming: half the body).
``Stall(seconds, then=None, release=None)``
    Waits before the first byte (until ``release``, a ``threading.Event``, is set, if given),
    then answers ``then``.
``Reset(rst=False)``
    Drops the connection before sending anything (with ``rst``, a TCP reset instead of a
    clean close), like a proxy or a load balancer going away mid-request.
``Malformed(after_events=2)``
    A ``data:`` line that is not JSON after ``after_events`` events (non-streaming: a
    truncated JSON body).
``NoCompleted(turn=None)``
    The stream ends cleanly without its terminal event (non-streaming: status "in_progress").
``EmptyCompletedOutput(turn=None)``
    ``response.completed`` carries ``output: []`` although the items streamed.

``turn=None`` / ``then=None`` stand for what the auto responder would answer.

Dialects: ``FakeResponsesAPI(dialect="gpt-oss")`` answers as OpenAI's reference server
``gpt_oss.responses_api`` does (see "the gpt-oss dialect" below; scripted ``Turn`` items are
rendered its way, and its own auto responder echoes). ``FakeResponsesAPI(azure=True)`` serves
Azure OpenAI's URL shapes: ``base_url`` is then the endpoint, ``/openai/responses?api-version=``
or ``/openai/v1/responses``, with the key in an ``api-key`` header (v1: or a Bearer token).

An ``HttpError`` message may hold ``{authorization}``: it is replaced by the request's
Authorization header, like a debugging proxy that echoes what it got (the secrets tests use it).
``FakeResponsesAPI(event_delay=S)`` (also settable on a running server) waits S seconds after
each streamed event, so that a test can act while a response streams. Each ``RecordedRequest``
has ``received`` (``time.monotonic()`` when its body had been read).

Auto responder: a reasoning item (reasoning models only; a summary when ``reasoning.summary``
is set), then one of: function calls of the first function tool, one per capitalised word of
the last user text that does not start a sentence (at most 3, at least 1); a message summing
up trailing tool outputs; or a short answer quoting the last user text (JSON built from the
schema when ``text.format`` asks for json_schema). A ``max_output_tokens`` below the estimate
makes the response incomplete, cut off after its reasoning.

Ids and encrypted content
-------------------------
A response id is ``resp_`` + 48 hex; its items are ``<prefix>_`` + 48 hex ending in the same
16 hex as the response id (the mid-2025 scheme). ``encrypted_content`` is a Fernet-shaped
token (``gAAAAAB...``, 57 + 16k bytes like a real one) sealing ``{id, model}`` with an HMAC under
the registry's secret: the ``output_item.added`` copy is shorter, not a prefix, and does not
verify, yet has the same envelope (as in the real recordings); the ``response.completed`` copy is
sealed again (same length, other bytes); the done and completed copies both verify. A reasoning
item with neither ``id``, ``encrypted_content`` nor ``content`` is answered ``Missing required
parameter: 'input[N].encrypted_content'.`` as the real API does.
Every issued item is kept in an ``ItemRegistry`` (id -> type, response id, index, and the
reasoning item it follows), which the E3 check consults.

Compaction
----------
Server-side: a request with ``context_management: [{"type": "compaction", "compact_threshold": N}]``
(N >= 1000, else the API's ``integer below minimum value`` error; no N: 200,000) whose rendered
input reaches N tokens gets a compaction item ``{"id": "cmp_...", "type": "compaction",
"encrypted_content": ...}`` as its LAST output item (as in the real recordings), streamed as
``output_item.added`` (a shorter, unverifiable token) then ``output_item.done``, resealed in
``response.completed``; its summary counts in ``output_tokens``. Rendered tokens are
``rendered_tokens(body, raw_size)``: len(request body) // 4, where a compaction item counts for the
``summary_tokens`` it seals instead of its encrypted bytes (so the same bytes always give the same
count). ``Turn(..., compact=True)`` forces a compaction item in a scripted turn (with or without
``context_management``), ``compact=False`` suppresses it.
The token seals (like reasoning's, under the registry's secret, bound to id and model) what the item
replaces: item and token counts, a digest, ``summary_tokens``, the calls still waiting for their
output and the registry order it covers. A later input may start with it and drop what came before:
an output may answer a call the item carries, and an item issued before it may be replayed without
its reasoning item. An edited, cut or foreign one (another secret, another model, a reasoning token)
is refused with the E8 text.
``POST /v1/responses/compact`` (``client.responses.compact``; model, input, instructions,
prompt_cache_key...) validates its input as ``/responses`` does and answers ``{"id", "object":
"response.compaction", "created_at", "output": [the user messages (with ids), one compaction
item], "usage"}``. A ``compaction_trigger`` as the last input item makes the response that one
compaction item (streamed with ``response.compaction.compacting``); elsewhere it is ignored.

Files and batches
-----------------
``POST /v1/files`` (multipart ``file`` + ``purpose``; purpose batch wants a ``.jsonl`` name),
``GET /v1/files/{id}`` and ``/content``, ``POST /v1/batches`` (``endpoint: "/v1/responses"`` only,
``completion_window: "24h"``, metadata), ``GET /v1/batches`` and ``/{id}``, ``POST
/v1/batches/{id}/cancel``. Files and batches live in ``api.files`` / ``api.batches``;
``api.batch(id)`` shows one without advancing it, ``api.advance_batch(id)`` advances it like a poll.
A batch is created ``validating`` and each ``GET /batches/{id}`` moves it one step: the input file
is validated (``errors.data``: invalid_json_line, duplicate_custom_id, url_mismatch,
model_mismatch, missing_required_parameter, empty_file, too_many_tasks -> ``failed``), then
``in_progress`` runs the requests, each through the same handler as a non-streamed ``POST
/responses`` (same validation; scripted replies are consumed in order; recorded in
``api.requests`` with headers ``x-fakeapi-batch-id`` / ``x-fakeapi-custom-id``), then
``finalizing``, then ``completed`` with ``output_file_id`` (status 200 answers) and
``error_file_id`` (the others: ``{"response": {"status_code", "request_id", "body": {"error"}},
"error": null}``, or ``{"response": null, "error": {"code", "message"}}`` for batch_expired,
batch_cancelled, request_timeout). Knobs, per batch, FIFO: ``api.script_batch(BatchPlan(hold=0,
expire_after=None, fail={}, fail_validation=None, reverse_output=False))``: ``hold`` extra polls in
each state (in_progress spreads its requests over hold + 1 polls), ``expire_after=K`` runs K
requests then ends ``expired``, ``fail={index or custom_id: HttpError(...) | "request_timeout"}``,
``fail_validation=[BatchError dicts]``, ``reverse_output`` writes result lines in reverse order.
``FakeResponsesAPI(batch_max_requests=50_000, batch_max_bytes=200 MB)`` (also attributes) lower
the documented limits. These endpoints take an ``HttpError``, ``Raw``, ``Stall`` or ``Reset``
from the head of the script queue (a ``Turn`` there waits for the next ``POST /responses``).

Validation
----------
``validate_request(body, registry)`` (also applied to every request) returns a
``RequestError`` carrying the real API's status, message, param and code, or None. First the
top level: known options only (E1), ``model`` and an ``input`` list required, no encrypted
content (E9) nor reasoning effort for non-reasoning models. Then each input item against the
installed SDK's ``ResponseInputItemParam`` TypedDicts (unknown fields E1, nulls on
non-nullable fields, missing fields E12, values, E11), with the differences the real API
shows: ``status`` is unknown on reasoning, ``mcp_call`` and ``shell_call_output``; reasoning
``id`` and output_text ``annotations`` are optional; an assistant message takes only
output_text/refusal parts; and ids must match their item type (E10). Then across items, in
order: no duplicate ids (E7), an item known only by its id is an error with ``store: false``
(E4), encrypted content verifies (E8), every reasoning item is followed by an output item
(E2), an item replayed with an id the server issued comes after its reasoning item (E3),
calls and outputs pair up by call_id (E5, E6), namespaced functions keep their namespace
(E13). The server also rejects ``store`` other than false unless ``require_store_false=False``.
"""

from __future__ import annotations

import argparse
import base64
import collections
import collections.abc
import dataclasses
import functools
import hashlib
import hmac
import itertools
import os
import random
import re
import secrets
import socket
import string
import struct
import threading
import time
import typing
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Union

import orjson

# --------------------------------------------------------------------------- reply builders


@dataclass(frozen=True)
class ReasoningSpec:
    summary: tuple[str, ...] = ()
    encrypted: bool = True
    content: tuple[str, ...] | None = None


@dataclass(frozen=True)
class MessageSpec:
    text: str
    phase: str | None = None


@dataclass(frozen=True)
class FunctionCallSpec:
    name: str
    arguments: str
    call_id: str | None = None
    namespace: str | None = None


@dataclass(frozen=True)
class CustomToolCallSpec:
    name: str
    input: str
    call_id: str | None = None


ItemSpec = ReasoningSpec | MessageSpec | FunctionCallSpec | CustomToolCallSpec


@dataclass(frozen=True)
class CompactionSpec:
    """A compaction item the server makes (not scripted: see ``Turn.compact``)."""

    payload: dict  # what its encrypted content seals besides id and model
    trigger: bool = False  # it answers a compaction_trigger input item


def reasoning(summary=(), encrypted: bool = True, content=None) -> ReasoningSpec:
    return ReasoningSpec(tuple(summary), encrypted, None if content is None else tuple(content))


def message(text: str, phase: str | None = None) -> MessageSpec:
    return MessageSpec(text, phase)


def function_call(name: str, arguments, call_id: str | None = None, namespace: str | None = None) -> FunctionCallSpec:
    if not isinstance(arguments, str):
        arguments = orjson.dumps(arguments).decode()
    return FunctionCallSpec(name, arguments, call_id, namespace)


def custom_tool_call(name: str, input: str, call_id: str | None = None) -> CustomToolCallSpec:
    return CustomToolCallSpec(name, input, call_id)


@dataclass(frozen=True)
class Turn:
    items: list = field(default_factory=list)
    status: str = "completed"
    incomplete_reason: str = "max_output_tokens"
    usage: dict | None = None
    compact: bool | None = None  # True/False: force/suppress server-side compaction; None: the threshold decides

    def __post_init__(self):
        # Fail in the test that scripts a bad turn, not later in the server's thread.
        for item in self.items:
            if not isinstance(item, ItemSpec.__args__):
                raise TypeError(f"Turn items come from reasoning(), message(), function_call()...: {item!r}")
        if self.status not in ("completed", "incomplete"):
            raise ValueError(f"Turn status is 'completed' or 'incomplete', not {self.status!r}")


@dataclass(frozen=True)
class HttpError:
    status: int
    message: str | None = None
    type: str | None = None
    code: str | None = None
    headers: dict = field(default_factory=dict)
    count: int = 1


@dataclass(frozen=True)
class Raw:
    """An answer that is not the API's JSON: a proxy's HTML page, a local server's line of text."""

    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Failed:
    code: str = "server_error"
    message: str = "The server had an error while processing your request. Sorry about that!"


@dataclass(frozen=True)
class ErrorEvent:
    message: str
    code: str = "server_error"
    type: str = "server_error"


@dataclass(frozen=True)
class Cut:
    after_events: int
    turn: Turn | None = None


@dataclass(frozen=True)
class Stall:
    seconds: float
    then: Any = None
    release: threading.Event | None = None  # set it to end the stall early


@dataclass(frozen=True)
class Reset:
    rst: bool = False


@dataclass(frozen=True)
class Malformed:
    after_events: int = 2


@dataclass(frozen=True)
class NoCompleted:
    turn: Turn | None = None


@dataclass(frozen=True)
class EmptyCompletedOutput:
    turn: Turn | None = None


# --------------------------------------------------------------------------- ids, registry, sealing

# Fixed so that a conversation made against one fake server still verifies against the next
# (like one account); pass another secret to ItemRegistry to simulate a foreign account.
DEFAULT_SECRET = b"respctl-fakeapi-v1"

# Item id prefixes the real API checks against the item type (E10).
ID_PREFIXES = {
    "message": "msg",
    "reasoning": "rs",
    "function_call": "fc",
    "function_call_output": "fco",
    "custom_tool_call": "ctc",
    "custom_tool_call_output": "ctco",
    "web_search_call": "ws",
    "image_generation_call": "ig",
    "local_shell_call": "lsh",
    "compaction": "cmp",
    "tool_search_call": "tsc",
    "tool_search_output": "tso",
}

_TOKEN_HEAD = 1 + 8 + 16  # Fernet layout: version byte, timestamp, IV; then ciphertext, HMAC.
_MAC_SIZE = 32


def seal(secret: bytes, item_id: str, model: str, length: int, extra: dict | None = None) -> str:
    """Encrypted content binding ``item_id`` and ``model`` (and ``extra``, e.g. what a compaction
    item stands for), about ``length`` characters long.

    The same (item_id, model, length) always gives the same length and, thanks to the random
    IV, different bytes: what the real API does between output_item.done and response.completed.
    """
    fields = {"id": item_id, "model": model, **(extra or {})}
    plain = orjson.dumps(fields | {"pad": ""})
    # 4 base64 characters carry 3 bytes: pad the plaintext up to the requested length.
    pad = max(0, length * 3 // 4 - _TOKEN_HEAD - _MAC_SIZE - len(plain))
    plain = orjson.dumps(fields | {"pad": "." * pad})
    # A real token's ciphertext is AES-CBC with PKCS7 padding: whole 16-byte blocks (57 + 16k bytes in all).
    fill = 16 - len(plain) % 16
    plain += bytes([fill]) * fill
    iv = os.urandom(16)
    stream = hashlib.shake_256(secret + iv).digest(len(plain))
    body = b"\x80" + int(time.time()).to_bytes(8, "big") + iv + _xor(plain, stream)
    return base64.urlsafe_b64encode(body + hmac.new(secret, body, hashlib.sha256).digest()).decode()


def unseal(secret: bytes, token: str) -> dict | None:
    """The ``{id, model, ...}`` sealed in ``token``, or None when it does not verify."""
    try:
        raw = base64.b64decode(token, altchars=b"-_", validate=True)
    except ValueError:
        return None
    if len(raw) < _TOKEN_HEAD + _MAC_SIZE or raw[0] != 0x80:
        return None
    body, mac = raw[:-_MAC_SIZE], raw[-_MAC_SIZE:]
    if not hmac.compare_digest(mac, hmac.new(secret, body, hashlib.sha256).digest()):
        return None
    iv, cipher = body[9:_TOKEN_HEAD], body[_TOKEN_HEAD:]
    if not cipher or len(cipher) % 16:
        return None
    stream = hashlib.shake_256(secret + iv).digest(len(cipher))
    plain = _xor(cipher, stream)
    return orjson.loads(plain[: -plain[-1]])


def _xor(data: bytes, stream: bytes) -> bytes:
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(len(data), "big")


@dataclass(frozen=True)
class IssuedItem:
    type: str
    response_id: str
    index: int
    reasoning_id: str | None  # the reasoning item this one follows in its response
    seq: int = 0  # registration order (a compaction item covers every item registered before it)


class ItemRegistry:
    """Every item id the server issued, and the secret its encrypted content is sealed with."""

    def __init__(self, secret: bytes = DEFAULT_SECRET):
        self.secret = secret
        self._items: dict[str, IssuedItem] = {}
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._order = 0

    def _hex_id(self, prefix: str, suffix: str) -> str:
        # <time 8 hex><sequence 4 hex>8196<random 16 hex><suffix 16 hex>, like mid-2025 ids.
        return f"{prefix}_{int(time.time()):08x}{next(self._seq) & 0xFFFF:04x}8196{secrets.token_hex(8)}{suffix}"

    def new_response_id(self) -> str:
        return self._hex_id("resp", secrets.token_hex(8))

    def new_item_id(self, item_type: str, response_id: str) -> str:
        return self._hex_id(ID_PREFIXES[item_type], response_id[-16:])

    def register(self, item_id: str, issued: IssuedItem) -> None:
        with self._lock:
            self._order += 1
            self._items[item_id] = dataclasses.replace(issued, seq=self._order)

    def watermark(self) -> int:
        """The order number of the last item registered."""
        with self._lock:
            return self._order

    def get(self, item_id: str) -> IssuedItem | None:
        with self._lock:
            return self._items.get(item_id)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class RequestError:
    """An error answer: HTTP status and the ``error`` object of the body."""

    status: int
    message: str
    param: str | None = None
    code: str | None = None
    type: str = "invalid_request_error"

    def to_dict(self) -> dict:
        return {"message": self.message, "type": self.type, "param": self.param, "code": self.code}


def _unknown(path: str) -> RequestError:
    return RequestError(400, f"Unknown parameter: '{path}'.", path, "unknown_parameter")


def _missing(path: str) -> RequestError:
    return RequestError(400, f"Missing required parameter: '{path}'.", path, "missing_required_parameter")


def _quoted(values, conjunction: str = "and") -> str:
    """'a' / 'a' and 'b' / 'a', 'b', and 'c'"""
    values = [f"'{v}'" for v in values]
    if len(values) <= 2:
        return f" {conjunction} ".join(values)
    return ", ".join(values[:-1]) + f", {conjunction} " + values[-1]


def _invalid_value(path: str, value: str, supported) -> RequestError:
    return RequestError(
        400, f"Invalid value: '{value}'. Supported values are: {_quoted(supported)}.", path, "invalid_value"
    )


def _json_kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


@dataclass(frozen=True)
class _Obj:
    """The accepted shape of one JSON object: field annotations and required names."""

    fields: dict
    required: tuple
    tag: str | None  # the value of its "type" Literal, if it has one


@functools.cache
def _ty():
    """The typing helpers, imported on first use: typing_extensions comes with openai, and the
    SDK's annotations use its Required/Literal (which are its own on Python 3.10)."""
    import types

    import typing_extensions as te

    return types.SimpleNamespace(
        get_origin=te.get_origin,
        get_args=te.get_args,
        get_type_hints=te.get_type_hints,
        is_typeddict=te.is_typeddict,
        union={Union, types.UnionType},
        literal={typing.Literal, te.Literal},
        required={te.Required, getattr(typing, "Required", te.Required)},
        not_required={te.NotRequired, getattr(typing, "NotRequired", te.NotRequired)},
        arrays={list, collections.abc.Iterable, collections.abc.Sequence},
    )


def _strip(ann):
    """``Required[X]`` / ``NotRequired[X]`` -> ``X``."""
    t = _ty()
    while t.get_origin(ann) in t.required | t.not_required:
        ann = t.get_args(ann)[0]
    return ann


# Where the real API differs from the SDK's param types: field -> dropped / made optional.
_DROP = {
    "ResponseReasoningItemParam": {"status"},
    "McpCall": {"status"},
    "ShellCallOutput": {"status"},
}
# What the real API accepts although the SDK's types require it. The evidence for each is in
# respctl/lint/leniency.py (lint's reviewed list); this server is the independent copy the
# agreement test holds lint to, so it is written out here rather than imported.
_OPTIONAL = {
    "ResponseReasoningItemParam": {"id"},  # with encrypted_content (else: missing encrypted_content)
    "ResponseOutputTextParam": {"annotations"},
    "ResponseInputImageParam": {"detail"},  # defaults to auto
    "ResponseOutputMessageParam": {"type"},
    "FunctionToolParam": {"strict", "parameters"},
}


@functools.cache
def _obj(td) -> _Obj:
    t = _ty()
    hints = t.get_type_hints(td, include_extras=True)
    drop = _DROP.get(td.__name__, set())
    optional = _OPTIONAL.get(td.__name__, set())
    fields = {k: _strip(a) for k, a in hints.items() if k not in drop}
    required = tuple(k for k, a in hints.items() if k in fields and k not in optional and t.get_origin(a) in t.required)
    type_ann = fields.get("type")
    if t.get_origin(type_ann) in t.union:  # Optional[Literal["item_reference"]]
        type_ann = next(a for a in t.get_args(type_ann) if a is not type(None))
    single_literal = t.get_origin(type_ann) in t.literal and len(t.get_args(type_ann)) == 1
    return _Obj(fields, required, t.get_args(type_ann)[0] if single_literal else None)


def _merge(*specs: _Obj, **overrides) -> _Obj:
    """A message shape accepting the fields of every variant, requiring what all require."""
    fields: dict = {}
    for spec in specs:
        for k, a in spec.fields.items():
            fields.setdefault(k, a)
    fields.update(overrides)
    required = tuple(k for k in specs[0].required if all(k in s.required for s in specs[1:]))
    return _Obj(fields, required, "message")


@dataclass(frozen=True)
class _Schemas:
    items: dict  # item type -> _Obj (messages excluded)
    assistant_message: _Obj
    other_message: _Obj
    top_level: frozenset


@functools.cache
def _schemas() -> _Schemas:
    from openai.types.responses import ResponseInputItemParam, response_create_params
    from openai.types.responses.easy_input_message_param import EasyInputMessageParam
    from openai.types.responses.response_input_item_param import Message
    from openai.types.responses.response_output_message_param import ResponseOutputMessageParam

    t = _ty()
    items = {}
    for td in t.get_args(ResponseInputItemParam):
        spec = _obj(td)
        if spec.tag != "message":
            items[spec.tag] = spec
    easy, output = _obj(EasyInputMessageParam), _obj(ResponseOutputMessageParam)
    # An assistant message is the output message or an easy message with a string content;
    # its parts are output_text / refusal only (E11).
    parts = output.fields["content"]
    assistant = _merge(easy, output, content=str | parts)
    # A user (system, developer) message may carry the `id` the API gave it: `POST /responses/compact`
    # answers the conversation's user messages with ids (openai-agents-js PR 760 shows
    # `{"id": "msg_...", "type": "message", "status": "completed", "content": [...], "role": "user"}`)
    # and the compaction guide has that output sent back as the next input. The SDK's Message
    # param has no `id`; the API wins over its types.
    other = _merge(easy, _obj(Message), id=str)
    top = t.get_type_hints(response_create_params.ResponseCreateParamsBase).keys() | {"stream"}
    return _Schemas(items, assistant, other, frozenset(top))


def _describe(ann) -> str:
    """How the real API names the expected type in ``Invalid type`` errors."""
    t = _ty()
    origin = t.get_origin(ann)
    if origin in t.union:
        names = dict.fromkeys(_describe(a) for a in t.get_args(ann) if a is not type(None))
        return names.popitem()[0] if len(names) == 1 else "one of " + " or ".join(names)
    if origin in t.literal:
        values = t.get_args(ann)
        return "a string" if len(values) == 1 else "one of " + _quoted(values, "or")
    if ann is str:
        return "a string"
    if ann is bool:
        return "a boolean"
    if ann is int:
        return "an integer"
    if ann is float:
        return "a number"
    if origin in t.arrays or ann is list:
        return "an array"
    return "an object"


def _type_error(path: str, ann, value) -> RequestError:
    return RequestError(
        400,
        f"Invalid type for '{path}': expected {_describe(ann)}, but got {_json_kind(value)} instead.",
        path,
        "invalid_type",
    )


def _kind_fits(value, ann) -> bool:
    t = _ty()
    origin = t.get_origin(ann)
    if ann is object or ann is Any:
        return True
    if origin in t.literal:
        return isinstance(value, str)
    if ann is str:
        return isinstance(value, str)
    if ann is bool:
        return isinstance(value, bool)
    if ann is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if ann is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if origin in t.arrays:
        return isinstance(value, list)
    return isinstance(value, dict)


def _check(value, ann, path: str) -> RequestError | None:
    t = _ty()
    origin = t.get_origin(ann)
    if ann is object or ann is Any:
        return None
    if origin in t.union:
        options = [a for a in t.get_args(ann) if a is not type(None)]
        if value is None:
            return None if len(options) < len(t.get_args(ann)) else _type_error(path, ann, value)
        fitting = [a for a in options if _kind_fits(value, a)]
        if not fitting:
            return _type_error(path, ann, value)
        objects = [a for a in fitting if t.is_typeddict(a)]
        if isinstance(value, dict) and len(objects) > 1:
            return _check_tagged(value, objects, path)
        return _check(value, fitting[0], path)
    if not _kind_fits(value, ann):
        return _type_error(path, ann, value)
    if origin in t.literal:
        allowed = t.get_args(ann)
        return None if value in allowed else _invalid_value(path, value, allowed)
    if origin in t.arrays:
        (element,) = t.get_args(ann) or (object,)
        for i, v in enumerate(value):
            if err := _check(v, element, f"{path}[{i}]"):
                return err
        return None
    if t.is_typeddict(ann):
        return _check_object(value, _obj(ann), path)
    return None


def _check_tagged(value: dict, candidates: list, path: str) -> RequestError | None:
    """A union of objects told apart by their "type" (content parts, callers...)."""
    specs = [_obj(c) for c in candidates]
    by_tag = {s.tag: s for s in specs if s.tag is not None}
    if len(by_tag) < len(specs):  # not a tagged union: the first shape that fits
        errors = [_check_object(value, s, path) for s in specs]
        return None if None in errors else errors[0]
    tag = value.get("type")
    if tag is None:
        return _missing(f"{path}.type")
    if tag not in by_tag:
        return _invalid_value(path, tag, by_tag) if isinstance(tag, str) else _type_error(f"{path}.type", str, tag)
    return _check_object(value, by_tag[tag], path)


def _check_object(value: dict, spec: _Obj, path: str) -> RequestError | None:
    for key in value:
        if key not in spec.fields:
            return _unknown(f"{path}.{key}")
    for key in spec.required:
        if key not in value:
            return _missing(f"{path}.{key}")
    for key, v in value.items():
        if err := _check(v, spec.fields[key], f"{path}.{key}"):
            return err
    return None


def is_reasoning_model(model: str) -> bool:
    """False for the models that reject ``include: ["reasoning.encrypted_content"]`` (E9)."""
    return not (model.startswith(("gpt-4", "gpt-3.5", "chatgpt-")) or "-chat" in model)


# Assistant-side items that may follow a reasoning item (E2).
_FOLLOWERS = {
    "function_call",
    "custom_tool_call",
    "web_search_call",
    "file_search_call",
    "computer_call",
    "code_interpreter_call",
    "image_generation_call",
    "local_shell_call",
    "shell_call",
    "apply_patch_call",
    "mcp_call",
    "mcp_list_tools",
    "mcp_approval_request",
    "tool_search_call",
    "program",
    "compaction",
}

# call type -> (its output type, how error texts name it) (E5, E6).
_CALLS = {
    "function_call": ("function_call_output", "function call"),
    "custom_tool_call": ("custom_tool_call_output", "custom tool call"),
    "shell_call": ("shell_call_output", "shell call"),
    "apply_patch_call": ("apply_patch_call_output", "apply patch call"),
    "computer_call": ("computer_call_output", "computer call"),
}
_OUTPUTS = {output: (call, kind) for call, (output, kind) in _CALLS.items()}

_NOT_PERSISTED = (
    " Items are not persisted when `store` is set to false. Try again with `store` set to true,"
    " or remove this item from your input."
)


def _item_type(item: dict) -> str:
    return item.get("type", "message")


def _is_follower(item) -> bool:
    if item is None:
        return False
    kind = _item_type(item)
    return kind in _FOLLOWERS or (kind == "message" and item.get("role") == "assistant")


def _dicts(values) -> list[dict]:
    """The objects of a list that may hold anything (tool lists are not validated deeply)."""
    return [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []


def _abbrev(token: str) -> str:
    return f"{token[:4]}...{token[-4:]}"


def validate_request(body, registry: ItemRegistry | None = None) -> RequestError | None:
    """The error the real API would answer to ``body`` (a parsed request), or None.

    ``registry`` holds what the server issued (for E3) and the secret that encrypted content
    must verify under; a fresh ``ItemRegistry()`` checks a conversation made by any fake server.
    """
    registry = ItemRegistry() if registry is None else registry
    schemas = _schemas()
    if not isinstance(body, dict):
        return RequestError(400, f"Invalid type for body: expected an object, but got {_json_kind(body)} instead.")
    for key in body:
        if key not in schemas.top_level:
            return _unknown(key)
    for key in ("model", "input"):
        if key not in body:
            return _missing(key)
    for key, (kind, expected) in _TOP_LEVEL_TYPES.items():
        value = body.get(key)
        if (value is None and key in ("model", "input")) or (
            value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool)))
        ):
            return RequestError(
                400,
                f"Invalid type for '{key}': expected {expected}, but got {_json_kind(value)} instead.",
                key,
                "invalid_type",
            )
    model, items = body["model"], body["input"]
    if "reasoning.encrypted_content" in (body.get("include") or []) and not is_reasoning_model(model):
        return RequestError(400, "Encrypted content is not supported with this model.", "include")
    if (body.get("reasoning") or {}).get("effort") is not None and not is_reasoning_model(model):
        return RequestError(
            400,
            "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
            "reasoning.effort",
            "unsupported_parameter",
        )

    if err := _check_context_management(body.get("context_management")):
        return err
    for i, item in enumerate(items):
        if err := _check_item(item, f"input[{i}]", schemas):
            return err
    return _check_replay(body, items, registry)


# Below this the API answers `integer below minimum value` (shared/reference/responses-replay.md,
# "Compaction"); the wording is the API's for every integer minimum (e.g. hindsight issue 58,
# "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got 10 instead.").
COMPACT_THRESHOLD_MIN = 1000
# What a compaction entry without `compact_threshold` uses (the API's default is the model's and
# undocumented; this one is the fake's, far above any test conversation unless it means it).
DEFAULT_COMPACT_THRESHOLD = 200_000


# A `compaction_trigger` item (the SDK's CompactionTrigger: "Compacts the current context. Must be the
# final input item.") compacts only as the last item. Elsewhere it is accepted and ignored: no refusal
# of a misplaced one has been observed, and lint warns about it (RSP209) without calling it an error.


def _check_context_management(entries) -> RequestError | None:
    """`context_management: [{"type": "compaction", "compact_threshold": N}]` (the SDK's
    ContextManagement: `type` required, "Currently only 'compaction' is supported"; N >= 1000)."""
    if entries is None:
        return None
    if not isinstance(entries, list):
        return _type_error("context_management", list, entries)
    for i, entry in enumerate(entries):
        path = f"context_management[{i}]"
        if not isinstance(entry, dict):
            return _type_error(path, dict, entry)
        for key in entry:
            if key not in ("type", "compact_threshold"):
                return _unknown(f"{path}.{key}")
        if "type" not in entry:
            return _missing(f"{path}.type")
        kind, threshold = entry["type"], entry.get("compact_threshold")
        if not isinstance(kind, str):
            return _type_error(f"{path}.type", str, kind)
        if kind != "compaction":
            return _invalid_value(f"{path}.type", kind, ["compaction"])
        if threshold is None:
            continue
        if not isinstance(threshold, int) or isinstance(threshold, bool):
            return _type_error(f"{path}.compact_threshold", int, threshold)
        if threshold < COMPACT_THRESHOLD_MIN:
            return RequestError(
                400,
                f"Invalid '{path}.compact_threshold': integer below minimum value. "
                f"Expected a value >= {COMPACT_THRESHOLD_MIN}, but got {threshold} instead.",
                f"{path}.compact_threshold",
                "integer_below_min_value",
            )
    return None


def compact_threshold(body: dict) -> int | None:
    """The threshold of the request's compaction entry (validated), or None without one."""
    for entry in body.get("context_management") or ():
        if entry.get("type") == "compaction":
            return entry.get("compact_threshold") or DEFAULT_COMPACT_THRESHOLD
    return None


# The top-level options whose type the server relies on (null stands for the default).
_TOP_LEVEL_TYPES = {
    "model": (str, "a string"),
    "input": (list, "an array of input items"),
    "include": (list, "an array"),
    "tools": (list, "an array"),
    "reasoning": (dict, "an object"),
    "text": (dict, "an object"),
    "metadata": (dict, "an object"),
    "store": (bool, "a boolean"),
    "stream": (bool, "a boolean"),
    "max_output_tokens": (int, "an integer"),
    "prompt_cache_key": (str, "a string"),
}


def _check_item(item, path: str, schemas: _Schemas) -> RequestError | None:
    if not isinstance(item, dict):
        return RequestError(
            400,
            f"Invalid type for '{path}': expected an object, but got {_json_kind(item)} instead.",
            path,
            "invalid_type",
        )
    kind = _item_type(item)
    if kind == "message":
        spec = schemas.assistant_message if item.get("role") == "assistant" else schemas.other_message
    elif kind in schemas.items:
        spec = schemas.items[kind]
    elif isinstance(kind, str):
        return _invalid_value(path, kind, ["message", *schemas.items])
    else:
        return _type_error(f"{path}.type", str, kind)
    if err := _check_object(item, spec, path):
        return err
    if kind == "reasoning" and "id" not in item and item.get("encrypted_content") is None and not item.get("content"):
        return _missing(f"{path}.encrypted_content")  # nothing to replay, nothing to look up
    item_id = item.get("id")
    prefix = ID_PREFIXES.get(kind)
    if item_id is not None and prefix and item_id.split("_", 1)[0] != prefix:
        return RequestError(
            400,
            f"Invalid '{path}.id': '{item_id}'. Expected an ID that begins with '{prefix}'.",
            f"{path}.id",
            "invalid_value",
        )
    return None


def _check_replay(body: dict, items: list, registry: ItemRegistry) -> RequestError | None:
    """The checks across items, in the order the real API seems to apply them."""
    reasoning_ids: dict[int, str] = {}  # input index -> id, filled by _check_stored_and_sealed
    compactions: dict[int, dict] = {}  # input index -> what the compaction item sealed
    return (
        _check_duplicate_ids(items)
        or _check_stored_and_sealed(body, items, registry, reasoning_ids, compactions)
        or _check_reasoning_pairs(items, registry, reasoning_ids, compactions)
        or _check_call_pairs(items, compactions)
        or _check_namespaces(body, items)
    )


def _check_duplicate_ids(items: list) -> RequestError | None:  # E7
    seen = set()
    for item in items:
        item_id = item.get("id")
        if item_id in seen:
            return RequestError(
                400,
                f"Duplicate item found with id {item_id}. Remove duplicate items from your input and try again.",
                "input",
            )
        if item_id is not None:
            seen.add(item_id)
    return None


def _check_stored_and_sealed(
    body: dict, items: list, registry: ItemRegistry, reasoning_ids: dict, compactions: dict
) -> RequestError | None:
    """E4 (an item only an id refers to) and E8 (encrypted content); notes each reasoning item's id,
    which an item without ``id`` carries sealed in its encrypted content, and what each compaction
    item sealed (the context it replaces)."""
    model, stored = body["model"], body.get("store", True) is not False
    for i, item in enumerate(items):
        kind, item_id, token = _item_type(item), item.get("id"), item.get("encrypted_content")
        by_reference = (kind == "reasoning" and token is None and not item.get("content")) or kind == "item_reference"
        if by_reference and item_id is not None and not (stored and registry.get(item_id)):
            return RequestError(
                404, f"Item with id '{item_id}' not found." + ("" if stored else _NOT_PERSISTED), "input"
            )
        if token is None:
            if kind == "reasoning" and item_id is not None:
                reasoning_ids[i] = item_id
            continue
        sealed = unseal(registry.secret, token)
        # A reasoning token put in a compaction item (or the reverse) does not parse as one. Tokens
        # sealed before compaction existed carry no "type": they are reasoning.
        if sealed is None or sealed.get("model") != model or sealed.get("type", "reasoning") != _sealed_kind(kind):
            reason = "Encrypted content could not be decrypted or parsed."
        elif item_id is not None and sealed.get("id") != item_id:
            reason = "Encrypted content item_id did not match the target item id."
        elif kind == "reasoning":
            reasoning_ids[i] = sealed["id"]
            continue
        else:
            if kind == "compaction":
                compactions[i] = sealed
            continue
        # The real API names the item when it has an id, else an abbreviation of the token.
        subject = f"for item {item_id}" if item_id else _abbrev(token)
        return RequestError(
            400,
            f"The encrypted content {subject} could not be verified. Reason: {reason}",
            None,
            "invalid_encrypted_content",
        )
    return None


def _sealed_kind(item_type: str) -> str:
    return "compaction" if item_type == "compaction" else "reasoning"


def _check_reasoning_pairs(
    items: list, registry: ItemRegistry, reasoning_ids: dict, compactions: dict
) -> RequestError | None:
    """E2: a reasoning item needs an output item after it. E3: an item replayed with an id the
    server issued needs the reasoning item it followed, earlier in the input, or a compaction item
    earlier in the input that covers that reasoning item (it carries the context it replaced)."""
    present = set()
    covered = 0  # the registry order up to which a compaction item earlier in the input covers
    for i, item in enumerate(items):
        if i in compactions:
            covered = max(covered, compactions[i].get("covers", 0))
            continue
        if i in reasoning_ids:
            if not _is_follower(items[i + 1] if i + 1 < len(items) else None):
                return RequestError(
                    400,
                    f"Item '{reasoning_ids[i]}' of type 'reasoning' was provided without its required following item.",
                    "input",
                )
            present.add(reasoning_ids[i])
            continue
        issued = registry.get(item["id"]) if "id" in item else None
        if issued and issued.reasoning_id and issued.reasoning_id not in present:
            reasoning = registry.get(issued.reasoning_id)
            if reasoning is not None and reasoning.seq <= covered:
                continue
            return RequestError(
                400,
                f"Item '{item['id']}' of type '{_item_type(item)}' was provided without its required 'reasoning' "
                f"item: '{issued.reasoning_id}'.",
                "input",
            )
    return None


def _check_call_pairs(items: list, compactions: dict | None = None) -> RequestError | None:
    """E5 / E6: each call has exactly one output after it, each output its call before it. A call
    still open when a compaction item was made counts as made where that item stands (its output
    may follow it once the items before it are dropped)."""
    calls: dict = {}  # call_id -> call type, in input order
    answered = set()
    for i, item in enumerate(items):
        if compactions and i in compactions:
            for call_id, kind in (compactions[i].get("open_calls") or {}).items():
                calls.setdefault(call_id, kind)
            continue
        kind, call_id = _item_type(item), item.get("call_id")
        if kind in _CALLS:
            if call_id in calls:
                return RequestError(
                    400, f"Duplicate {kind} for call_id '{call_id}'. Each call_id must be unique in 'input'.", "input"
                )
            calls[call_id] = kind
        elif kind in _OUTPUTS:
            call_type, name = _OUTPUTS[kind]
            if calls.get(call_id) != call_type:
                return RequestError(400, f"No tool call found for {name} output with call_id {call_id}.", "input")
            if call_id in answered:
                return RequestError(
                    400,
                    f"Duplicate {kind} for call_id '{call_id}'. "
                    f"Each {call_type} must have exactly one matching {kind}.",
                    "input",
                )
            answered.add(call_id)
    for call_id, kind in calls.items():
        if call_id not in answered:
            return RequestError(400, f"No tool output found for {_CALLS[kind][1]} {call_id}.", "input")
    return None


def _check_namespaces(body: dict, items: list) -> RequestError | None:
    """E13: a call of a function that exists only inside a namespace tool must name it."""
    top_level, namespaced = set(), set()
    for tool in _dicts(body.get("tools")):
        if tool.get("type") == "function":
            top_level.add(tool.get("name"))
        elif tool.get("type") == "namespace":
            namespaced.update(t.get("name") for t in _dicts(tool.get("tools")) if t.get("type") == "function")
    for i, item in enumerate(items):
        name = item.get("name")
        if _item_type(item) == "function_call" and "namespace" not in item and name in namespaced - top_level:
            return RequestError(
                400,
                f"Missing namespace for function_call '{name}'. It does not exist in the default namespace. "
                "Round-trip the model's function_call item with its namespace field included.",
                f"input[{i}].namespace",
            )
    return None


# --------------------------------------------------------------------------- auto responder

_SUMMARY_STYLES = {"auto", "concise", "detailed"}
_REASONING_TOKENS = {"minimal": 16, "low": 64, "medium": 192, "high": 512, "xhigh": 1024}


def _text_of(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _snippet(text: str, words: int = 12) -> str:
    head = text[: words * 40].split()
    return " ".join(head[:words]) + ("…" if len(head) > words else "")


def _proper_nouns(text: str, limit: int = 3) -> list[str]:
    """Capitalised words that do not start a sentence, in order, without repeats."""
    found: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        for word in re.findall(r"[^\W\d_][\w'-]*", sentence)[1:]:
            if word[0].isupper() and len(word) > 1 and word not in found:
                found.append(word)
                if len(found) == limit:
                    return found
    return found


def _example(schema, word: str):
    """A value fitting a JSON schema, built around ``word``."""
    if not isinstance(schema, dict):
        return word
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return _example(schema[key][0], word)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties")
        return {k: _example(v, word) for k, v in properties.items()} if isinstance(properties, dict) else {}
    if kind == "array":
        return [_example(schema.get("items"), word)]
    if kind in ("integer", "number"):
        return len(word)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return word


def _last_user_text(items: list) -> str:
    for item in reversed(items):
        if isinstance(item, dict) and _item_type(item) == "message" and item.get("role") == "user":
            return _text_of(item.get("content"))
    return ""


def auto_turn(body: dict) -> Turn:
    """What the auto responder answers to a (valid) request."""
    items = body.get("input") or []
    model = body["model"]
    options = body.get("reasoning") or {}
    effort = options.get("effort") or "medium"
    thinks = is_reasoning_model(model) and effort != "none"
    summarise = options.get("summary") in _SUMMARY_STYLES

    trailing_outputs = []
    for item in reversed(items):
        if not _item_type(item).endswith("_output"):
            break
        trailing_outputs.append(item)
    trailing_outputs.reverse()
    last = items[-1] if items else {}
    user_turn = _item_type(last) == "message" and last.get("role") == "user"
    tools = _dicts(body.get("tools"))
    functions = [t for t in tools if t.get("type") == "function" and isinstance(t.get("name"), str)]
    customs = [t for t in tools if t.get("type") == "custom" and isinstance(t.get("name"), str)]

    text = _last_user_text(items)
    snippet = _snippet(text)
    answer: list[ItemSpec]
    if user_turn and functions:
        tool = functions[0]
        words = _proper_nouns(text) or [next(iter(text.split()), "").strip("?!.,") or "example"]
        arguments = [_example(tool.get("parameters") or {}, word) for word in words]
        answer = [function_call(tool["name"], a if isinstance(a, dict) else {}) for a in arguments]
        thought = (
            f"**Planning tool use**\n\nThe user asked about {', '.join(words)}; I'll call {tool['name']} for each."
        )
    elif user_turn and customs:
        answer = [custom_tool_call(customs[0]["name"], text)]
        thought = f"**Planning tool use**\n\nI'll pass the request to {customs[0]['name']}."
    elif trailing_outputs:
        results = "; ".join(_snippet(_text_of(o.get("output")) or "(empty)", 16) for o in trailing_outputs)
        answer = [message(f"Based on the tool results: {results}.", phase="final_answer")]
        thought = f"**Reading tool results**\n\nI'll sum up the {len(trailing_outputs)} tool result(s) for the user."
    else:
        answer = [message(_answer_text(body, text, snippet), phase="final_answer")]
        thought = f'**Answering the user**\n\nThe user wrote "{snippet}"; a short, direct answer fits.'

    thinking = [reasoning([thought] if summarise else [])] if thinks else []
    reasoning_tokens = _REASONING_TOKENS.get(effort, 192) if thinks else 0
    limit = body.get("max_output_tokens")
    estimate = reasoning_tokens + sum(_visible_tokens(spec) for spec in answer)
    usage = {"output_tokens_details": {"reasoning_tokens": reasoning_tokens}}
    if isinstance(limit, int) and limit < estimate:
        usage["output_tokens"] = limit
        usage["output_tokens_details"] = {"reasoning_tokens": min(limit, reasoning_tokens)}
        return Turn(thinking, status="incomplete", usage=usage)
    usage["output_tokens"] = estimate
    return Turn(thinking + answer, usage=usage)


def _answer_text(body: dict, text: str, snippet: str) -> str:
    fmt = (body.get("text") or {}).get("format")
    fmt = fmt if isinstance(fmt, dict) else {}
    topic = (_proper_nouns(text, 1) or text.split() or ["hello"])[0]
    if fmt.get("type") == "json_schema":
        return orjson.dumps(_example(fmt.get("schema") or {}, topic)).decode()
    if fmt.get("type") == "json_object":
        return orjson.dumps({"answer": snippet}).decode()
    if not text:
        return "Hello! How can I help you today?"
    return (
        f'You said: "{snippet}". This is the fake Responses API answering deterministically: '
        f"your message had {len(text.split())} words, and the conversation {len(body['input'])} items."
    )


# --------------------------------------------------------------------------- rendering a turn


def _visible_tokens(spec: ItemSpec) -> int:
    if isinstance(spec, MessageSpec):
        return len(spec.text) // 4 + 1
    if isinstance(spec, FunctionCallSpec):
        return len(spec.arguments) // 4 + 1
    if isinstance(spec, CustomToolCallSpec):
        return len(spec.input) // 4 + 1
    return 0


_OBFUSCATION_ALPHABET = string.ascii_letters + string.digits


def _obfuscation(delta: str) -> str:
    # The real API pads each delta event with random characters to hide token lengths.
    return "".join(random.choices(_OBFUSCATION_ALPHABET, k=max(1, 16 - len(delta))))


def _pieces(text: str) -> list[str]:
    """Split ``text`` into delta-sized pieces (at most ~200, whose concatenation is ``text``)."""
    size = max(6, len(text) // 200)
    return re.findall(rf"\s*\S{{1,{size}}}|\s+", text) or [text]


@dataclass
class _Output:
    index: int
    spec: ItemSpec
    done: dict  # as in output_item.done
    added: dict  # as in output_item.added
    completed: dict  # as in response.completed (reasoning sealed again)


@dataclass
class _Rendered:
    """One response: its items in their three versions and the response object around them."""

    response_id: str
    created_at: int
    body: dict
    outputs: list
    usage: dict

    def response(self, status: str, output: list | None = None, *, error=None, incomplete_reason=None) -> dict:
        body = self.body
        reasons = body.get("reasoning") or {}
        thinks = is_reasoning_model(body["model"])
        finished = status != "in_progress"
        text = {"format": {"type": "text"}, "verbosity": "medium"}
        text.update(body.get("text") or {})
        return {
            "id": self.response_id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "background": False,
            "completed_at": int(time.time()) if status == "completed" else None,
            "error": error,
            "frequency_penalty": 0.0,
            "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "max_tool_calls": body.get("max_tool_calls"),
            "model": body["model"],
            "output": output if output is not None else [],
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "presence_penalty": 0.0,
            "previous_response_id": body.get("previous_response_id"),
            "prompt_cache_key": body.get("prompt_cache_key"),
            "prompt_cache_retention": body.get("prompt_cache_retention"),
            "reasoning": {
                "effort": reasons.get("effort", "medium") if thinks else None,
                "summary": reasons.get("summary"),
            },
            "safety_identifier": body.get("safety_identifier"),
            "service_tier": "default" if finished else "auto",
            "store": body.get("store", True),
            "temperature": body.get("temperature", 1.0),
            "text": text,
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools") or [],
            "top_logprobs": body.get("top_logprobs", 0),
            "top_p": body.get("top_p", 1.0),
            "truncation": body.get("truncation", "disabled"),
            "usage": self.usage if status in ("completed", "incomplete") else None,
            "user": None,
            "metadata": body.get("metadata") or {},
        }


_SPEC_TYPES = {
    ReasoningSpec: "reasoning",
    MessageSpec: "message",
    FunctionCallSpec: "function_call",
    CustomToolCallSpec: "custom_tool_call",
}


def _call_id() -> str:
    return "call_" + "".join(secrets.choice(_OBFUSCATION_ALPHABET) for _ in range(24))


@dataclass(frozen=True)
class _Compacting:
    """What a compaction made in this response replaces: the context before it."""

    items: list  # the input items it compacts (compaction items excluded)
    sealed: list  # what the compaction items among them sealed
    tokens: int  # their rendered tokens
    trigger: bool = False


def rendered_tokens(body: dict, raw_size: int, secret: bytes = DEFAULT_SECRET) -> int:
    """The fake's estimate of a request's rendered input: about 4 bytes of JSON per token, where a
    compaction item counts for the summary it seals (``summary_tokens``), not its encrypted bytes.
    The same bytes give the same count, so a threshold crossing is deterministic."""
    size, summaries = raw_size, 0
    items = body.get("input")
    for item in items if isinstance(items, list) else ():
        if (
            isinstance(item, dict)
            and item.get("type") == "compaction"
            and isinstance(item.get("encrypted_content"), str)
        ):
            token = item["encrypted_content"]
            sealed = unseal(secret, token) or {}
            size -= len(token)
            summaries += sealed.get("summary_tokens", 0) if sealed.get("type") == "compaction" else 0
    return max(1, size // 4 + summaries)


def _compacting(items: list, raw_tokens: int, secret: bytes, *, trigger: bool = False) -> _Compacting:
    context = [i for i in items if isinstance(i, dict) and _item_type(i) not in ("compaction", "compaction_trigger")]
    sealed = [
        s
        for i in items
        if isinstance(i, dict) and _item_type(i) == "compaction"
        for s in [unseal(secret, i.get("encrypted_content") or "")]
        if s is not None
    ]
    return _Compacting(context, sealed, raw_tokens, trigger)


def _compaction_payload(compacting: _Compacting, produced: list, output_tokens: int, covers: int) -> dict:
    """What a compaction item seals: how much context it replaces (items, tokens, a digest of
    them), the summary it stands for, the calls still waiting for their output, and the registry
    order it covers (every item issued before it)."""
    open_calls: dict = {}
    for sealed in compacting.sealed:
        open_calls.update(sealed.get("open_calls") or {})
    context = compacting.items + produced
    for item in context:
        kind = _item_type(item)
        if kind in _CALLS:
            open_calls[item.get("call_id")] = kind
        elif kind in _OUTPUTS:
            open_calls.pop(item.get("call_id"), None)
    tokens = compacting.tokens + output_tokens
    return {
        "type": "compaction",
        "items": len(context) + sum(s.get("items", 0) for s in compacting.sealed),
        "tokens": tokens,
        "summary_tokens": min(200 + tokens // 20, 4000),
        "digest": hashlib.sha256(orjson.dumps(context)).hexdigest()[:32],
        "open_calls": open_calls,
        "covers": covers,
    }


def _compaction_versions(item_id: str, model: str, secret: bytes, payload: dict):
    """The done, added and completed versions of a compaction item. As in the real stream
    (vercel/ai openai-compaction.1.chunks.txt): output_item.added carries a shorter token that is
    not a prefix, output_item.done the full one, response.completed the same length resealed."""
    length = min(1000 + 2 * payload["summary_tokens"], 9000)

    def version(token):
        return {"id": item_id, "type": "compaction", "encrypted_content": token}

    raw = bytearray(base64.urlsafe_b64decode(seal(secret, item_id, model, length // 4)))
    raw[-1] ^= 0xFF
    partial = base64.urlsafe_b64encode(bytes(raw)).decode()
    return (
        version(seal(secret, item_id, model, length, payload)),
        version(partial),
        version(seal(secret, item_id, model, length, payload)),
    )


def _render(
    body: dict,
    turn: Turn,
    registry: ItemRegistry,
    input_tokens: int,
    cached_tokens: int,
    compacting: _Compacting | None = None,
) -> _Rendered:
    response_id = registry.new_response_id()
    model = body["model"]
    sealed = "reasoning.encrypted_content" in (body.get("include") or [])
    outputs = []
    reasoning_id = None
    for index, spec in enumerate(turn.items):
        kind = _SPEC_TYPES[type(spec)]
        item_id = registry.new_item_id(kind, response_id)
        if isinstance(spec, ReasoningSpec):
            done, added, completed = _reasoning_versions(spec, item_id, model, registry.secret, sealed)
        elif isinstance(spec, MessageSpec):
            part = {"type": "output_text", "annotations": [], "logprobs": [], "text": spec.text}
            head = {"id": item_id, "type": "message", "status": "in_progress", "content": []}
            tail = ({"phase": spec.phase} if spec.phase else {}) | {"role": "assistant"}
            added = head | tail
            done = completed = head | {"status": "completed", "content": [part]} | tail
        elif isinstance(spec, FunctionCallSpec):
            extra = {"namespace": spec.namespace} if spec.namespace else {}
            head = {"id": item_id, "type": "function_call", "status": "in_progress", "arguments": ""}
            call = {"call_id": spec.call_id or _call_id(), "name": spec.name} | extra
            added = head | call
            done = completed = head | {"status": "completed", "arguments": spec.arguments} | call
        else:
            head = {"id": item_id, "type": "custom_tool_call", "status": "in_progress"}
            added = head | {"call_id": spec.call_id or _call_id(), "input": "", "name": spec.name}
            done = completed = added | {"status": "completed", "input": spec.input}
        registry.register(item_id, IssuedItem(kind, response_id, index, None if kind == "reasoning" else reasoning_id))
        if kind == "reasoning":
            reasoning_id = item_id
        outputs.append(_Output(index, spec, done, added, completed))

    reasoning_tokens = sum(128 + sum(map(len, s.summary)) // 4 for s in turn.items if isinstance(s, ReasoningSpec))
    output_tokens = reasoning_tokens + sum(_visible_tokens(s) for s in turn.items)
    if compacting is not None:
        # The compaction item comes last, after the turn's items (both real recordings,
        # vercel/ai openai-compaction.1.json and .chunks.txt: output_index 1, after the message),
        # and the summary it samples counts in output_tokens (there: 2,505 output tokens for an
        # answer of ~800).
        produced = [o.done for o in outputs]
        payload = _compaction_payload(compacting, produced, output_tokens, registry.watermark())
        item_id = registry.new_item_id("compaction", response_id)
        done, added, completed = _compaction_versions(item_id, model, registry.secret, payload)
        registry.register(item_id, IssuedItem("compaction", response_id, len(outputs), None))
        spec = CompactionSpec(payload, compacting.trigger)
        outputs.append(_Output(len(outputs), spec, done, added, completed))
    usage = {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached_tokens},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
    }
    usage.update(turn.usage or {})
    if compacting is not None:
        usage["output_tokens"] += outputs[-1].spec.payload["summary_tokens"]
    usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    return _Rendered(response_id, int(time.time()), body, outputs, usage)


def _reasoning_versions(spec: ReasoningSpec, item_id: str, model: str, secret: bytes, sealed: bool):
    """The done, added and completed versions of a reasoning item."""
    summary = [{"type": "summary_text", "text": s} for s in spec.summary]
    content = [{"type": "reasoning_text", "text": t} for t in spec.content] if spec.content is not None else None

    def version(token, summary, content):
        item = {"id": item_id, "type": "reasoning"}
        if content is not None:
            item["content"] = content
        if token is not None:
            item["encrypted_content"] = token
        item["summary"] = summary
        return item

    empty_content = [] if content is not None else None  # output_item.added shows no text yet
    if not (spec.encrypted and sealed):
        return version(None, summary, content), version(None, [], empty_content), version(None, summary, content)
    # ~1-2 KB like the real ones, growing with the thinking shown.
    length = min(1000 + 2 * sum(map(len, spec.summary)), 2400)
    final = seal(secret, item_id, model, length)
    # The added copy is shorter, not a prefix and unverifiable, yet a whole Fernet envelope (57 + 16k
    # bytes), as in the real recordings: a token sealed separately, its MAC spoiled.
    raw = bytearray(base64.urlsafe_b64decode(seal(secret, item_id, model, length * 4 // 5)))
    raw[-1] ^= 0xFF
    partial = base64.urlsafe_b64encode(bytes(raw)).decode()
    return (
        version(final, summary, content),
        version(partial, [], empty_content),
        version(seal(secret, item_id, model, length), summary, content),
    )


def _item_events(out: _Output) -> list[dict]:
    """The events of one output item, from output_item.added to output_item.done."""
    index, spec, item_id = out.index, out.spec, out.done["id"]
    where = {"item_id": item_id, "output_index": index}
    events = [{"type": "response.output_item.added", "output_index": index, "item": out.added}]
    if isinstance(spec, CompactionSpec):
        if spec.trigger:
            # The SDK's ResponseCompactionCompactingEvent: "Emitted when new summary content is sampled
            # for a compaction trigger." (not seen in a recording; none has a compaction_trigger).
            events.append({"type": "response.compaction.compacting", **where})
    elif isinstance(spec, ReasoningSpec):
        for i, text in enumerate(spec.content or ()):
            for piece in _pieces(text):
                events.append({"type": "response.reasoning_text.delta", **where, "content_index": i, "delta": piece})
            events.append({"type": "response.reasoning_text.done", **where, "content_index": i, "text": text})
        for i, text in enumerate(spec.summary):
            at = where | {"summary_index": i}
            events.append(
                {"type": "response.reasoning_summary_part.added", **at, "part": {"type": "summary_text", "text": ""}}
            )
            for piece in _pieces(text):
                events.append(
                    {
                        "type": "response.reasoning_summary_text.delta",
                        **at,
                        "delta": piece,
                        "obfuscation": _obfuscation(piece),
                    }
                )
            events.append({"type": "response.reasoning_summary_text.done", **at, "text": text})
            events.append(
                {"type": "response.reasoning_summary_part.done", **at, "part": {"type": "summary_text", "text": text}}
            )
    elif isinstance(spec, MessageSpec):
        at = where | {"content_index": 0}
        part = {"type": "output_text", "annotations": [], "logprobs": []}
        events.append({"type": "response.content_part.added", **at, "part": part | {"text": ""}})
        for piece in _pieces(spec.text):
            events.append(
                {
                    "type": "response.output_text.delta",
                    **at,
                    "delta": piece,
                    "logprobs": [],
                    "obfuscation": _obfuscation(piece),
                }
            )
        events.append({"type": "response.output_text.done", **at, "text": spec.text, "logprobs": []})
        events.append({"type": "response.content_part.done", **at, "part": part | {"text": spec.text}})
    elif isinstance(spec, FunctionCallSpec):
        for piece in _pieces(spec.arguments):
            events.append(
                {
                    "type": "response.function_call_arguments.delta",
                    **where,
                    "delta": piece,
                    "obfuscation": _obfuscation(piece),
                }
            )
        events.append({"type": "response.function_call_arguments.done", **where, "arguments": spec.arguments})
    else:
        for piece in _pieces(spec.input):
            events.append(
                {
                    "type": "response.custom_tool_call_input.delta",
                    **where,
                    "delta": piece,
                    "obfuscation": _obfuscation(piece),
                }
            )
        events.append({"type": "response.custom_tool_call_input.done", **where, "input": spec.input})
    events.append({"type": "response.output_item.done", "output_index": index, "item": out.done})
    return events


def _turn_events(r: _Rendered, turn: Turn, *, terminal: bool = True, empty_output: bool = False) -> list[dict]:
    in_progress = r.response("in_progress")
    events = [
        {"type": "response.created", "response": in_progress},
        {"type": "response.in_progress", "response": in_progress},
    ]
    for out in r.outputs:
        events.extend(_item_events(out))
    if terminal:
        events.append(_terminal_event(r, turn, empty_output))
    return events


def _terminal_event(r: _Rendered, turn: Turn, empty_output: bool) -> dict:
    output = [] if empty_output else [o.completed for o in r.outputs]
    if turn.status == "incomplete":
        response = r.response("incomplete", output, incomplete_reason=turn.incomplete_reason)
        return {"type": "response.incomplete", "response": response}
    return {"type": "response.completed", "response": r.response("completed", output)}


# --------------------------------------------------------------------------- the gpt-oss dialect
#
# OpenAI's reference Responses server, `gpt_oss.responses_api` (PyPI gpt-oss 0.0.9), as its
# traffic shows (tests/fixtures/recordings/gpt-oss-exchanges.jsonl): ids of 32 hex with `item_`
# on messages, `status` inside output_text parts, `status: null` on a streamed message's
# output_item.done, `output_index` -1 on the first item's opening events, reasoning as
# `reasoning_text` content (streamed as response.reasoning_text.delta) and never encrypted,
# `sequence_number` first in each event, and FastAPI's 422 `detail` array for a request its
# pydantic models refuse (a `developer` role among them). It checks nothing about replay.

GPT_OSS = "gpt-oss"
DIALECTS = ("openai", GPT_OSS)


@functools.cache
def _gpt_oss_request_model():
    """gpt_oss/responses_api/types.py (0.0.9), the request side: the same pydantic classes under the
    same names, so that pydantic words a refusal exactly as the real server does."""
    from typing import Literal, Optional  # the types as the server writes them

    from pydantic import BaseModel, ConfigDict

    class UrlCitation(BaseModel):
        type: Literal["url_citation"]
        end_index: int
        start_index: int
        url: str
        title: str

    class TextContentItem(BaseModel):
        type: Union[Literal["text"], Literal["input_text"], Literal["output_text"]]  # noqa: UP007
        text: str
        status: Optional[str] = "completed"  # noqa: UP045
        annotations: Optional[list[UrlCitation]] = None  # noqa: UP045

    class SummaryTextContentItem(BaseModel):
        type: Literal["summary_text"]
        text: str

    class ReasoningTextContentItem(BaseModel):
        type: Literal["reasoning_text"]
        text: str

    class ReasoningItem(BaseModel):
        id: str = "rs_1234"
        type: Literal["reasoning"]
        summary: list[SummaryTextContentItem]
        content: Optional[list[ReasoningTextContentItem]] = []  # noqa: UP045

    class Item(BaseModel):
        id: Optional[str] = None  # noqa: UP045
        type: Optional[Literal["message"]] = "message"  # noqa: UP045
        role: Literal["user", "assistant", "system"]
        content: Union[list[TextContentItem], str]  # noqa: UP007
        status: Union[Literal["in_progress", "completed", "incomplete"], None] = None  # noqa: UP007

    class FunctionCallItem(BaseModel):
        type: Literal["function_call"]
        name: str
        arguments: str
        status: Literal["in_progress", "completed", "incomplete"] = "completed"
        id: str = "fc_1234"
        call_id: str = "call_1234"

    class FunctionCallOutputItem(BaseModel):
        type: Literal["function_call_output"]
        call_id: str = "call_1234"
        output: str

    class WebSearchActionSearch(BaseModel):
        type: Literal["search"]
        query: Optional[str] = None  # noqa: UP045

    class WebSearchActionOpenPage(BaseModel):
        type: Literal["open_page"]
        url: Optional[str] = None  # noqa: UP045

    class WebSearchActionFind(BaseModel):
        type: Literal["find"]
        pattern: Optional[str] = None  # noqa: UP045
        url: Optional[str] = None  # noqa: UP045

    class WebSearchCallItem(BaseModel):
        type: Literal["web_search_call"]
        id: str = "ws_1234"
        status: Literal["in_progress", "completed", "incomplete"] = "completed"
        action: Union[WebSearchActionSearch, WebSearchActionOpenPage, WebSearchActionFind]  # noqa: UP007

    class CodeInterpreterOutputLogs(BaseModel):
        type: Literal["logs"]
        logs: str

    class CodeInterpreterOutputImage(BaseModel):
        type: Literal["image"]
        url: str

    class CodeInterpreterCallItem(BaseModel):
        type: Literal["code_interpreter_call"]
        id: str = "ci_1234"
        status: Literal["in_progress", "completed", "incomplete", "interpreting", "failed"] = "completed"
        code: Optional[str] = None  # noqa: UP045
        container_id: Optional[str] = None  # noqa: UP045
        outputs: Optional[list[Union[CodeInterpreterOutputLogs, CodeInterpreterOutputImage]]] = None  # noqa: UP007,UP045

    class FunctionToolDefinition(BaseModel):
        type: Literal["function"]
        name: str
        parameters: dict
        strict: bool = False
        description: Optional[str] = ""  # noqa: UP045

    class BrowserToolConfig(BaseModel):
        model_config = ConfigDict(extra="allow")
        type: Literal["browser_search"] | Literal["web_search"]

    class CodeInterpreterToolConfig(BaseModel):
        type: Literal["code_interpreter"]

    class ReasoningConfig(BaseModel):
        effort: Literal["low", "medium", "high"] = "low"

    class ResponsesRequest(BaseModel):
        instructions: Optional[str] = None  # noqa: UP045
        max_output_tokens: Optional[int] = 131072  # noqa: UP045
        input: Union[  # noqa: UP007
            str,
            list[
                Union[  # noqa: UP007
                    Item,
                    ReasoningItem,
                    FunctionCallItem,
                    FunctionCallOutputItem,
                    WebSearchCallItem,
                    CodeInterpreterCallItem,
                ]
            ],
        ]
        model: Optional[str] = "gpt-oss-120b"  # noqa: UP045
        stream: Optional[bool] = False  # noqa: UP045
        tools: Optional[list[Union[FunctionToolDefinition, BrowserToolConfig, CodeInterpreterToolConfig]]] = []  # noqa: UP007,UP045
        reasoning: Optional[ReasoningConfig] = ReasoningConfig()  # noqa: UP045
        metadata: Optional[dict[str, Any]] = {}  # noqa: UP045
        tool_choice: Optional[Literal["auto", "none"]] = "auto"  # noqa: UP045
        parallel_tool_calls: Optional[bool] = False  # noqa: UP045
        store: Optional[bool] = False  # noqa: UP045
        previous_response_id: Optional[str] = None  # noqa: UP045
        temperature: Optional[float] = 0.0  # noqa: UP045
        include: Optional[list[str]] = None  # noqa: UP045

    ResponsesRequest.model_rebuild(_types_namespace=locals())
    return ResponsesRequest


def gpt_oss_detail(body) -> list | None:
    """The `detail` of the 422 FastAPI answers when the request does not validate, or None."""
    from pydantic import ValidationError

    try:
        _gpt_oss_request_model().model_validate(body)
    except ValidationError as exc:
        detail = []
        for e in exc.errors(include_url=False):
            entry = {"type": e["type"], "loc": ["body", *e["loc"]], "msg": e["msg"], "input": e["input"]}
            if "ctx" in e:
                entry["ctx"] = {k: v if isinstance(v, (str, int, float)) else str(v) for k, v in e["ctx"].items()}
            detail.append(entry)
        return detail
    return None


def _oss_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"


def _oss_item(spec: ItemSpec, *, streamed: bool = False) -> dict:
    """One output item as gpt-oss writes it (a streamed message's output_item.done: status null)."""
    if isinstance(spec, ReasoningSpec):
        content = [{"type": "reasoning_text", "text": "".join(spec.content or ())}]
        return {"id": _oss_id("rs"), "type": "reasoning", "summary": [], "content": content}
    if isinstance(spec, MessageSpec):
        part = {"type": "output_text", "text": spec.text, "status": "completed", "annotations": []}
        status = None if streamed else "completed"
        return {"id": _oss_id("item"), "type": "message", "role": "assistant", "content": [part], "status": status}
    if isinstance(spec, FunctionCallSpec):
        return {
            "type": "function_call",
            "name": spec.name,
            "arguments": spec.arguments,
            "status": "completed",
            "id": _oss_id("fc"),
            "call_id": spec.call_id or _oss_id("call"),
        }
    raise TypeError(f"gpt-oss has no {type(spec).__name__}")


def _oss_response(body: dict, response_id: str, created: int, status: str, output: list, usage) -> dict:
    return {
        "output": output,
        "created_at": created,
        "usage": usage,
        "status": status,
        "background": None,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens") or 131072,
        "max_tool_calls": None,
        "metadata": body.get("metadata") or {},
        "model": body.get("model") or "gpt-oss-120b",
        "parallel_tool_calls": False,
        "previous_response_id": None,
        "id": response_id,
        "object": "response",
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "top_p": 1,
    }


def _oss_usage(body: dict, raw_size: int, turn: Turn) -> dict:
    output_tokens = 8 + sum(_visible_tokens(s) for s in turn.items)
    input_tokens = max(1, raw_size // 6)
    return {"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": input_tokens + output_tokens}


def gpt_oss_turn(body: dict) -> Turn:
    """The auto responder of the dialect, like the scripted token function the recordings used:
    reasoning, then a call of the first function tool for a user message asking about the weather,
    "Tool said: ..." after tool outputs, else "Echo: <the user's text>"."""
    items = body.get("input") if isinstance(body.get("input"), list) else []
    last = items[-1] if items else {}
    functions = [t for t in _dicts(body.get("tools")) if t.get("type") == "function"]
    text = _last_user_text(items)
    if isinstance(last, dict) and _item_type(last).endswith("_output"):
        return Turn(
            [reasoning(content=["Got the tool result."]), message(f"Tool said: {_text_of(last.get('output'))}")]
        )
    if functions and "weather" in text.lower():
        city = (_proper_nouns(text, 1) or ["Paris"])[0]
        return Turn(
            [
                reasoning(content=[f"Need to call {functions[0]['name']}."]),
                function_call(functions[0]["name"], f'{{"city": "{city}"}}'),
            ]
        )
    return Turn([reasoning(content=[f"User said: {text}"]), message(f"Echo: {text}")])


def gpt_oss_events(body: dict, turn: Turn, response_id: str, created: int, usage: dict) -> list[dict]:
    """The SSE events of one response, in the server's order and with its output_index values."""
    start = _oss_response(body, response_id, created, "in_progress", [], None)
    events: list[dict] = [
        {"type": "response.created", "response": start},
        {"type": "response.in_progress", "response": start},
    ]
    output = []
    for spec in turn.items:
        opening, closing = len(output) - 1, len(output)
        done = _oss_item(spec, streamed=True)
        if isinstance(spec, ReasoningSpec):
            text = done["content"][0]["text"]
            at = {"item_id": done["id"], "output_index": opening, "content_index": 0}
            end = at | {"output_index": closing}
            events.append(
                {"type": "response.output_item.added", "output_index": opening, "item": done | {"content": []}}
            )
            events.append({"type": "response.content_part.added", **at, "part": {"type": "reasoning_text", "text": ""}})
            events += [{"type": "response.reasoning_text.delta", **at, "delta": p} for p in _pieces(text)]
            events.append({"type": "response.reasoning_text.done", **end, "text": text})
            events.append(
                {"type": "response.content_part.done", **end, "part": {"type": "reasoning_text", "text": text}}
            )
        elif isinstance(spec, MessageSpec):
            at = {"item_id": done["id"], "output_index": opening, "content_index": 0}
            end = at | {"output_index": closing}
            part = {"type": "output_text", "text": "", "status": "completed", "annotations": None}
            events.append(
                {"type": "response.output_item.added", "output_index": opening, "item": done | {"content": []}}
            )
            events.append({"type": "response.content_part.added", **at, "part": part})
            events += [
                {"type": "response.output_text.delta", **at, "delta": p, "logprobs": []} for p in _pieces(spec.text)
            ]
            events.append({"type": "response.output_text.done", **end, "text": spec.text, "logprobs": []})
            events.append({"type": "response.content_part.done", **end, "part": done["content"][0]})
        events.append({"type": "response.output_item.done", "output_index": closing, "item": done})
        output.append(done | {"status": "completed"} if done["type"] == "message" else done)
    final = _oss_response(body, response_id, created, "completed", output, usage)
    events.append({"type": "response.completed", "response": final})
    return events


# --------------------------------------------------------------------------- compaction, files and batches
#
# Endpoints beside `POST /v1/responses` (dialect "openai", not Azure): standalone compaction, and
# the Files and Batch APIs as far as a batch of `/v1/responses` requests needs them.

_ROUTES = [
    ("POST", re.compile(r"/v1/responses/compact"), "compact"),
    ("GET", re.compile(r"/v1/responses/([^/]+)"), "stored_response"),
    ("GET", re.compile(r"/v1/responses/([^/]+)/input_items"), "input_items"),
    ("POST", re.compile(r"/v1/files"), "upload"),
    ("GET", re.compile(r"/v1/files/([^/]+)"), "file"),
    ("GET", re.compile(r"/v1/files/([^/]+)/content"), "file_content"),
    ("POST", re.compile(r"/v1/batches"), "create_batch"),
    ("GET", re.compile(r"/v1/batches"), "list_batches"),
    ("GET", re.compile(r"/v1/batches/([^/]+)"), "batch"),
    ("POST", re.compile(r"/v1/batches/([^/]+)/cancel"), "cancel_batch"),
]


def _route(method: str, path: str) -> tuple | None:
    """(handler name, path arguments) for the endpoints other than `POST /v1/responses`."""
    path = path.split("?")[0].rstrip("/")
    for verb, pattern, name in _ROUTES:
        if verb == method and (m := pattern.fullmatch(path)):
            return name, m.groups()
    return None


# ResponseCompactParams (openai.types.responses.response_compact_params): the body it accepts.
_COMPACT_PARAMS = (
    "model",
    "input",
    "instructions",
    "previous_response_id",
    "prompt_cache_key",
    "prompt_cache_options",
    "prompt_cache_retention",
    "service_tier",
    "image",
)

# FileObject.purpose (openai.types.file_object) and FilePurpose.
_FILE_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
# BatchCreateParams.endpoint (openai.types.batch_create_params).
_BATCH_ENDPOINTS = (
    "/v1/responses",
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
    "/v1/images/generations",
    "/v1/images/edits",
    "/v1/videos",
)
# The documented limits (BatchCreateParams.input_file_id: "The file can contain up to 50,000
# requests, and can be up to 200 MB in size."); FakeResponsesAPI(batch_max_requests=,
# batch_max_bytes=) lowers them for tests.
BATCH_MAX_REQUESTS = 50_000
BATCH_MAX_BYTES = 200 * 1024 * 1024
# FileCreateParams.expires_after: "files with purpose=batch expire after 30 days".
_BATCH_FILE_TTL = 30 * 24 * 3600
_BATCH_WINDOW = 24 * 3600

_FILE_ID_ALPHABET = string.ascii_letters + string.digits


@dataclass
class StoredResponse:
    """A response created with `store: true`, and its input as `GET /responses/{id}/input_items` lists it."""

    response: dict
    input: list


def _query(path: str) -> dict[str, list[str]]:
    from urllib.parse import parse_qs

    query = parse_qs(path.partition("?")[2], keep_blank_values=True)
    if "include[]" in query:  # the SDK writes list parameters with brackets
        query["include"] = query.pop("include[]") + query.get("include", [])
    return query


def _with_include(response: dict, query: dict) -> dict:
    """The response (or an item list) with reasoning's encrypted_content only if `include` asks for it."""
    if "reasoning.encrypted_content" in query.get("include", []):
        return response
    output = [
        {k: v for k, v in item.items() if k != "encrypted_content"} if item.get("type") == "reasoning" else item
        for item in response.get("output", [])
    ]
    return {**response, "output": output}


def _listed_input(item: dict, response_id: str, registry: ItemRegistry) -> dict:
    """An input item as the API lists it back: with an id (the one it was sent with, else a new one of its
    type's prefix), a message's string content as an input_text part, and `status` on messages and
    outputs (ResponseInputMessageItem, ResponseFunctionToolCallOutputItem in openai.types.responses)."""
    kind = item.get("type") or ("message" if "role" in item else None)
    item_id = item.get("id")
    if not isinstance(item_id, str):
        item_id = registry.new_item_id(kind, response_id) if kind in ID_PREFIXES else "item_" + secrets.token_hex(24)
    listed = {"id": item_id}
    listed.update({k: v for k, v in item.items() if k != "id"})
    listed["type"] = kind
    if kind == "message" and isinstance(item.get("content"), str):
        text_type = "output_text" if item.get("role") == "assistant" else "input_text"
        listed["content"] = [{"type": text_type, "text": item["content"]}]
    if (kind == "message" and item.get("role") != "assistant") or (kind or "").endswith("_output"):
        listed.setdefault("status", "completed")
    return listed


def _file_id() -> str:
    return "file-" + "".join(secrets.choice(_FILE_ID_ALPHABET) for _ in range(22))


def _batch_id(prefix: str = "batch") -> str:
    return f"{prefix}_{int(time.time()):08x}{secrets.token_hex(12)}"


def _multipart(content_type: str, raw: bytes) -> dict:
    """The fields of a multipart/form-data body: name -> (filename or None, bytes)."""
    m = re.search(r'boundary="?([^";]+)"?', content_type or "")
    if not content_type.startswith("multipart/form-data") or not m:
        return {}
    fields = {}
    for part in raw.split(b"--" + m.group(1).encode())[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]*)"', head)
        filename = re.search(rb'filename="([^"]*)"', head)
        if name:
            fields[name.group(1).decode()] = (
                filename.group(1).decode() if filename else None,
                data[:-2] if data.endswith(b"\r\n") else data,
            )
    return fields


@dataclass
class StoredFile:
    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int = field(default_factory=lambda: int(time.time()))

    def to_dict(self) -> dict:
        # openai.types.FileObject; `status` and `status_details` are deprecated but still sent.
        expires = self.created_at + _BATCH_FILE_TTL if self.purpose in ("batch", "batch_output") else None
        return {
            "object": "file",
            "id": self.id,
            "purpose": self.purpose,
            "filename": self.filename,
            "bytes": len(self.data),
            "created_at": self.created_at,
            "expires_at": expires,
            "status": "processed",
            "status_details": None,
        }


@dataclass(frozen=True)
class BatchPlan:
    """How one batch behaves, scripted with ``api.script_batch(BatchPlan(...))`` (FIFO, one plan
    per created batch; without one a batch runs straight through).

    The batch advances one step per ``GET /batches/{id}``: validating -> in_progress -> finalizing
    -> completed (or failed / expired / cancelling -> cancelled). ``hold`` extra polls are spent in
    each of validating, finalizing and cancelling, and in_progress runs its requests over
    ``hold + 1`` polls (request_counts grow between them).
    """

    hold: int = 0
    expire_after: int | None = None  # run this many requests, then expire (the rest: batch_expired)
    fail: dict = field(default_factory=dict)  # line index (0-based) or custom_id -> HttpError | error code
    fail_validation: list | None = None  # `errors.data` entries: the input file is refused as invalid
    reverse_output: bool = False  # output and error lines in reverse order (the API keeps no order)


# Texts of per-request errors written as `{"response": null, "error": {"code", "message"}}`. The codes
# are the API's (openai-openapi BatchRequestOutput.error.code: batch_expired, batch_cancelled,
# request_timeout); the batch_expired message is the one the Batch guide shows for an expired
# batch's leftovers; the other two messages have not been observed.
_REQUEST_ERRORS = {
    "batch_expired": "This request could not be executed before the completion window expired.",
    "batch_cancelled": "This request was not executed because the batch was cancelled.",
    "request_timeout": "The request timed out.",
}


def _line_error(code: str, message: str, line: int | None, param: str | None = None) -> dict:
    # openai.types.BatchError: code, line, message, param.
    return {"code": code, "line": line, "message": message, "param": param}


def _validate_batch_input(data: bytes, endpoint: str, max_requests: int) -> tuple[list, list]:
    """(requests [(line, custom_id, body)], errors) of a batch input file.

    Error codes are the documented ones (stdapi-ai/stdapi.ai issue 240 lists invalid_json_line,
    duplicate_custom_id, url_mismatch, model_mismatch, empty_file, too_many_tasks and an observed
    `BatchError(code="invalid_json_line", line=1, message="This line is not parseable as valid JSON.")`);
    the messages other than invalid_json_line's are this server's wording.
    """
    lines = data.decode("utf-8", "replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        return [], [_line_error("empty_file", "The batch input file is empty.", None)]
    if len(lines) > max_requests:
        message = f"The batch input file has {len(lines)} requests; a batch can have at most {max_requests}."
        return [], [_line_error("too_many_tasks", message, None)]
    requests, errors, seen, model = [], [], set(), None
    for n, text in enumerate(lines, 1):
        try:
            line = orjson.loads(text)
        except orjson.JSONDecodeError:
            errors.append(_line_error("invalid_json_line", "This line is not parseable as valid JSON.", n))
            continue
        if not isinstance(line, dict):
            errors.append(_line_error("invalid_json_line", "This line is not parseable as valid JSON.", n))
            continue
        missing = next((k for k in ("custom_id", "method", "url", "body") if k not in line), None)
        if missing:
            errors.append(
                _line_error("missing_required_parameter", f"Missing required parameter: '{missing}'.", n, missing)
            )
            continue
        custom_id, body = line["custom_id"], line["body"]
        if not isinstance(custom_id, str) or not isinstance(body, dict):
            key = "custom_id" if not isinstance(custom_id, str) else "body"
            errors.append(_line_error("invalid_type", f"Invalid type for '{key}'.", n, key))
            continue
        if custom_id in seen:
            errors.append(
                _line_error(
                    "duplicate_custom_id",
                    "The custom_id for this request is a duplicate of another request. The custom_id parameter "
                    "must be unique for each individual request in a batch.",
                    n,
                    "custom_id",
                )
            )
            continue
        seen.add(custom_id)
        if line["method"] != "POST":
            errors.append(_line_error("invalid_method", "The method for this request must be 'POST'.", n, "method"))
            continue
        if line["url"] != endpoint:
            message = f"The URL for this request ('{line['url']}') does not match the batch endpoint ('{endpoint}')."
            errors.append(_line_error("url_mismatch", message, n, "url"))
            continue
        if model is not None and body.get("model") != model:
            message = (
                f"The model for this request ('{body.get('model')}') does not match the batch's model ('{model}')."
            )
            errors.append(_line_error("model_mismatch", message, n, "body.model"))
            continue
        model = body.get("model") if model is None else model
        requests.append((n, custom_id, body))
    return requests, errors


@dataclass
class _Batch:
    id: str
    input_file_id: str
    endpoint: str
    metadata: dict | None
    plan: BatchPlan
    created_at: int = field(default_factory=lambda: int(time.time()))
    status: str = "validating"
    at: dict = field(default_factory=dict)  # status -> when it was entered
    waiting: int = 0  # polls left in the current state
    requests: list = field(default_factory=list)  # (line, custom_id, body)
    done: int = 0  # requests run
    outputs: list = field(default_factory=list)  # output file lines
    failures: list = field(default_factory=list)  # error file lines
    errors: list | None = None  # validation errors
    model: str | None = None
    usage: dict = field(
        default_factory=lambda: {
            "input_tokens": 0,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 0,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 0,
        }
    )
    output_file_id: str | None = None
    error_file_id: str | None = None

    def to_dict(self) -> dict:
        # openai.types.Batch, fields in the order of the API reference's example object.
        counted = self.status not in ("validating", "failed")
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "model": self.model,
            "errors": {"object": "list", "data": self.errors} if self.errors else None,
            "input_file_id": self.input_file_id,
            "completion_window": "24h",
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": self.created_at,
            "in_progress_at": self.at.get("in_progress"),
            "expires_at": self.created_at + _BATCH_WINDOW,
            "finalizing_at": self.at.get("finalizing"),
            "completed_at": self.at.get("completed"),
            "failed_at": self.at.get("failed"),
            "expired_at": self.at.get("expired"),
            "cancelling_at": self.at.get("cancelling"),
            "cancelled_at": self.at.get("cancelled"),
            "request_counts": {
                "total": len(self.requests) if counted else 0,
                "completed": len(self.outputs),
                "failed": len(self.failures),
            },
            "usage": self.usage,
            "metadata": self.metadata,
        }


class _BatchExchange:
    """Where the `POST /responses` handler writes its answer to one request of a batch (never
    streamed): the status and the JSON body, as the batch's output line records them."""

    def __init__(self, record: RecordedRequest):
        self.record = record
        self.status = 500
        self.obj: dict = {}

    def json(self, status: int, obj, headers: dict | None = None, *, cut: bool = False):
        self.record.status = self.status = status
        self.obj = obj
        if cut:  # the connection to the model dropped: the Batch API reports a server error
            self.error(RequestError(500, _HTTP_DEFAULTS[500][0], type="server_error"))

    def error(self, err: RequestError, headers: dict | None = None):
        self.record.error = err.to_dict()
        self.record.status = self.status = err.status
        self.obj = {"error": err.to_dict()}

    def raw(self, reply: Raw):
        self.error(RequestError(reply.status, reply.body.decode("utf-8", "replace"), type="server_error"))

    def malformed_json(self, obj):
        self.error(RequestError(500, _HTTP_DEFAULTS[500][0], type="server_error"))


# --------------------------------------------------------------------------- the server


@dataclass
class RecordedRequest:
    path: str
    headers: dict  # lower-case names
    raw: bytes
    body: Any = None  # the parsed JSON, None when it did not parse
    status: int | None = None  # the HTTP status answered
    error: dict | None = None  # the ``error`` object answered, None when accepted
    response: dict | None = None  # the final response object served, when there was one
    done_items: list = field(default_factory=list)  # the items of response.output_item.done events, in order
    received: float = field(default_factory=time.monotonic)  # when the request's body had been read


_HTTP_DEFAULTS = {
    400: ("Bad request.", "invalid_request_error"),
    401: ("Incorrect API key provided.", "invalid_request_error"),
    429: ("Rate limit reached for requests. Please try again shortly.", "requests"),
    500: ("The server had an error while processing your request. Sorry about that!", "server_error"),
    502: ("Bad gateway.", "server_error"),
    503: ("The server is overloaded or not ready yet.", "server_error"),
}


class _Abort(Exception):
    """Drop the connection now, mid-body."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streaming, like the real API

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes: without TCP_NODELAY the body waits for the
        # client's delayed ACK of the headers (~40 ms a request on Linux loopback).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):  # silence the per-request log lines
        pass

    def _dispatch(self):
        try:
            self.server.api._handle(self)
        except (_Abort, BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = _dispatch


class _Exchange:
    """Writing one answer on a handler: JSON, or SSE events in chunked encoding."""

    def __init__(self, handler: BaseHTTPRequestHandler, record: RecordedRequest, seq_first: bool = False):
        self.h, self.record = handler, record
        self.seq = 0
        self.seq_first = seq_first  # gpt-oss writes sequence_number before type

    def _head(self, status: int, headers: dict):
        self.h.send_response(status)
        self.h.send_header("x-request-id", "req_" + secrets.token_hex(16))
        self.h.send_header("openai-version", "2020-10-01")
        for name, value in headers.items():
            self.h.send_header(name, value)
        self.h.end_headers()

    def json(self, status: int, obj, headers: dict | None = None, *, cut: bool = False):
        """Answer ``obj``; with ``cut``, drop the connection after half the promised body."""
        data = orjson.dumps(obj)
        self.record.status = status
        self._head(status, {"Content-Type": "application/json", "Content-Length": str(len(data)), **(headers or {})})
        if cut:
            self.h.wfile.write(data[: len(data) // 2])
            raise _Abort
        self.h.wfile.write(data)

    def raw(self, reply: Raw):
        self.record.status = reply.status
        self.record.error = {"raw": reply.body.decode("utf-8", "replace")}
        self._head(reply.status, {"Content-Type": reply.content_type, "Content-Length": str(len(reply.body))})
        self.h.wfile.write(reply.body)

    def malformed_json(self, obj):
        """Answer ``obj``'s JSON cut short, as a complete (and unparsable) body."""
        data = orjson.dumps(obj)[:-50]
        self.record.status = 200
        self._head(200, {"Content-Type": "application/json", "Content-Length": str(len(data))})
        self.h.wfile.write(data)

    def error(self, err: RequestError, headers: dict | None = None):
        self.record.error = err.to_dict()
        self.json(err.status, {"error": err.to_dict()}, headers)

    def start_stream(self):
        self.record.status = 200
        self._head(
            200,
            {
                "Content-Type": "text/event-stream; charset=utf-8",
                "Transfer-Encoding": "chunked",
                "Cache-Control": "no-cache",
            },
        )

    def chunk(self, data: bytes):
        self.h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def event(self, event: dict):
        if self.seq_first:
            event = {"sequence_number": self.seq, "type": event["type"]} | event
        else:
            event = {"type": event["type"], "sequence_number": self.seq} | event
        self.seq += 1
        if event["type"] in ("response.completed", "response.incomplete", "response.failed"):
            self.record.response = event["response"]
        elif event["type"] == "response.output_item.done":
            self.record.done_items.append(event["item"])
        self.chunk(b"event: %s\ndata: %s\n\n" % (event["type"].encode(), orjson.dumps(event)))

    def end_stream(self):
        self.h.wfile.write(b"0\r\n\r\n")


class FakeResponsesAPI:
    """The fake server: ``start()``/``stop()`` or a context manager; ``base_url`` for clients."""

    def __init__(
        self,
        port: int = 0,
        *,
        require_store_false: bool = True,
        latency: float = 0.0,
        registry: ItemRegistry | None = None,
        event_delay: float = 0.0,
        dialect: str = "openai",
        azure: bool = False,
        batch_max_requests: int = BATCH_MAX_REQUESTS,
        batch_max_bytes: int = BATCH_MAX_BYTES,
    ):
        if dialect not in DIALECTS:
            raise ValueError(f"dialect is one of {DIALECTS}, not {dialect!r}")
        self.dialect = dialect
        self.azure = azure  # Azure OpenAI's URL shapes and `api-key` header (base_url is then the endpoint)
        self.require_store_false = require_store_false
        self.latency = latency
        self.event_delay = event_delay
        self.registry = ItemRegistry() if registry is None else registry
        self._port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._queue: collections.deque = collections.deque()  # [reply, times left]
        self._cache: dict[str, int] = {}  # prompt cache key -> input tokens last seen
        self._stopping = threading.Event()
        self.batch_max_requests = batch_max_requests  # settable on a running server too
        self.batch_max_bytes = batch_max_bytes
        self.files: dict[str, StoredFile] = {}
        self.batches: dict[str, _Batch] = {}
        self._plans: collections.deque = collections.deque()
        self.stored: dict[str, StoredResponse] = {}  # responses created with `store: true`, by id
        self._batch_lock = threading.Lock()

    # -- lifecycle

    def start(self) -> FakeResponsesAPI:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self._port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.api = self
        self._stopping.clear()
        # A short poll interval keeps stop() fast.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fakeapi", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()  # ends stalls and latency waits
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> FakeResponsesAPI:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        origin = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        return origin if self.azure else f"{origin}/v1"

    # -- scripting and inspection

    def script(self, *replies) -> FakeResponsesAPI:
        with self._lock:
            for reply in replies:
                self._queue.append([reply, reply.count if isinstance(reply, HttpError) else 1])
        return self

    def script_batch(self, *plans: BatchPlan) -> FakeResponsesAPI:
        """Plans for the next batches created, in order (see BatchPlan)."""
        with self._lock:
            self._plans.extend(plans)
        return self

    def batch(self, batch_id: str) -> dict:
        """The batch object as `GET /batches/{id}` would show it, without advancing it."""
        with self._lock:
            return self.batches[batch_id].to_dict()

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def accepted(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.status is not None and r.error is None]

    @property
    def rejected(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.error is not None]

    def _next_reply(self, kinds: tuple | None = None):
        """The next scripted reply (None: the auto responder); with ``kinds``, only a reply of those
        types (another one stays at the head of the queue)."""
        with self._lock:
            if not self._queue or (kinds and not isinstance(self._queue[0][0], kinds)):
                return None
            head = self._queue[0]
            head[1] -= 1
            if head[1] <= 0:
                self._queue.popleft()
            return head[0]

    # -- answering

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        raw = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        record = RecordedRequest(path=h.path, headers={k.lower(): v for k, v in h.headers.items()}, raw=raw)
        with self._lock:
            self._requests.append(record)
        x = _Exchange(h, record, seq_first=self.dialect == GPT_OSS)
        if self.latency:
            self._stopping.wait(self.latency)
        if self.dialect != GPT_OSS and not self.azure and (route := _route(h.command, record.path)):
            self._serve(h, x, *route)
            return
        if err := self._precheck(h.command, record):
            if isinstance(err, list):  # gpt-oss: FastAPI's 422
                record.error = {"detail": err}
                x.json(422, {"detail": err})
                return
            x.error(err)
            return
        reply = self._next_reply()
        if isinstance(reply, Stall):
            (reply.release or self._stopping).wait(reply.seconds)
            reply = reply.then
        if isinstance(reply, Reset):
            if reply.rst:  # SO_LINGER 0: close() sends a TCP RST
                h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raise _Abort
        self._answer(x, record.body, reply)
        self._keep(record)

    def _precheck(self, method: str, record: RecordedRequest) -> RequestError | list | None:
        if self.azure:
            if err := _azure_precheck(method, record):
                return err
        elif method != "POST" or record.path.split("?")[0].rstrip("/") != "/v1/responses":
            if self.dialect == GPT_OSS:
                return RequestError(404, "Not Found")
            return RequestError(404, f"Invalid URL ({method} {record.path})")
        if self.dialect == GPT_OSS:  # no key checked, nothing about replay: pydantic's models only
            try:
                record.body = orjson.loads(record.raw)
            except orjson.JSONDecodeError:
                return [{"type": "json_invalid", "loc": ["body", 0], "msg": "JSON decode error", "input": {}}]
            return gpt_oss_detail(record.body)
        if not self.azure and (err := _auth_error(record)):
            return err
        if err := _parse_json(record):
            return err
        return self._check_body(record.body)

    def _check_body(self, body) -> RequestError | None:
        """What a parsed `POST /responses` body is answered when it is refused (None: accepted)."""
        if self.require_store_false and isinstance(body, dict) and body.get("store") is not False:
            return RequestError(
                400,
                f"fakeapi: this server requires `store: false` (got store={orjson.dumps(body.get('store')).decode()}"
                f"{'' if 'store' in body else ', i.e. absent: the API default is true'}); respctl must send "
                "`store: false` on every request.",
                "store",
                "fakeapi_store_must_be_false",
            )
        return validate_request(body, self.registry)

    def _answer(self, x: _Exchange, body: dict, reply) -> None:
        if isinstance(reply, Raw):
            x.raw(reply)
            return
        if isinstance(reply, HttpError):
            default_message, default_type = _HTTP_DEFAULTS.get(
                reply.status,
                ("The server returned an error.", "server_error" if reply.status >= 500 else "invalid_request_error"),
            )
            message = (reply.message or default_message).replace(
                "{authorization}", x.record.headers.get("authorization", "")
            )
            err = RequestError(reply.status, message, None, reply.code, reply.type or default_type)
            x.error(err, reply.headers)
            return
        stream = body.get("stream") is True
        if self.dialect == GPT_OSS:
            self._answer_gpt_oss(x, body, reply if isinstance(reply, Turn) else gpt_oss_turn(body), stream)
            return
        if isinstance(reply, (Failed, ErrorEvent, Malformed)):
            self._answer_failure(x, body, reply, stream)
            return
        if isinstance(reply, Turn):
            turn = reply
        elif isinstance(reply, (Cut, NoCompleted, EmptyCompletedOutput)) and reply.turn is not None:
            turn = reply.turn
        else:  # no reply scripted, or a wrapper around what the auto responder says
            turn = auto_turn(body)
        if _item_type((body.get("input") or [{}])[-1]) == "compaction_trigger":
            turn = Turn()  # the answer to a compaction_trigger is the compaction item alone
        r = self._render(body, turn, len(x.record.raw))
        if not stream:
            if isinstance(reply, NoCompleted):
                obj = r.response("in_progress", [o.done for o in r.outputs])
            else:
                obj = _terminal_event(r, turn, isinstance(reply, EmptyCompletedOutput))["response"]
            x.record.response = obj
            self._keep(x.record)  # kept before the client can see it: its next request may ask for it
            x.json(200, obj, cut=isinstance(reply, Cut))
            return
        events = _turn_events(
            r, turn, terminal=not isinstance(reply, NoCompleted), empty_output=isinstance(reply, EmptyCompletedOutput)
        )
        x.start_stream()
        for event in events[: reply.after_events] if isinstance(reply, Cut) else events:
            if event["type"] in ("response.completed", "response.incomplete"):
                x.record.response = event["response"]
                self._keep(x.record)  # kept before the client can see it, as above
            x.event(event)
            if self.event_delay:
                self._stopping.wait(self.event_delay)
        if isinstance(reply, Cut):
            raise _Abort  # no terminating chunk: the client sees the body end mid-stream
        x.end_stream()

    def _answer_gpt_oss(self, x: _Exchange, body: dict, turn: Turn, stream: bool) -> None:
        response_id, created = _oss_id("resp"), int(time.time())
        usage = _oss_usage(body, len(x.record.raw), turn)
        if not stream:
            output = [_oss_item(spec) for spec in turn.items]
            obj = _oss_response(body, response_id, created, "completed", output, usage)
            x.record.response = obj
            x.json(200, obj)
            return
        x.start_stream()
        for event in gpt_oss_events(body, turn, response_id, created, usage):
            x.event(event)
        x.end_stream()

    def _answer_failure(self, x: _Exchange, body: dict, reply, stream: bool) -> None:
        r = self._render(body, Turn(), len(x.record.raw))
        if isinstance(reply, Malformed):
            if not stream:
                x.malformed_json(r.response("completed"))
                return
            x.start_stream()
            for event in _turn_events(r, Turn(), terminal=False)[: reply.after_events]:
                x.event(event)
            x.chunk(b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"oo\n\n')
            x.end_stream()
            return
        error = {"code": reply.code, "message": reply.message}
        failed = r.response("failed", error=error)
        if not stream:
            x.record.response = failed
            x.json(200, failed)
            return
        x.start_stream()
        for event in _turn_events(r, Turn(), terminal=False):
            x.event(event)
        if isinstance(reply, ErrorEvent):
            x.event(
                {
                    "type": "error",
                    "error": {"type": reply.type, "code": reply.code, "message": reply.message, "param": None},
                }
            )
        x.event({"type": "response.failed", "response": failed})
        x.end_stream()

    # -- compaction, files and batches

    def _serve(self, h: BaseHTTPRequestHandler, x: _Exchange, name: str, args: tuple) -> None:
        """The endpoints beside `POST /responses`. They take an HttpError, Raw, Stall or Reset reply
        from the head of the script queue (a Turn there waits for the next `POST /responses`)."""
        if err := _auth_error(x.record):
            x.error(err)
            return
        reply = self._next_reply((HttpError, Raw, Stall, Reset))
        if isinstance(reply, Stall):
            (reply.release or self._stopping).wait(reply.seconds)
            reply = reply.then
        if isinstance(reply, Reset):
            if reply.rst:
                h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raise _Abort
        if isinstance(reply, (HttpError, Raw)):
            self._answer(x, {}, reply)
            return
        if name in ("compact", "create_batch") and (err := _parse_json(x.record)):
            x.error(err)
            return
        getattr(self, "_serve_" + name)(x, *args)

    def _keep(self, record: RecordedRequest) -> None:
        """A response created with `store: true` (the API's default; accepted only with
        require_store_false=False) is kept, with its input, for `GET /responses/{id}` and its input items."""
        body, response = record.body, record.response
        if not isinstance(body, dict) or body.get("store") is False or not isinstance(response, dict):
            return
        if response.get("status") not in ("completed", "incomplete") or not isinstance(response.get("id"), str):
            return
        given = body.get("input")
        given = [{"role": "user", "content": given}] if isinstance(given, str) else given or []
        listed = [_listed_input(item, response["id"], self.registry) for item in given if isinstance(item, dict)]
        with self._lock:  # once: kept as soon as it is answered (a test may then change what is kept)
            self.stored.setdefault(response["id"], StoredResponse(response, listed))

    def _stored(self, x: _Exchange, response_id: str) -> StoredResponse | None:
        with self._lock:
            stored = self.stored.get(response_id)
        if stored is None:
            # The API's text for an id it does not hold (as vLLM's OpenAI-compatible server mirrors it:
            # "Response with id '{id}' not found.", 404, invalid_request_error).
            x.error(RequestError(404, f"Response with id '{response_id}' not found.", "response_id"))
        return stored

    def _serve_stored_response(self, x: _Exchange, response_id: str) -> None:
        """`GET /responses/{id}` (client.responses.retrieve): the response as it was answered. Reasoning
        keeps its encrypted_content only when `include` asks for it now and the request that created the
        response asked for it too (this server keeps nothing it did not send)."""
        stored = self._stored(x, response_id)
        if stored is not None:
            x.json(200, _with_include(stored.response, _query(x.record.path)))

    def _serve_input_items(self, x: _Exchange, response_id: str) -> None:
        """`GET /responses/{id}/input_items` (client.responses.input_items.list): a cursor page,
        ResponseItemList {object: "list", data, first_id, last_id, has_more}; `order` desc (the
        default) or asc, `limit` 1-100 (default 20), `after` an item id of the list. The items are those
        the creating request sent, without the earlier turns of a `previous_response_id` chain: OpenAI's
        reference ("Returns a list of input items for a given response") does not say they are included
        (Alibaba's DashScope documents that its list includes them; respctl copes with both)."""
        stored = self._stored(x, response_id)
        if stored is None:
            return
        query = _query(x.record.path)
        order = (query.get("order") or ["desc"])[-1]
        if order not in ("asc", "desc"):
            x.error(_invalid_value("order", order, ["asc", "desc"]))
            return
        raw_limit = (query.get("limit") or ["20"])[-1]
        try:
            limit = int(raw_limit)
        except ValueError:
            x.error(RequestError(400, f"Invalid 'limit': expected an integer, but got '{raw_limit}' instead.", "limit"))
            return
        if not 1 <= limit <= 100:
            side = (
                "below minimum value. Expected a value >= 1"
                if limit < 1
                else "above maximum value. Expected a value <= 100"
            )
            x.error(RequestError(400, f"Invalid 'limit': integer {side}, but got {limit} instead.", "limit"))
            return
        items = list(stored.input) if order == "asc" else list(reversed(stored.input))
        after = (query.get("after") or [None])[-1]
        if after is not None:
            ids = [item.get("id") for item in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        page = [_with_include({"output": [item]}, query)["output"][0] for item in items[:limit]]
        x.json(
            200,
            {
                "object": "list",
                "data": page,
                "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None,
                "has_more": len(items) > limit,
            },
        )

    def _serve_compact(self, x: _Exchange) -> None:
        """`POST /responses/compact` (client.responses.compact): the input's user messages, then one
        compaction item sealing the rest (CompactedResponse.output: "a list of all user messages,
        followed by a single compaction item"; the user messages as openai-agents-js PR 760 shows
        them: id, type, status, content, role)."""
        body = x.record.body
        if not isinstance(body, dict):
            x.error(
                RequestError(400, f"Invalid type for body: expected an object, but got {_json_kind(body)} instead.")
            )
            return
        for key in body:
            if key not in _COMPACT_PARAMS:
                x.error(_unknown(key))
                return
        if "model" not in body:
            x.error(_missing("model"))
            return
        for key, kind, expected in (
            ("model", str, "a string"),
            ("input", (str, list), "a string or an array of input items"),
            ("instructions", str, "a string"),
            ("previous_response_id", str, "a string"),
            ("prompt_cache_key", str, "a string"),
        ):
            value = body.get(key)
            if (value is not None or key == "model") and not isinstance(value, kind):
                message = f"Invalid type for '{key}': expected {expected}, but got {_json_kind(value)} instead."
                x.error(RequestError(400, message, key, "invalid_type"))
                return
        if body.get("previous_response_id") is not None:
            # Nothing is stored here (store: false): the API's answer to an unknown previous response.
            x.error(
                RequestError(
                    400,
                    f"Previous response with id '{body['previous_response_id']}' not found.",
                    "previous_response_id",
                    "previous_response_not_found",
                )
            )
            return
        items = body.get("input")
        items = [{"role": "user", "content": items}] if isinstance(items, str) else (items or [])
        # The same validation as `POST /responses` (nothing here is persisted: store false).
        if err := validate_request({"model": body["model"], "input": items, "store": False}, self.registry):
            x.error(err)
            return
        response_id = self.registry.new_response_id()
        tokens = rendered_tokens({"input": items}, len(x.record.raw), self.registry.secret)
        output = []
        for item in items:
            if _item_type(item) == "message" and item.get("role") == "user":
                content = item["content"]
                parts = [{"type": "input_text", "text": content}] if isinstance(content, str) else content
                item_id = item.get("id") or self.registry.new_item_id("message", response_id)
                self.registry.register(item_id, IssuedItem("message", response_id, len(output), None))
                output.append(
                    {"id": item_id, "type": "message", "status": "completed", "content": parts, "role": "user"}
                )
        payload = _compaction_payload(
            _compacting(items, tokens, self.registry.secret), [], 0, self.registry.watermark()
        )
        cmp_id = self.registry.new_item_id("compaction", response_id)
        done, _, _ = _compaction_versions(cmp_id, body["model"], self.registry.secret, payload)
        self.registry.register(cmp_id, IssuedItem("compaction", response_id, len(output), None))
        usage = {
            "input_tokens": tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": payload["summary_tokens"],
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": tokens + payload["summary_tokens"],
        }
        obj = {
            "id": response_id,
            "object": "response.compaction",
            "created_at": int(time.time()),
            "output": [*output, done],
            "usage": usage,
        }
        x.record.response = obj
        x.json(200, obj)

    def _serve_upload(self, x: _Exchange) -> None:
        """`POST /files` (client.files.create), multipart: `file` and `purpose`."""
        fields = _multipart(x.record.headers.get("content-type", ""), x.record.raw)
        for key in ("purpose", "file"):
            if key not in fields:
                x.error(_missing(key))
                return
        purpose = fields["purpose"][1].decode("utf-8", "replace")
        filename, data = fields["file"]
        if purpose not in _FILE_PURPOSES:
            x.error(_invalid_value("purpose", purpose, _FILE_PURPOSES))
            return
        if purpose == "batch" and not (filename or "").endswith(".jsonl"):
            # As the API words it (reported by users uploading a .json or .txt batch file).
            x.error(RequestError(400, "Invalid file format for Batch API. Must be .jsonl", "file"))
            return
        if purpose == "batch" and len(data) > self.batch_max_bytes:
            # The limit is documented (200 MB); this wording is the server's.
            message = (
                f"File is too large: {len(data)} bytes; a batch input file can be at most {self.batch_max_bytes} bytes."
            )
            x.error(RequestError(400, message, "file", "file_too_large"))
            return
        stored = StoredFile(_file_id(), filename or "upload", purpose, data)
        with self._lock:
            self.files[stored.id] = stored
        x.json(200, stored.to_dict())

    def _stored_file(self, x: _Exchange, file_id: str, param: str = "id") -> StoredFile | None:
        with self._lock:
            stored = self.files.get(file_id)
        if stored is None:
            x.error(RequestError(404, f"No such File object: {file_id}", param))
        return stored

    def _serve_file(self, x: _Exchange, file_id: str) -> None:
        if stored := self._stored_file(x, file_id):
            x.json(200, stored.to_dict())

    def _serve_file_content(self, x: _Exchange, file_id: str) -> None:
        if stored := self._stored_file(x, file_id):
            x.record.status = 200
            x._head(200, {"Content-Type": "application/octet-stream", "Content-Length": str(len(stored.data))})
            x.h.wfile.write(stored.data)

    def _serve_create_batch(self, x: _Exchange) -> None:
        """`POST /batches` (client.batches.create): answered `validating`; the input file is read on
        the first poll."""
        body = x.record.body
        if not isinstance(body, dict):
            x.error(
                RequestError(400, f"Invalid type for body: expected an object, but got {_json_kind(body)} instead.")
            )
            return
        for key in body:
            if key not in ("input_file_id", "endpoint", "completion_window", "metadata", "output_expires_after"):
                x.error(_unknown(key))
                return
        for key in ("input_file_id", "endpoint", "completion_window"):
            if key not in body:
                x.error(_missing(key))
                return
        if body["endpoint"] not in _BATCH_ENDPOINTS:
            x.error(_invalid_value("endpoint", str(body["endpoint"]), _BATCH_ENDPOINTS))
            return
        if body["endpoint"] != "/v1/responses":
            x.error(RequestError(400, "fakeapi: this server runs batches of /v1/responses only.", "endpoint"))
            return
        if body["completion_window"] != "24h":
            x.error(_invalid_value("completion_window", str(body["completion_window"]), ["24h"]))
            return
        metadata = body.get("metadata")
        if metadata is not None and (
            not isinstance(metadata, dict)
            or len(metadata) > 16
            or any(not isinstance(v, str) or len(k) > 64 or len(v) > 512 for k, v in metadata.items())
        ):
            # Metadata: "Set of 16 key-value pairs ... Keys ... 64 characters. Values ... 512 characters."
            x.error(
                RequestError(
                    400,
                    "Invalid 'metadata': at most 16 string pairs (keys <= 64, values <= 512 characters).",
                    "metadata",
                    "invalid_value",
                )
            )
            return
        stored = self._stored_file(x, str(body["input_file_id"]), "input_file_id")
        if stored is None:
            return
        if stored.purpose != "batch":
            message = (
                f"The file {stored.id} has purpose '{stored.purpose}'; a batch input file must have purpose 'batch'."
            )
            x.error(RequestError(400, message, "input_file_id", "invalid_value"))
            return
        with self._lock:
            plan = self._plans.popleft() if self._plans else BatchPlan()
            batch = _Batch(_batch_id(), stored.id, body["endpoint"], metadata, plan, waiting=plan.hold)
            self.batches[batch.id] = batch
            obj = batch.to_dict()
        x.json(200, obj)

    def _serve_list_batches(self, x: _Exchange) -> None:
        with self._lock:
            data = [b.to_dict() for b in reversed(self.batches.values())]
        first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
        x.json(200, {"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": False})

    def _known_batch(self, x: _Exchange, batch_id: str) -> _Batch | None:
        with self._lock:
            batch = self.batches.get(batch_id)
        if batch is None:
            x.error(RequestError(404, f"No batch found with id '{batch_id}'.", "batch_id"))
        return batch

    def _serve_batch(self, x: _Exchange, batch_id: str) -> None:
        """`GET /batches/{id}` (client.batches.retrieve): each poll advances the batch one step."""
        if self._known_batch(x, batch_id):
            x.json(200, self.advance_batch(batch_id))

    def _serve_cancel_batch(self, x: _Exchange, batch_id: str) -> None:
        """`POST /batches/{id}/cancel`: cancelling now, cancelled at the next poll (after `hold`)."""
        batch = self._known_batch(x, batch_id)
        if batch is None:
            return
        with self._lock:
            if batch.status in ("validating", "in_progress", "finalizing"):
                batch.status, batch.waiting = "cancelling", batch.plan.hold
                batch.at["cancelling"] = int(time.time())
            elif batch.status != "cancelling":
                # The API's wording of this refusal has not been observed.
                message = f"Cannot cancel a batch with status '{batch.status}'."
                x.error(RequestError(400, message, None, "batch_not_cancellable"))
                return
            obj = batch.to_dict()
        x.json(200, obj)

    def advance_batch(self, batch_id: str) -> dict:
        """Move a batch one step on, as a poll does (for tests that drive it without HTTP)."""
        with self._batch_lock:  # one poll at a time moves a batch (its requests run outside self._lock)
            return self._advance_batch(batch_id)

    def _advance_batch(self, batch_id: str) -> dict:
        with self._lock:
            batch = self.batches[batch_id]
            if batch.status in ("completed", "failed", "expired", "cancelled"):
                return batch.to_dict()
            if batch.waiting > 0 and batch.status != "in_progress":
                batch.waiting -= 1
                return batch.to_dict()
        now = int(time.time())
        if batch.status == "validating":
            with self._lock:
                data = self.files[batch.input_file_id].data
            requests, errors = _validate_batch_input(data, batch.endpoint, self.batch_max_requests)
            errors = batch.plan.fail_validation if batch.plan.fail_validation is not None else errors
            with self._lock:
                if errors:
                    batch.status, batch.errors = "failed", errors
                    batch.at["failed"] = now
                else:
                    batch.status, batch.requests = "in_progress", requests
                    batch.model = requests[0][2].get("model") if requests else None
                    batch.at["in_progress"] = now
                return batch.to_dict()
        if batch.status == "in_progress":
            step = -(-len(batch.requests) // (batch.plan.hold + 1)) or 1
            limit = len(batch.requests) if batch.plan.expire_after is None else batch.plan.expire_after
            for _ in range(step):
                if batch.status != "in_progress" or batch.done >= min(limit, len(batch.requests)):
                    break
                self._run_batch_request(batch, batch.done)
            with self._lock:
                if batch.status == "in_progress" and batch.done >= limit and batch.done < len(batch.requests):
                    self._close_batch(batch, "expired", "batch_expired")
                elif batch.status == "in_progress" and batch.done >= len(batch.requests):
                    batch.status, batch.waiting = "finalizing", batch.plan.hold
                    batch.at["finalizing"] = now
                return batch.to_dict()
        with self._lock:
            if batch.status == "finalizing":
                self._close_batch(batch, "completed", None)
            elif batch.status == "cancelling":
                self._close_batch(batch, "cancelled", "batch_cancelled")
            return batch.to_dict()

    def _close_batch(self, batch: _Batch, status: str, leftover: str | None) -> None:
        """End a batch (under the lock): the requests not run get `leftover`'s error line, the output
        and error files are written (each only when it has lines), named as the API names them."""
        for _, custom_id, _ in batch.requests[batch.done :] if leftover else ():
            batch.failures.append(
                {
                    "id": _batch_id("batch_req"),
                    "custom_id": custom_id,
                    "response": None,
                    "error": {"code": leftover, "message": _REQUEST_ERRORS[leftover]},
                }
            )
        for lines, kind in ((batch.outputs, "output"), (batch.failures, "error")):
            if not lines:
                continue
            ordered = list(reversed(lines)) if batch.plan.reverse_output else lines
            data = b"".join(orjson.dumps(line) + b"\n" for line in ordered)
            stored = StoredFile(_file_id(), f"{batch.id}_{kind}.jsonl", "batch_output", data)
            self.files[stored.id] = stored
            setattr(batch, f"{kind}_file_id", stored.id)
        batch.status = status
        batch.at[status] = int(time.time())

    def _run_batch_request(self, batch: _Batch, index: int) -> None:
        """One request of the batch through the same handler as a non-streamed `POST /responses`
        (validation, scripted replies, auto responder), recorded in ``api.requests``."""
        _, custom_id, body = batch.requests[index]
        raw = orjson.dumps(body)
        headers = {"x-fakeapi-batch-id": batch.id, "x-fakeapi-custom-id": custom_id}
        record = RecordedRequest(path="/v1/responses", headers=headers, raw=raw, body=body)
        with self._lock:
            self._requests.append(record)
        x = _BatchExchange(record)
        failure = batch.plan.fail.get(index, batch.plan.fail.get(custom_id))
        if isinstance(failure, str):  # a failure outside HTTP: `error` set, no response
            line = {"response": None, "error": {"code": failure, "message": _REQUEST_ERRORS.get(failure, failure)}}
        else:
            if isinstance(failure, HttpError):
                self._answer(x, body, failure)  # type: ignore[arg-type]
            elif body.get("stream") is True:
                x.error(RequestError(400, "fakeapi: a batch request cannot be streamed.", "stream"))
            elif err := self._check_body(body):
                x.error(err)
            else:
                reply = self._next_reply()
                if isinstance(reply, Stall):
                    reply = reply.then
                if isinstance(reply, Reset):
                    reply = HttpError(500)
                self._answer(x, body, reply)  # type: ignore[arg-type]
            # A request the API refused is a line of the error file with its HTTP answer in
            # `response` and `error` null (openai/openai-openapi issue 302: a 400 in the error file).
            response = {"status_code": x.status, "request_id": secrets.token_hex(16), "body": x.obj}
            line = {"response": response, "error": None}
        line = {"id": _batch_id("batch_req"), "custom_id": custom_id, **line}
        with self._lock:
            batch.done += 1
            if line["error"] is None and x.status == 200:
                batch.outputs.append(line)
                usage = x.obj.get("usage") or {}
                for key in ("input_tokens", "output_tokens", "total_tokens"):
                    batch.usage[key] += usage.get(key) or 0
                batch.usage["input_tokens_details"]["cached_tokens"] += (usage.get("input_tokens_details") or {}).get(
                    "cached_tokens", 0
                )
                batch.usage["output_tokens_details"]["reasoning_tokens"] += (
                    usage.get("output_tokens_details") or {}
                ).get("reasoning_tokens", 0)
            else:
                batch.failures.append(line)

    def _render(self, body: dict, turn: Turn, raw_size: int) -> _Rendered:
        # About 4 bytes of JSON per token (a compaction item: the summary it stands for, see
        # rendered_tokens); a repeated prompt cache key finds the previous request's tokens cached,
        # in blocks of 128 from 1024 on, as the real API reports.
        input_tokens = rendered_tokens(body, raw_size, self.registry.secret)
        key = body.get("prompt_cache_key") or body["model"]
        with self._lock:
            previous = self._cache.get(key, 0)
            self._cache[key] = input_tokens
        cached = min(previous, input_tokens) // 128 * 128 if input_tokens >= 1024 else 0
        items = body.get("input") if isinstance(body.get("input"), list) else []
        compacting = None
        if items and _item_type(items[-1]) == "compaction_trigger":
            compacting = _compacting(items, input_tokens, self.registry.secret, trigger=True)
        elif turn.status == "completed" and turn.items:
            threshold = compact_threshold(body)
            due = threshold is not None and input_tokens >= threshold
            if turn.compact if turn.compact is not None else due:
                compacting = _compacting(items, input_tokens, self.registry.secret)
        return _render(body, turn, self.registry, input_tokens, cached, compacting)


def _auth_error(record: RecordedRequest) -> RequestError | None:
    if record.headers.get("authorization", "").startswith("Bearer "):
        return None
    return RequestError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header "
        "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    )


def _parse_json(record: RecordedRequest) -> RequestError | None:
    try:
        record.body = orjson.loads(record.raw)
    except orjson.JSONDecodeError:
        return RequestError(
            400,
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
            "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
        )
    return None


def _azure_precheck(method: str, record: RecordedRequest) -> RequestError | None:
    """Azure OpenAI: POST {endpoint}/openai/responses?api-version=... with the key in `api-key`,
    or the v1 API, {endpoint}/openai/v1/responses (`api-key`, or the key as a Bearer token)."""
    path, _, query = record.path.partition("?")
    versions = [v for k, v in (p.partition("=")[::2] for p in query.split("&") if p) if k == "api-version"]
    key = record.headers.get("api-key") or ""
    if method == "POST" and path == "/openai/responses":
        if not versions:
            return RequestError(404, "Resource not found", None, "404")
    elif method == "POST" and path == "/openai/v1/responses":
        if record.headers.get("authorization", "").startswith("Bearer "):
            key = key or record.headers["authorization"][7:]
    else:
        return RequestError(404, "Resource not found", None, "404")
    if not key:
        return RequestError(
            401,
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
            "for an active subscription and use a correct regional API endpoint for your resource.",
            None,
            "401",
        )
    return None


# --------------------------------------------------------------------------- command line


def serve(argv: list[str] | None = None) -> FakeResponsesAPI:
    """Start the server the command line describes (and return it, started)."""
    parser = argparse.ArgumentParser(description="Serve a fake OpenAI Responses API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any free port)")
    parser.add_argument(
        "--auto", action="store_true", help="answer with the auto responder (the default and only mode here)"
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to wait before each answer")
    parser.add_argument("--dialect", choices=DIALECTS, default="openai", help="answer as this server does")
    parser.add_argument(
        "--azure",
        action="store_true",
        help="serve Azure OpenAI's URL shapes and `api-key` header; the URL printed is the endpoint "
        "(AZURE_OPENAI_ENDPOINT; add /openai/v1/ for the v1 API)",
    )
    args = parser.parse_args(argv)
    _schemas()  # pay the openai import before announcing the URL, not on the first request
    return FakeResponsesAPI(args.port, latency=args.latency, dialect=args.dialect, azure=args.azure).start()


def main(argv: list[str] | None = None) -> None:
    api = serve(argv)
    print(api.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        api.stop()


if __name__ == "__main__":
    main()
