"""`--format markdown`: a document for a pull request or an export, with the text view's content."""

from __future__ import annotations

import re
import sys

from respctl.show.blocks import Block, BlockView, damaged_quote, hidden_note, section_title
from respctl.show.content import content_parts
from respctl.show.model import Calls, Entry, Hidden
from respctl.show.sanitize import clean, net

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.M)


def fenced(text: str, language: str = "") -> str:
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def closed(text: str) -> str:
    """Markdown from a model or a user, an unclosed code fence closed so that the document goes on."""
    open_fence = None
    for match in _FENCE.finditer(text):
        fence = match.group(1)
        if open_fence is None:
            open_fence = fence
        elif fence[0] == open_fence[0] and len(fence) >= len(open_fence):
            open_fence = None
    return text if open_fence is None else f"{text}\n{open_fence}"


def quoted(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in closed(text).split("\n"))


def code_span(text: str) -> str:
    return "`" + text.replace("`", "'").replace("\n", " ") + "`"


def emphasis(text: str) -> str:
    return "*" + re.sub(r"([\\`*_\[\]<>])", r"\\\1", text) + "*"


class MarkdownView:
    """A document for a pull request or an export: same content as the text view, no line numbers
    (so that a diff of an appended turn adds lines and changes none), nothing but markdown."""

    def __init__(self, calls: Calls, full: bool):
        self.text = BlockView(calls, full)

    def document(self, entries: list[Entry], hidden: Hidden | None, pending: bool) -> str:
        chunks: list[str] = [emphasis(hidden_note(hidden))] if hidden else []
        section = None
        for entry in entries:
            if not pending and entry.section != section:
                section = entry.section
                chunks.append(f"## {section_title(section, entries)}")
            chunks.append(self.item(entry))
        return "\n\n".join(chunks) + "\n" if chunks else ""

    def item(self, entry: Entry) -> str:
        block = self.text.block(entry)
        if entry.item is None:
            head = f"**Damaged line {entry.line}** · {emphasis(block.flag or '')}"
            quote = damaged_quote(entry)
            return f"{head}\n\n{fenced(quote, 'text')}" if quote.strip() else head
        label = code_span(block.label) if block.style == "other" else f"**{block.label[:1].upper() + block.label[1:]}**"
        head = " · ".join([label, *map(code_span, block.names), *block.details])
        if block.flag:
            flag = f"line {entry.line}: {block.flag}" if entry.problem else block.flag
            head += f" · **{flag}**" if block.flag_style == "flag" else f" · {emphasis(flag)}"
        return "\n\n".join([head, *self.body(entry, block)])

    def body(self, entry: Entry, block: Block):
        if entry.kind == "reasoning":  # the summary as written: its **titles** are markdown already
            item = entry.fields
            parts = content_parts(item.get("summary")) + content_parts(item.get("content"))
            texts = [clean(value) for kind, value in parts if kind == "text"]
            if texts:
                yield quoted("\n\n".join(texts))
            return
        pieces = block.body
        if entry.turn == 0:  # instructions: quoted, so that their headings stay inside
            texts = [text for kind, text in pieces if kind == "text"]
            if texts:
                yield quoted("\n\n".join(texts))
            pieces = [(kind, text) for kind, text in pieces if kind != "text"]
        for kind, text in pieces:
            if kind in ("text", "markdown"):
                yield closed(text)
            elif kind in ("json", "code", "file"):
                yield fenced(text, "json" if kind == "json" else "")
            elif kind == "attachment":
                yield code_span(text)
            elif kind == "note":
                yield emphasis(text.strip("[]"))
            elif kind == "refusal":
                yield f"**Refusal:** {closed(text.removeprefix('refusal: '))}"
            elif kind != "gap":
                yield text


def write_markdown(entries, calls: Calls, *, pending: bool, hidden: Hidden | None, full: bool) -> None:
    if pending and not entries:
        text = "*No tool calls are waiting for output.*\n"
    else:
        text = MarkdownView(calls, full).document(entries, hidden, pending)
    sys.stdout.write(net(text, colour=False))
