"""An HTTP error from any Responses server as one short line: the first problem and its field.

    OpenAI        {"error": {"message", "param", ...}}          -> the message (param ...)
    FastAPI       {"detail": [{"type", "loc", "msg", ...}, ...]} -> loc: msg (got ...) (and N more)
                  {"detail": "Not Found"}                        -> the text
    HTML          an error page from a proxy                     -> its <title> (or first heading)
    plain text    anything else                                  -> the first line

The whole body is shown only on request (`--verbose`, `--json`). Never imports openai.
"""

from __future__ import annotations

import html
import re

import orjson

#: About how long the line may be (the API's own messages are rarely longer).
MAX = 200

_TAG = re.compile(r"<[^>]+>")
_TITLE = re.compile(r"<(title|h1)[^>]*>(.*?)</\1\s*>", re.I | re.S)
_DEVELOPER = b'"role":"developer"'


def status_line(status: int, text: str, request: bytes = b"") -> str:
    """`HTTP 422: input[0].role: Input should be 'user', 'assistant' or 'system' (got 'developer')`."""
    line = f"HTTP {status}: {_shorten(_problem(text) or 'no explanation given')}"
    if status < 500 and _DEVELOPER in request and "developer" in text:
        line += "; the server refuses the developer role: try --role system"
    return line


def _problem(text: str) -> str:
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _from_text(text)
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            param = err.get("param")
            message = err["message"]
            return message + (f" (param {param})" if param and str(param) not in message else "")
        if isinstance(err, str):
            return err
        detail = body.get("detail")
        if isinstance(detail, list) and detail:
            return _fastapi(detail)
        if isinstance(detail, str):
            return detail
        if isinstance(body.get("message"), str):
            return body["message"]
    return _from_text(text)


def _fastapi(detail: list) -> str:
    """The first problem that names a field (a union's mismatched alternatives come last)."""
    entries = [e for e in detail if isinstance(e, dict)]
    if not entries:
        return _shorten(orjson.dumps(detail).decode())
    ranked = sorted(
        entries, key=lambda e: str(e.get("type", "")) == "missing" or str(e.get("type", "")).endswith("_type")
    )
    first = ranked[0]
    where = _loc(first.get("loc"))
    got = first.get("input")
    seen = f" (got {_quote(got)})" if isinstance(got, (str, int, float, bool)) and not isinstance(got, bool) else ""
    more = f" (and {len(entries) - 1} more)" if len(entries) > 1 else ""
    return f"{where + ': ' if where else ''}{first.get('msg', 'invalid')}{seen}{more}"


def _loc(loc) -> str:
    """["body","input","list[union[...]]",0,"Item","role"] -> input[0].role: the request's own path,
    without pydantic's names for the alternatives of a union (`list[...]`, `str`, class names)."""
    if not isinstance(loc, list):
        return ""
    out = ""
    for i, part in enumerate(loc):
        if i == 0 and part == "body":
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and not ("[" in part or part[:1].isupper() or (part == "str" and i > 1)):
            out += f".{part}" if out else part
    return out


def _quote(value) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _from_text(text: str) -> str:
    if "<" in text and _TAG.search(text):
        found = _TITLE.search(text)
        words = " ".join(html.unescape(_TAG.sub(" ", found.group(2) if found else text)).split())
        return f"{words} (an HTML page)" if words else "an HTML page"
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX else text[: MAX - 1] + "…"
