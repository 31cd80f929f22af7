"""What the user hands a command: message text, stdin, images, attachments, tool output."""

from __future__ import annotations

import base64
import mimetypes
import os
import sys
from pathlib import Path

from respctl import items as it
from respctl.errors import BadFileError, UsageError

#: The API's limit on one string of input (a message's text, a tool output), in characters; the one
#: limit for every text respctl takes.
MAX_TEXT = 10_485_760
#: The largest file embedded into the conversation (the API takes at most 50 MB per request).
MAX_EMBED = 50 * 1024 * 1024

_URL_PREFIXES = ("http://", "https://", "data:")


def check_text(value: str, what: str) -> str:
    """Refuse text that is not valid UTF-8: the shell passes any bytes, and Python turns the
    invalid ones into lone surrogates, which no JSON writer takes."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError(f"the {what} is not valid UTF-8 text (character {exc.start + 1})") from None
    return value


def read_text_arg(value: str, what: str) -> str:
    """The value itself, or standard input for '-'."""
    if value != "-":
        return check_text(value, what)
    if sys.stdin.isatty():
        from respctl import output

        output.note(f"reading the {what} from standard input (end it with Ctrl-D)")
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"standard input is not UTF-8 text (byte {exc.start + 1}) for the {what}") from None


def stdin_is_data() -> bool:
    """Standard input is a pipe or a file (not a terminal, and open)."""
    try:
        return sys.stdin is not None and not sys.stdin.isatty()
    except (AttributeError, ValueError):  # closed
        return False


def check_size(text: str, what: str, *, has: str = "has") -> str:
    if len(text) > MAX_TEXT:
        raise UsageError(f"the {what} {has} {len(text):,} characters; the API takes at most {MAX_TEXT:,}")
    return text


def read_text_file(path: str, what: str) -> str:
    data = _read(path, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadFileError(f"{path}: {what} is not UTF-8 text (byte {exc.start + 1})") from None


def instructions_text(text: str | None, path: str | None) -> str | None:
    """The instructions; from a file without its trailing newlines (as `$(cat FILE)` gives them).
    Blank instructions are refused, as a blank message is."""
    if text is not None and path is not None:
        raise UsageError("use --instructions or --instructions-file, not both")
    if path is not None:
        text = read_text_file(path, "instructions file").rstrip("\n")
    elif text is None:
        return None
    if not text.strip():
        raise UsageError(f"the instructions{' file' if path else ''} {'holds' if path else 'are'} only blank space")
    return check_size(check_text(text, "instructions"), "instructions", has="have")


def message_item(
    message: str | None, images: list[str], attachments: list[str], *, stdin_unasked: bool = False
) -> dict | None:
    """The user message item, or None when there is nothing to say. With no MESSAGE and
    `stdin_unasked` (standard input a pipe or a file), the message is read from standard input,
    as `llm` does: `echo question | respctl say c.jsonl`; empty input there is no message. A
    message read from standard input loses its trailing newlines, as `$(...)` drops them. A MESSAGE
    that is blank, or '-' reading blank input, is refused."""
    implicit = message is None and stdin_unasked
    if implicit:
        message = "-"
    text = read_text_arg(message, "message") if message is not None else None
    if message == "-" and text is not None:
        text = text.rstrip("\n")
    parts = [image_part(src) for src in images] + [attachment_part(path) for path in attachments]
    if implicit and not (text or "").strip():
        text = None
    if text is not None and not text.strip() and not parts:
        raise UsageError("the message is empty" + (" (standard input was empty)" if message == "-" else ""))
    if not text and not parts:
        return None
    return it.user_message(check_size(text, "message") if text else text, parts)


def image_part(src: str) -> dict:
    if src.startswith(_URL_PREFIXES):
        return {"type": "input_image", "detail": "auto", "image_url": check_text(src, "image URL")}
    mime = mimetypes.guess_type(src)[0] or ""
    if not mime.startswith("image/"):
        raise UsageError(f"{src}: not an image file (expected .png, .jpg, .gif or .webp)")
    return {"type": "input_image", "detail": "auto", "image_url": _data_url(mime, _read(src, "image"))}


def attachment_part(path: str) -> dict:
    """Text files become text (with their name); other files are embedded as data."""
    data = _read(path, "attachment")
    name = os.fsencode(Path(path).name).decode("utf-8", "replace")  # a file name may be any bytes
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text:  # one string of input, held to the one limit
        return it.text_part(check_size(f'<file name="{name}">\n{text}\n</file>', f"text of attachment {name}"))
    mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return {"type": "input_file", "filename": name, "file_data": _data_url(mime, data)}


def tool_output_text(output: str | None, path: str | None) -> str:
    if output is not None and path is not None:
        raise UsageError("give OUTPUT or --output-file, not both")
    if path is not None:
        text = read_text_file(path, "output file")
    elif output is not None:
        text = read_text_arg(output, "tool output")
    else:
        raise UsageError("missing OUTPUT: give it as an argument, '-' for standard input, or --output-file PATH")
    return check_size(text, "tool output")


def _read(path: str, what: str) -> bytes:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_EMBED:
            raise UsageError(f"{path}: {what} is {size:,} bytes; at most {MAX_EMBED:,} can be embedded")
        return p.read_bytes()
    except FileNotFoundError:
        raise BadFileError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise BadFileError(f"{path}: {what} is a directory") from None
    except OSError as exc:
        raise BadFileError(f"{path}: cannot read {what}: {exc.strerror}") from None


def _data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
