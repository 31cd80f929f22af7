"""The request body of a turn, built from the lines already on disk.

The input array is the file's own lines joined with commas, so the history is never
re-serialized: what the API receives is byte for byte what the file holds.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from respctl.errors import BadFileError, UsageError

#: OpenAI's models that do not reason (gpt-4.1, gpt-4o, gpt-5-chat): the API refuses them
#: `include: ["reasoning.encrypted_content"]` ("Encrypted content is not supported with this model.",
#: param `include`) and reasoning options ("Unsupported parameter: 'reasoning.effort' is not supported
#: with this model."). A request rule, not a lint rule: the file holds no model name.
_NON_REASONING = re.compile(r"^(gpt-4|gpt-3\.5|chatgpt-)|-chat(-|$)")


def is_reasoning_model(model: str) -> bool:
    return not _NON_REASONING.search(model.rsplit("/", 1)[-1].lower())


@dataclass
class RequestOptions:
    """Everything a turn sends besides the input; one per invocation, never stored."""

    model: str | None = None
    tools: list | None = None
    effort: str | None = None
    summary: str | None = None
    max_output_tokens: int | None = None
    text_format: dict | None = None
    reasoning_context: str | None = None
    stream: bool = False
    compact_threshold: int | None = None  # server-side compaction when the input reaches this many tokens
    model_names: bool = True  # the model is an OpenAI model name (target openai, not an Azure deployment)


@dataclass
class Connection:
    """Where and how to send a turn. The key is kept out of repr, so no traceback shows it."""

    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float | None = None  # None: respctl.DEFAULT_TIMEOUT
    max_retries: int | None = None
    azure: bool = False  # base_url is an Azure OpenAI endpoint (respctl.target.Route.azure)
    api_version: str | None = None  # OPENAI_API_VERSION, for Azure


def check_base_url(url: str) -> str:
    """A base URL the SDK can send to, or exit 2 at once: a malformed URL is bad input, not a
    network failure to retry (a CI job that retries on exit 1 would loop)."""
    from urllib.parse import urlsplit

    shown = re.sub(r"//[^/@]*@", "//…@", url)  # a user:password in the URL is never shown
    problem = None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError as exc:
        # its text may quote a piece of a password (`user:pa#ss@host` parses with port 'pa')
        problem = "its host or port does not parse" if "@" in url else str(exc)
    else:
        if url != url.strip() or any(not c.isprintable() for c in url):
            problem = "it holds spaces or control characters"
        elif parts.scheme.lower() not in ("http", "https"):
            problem = "it must start with http:// or https://"
        elif not parts.hostname:
            problem = "it names no host"
        elif urlsplit(url.rpartition("@")[2]).query:
            # the SDK appends the request's path after a query (`/v1?key=x` -> `/v1/?key=xresponses`)
            problem = "it has a query (?...), which the request's path would follow; the key goes in OPENAI_API_KEY"
    if problem:
        raise UsageError(f"not a valid API URL (--base-url, OPENAI_BASE_URL): {shown!r}: {problem}")
    return url


def prompt_cache_key(first_line: bytes) -> str:
    """Stable for one conversation (and its forks): derived from its first item."""
    return "respctl-" + hashlib.sha256(first_line).hexdigest()[:32]


def build_body(lines: list[bytes], opts: RequestOptions) -> bytes:
    """The JSON body of POST /responses: the options, then the file's lines as `input`."""
    if not opts.model:
        raise UsageError("a model is required for a turn: pass --model or set RESPCTL_MODEL")
    head: dict = {"model": opts.model, "store": False, "stream": opts.stream}
    reasoning_model = is_reasoning_model(opts.model)
    if not opts.model_names:  # any other server names its models as it likes: never refuse on a name
        reasoning_model = reasoning_model or bool(opts.effort or opts.summary or opts.reasoning_context)
    if reasoning_model:
        head["include"] = ["reasoning.encrypted_content"]
    reasoning = {}
    if opts.effort:
        reasoning["effort"] = opts.effort
    if opts.summary:
        reasoning["summary"] = opts.summary
    if opts.reasoning_context:
        reasoning["context"] = opts.reasoning_context
    if reasoning:
        if not reasoning_model:
            raise UsageError(
                f"model {opts.model!r} does not reason: --effort, --summary and --reasoning-context do not apply"
            )
        head["reasoning"] = reasoning
    if opts.tools is not None:
        head["tools"] = opts.tools
    if opts.text_format is not None:
        head["text"] = {"format": opts.text_format}
    if opts.max_output_tokens is not None:
        head["max_output_tokens"] = opts.max_output_tokens
    if opts.compact_threshold is not None:
        head["context_management"] = [{"type": "compaction", "compact_threshold": opts.compact_threshold}]
    if lines:
        head["prompt_cache_key"] = prompt_cache_key(lines[0])
    try:
        options = orjson.dumps(head)
    except TypeError as exc:  # a --tools or --schema file nested deeper than orjson writes (254 levels)
        raise UsageError(
            f"cannot write the request as JSON ({exc}): is the --tools or --schema file nested too deeply?"
        ) from None
    return with_input(options, lines)


def build_compact_body(lines: list[bytes], opts: RequestOptions) -> bytes:
    """The JSON body of POST /responses/compact: model, prompt_cache_key and the file's lines as `input`
    (the endpoint takes no `store`, `stream` nor `include`: "Unknown parameter: 'store'")."""
    if not opts.model:
        raise UsageError("a model is required to compact: pass --model or set RESPCTL_MODEL")
    head: dict = {"model": opts.model}
    if lines:
        head["prompt_cache_key"] = prompt_cache_key(lines[0])
    return with_input(orjson.dumps(head), lines)


def with_input(options: bytes, lines: list[bytes]) -> bytes:
    """The options object (JSON) with the lines joined in as its `input` array, as they are."""
    start, end = options[:-1] + b',"input":[', b"]}"
    if len(lines) < 2:
        return start + b"".join(lines) + end
    return b",".join([start + lines[0], *lines[1:-1], lines[-1] + end])  # one join: no second copy of the file


def load_tools(path: str, shapes: bool = True) -> list:
    """A JSON file holding the `tools` array; checked before any request."""
    from respctl.lint.shapes import tool_problems

    tools = _load_json(path, "tools file")
    if not isinstance(tools, list):
        raise BadFileError(f"{path}: tools file must hold a JSON array of tool definitions")
    for index, tool in enumerate(tools):
        where = f"{path}: tool [{index}]"
        if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
            raise BadFileError(f'{where}: must be an object with a "type"')
        if tool["type"] in ("function", "custom"):
            name = tool.get("name")
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", name):
                raise BadFileError(
                    f'{where}: {tool["type"]} tool needs a "name" of letters, digits, _ or - (at most 128)'
                )
        if tool["type"] == "function" and "parameters" in tool and not isinstance(tool["parameters"], dict):
            raise BadFileError(f'{where}: "parameters" must be a JSON Schema object')
        problems = tool_problems(tool) if shapes else []  # the OpenAI API's shapes (--target openai)
        if problems:
            raise BadFileError(f"{where}: {problems[0]}")
    return tools


def tool_names(tools: list) -> set[str]:
    """The names a model may call: function and custom tools, also inside namespaces."""
    names: set[str] = set()
    for tool in tools:
        if tool.get("type") in ("function", "custom") and isinstance(tool.get("name"), str):
            names.add(tool["name"])
        elif tool.get("type") == "namespace" and isinstance(tool.get("tools"), list):
            names |= tool_names([t for t in tool["tools"] if isinstance(t, dict)])
    return names


def load_schema(path: str) -> dict:
    """A JSON Schema for structured output, as the `text.format` of the request."""
    schema = _load_json(path, "schema file")
    if not isinstance(schema, dict):
        raise BadFileError(f"{path}: schema file must hold a JSON object (a JSON Schema)")
    if isinstance(schema.get("schema"), dict) and "name" in schema:
        return {"type": "json_schema", **schema}  # already wrapped: {name, schema, strict?}
    name = re.sub(r"[^A-Za-z0-9_-]", "_", Path(path).stem)[:64] or "output"
    return {"type": "json_schema", "name": name, "schema": schema, "strict": True}


def _load_json(path: str, what: str):
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise BadFileError(f"{path}: {what} not found") from None
    except OSError as exc:
        raise BadFileError(f"{path}: cannot read {what}: {exc.strerror}") from None
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadFileError(
            f"{path}: {what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    try:
        orjson.dumps(value)  # it goes into the request body, which orjson writes to depth 254 only
    except TypeError:
        raise BadFileError(f"{path}: {what} is nested too deeply (more than 254 levels)") from None
    return value
