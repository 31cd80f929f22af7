"""An HTTP error from any Responses server as one short line: the first problem and its field.

    OpenAI        {"error": {"message", "param", ...}}          -> the message (param ...)
    FastAPI       {"detail": [{"type", "loc", "msg", ...}, ...]} -> loc: msg (got ...) (and N more)
                  {"detail": "Not Found"}                        -> the text
    HTML          an error page from a proxy                     -> its <title> (or first heading)
    plain text    anything else                                  -> the first line

The whole body is shown only on request (`--verbose`); the error keeps it (RespctlError.detail) for
`--json`. Never imports openai.
"""

from __future__ import annotations

import html
import re

import orjson

#: About how long the line may be (the API's own messages are rarely longer).
MAX = 200

_TAG = re.compile(r"<[^>]+>")
_TITLE = re.compile(r"<(title|h1)[^>]*>(.*?)</\1\s*>", re.I | re.S)
_HTML = re.compile(r"<(html|!doctype|title)\b", re.I)


def status_line(status: int, text: str, content_type: str | None = None) -> str:
    """`HTTP 422: input[0].role: Input should be 'user', 'assistant' or 'system' (got 'developer')`."""
    return f"HTTP {status}: {_shorten(_problem(text, _is_html(text, content_type)) or 'no explanation given')}"


def refused_role(text: str) -> int | None:
    """The index in `input` of the developer message a server refuses (gpt-oss: a FastAPI 422 whose
    first problem is a field ending in `role` holding 'developer'), else None."""
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    detail = body.get("detail") if isinstance(body, dict) else None
    first = _first(detail) if isinstance(detail, list) else None
    if first is None or first.get("input") != "developer":
        return None
    loc = first.get("loc")
    if not (isinstance(loc, list) and loc and loc[-1] == "role"):
        return None
    index = next((part for part in loc if type(part) is int), None)
    return index if "input" in loc and index is not None else None


def _is_html(text: str, content_type: str | None) -> bool:
    """An HTML page: said by its Content-Type, or by how it begins (`expected <int>` is plain text)."""
    return "html" in (content_type or "").lower() or bool(_HTML.search(text[:1000]))


def _problem(text: str, is_html: bool = False) -> str:
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _from_text(text, is_html)
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
    return _from_text(text, is_html)


def _first(detail: list) -> dict | None:
    """The first problem that names a field (a union's mismatched alternatives come last)."""
    entries = [e for e in detail if isinstance(e, dict)]
    ranked = sorted(
        entries, key=lambda e: str(e.get("type", "")) == "missing" or str(e.get("type", "")).endswith("_type")
    )
    return ranked[0] if ranked else None


def _fastapi(detail: list) -> str:
    first = _first(detail)
    if first is None:
        return orjson.dumps(detail).decode()  # status_line shortens it
    where = _loc(first.get("loc"))
    got = first.get("input")
    seen = f" (got {_quote(got)})" if isinstance(got, (str, int, float)) and not isinstance(got, bool) else ""
    entries = sum(isinstance(e, dict) for e in detail)
    more = f" (and {entries - 1} more)" if entries > 1 else ""
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


def _from_text(text: str, is_html: bool) -> str:
    if is_html:
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
