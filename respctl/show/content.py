"""What an item's content holds (text, refusals, attachments described without their data), for every format."""

from __future__ import annotations

from typing import Any

from respctl.show.model import str_or_none


def content_parts(content: object) -> list[tuple[str, Any]]:
    """A message's (or tool output's) content as ("text" | "refusal" | "attachment", value) pairs."""
    if isinstance(content, str):
        return [("text", content)]
    parts: list[tuple[str, object]] = []
    if not isinstance(content, list):
        return parts
    for part in content:
        if isinstance(part, str):
            parts.append(("text", part))
            continue
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text", "summary_text", "reasoning_text"):
            parts.append(("text", str_or_none(part.get("text")) or ""))
        elif kind == "refusal":
            parts.append(("refusal", str_or_none(part.get("refusal")) or ""))
        else:
            parts.append(("attachment", attachment(part)))
    return parts


def attachment(part: dict) -> dict:
    """An image or file part described without its data."""
    kind = part.get("type")
    info: dict[str, str | int | None] = {
        "type": str_or_none(kind),
        "filename": None,
        "media_type": None,
        "bytes": None,
        "url": None,
        "file_id": None,
        "detail": None,
    }
    info["file_id"] = str_or_none(part.get("file_id"))
    info["detail"] = str_or_none(part.get("detail"))
    info["filename"] = str_or_none(part.get("filename"))
    data = part.get("file_data")
    url = part.get("image_url") if kind == "input_image" else part.get("file_url")
    if isinstance(url, dict):  # chat-completions style {"url": ...}
        url = url.get("url")
    source = url if isinstance(url, str) else data if isinstance(data, str) else None
    if source is None:
        return info
    if source.startswith("data:"):
        info["media_type"], info["bytes"] = data_url_size(source)
    elif source is data:  # bare base64
        info["bytes"] = base64_size(data)
    else:
        info["url"] = source
    return info


def data_url_size(url: str) -> tuple[str | None, int | None]:
    head, sep, payload = url.partition(",")
    if not sep:
        return None, None
    meta = head[5:]
    media_type = meta.split(";", 1)[0] or None
    return media_type, base64_size(payload) if meta.endswith(";base64") else len(payload)


def base64_size(payload: str) -> int:
    payload = payload.strip()
    return len(payload) * 3 // 4 - (len(payload) - len(payload.rstrip("=")))


def joined_text(parts: list[tuple[str, Any]], kind: str, sep: str) -> str:
    return sep.join(value for k, value in parts if k == kind)
