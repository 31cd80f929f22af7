"""What the text and markdown views share: each line of the file as a block, a header and a body of
styled pieces, every untrusted string in it cleaned, long tool payloads shortened, JSON laid out."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import orjson

from respctl.output import plural
from respctl.show.content import content_parts
from respctl.show.layout import pretty_json
from respctl.show.model import Calls, Entry, Hidden, Replaced
from respctl.show.sanitize import clean

#: Tool payloads (outputs, arguments, attached text files) longer than this are shortened...
LONG_LINES, LONG_CHARS = 24, 2400
#: ...to this, with a note; --full shows them whole.
KEEP_LINES, KEEP_CHARS = 20, 2000
#: Strings longer than this inside items show has no view for are shown as their size.
LONG_FIELD = 300
#: How much of a damaged line is quoted.
QUOTE = 200
#: Plain text and markdown are laid out for this width (a terminal, rich, for its own).
WIDTH = 80


def size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 999.95 or unit == "TB":
            return f"{value:.1f} {unit}"
    raise AssertionError("not reached")


def placeholder(att: dict) -> str:
    """`[image: image/png, 48.2 KB]`: one line for an attachment; its data is never shown."""
    kind = {"input_image": "image", "input_file": "file"}.get(att.get("type") or "", att.get("type") or "part")
    facts = [att[k] for k in ("filename", "media_type") if att.get(k)]
    if att.get("bytes") is not None:
        facts.append(size(att["bytes"]))
    if att.get("url"):
        url = att["url"]
        facts.append(url if len(url) <= 80 else url[:77] + "...")
    if att.get("file_id"):
        facts.append(att["file_id"])
    if att.get("detail") and att["detail"] != "auto":
        facts.append(f"detail {att['detail']}")
    kind = clean(kind)
    return f"[{kind}: {', '.join(clean(f) for f in facts)}]" if facts else f"[{kind}]"


def shorten(text: str, full: bool) -> tuple[str, str | None]:
    """A long tool payload cut to its start, and a note saying what was left out."""
    if full or (len(text) <= LONG_CHARS and text.count("\n") < LONG_LINES):
        return text, None
    lines = text.split("\n")
    kept = "\n".join(lines[:KEEP_LINES])
    if len(kept) > KEEP_CHARS:
        kept = kept[:KEEP_CHARS]
        cut = kept.rfind("\n")
        if cut > KEEP_CHARS // 2:
            kept = kept[:cut]
    more_lines = len(lines) - (kept.count("\n") + 1)
    if more_lines > 0:
        what = f"{plural(more_lines, 'more line')}, {plural(len(text), 'character')} in all"
    else:
        what = plural(len(text) - len(kept), "more character")
    return kept, f"... {what}; --full shows everything"


_FILE_TEXT = re.compile(r'<file name="([^"\n]*)">\n(.*)\n</file>\Z', re.S)


def file_text(text: str) -> tuple[str, str] | None:
    """(name, content) of a text file attached with `say --attach`."""
    match = _FILE_TEXT.match(text)
    return (match.group(1), match.group(2)) if match else None


def summary_part(text: str) -> tuple[str | None, str]:
    """A reasoning summary part opens with a bold title: `**Checking the weather**\\n\\nbody`."""
    if text.startswith("**"):
        end = text.find("**", 2)
        if end > 2 and "\n" not in text[2:end] and text[end + 2 : end + 4] in ("\n\n", "\n", ""):
            return text[2:end], text[end + 2 :].lstrip("\n")
    return None, text


def sources(content: object) -> list[tuple[str | None, str]]:
    """The URLs an assistant message cites (url_citation annotations), once each."""
    found: dict[str, str | None] = {}
    for part in content if isinstance(content, list) else []:
        annotations = part.get("annotations") if isinstance(part, dict) else None
        for note in annotations if isinstance(annotations, list) else []:
            if isinstance(note, dict) and note.get("type") == "url_citation" and isinstance(note.get("url"), str):
                title = note.get("title")
                found.setdefault(note["url"], title if isinstance(title, str) and title else None)
    return [(title, url) for url, title in found.items()]


def call_name(item: dict) -> str:
    name: str = item["name"] if isinstance(item.get("name"), str) else "?"
    namespace = item.get("namespace")
    return f"{namespace}.{name}" if isinstance(namespace, str) and namespace else name


def _outline(value: object) -> object:
    """An item show has no view for: long strings (blobs, mostly) become their size."""
    if isinstance(value, dict):
        return {k: _outline(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_outline(v) for v in value]
    if isinstance(value, str) and len(value) > LONG_FIELD:
        return f"<{plural(len(value), 'character')}>"
    return value


def replaced_notes(found: Replaced | None) -> list[str]:
    """What a compaction item replaces, in words: short lines (a 60-column terminal)."""
    if found is None or found.items == 0:
        return ["replaces earlier items that are not in this file"]
    what = f"replaces {plural(found.items, 'earlier item')} ({size(found.bytes)})"
    return [what, f"see {clean(os.path.basename(found.archive))}"] if found.archive else [f"{what} above"]


def hidden_note(hidden: Hidden) -> str:
    what = []
    if hidden.instructions:
        what.append("the instructions")
    if hidden.turns:
        what.append(plural(hidden.turns, "earlier turn"))
    lines = (
        f"line {hidden.first_line}"
        if hidden.first_line == hidden.last_line
        else f"lines {hidden.first_line}-{hidden.last_line}"
    )
    return f"... {' and '.join(what) or 'earlier lines'} not shown ({lines})"


def damaged_quote(entry: Entry) -> str:
    """The start of a line that could not be read, as text."""
    raw = clean(entry.raw[: QUOTE * 4].decode("utf-8", "replace"))
    return raw if len(raw) <= QUOTE else raw[:QUOTE] + " [...]"


@dataclass
class Block:
    """One line of the file: a header (line number, label, names, details, flag) and a body.

    Body pieces are (kind, text); the kind names the style: text, markdown (assistant text), dim and
    dim.title (reasoning), json / code (tool payloads), file (an attached text file), attachment,
    note, refusal, quote (a damaged line), and gap (a blank line).
    """

    line: int
    label: str
    style: str
    names: list[str] = field(default_factory=list)  # tool name, call id: code in markdown
    details: list[str] = field(default_factory=list)
    flag: str | None = None
    flag_style: str = "flag"
    body: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Rule:
    title: str


@dataclass
class Note:
    text: str


def section_title(section: int, entries: list[Entry]) -> str:
    """`Turn N`; before turn 1, `Instructions` when some are there (a damaged line alone is not)."""
    if section:
        return f"Turn {section}"
    return "Instructions" if any(e.turn == 0 for e in entries) else "Before turn 1"


class BlockView:
    """Turns entries into blocks; the markdown view reads the same blocks."""

    def __init__(self, calls: Calls, full: bool, width: int = WIDTH):
        self.calls = calls
        self.full = full
        self.width = width  # what a JSON payload may fill

    def blocks(self, entries: list[Entry], hidden: Hidden | None) -> list:
        out: list = [Note(f"[{hidden_note(hidden)}]")] if hidden else []
        section = None
        for entry in entries:
            if entry.section != section:
                section = entry.section
                out.append(Rule(section_title(section, entries)))
            out.append(self.block(entry))
        return out

    def block(self, entry: Entry) -> Block:
        if entry.item is None:
            block = Block(entry.line, "damaged line", "damaged", flag=clean(entry.problem or ""), flag_style="problem")
            quote = damaged_quote(entry)
            if quote.strip():
                block.body.append(("quote", quote))
            return block
        view = VIEWS.get(entry.kind or "", BlockView._other)
        block = view(self, entry)
        if entry.problem:
            block.flag, block.flag_style = entry.problem, "problem"
        return block

    def _message(self, entry: Entry) -> Block:
        item = entry.fields
        role: str = item["role"] if isinstance(item.get("role"), str) else "message"
        block = Block(entry.line, clean(role), {"user": "user", "assistant": "assistant"}.get(role, "instructions"))
        if isinstance(item.get("phase"), str):
            block.details.append(clean(item["phase"].replace("_", " ")))
        text_kind = "markdown" if role == "assistant" else "text"
        last = None
        for kind, value in content_parts(item.get("content")):
            if last is not None and not (kind == last == "attachment"):
                block.body.append(("gap", ""))
            last = kind
            attached = file_text(value) if kind == "text" and role != "assistant" else None
            if kind == "attachment":
                block.body.append(("attachment", placeholder(value)))
            elif attached:
                name, content = attached
                block.body.append(("attachment", f"[text file: {clean(name)}, {size(len(content.encode()))}]"))
                self._payload(block, content, pretty=False, kind="file")
            elif kind == "refusal":
                block.body.append(("refusal", "refusal: " + clean(value)))
            else:
                block.body.append((text_kind, clean(value)))
        for title, url in sources(item.get("content")):
            block.body.append(
                ("attachment", f"[source: {clean(title)}, {clean(url)}]" if title else f"[source: {clean(url)}]")
            )
        if not block.body:
            block.details.append("empty")
        return block

    def _reasoning(self, entry: Entry) -> Block:
        item = entry.fields
        block = Block(entry.line, "reasoning", "reasoning")
        summary = [v for k, v in content_parts(item.get("summary")) if k == "text"]
        text = [v for k, v in content_parts(item.get("content")) if k == "text"]
        if not summary and not text:
            block.details.append("no summary")
        if isinstance(item.get("encrypted_content"), str):
            block.details.append(f"{size(len(item['encrypted_content']))} encrypted")
        for part in summary:
            if block.body:
                block.body.append(("gap", ""))
            title, body = summary_part(clean(part))
            if title:
                block.body.append(("dim.title", title))
            if body:
                block.body.append(("dim", body))
        for part in text:
            if block.body:
                block.body.append(("gap", ""))
            block.body.append(("dim", clean(part)))
        return block

    def _call(self, entry: Entry) -> Block:
        item = entry.fields
        block = Block(entry.line, "tool call", "call", [clean(call_name(item)), clean(str(item.get("call_id")))])
        if self.calls.pending(entry):
            block.flag = "waiting for output"
        payload = item.get("arguments") if entry.kind == "function_call" else item.get("input")
        if isinstance(payload, str) and payload:
            self._payload(block, payload, pretty=entry.kind == "function_call")
        return block

    def _output(self, entry: Entry) -> Block:
        item = entry.fields
        call_id = item.get("call_id")
        name = self.calls.name_of(call_id)
        block = Block(entry.line, "tool output", "output", ([clean(name)] if name else []) + [clean(str(call_id))])
        if name is None:
            block.flag, block.flag_style = "no call has this call_id", "problem"
        parts = content_parts(item.get("output"))
        for kind, value in parts:
            if kind == "attachment":
                block.body.append(("attachment", placeholder(value)))
            elif value:
                self._payload(block, value, pretty=True)
        if not block.body:
            block.details.append("empty")
        return block

    def _other(self, entry: Entry) -> Block:
        item = entry.fields
        block = Block(entry.line, clean(entry.kind or "item"), "other")
        block.names = [clean(item[k]) for k in ("name", "call_id") if isinstance(item.get(k), str)]
        if isinstance(item.get("status"), str):
            block.details.append(clean(item["status"]))
        if isinstance(item.get("encrypted_content"), str):
            block.details.append(f"{size(len(item['encrypted_content']))} encrypted")
        shown = ("type", "id", "name", "call_id", "status", "encrypted_content")
        rest = {k: v for k, v in item.items() if k not in shown}
        if rest:
            try:
                self._payload(block, orjson.dumps(_outline(rest)).decode(), pretty=True)
            except (RecursionError, TypeError):  # deeper than Python or orjson go
                block.body.append(("note", "[nested too deep to show]"))
        return block

    def _compaction(self, entry: Entry) -> Block:
        """A compaction item: where the context was compacted, and what the item stands for."""
        block = self._other(entry)
        block.flag = "compacted here"
        block.body[:0] = [("note", f"[{line}]") for line in replaced_notes(entry.replaces)]
        return block

    def _payload(self, block: Block, text: str, *, pretty: bool, kind: str = "code") -> None:
        """A tool payload: JSON laid out ("json"), long ones shortened with a note."""
        laid_out = pretty_json(text, self.width) if pretty else None
        if laid_out is not None:
            text, kind = laid_out, "json"
        kept, note = shorten(clean(text), self.full)
        block.body.append((kind, kept))
        if note:
            block.body.append(("note", f"[{note}]"))


VIEWS = {
    "message": BlockView._message,
    "reasoning": BlockView._reasoning,
    "function_call": BlockView._call,
    "custom_tool_call": BlockView._call,
    "function_call_output": BlockView._output,
    "custom_tool_call_output": BlockView._output,
    "compaction": BlockView._compaction,
}
