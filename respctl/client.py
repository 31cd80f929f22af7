"""The only module that imports openai: send one request, read the raw response.

The body is sent as bytes (built from the file's lines), and the response is read raw:
each output item is taken from the JSON of `response.output_item.done` (or the response
body when not streaming), never from the SDK's typed models or from `output_item.added`,
whose encrypted reasoning is truncated.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx2
import openai
import orjson

from respctl import DEFAULT_TIMEOUT, apierror
from respctl.callbacks import Callbacks
from respctl.errors import ApiError, UsageError
from respctl.items import message_text
from respctl.output import redact_url
from respctl.request import Connection

#: The most one answer may bring: bytes of the response body, a stream's events included. The API's
#: own limits are far below (128k output tokens; an image generation result of a few MB).
MAX_ANSWER_BYTES = 64 * 1024 * 1024


@dataclass
class RawResponse:
    """What a turn needs from the API's answer."""

    status: str
    output: list[dict]
    usage: dict | None = None
    response_id: str | None = None


class _RetryWatch(logging.Handler):
    """Hears the SDK's own log of its retries (it has no hook for them): the reason it logs
    first ("Encountered an HTTP status error: 500"), then "Retrying request in S seconds (retry N
    of M)". Should the SDK word these differently one day, retries just go unreported."""

    def __init__(self, callback: Callable[[str, float, int, int], None]):
        super().__init__(logging.DEBUG)
        self.callback = callback
        self.why = "the request failed"

    def emit(self, record: logging.LogRecord) -> None:
        msg, args = record.msg, record.args
        if not isinstance(msg, str) or not isinstance(args, tuple):
            return
        if msg.startswith("Encountered an HTTP status error") and args:
            self.why = f"HTTP {args[0]}"
        elif msg.startswith("Encountered a timeout exception"):
            self.why = "no answer within --timeout"
        elif msg.startswith("Encountered exception"):
            self.why = "the connection failed"
        elif msg.startswith("Retrying request in") and len(args) == 3:
            wait, number, allowed = args
            if isinstance(wait, (int, float)) and isinstance(number, int) and isinstance(allowed, int):
                self.callback(self.why, float(wait), number, allowed)


@contextmanager
def _watching_retries(callback):
    logger = logging.getLogger("openai._base_client")
    handler = _RetryWatch(callback)
    level = logger.level
    if logger.getEffectiveLevel() > logging.DEBUG:
        logger.setLevel(logging.DEBUG)  # records below WARNING reach no other handler (none is set up)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def send(body: bytes, conn: Connection, *, stream: bool, callbacks: Callbacks | None = None) -> RawResponse:
    """POST /responses with `body`; return the response, or raise ApiError with one clear line."""
    callbacks = callbacks or Callbacks()
    client = _client(conn)
    url = redact_url(str(client.base_url).rstrip("/")) + "/responses"
    callbacks.detail(f"POST {url}: {len(body):,} bytes, {'streamed' if stream else 'not streamed'}")
    began = time.monotonic()
    try:
        with _watching_retries(callbacks.retry):
            return _send(client, conn, body, stream, callbacks)
    finally:
        callbacks.detail(f"the API took {time.monotonic() - began:.2f}s")


def _send(client: openai.OpenAI, conn: Connection, body: bytes, stream: bool, callbacks: Callbacks) -> RawResponse:
    with _api_errors(client, conn):
        response = client.post(
            "/responses",
            cast_to=httpx2.Response,
            content=body,
            options={
                "headers": {
                    "Content-Type": "application/json",
                    "Accept": "text/event-stream" if stream else "application/json",
                }
            },
            stream=stream,
        )
        if not stream:
            return _from_body(_json(response.read()))
        try:
            kind = _media_type(response)
            if kind == "application/json" or kind.endswith("+json"):  # a server that does not stream
                return _shown(_from_body(_json(response.read())), callbacks)
            if kind not in ("", "text/event-stream"):  # no Content-Type at all: read it as events
                raise ApiError(f"the server answered {kind}, not an event stream (try --no-stream)")
            return _from_events(_sse_events(response), callbacks)
        finally:
            response.close()


@contextmanager
def _api_errors(client: openai.OpenAI, conn: Connection) -> Iterator[None]:
    """The SDK's and the HTTP library's exceptions as ApiError, one clear line each."""
    try:
        yield
    except openai.APIStatusError as exc:
        text = _body_text(exc)
        line = apierror.status_line(exc.status_code, text, exc.response.headers.get("content-type"))
        raise ApiError(line, detail=text, kind="http", http_status=exc.status_code) from None
    except openai.APITimeoutError:
        raise ApiError(f"request timed out after {_retries(conn)} (--timeout, --max-retries)", kind="timeout") from None
    except openai.APIConnectionError as exc:
        raise ApiError(
            f"connection to the API at {redact_url(str(client.base_url).rstrip('/'))} failed: {_cause(exc)}",
            kind="connection",
        ) from None
    except httpx2.TimeoutException:
        raise ApiError("the response stream timed out (--timeout)", kind="timeout") from None
    except httpx2.HTTPError as exc:
        raise ApiError(f"the response stream broke off: {_cause(exc)}", kind="stream") from None


def compact(body: bytes, conn: Connection, *, callbacks: Callbacks | None = None) -> dict:
    """POST /responses/compact (client.responses.compact) with `body`; the answer's raw JSON (the SDK's
    model reads the user messages in its output as assistant output messages), or ApiError."""
    callbacks = callbacks or Callbacks()
    client = _client(conn)
    url = redact_url(str(client.base_url).rstrip("/")) + "/responses/compact"
    callbacks.detail(f"POST {url}: {len(body):,} bytes")
    with _watching_retries(callbacks.retry), _api_errors(client, conn):
        response = client.post(
            "/responses/compact",
            cast_to=httpx2.Response,
            content=body,
            options={"headers": {"Content-Type": "application/json", "Accept": "application/json"}},
        )
        answer = _json(response.read())
    if not isinstance(answer.get("output"), list):
        raise ApiError("the server answered the compaction without an output list")
    return answer


#: Input items asked for per page (the API's most), and the most pages followed: a server whose
#: `has_more` never ends must not hold respctl forever.
_PAGE = 100
_MAX_PAGES = 10_000


#: The most responses a `previous_response_id` chain is followed through.
MAX_CHAIN = 1_000


def fetch_stored(
    response_id: str, conn: Connection, *, callbacks: Callbacks | None = None
) -> list[tuple[dict, list[dict]]]:
    """A stored response and the responses it continued (`previous_response_id`), oldest first, each as
    (the response, all of its input items), raw JSON: `GET /responses/{id}` asking for encrypted
    reasoning, and `GET /responses/{id}/input_items`, every page, `order=asc` (oldest first).

    The API documents input items as "the items used to generate this response" without saying whether
    a continued response's list holds the earlier turns (OpenAI's reference is silent; Alibaba's
    DashScope documents that its list does). So the chain is followed here: each previous response is
    fetched, and the walk stops at one already covered, whose output items (by id) are among the input
    items already fetched, so no turn is taken twice whichever way the server lists them."""
    callbacks = callbacks or Callbacks()
    client = _client(conn)
    base = redact_url(str(client.base_url).rstrip("/"))
    include = {"include": ["reasoning.encrypted_content"]}
    chain: list[tuple[dict, list[dict]]] = []
    seen_ids: set[str] = set()  # the ids of the input items fetched so far
    with _watching_retries(callbacks.retry), _api_errors(client, conn):
        next_id: str | None = response_id
        while next_id is not None and len(chain) < MAX_CHAIN:
            callbacks.detail(f"GET {base}/responses/{next_id}")
            response = _json(
                client.get(f"/responses/{next_id}", cast_to=httpx2.Response, options={"params": include}).read()
            )
            output_ids = [i.get("id") for i in response.get("output") or [] if isinstance(i, dict)]
            if chain and output_ids and all(isinstance(i, str) and i in seen_ids for i in output_ids):
                break  # the later responses' input items already hold this one
            items = _input_items(client, base, next_id, include, callbacks)
            chain.insert(0, (response, items))
            seen_ids.update(i["id"] for i in items if isinstance(i.get("id"), str))
            previous = response.get("previous_response_id")
            next_id = (
                previous if isinstance(previous, str) and previous not in {r.get("id") for r, _ in chain} else None
            )
        else:
            if next_id is not None:
                raise ApiError(f"the chain of previous responses is longer than {MAX_CHAIN:,}; stopped")
    return chain


def _input_items(client: openai.OpenAI, base: str, response_id: str, include: dict, callbacks: Callbacks) -> list[dict]:
    items: list[dict] = []
    after: str | None = None
    for _page in range(_MAX_PAGES):
        params: dict = {"order": "asc", "limit": _PAGE, **include}
        if after is not None:
            params["after"] = after
        callbacks.detail(f"GET {base}/responses/{response_id}/input_items ({len(items)} items so far)")
        page = _json(
            client.get(
                f"/responses/{response_id}/input_items", cast_to=httpx2.Response, options={"params": params}
            ).read()
        )
        data = page.get("data")
        if not isinstance(data, list):
            raise ApiError("the API answered the input items with a list object that has no data list")
        items += [item for item in data if isinstance(item, dict)]
        last = page.get("last_id") if isinstance(page.get("last_id"), str) else None
        if not page.get("has_more") or not data or last is None or last == after:
            return items
        after = last
    raise ApiError(f"the API listed more than {_MAX_PAGES * _PAGE:,} input items; stopped")


def _client(conn: Connection, cap: int = MAX_ANSWER_BYTES) -> openai.OpenAI:
    key_name = "AZURE_OPENAI_API_KEY" if conn.azure else "OPENAI_API_KEY"
    if not conn.api_key:
        raise UsageError(f"{key_name} is not set")
    if not (conn.api_key.isascii() and conn.api_key.isprintable()) or any(c.isspace() for c in conn.api_key):
        # an HTTP header cannot carry it, and the HTTP library's error would quote it
        raise UsageError(
            f"{key_name} holds a space, a control character (a stray newline?) or a non-ASCII character; "
            "the key itself is not shown"
        )
    guard = _GuardedClient(_timeout(conn), cap)
    kwargs: dict = {"api_key": conn.api_key, "timeout": _timeout(conn), "http_client": guard}
    if conn.max_retries is not None:
        kwargs["max_retries"] = conn.max_retries
    try:
        if conn.azure:
            client = _azure_client(conn, kwargs)
        else:
            if conn.base_url:
                kwargs["base_url"] = conn.base_url
            client = openai.OpenAI(**kwargs)
        guard.origin = _origin(client.base_url)  # where the SDK sends (it may read OPENAI_BASE_URL itself)
    except httpx2.InvalidURL:  # its text quotes a piece of the URL, a password's perhaps: not shown
        raise UsageError(
            "not a valid API URL (--base-url, OPENAI_BASE_URL); it is not shown: it may hold a password"
        ) from None
    return client


def _timeout(conn: Connection) -> float:
    return DEFAULT_TIMEOUT if conn.timeout is None else conn.timeout


def _origin(url: httpx2.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or {"http": 80, "https": 443}.get(url.scheme)


class _GuardedClient(openai.DefaultHttpxClient):
    """The HTTP client under the SDK (its retries and error mapping stay the SDK's). Each attempt:
    - must finish within `timeout` seconds, answer included: a deadline, not a per-read timeout, so
      keep-alive comments or a body trickling in cannot hold respctl (SIGALRM in the main thread);
    - may bring at most MAX_ANSWER_BYTES, read in pieces (nothing larger is ever held);
    - never leaves the configured origin: a redirect elsewhere would carry the conversation."""

    origin: tuple[str, str, int | None] = ("", "", None)

    def __init__(self, timeout: float, cap: int = MAX_ANSWER_BYTES):
        super().__init__(timeout=timeout)
        self.attempt_timeout, self.cap = timeout, cap
        self.event_hooks = {"request": [self._same_origin], "response": []}

    def _same_origin(self, request: httpx2.Request) -> None:
        if _origin(request.url) != self.origin:
            scheme, host, port = self.origin
            raise ApiError(
                f"the API at {scheme}://{host}:{port} redirected the request to {redact_url(str(request.url))}; "
                "not followed (a conversation is never sent to another origin)"
            )

    def send(self, request: httpx2.Request, *, stream: bool = False, **kwargs) -> httpx2.Response:
        deadline = _Deadline(self.attempt_timeout)
        try:
            response = super().send(request, stream=True, **kwargs)
        except BaseException:
            deadline.cancel()
            raise
        response.stream = _Bounded(response.stream, deadline, self.cap)
        if not stream:
            try:
                response.read()
            except BaseException:
                response.close()
                raise
        return response


class _Deadline:
    """Raise httpx2.ReadTimeout in the main thread `seconds` from now, unless cancelled first."""

    def __init__(self, seconds: float):
        self.armed = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
        if self.armed:
            self.previous = signal.signal(signal.SIGALRM, self._expire)
            signal.setitimer(signal.ITIMER_REAL, seconds)

    def _expire(self, _signum, _frame) -> None:
        self.cancel()
        raise httpx2.ReadTimeout("the attempt passed its deadline (--timeout)")

    def cancel(self) -> None:
        if self.armed:
            self.armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)


class _Bounded(httpx2.SyncByteStream):
    """A response body read under the attempt's deadline and the cap on one answer."""

    def __init__(self, inner, deadline: _Deadline, cap: int = MAX_ANSWER_BYTES):
        self.inner, self.deadline, self.size, self.cap = inner, deadline, 0, cap

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self.inner:
                self.size += len(chunk)
                if self.size > self.cap:
                    raise ApiError(
                        f"the answer is larger than {self.cap // 2**20} MB, the cap on one answer; nothing was written"
                    )
                yield chunk
        finally:
            self.deadline.cancel()

    def close(self) -> None:
        self.deadline.cancel()
        self.inner.close()


def _azure_client(conn: Connection, kwargs: dict) -> openai.OpenAI:
    """Azure OpenAI as the SDK reaches it. The v1 API (an endpoint ending in /openai/v1) is the
    OpenAI API at another address: the plain client, no api-version (Azure's own examples).
    Otherwise AzureOpenAI: POST {endpoint}/openai/responses?api-version=..., the key in `api-key`,
    the deployment name as the model."""
    endpoint = str(conn.base_url)
    path = urlsplit(endpoint).path.rstrip("/")
    if path.endswith("/openai/v1"):
        return openai.OpenAI(base_url=endpoint.rstrip("/") + "/", **kwargs)
    if not conn.api_version:
        raise UsageError(
            "OPENAI_API_VERSION is not set: Azure OpenAI needs an api-version for the Responses API "
            "(2025-03-01-preview or later), or use the v1 endpoint (https://RESOURCE.openai.azure.com/openai/v1/)"
        )
    if path in ("", "/"):
        return openai.AzureOpenAI(azure_endpoint=endpoint, api_version=conn.api_version, **kwargs)
    return openai.AzureOpenAI(base_url=endpoint, api_version=conn.api_version, **kwargs)


def _retries(conn: Connection) -> str:
    n = 2 if conn.max_retries is None else conn.max_retries
    return f"{n} retr{'y' if n == 1 else 'ies'}"


def _cause(exc: BaseException) -> str:
    inner = exc.__cause__ or exc.__context__
    text = str(inner or exc) or type(inner or exc).__name__
    return text.splitlines()[0] if text else type(exc).__name__


def _shown(resp: RawResponse, cb: Callbacks) -> RawResponse:
    """A whole response where a stream was asked for: its text goes where streamed text would."""
    cb.text("\n\n".join(filter(None, (message_text(item) for item in resp.output if item.get("type") == "message"))))
    return resp


def _media_type(response: httpx2.Response) -> str:
    """`text/event-stream` from `text/event-stream; charset=utf-8`: the server's word, made safe to quote."""
    kind = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    return kind if kind.isascii() and kind.isprintable() and len(kind) <= 100 else "an unknown content type"


def _body_text(exc: openai.APIStatusError) -> str:
    try:
        return exc.response.text
    except httpx2.ResponseNotRead:  # a streamed request's body, not read: what the SDK parsed from it
        body = exc.body
        return body if isinstance(body, str) else "" if body is None else orjson.dumps(body).decode()


#: orjson reads JSON nested up to 1,024 levels; so does every reader of the file (a deeper item kept
#: there would make the whole conversation unreadable).
_TOO_DEEP = "nested deeper than 1,024 levels, the most respctl reads; it was not added to the file"


def _too_deep(exc: orjson.JSONDecodeError, data: bytes, what: str) -> ApiError | None:
    if not str(exc).startswith("depth limit"):
        return None
    error = ApiError(f"{what} {_TOO_DEEP}")
    error.raw = data  # the turn saves it beside the file: what was paid for is not dropped
    return error


def _json(data: bytes) -> dict:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise _too_deep(exc, data, "the API answered with JSON") or ApiError(
            "the API answered with a body that is not JSON"
        ) from None
    if not isinstance(value, dict):
        raise ApiError("the API answered with JSON that is not a response object")
    return value


def response_from_body(resp: dict) -> RawResponse:
    """A response object (a non-streamed answer's body, a batch result's `response.body`) as a turn
    records it; ApiError for one that failed or did not end."""
    return _from_body(resp)


def _from_body(resp: dict) -> RawResponse:
    status = resp.get("status") or "completed"
    if status == "failed":
        raise ApiError(f"the response failed: {_error_text(resp.get('error'))}")
    if status not in ("completed", "incomplete"):
        raise ApiError(f"the response ended before it was complete (status {status!r})")
    output = resp.get("output")
    if not isinstance(output, list):
        raise ApiError("the API answered with a response that has no output list")
    return RawResponse(
        status=status,
        output=[item for item in output if isinstance(item, dict)],
        usage=resp.get("usage"),
        response_id=resp.get("id"),
    )


def _error_text(error) -> str:
    if isinstance(error, dict):
        code = error.get("code")
        message = error.get("message") or "no message"
        return f"{message} ({code})" if code else message
    return str(error) if error else "no reason given"


def _sse_events(response: httpx2.Response) -> Iterator[dict]:
    """Parse the SSE stream into event dicts: only `data:` lines matter, events end at a blank line."""
    data: list[str] = []
    for line in response.iter_lines():
        if line == "":
            if data:
                yield _event(data)
                data = []
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" ") if line[5:6] == " " else line[5:])
    if data:
        yield _event(data)


def _event(data: list[str]) -> dict:
    text = "\n".join(data)
    if text == "[DONE]":
        return {"type": "[DONE]"}
    try:
        event = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise _too_deep(exc, text.encode(), "the API sent an event") or ApiError(
            "the API sent a malformed event (not JSON) in the stream", kind="stream"
        ) from None
    if not isinstance(event, dict):
        raise ApiError("the API sent a malformed event (not an object) in the stream", kind="stream")
    return event


def _from_events(events: Iterator[dict], cb: Callbacks) -> RawResponse:
    done: list[tuple[object, dict]] = []  # (output_index, item) in arrival order
    summary_started = text_started = False
    for event in events:
        kind = event.get("type")
        if kind == "response.output_text.delta":
            cb.text(event.get("delta", ""))
            text_started = True
        elif (
            kind == "response.output_item.added" and text_started and (event.get("item") or {}).get("type") == "message"
        ):
            cb.text("\n\n")  # a second message (commentary, then final answer) starts a new paragraph
        elif kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            # raw reasoning (gpt-oss and other open-weight servers) is shown the way summaries are
            summary_started = True
            cb.reasoning(event.get("delta", ""))
        elif kind in ("response.reasoning_summary_part.done", "response.reasoning_text.done") and summary_started:
            cb.reasoning_break()
        elif kind == "response.output_item.done":
            item = event.get("item")
            if isinstance(item, dict):
                done.append((event.get("output_index"), item))
        elif kind in ("response.completed", "response.incomplete"):
            final = _from_body(event.get("response") or {"output": []})
            if done:  # some backends send `output: []` here although the items streamed
                final.output = _in_order(done)
            return final
        elif kind == "response.failed":
            raise ApiError(f"the response failed: {_error_text((event.get('response') or {}).get('error'))}")
        elif kind == "error":
            raise ApiError(f"the API sent an error event: {_error_text(event.get('error') or event)}")
    raise ApiError("the response stream ended before the response was complete", kind="stream")


def _in_order(done: list[tuple[object, dict]]) -> list[dict]:
    """The streamed items by output_index when every one has its own (the OpenAI API's items may
    finish out of order), else as they arrived (gpt-oss sends -1, or repeats an index)."""
    indexed = [(i, item) for i, item in done if type(i) is int and i >= 0]
    if len(indexed) == len(done) and len({i for i, _item in indexed}) == len(indexed):
        return [item for _i, item in sorted(indexed, key=lambda pair: pair[0])]
    return [item for _i, item in done]


# -- the Files and Batch APIs, for `respctl batch` (respctl/batch.py)

#: The most a batch's output or error file may hold: the Batch API takes input files of up to 200 MB
#: (BatchCreateParams.input_file_id) and each answer may be up to MAX_ANSWER_BYTES.
MAX_BATCH_FILE_BYTES = 4 * 2**30


def upload_batch_input(conn: Connection, name: str, data: bytes) -> str:
    """POST /files (purpose batch): the requests of a batch, one JSON line each; returns the file id."""
    client = _client(conn)
    with _api_errors(client, conn):
        return client.files.create(file=(name, data, "application/jsonl"), purpose="batch").id


def create_batch(conn: Connection, input_file_id: str, metadata: dict[str, str]) -> dict:
    """POST /batches: the batch of /v1/responses requests in `input_file_id`, to run within 24 hours."""
    client = _client(conn)
    with _api_errors(client, conn):
        batch = client.batches.create(
            input_file_id=input_file_id, endpoint="/v1/responses", completion_window="24h", metadata=metadata
        )
    return batch.model_dump(mode="json")


def retrieve_batch(conn: Connection, batch_id: str) -> dict:
    """GET /batches/{id}: the batch object as the API sends it (parsed, no field added)."""
    return orjson.loads(retrieve_batch_raw(conn, batch_id))


def retrieve_batch_raw(conn: Connection, batch_id: str) -> bytes:
    """GET /batches/{id}: the body as the API sends it (the SDK's model would add a null for every
    field the server left out)."""
    client = _client(conn)
    with _api_errors(client, conn):
        body = client.batches.with_raw_response.retrieve(batch_id).content
    try:
        if isinstance(orjson.loads(body), dict):
            return body
    except orjson.JSONDecodeError:
        pass
    raise ApiError(f"the API's answer to GET /batches/{batch_id} is not a JSON object")


def file_content(conn: Connection, file_id: str) -> bytes:
    """GET /files/{id}/content: a batch's output or error file, whole."""
    client = _client(conn, cap=MAX_BATCH_FILE_BYTES)
    with _api_errors(client, conn):
        return client.files.content(file_id).content
