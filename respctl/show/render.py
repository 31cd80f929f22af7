"""show's text and markdown output; the only place in show with colour.

Everything a model, a tool or a user wrote is untrusted. `clean` (respctl.terminal) removes terminal escape sequences
and replaces every other control character (C0 but newline and tab, DEL, C1, bidirectional
overrides) with U+FFFD before anything is laid out, and a last pass over the output (`_net`) lets
nothing through but newline, tab and, in colour, the SGR codes rich writes. JSON escapes what
orjson leaves raw.

rich is imported only to draw on a terminal (or with --color always): piped output is plain text
and costs no import.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field

import orjson

from respctl.show.content import content_parts
from respctl.show.model import Calls, Entry, Hidden
from respctl.terminal import REPLACEMENT as _REPLACEMENT
from respctl.terminal import UNSAFE as _UNSAFE  # noqa: F401  (the tests check clean() against it)
from respctl.terminal import clean, colour_wanted, columns, isatty

#: Tool payloads (outputs, arguments, attached text files) longer than this are shortened...
LONG_LINES, LONG_CHARS = 24, 2400
#: ...to this, with a note; --full shows them whole.
KEEP_LINES, KEEP_CHARS = 20, 2000
#: Strings longer than this inside items show has no view for are shown as their size.
LONG_FIELD = 300
#: How much of a damaged line is quoted.
QUOTE = 200
#: The width of a turn's rule in plain text.
RULE_WIDTH = 78
#: Plain text and markdown are laid out for this width (a terminal, rich, for its own).
WIDTH = 80
#: JSON payloads larger than this are left as they are.
PRETTY_LIMIT = 200_000

# -- terminal safety ------------------------------------------------------------------------------

_NET_PLAIN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NET_COLOUR = re.compile("(\x1b\\[[0-9;]*m)|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _net(text: str, colour: bool) -> str:
    """The last check before stdout: only newline, tab and (in colour) SGR codes pass."""
    if colour:
        return _NET_COLOUR.sub(lambda m: m.group(1) or _REPLACEMENT, text)
    return _NET_PLAIN.sub(_REPLACEMENT, text)


# -- facts shared by the text and markdown views --------------------------------------------------


def size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 999.95 or unit == "TB":
            return f"{value:.1f} {unit}"
    raise AssertionError("not reached")


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


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


def pretty_json(text: str, width: int = WIDTH) -> str | None:
    """JSON text laid out for reading, or None when it is not a JSON object or array.

    Small objects and arrays stay on one line, like `{"time": "09:00", "temp_c": 13}`, so that a
    list of records reads as a table rather than six lines per record.
    """
    stripped = text.strip()
    if not stripped.startswith(("{", "[")) or len(stripped) > PRETTY_LIMIT:
        return None
    try:
        return _layout(orjson.loads(stripped), 0, 0, max(width, 40))
    except (orjson.JSONDecodeError, RecursionError):  # not JSON, or nested too deep to lay out: as it is
        return None


_encoder = None


def _compact(value: object) -> str:
    global _encoder
    if _encoder is None:  # the stdlib's encoder, made once: orjson has no spaced separators
        import json

        _encoder = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))
    return _encoder.encode(value)


def _layout(value: object, indent: int, used: int, width: int) -> str:
    compact = _compact(value)
    if not isinstance(value, (dict, list)) or not value or indent + used + len(compact) <= width:
        return compact
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        rows = []
        for key, item in value.items():
            key_text = _compact(key) + ": "
            rows.append(pad + key_text + _layout(item, indent + 2, len(key_text), width))
        return "{\n" + ",\n".join(rows) + "\n" + " " * indent + "}"
    if not any(isinstance(item, (dict, list)) for item in value):  # scalars: as many to a row as fit
        rows, row = [], ""
        for item in value:
            text = _compact(item)
            if row and len(pad) + len(row) + len(text) + 2 > width:
                rows.append(pad + row + ",")
                row = ""
            row = f"{row}, {text}" if row else text
        return "[\n" + "\n".join([*rows, pad + row]) + "\n" + " " * indent + "]"
    if all(_flat(item) for item in value):
        return "[\n" + ",\n".join(pad + row for row in _records(value, indent + 2, width)) + "\n" + " " * indent + "]"
    rows = [pad + _layout(item, indent + 2, 0, width) for item in value]
    return "[\n" + ",\n".join(rows) + "\n" + " " * indent + "]"


def _flat(value: object) -> bool:
    return isinstance(value, dict) and bool(value) and not any(isinstance(v, (dict, list)) for v in value.values())


def _records(records: list, indent: int, width: int) -> list[str]:
    """A list of flat records as a table: one line each, or, when some are too long, every record
    broken after the same number of fields, so that the columns still line up."""
    fields = [[f"{_compact(k)}: {_compact(v)}" for k, v in record.items()] for record in records]
    per_line = max(len(f) for f in fields)
    while per_line > 1 and any(
        indent + len(", ".join(f[i : i + per_line])) + 3 > width for f in fields for i in range(0, len(f), per_line)
    ):
        per_line -= 1
    joiner = ",\n" + " " * (indent + 1)
    return ["{" + joiner.join(", ".join(f[i : i + per_line]) for i in range(0, len(f), per_line)) + "}" for f in fields]


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


# -- the text view: blocks, drawn plain or with rich ----------------------------------------------


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


STYLES = {
    "user": "bold cyan",
    "assistant": "bold green",
    "instructions": "bold magenta",
    "reasoning": "dim bold",
    "call": "bold yellow",
    "output": "bold blue",
    "other": "bold",
    "damaged": "bold red",
    "name": "yellow",
    "id": "dim",
    "details": "dim",
    "flag": "bold yellow",
    "problem": "bold red",
    "gutter": "dim",
    "rule": "dim",
    "rule.title": "bold",
    "note": "dim italic",
    "attachment": "cyan",
    "dim": "dim",
    "dim.title": "dim bold",
    "refusal": "red",
    "quote": "red",
    "text": "",
    "markdown": "",
    "json": "",
    "code": "",
    "file": "",
}


def section_title(section: int, entries: list[Entry]) -> str:
    """`Turn N`; before turn 1, `Instructions` when some are there (a damaged line alone is not)."""
    if section:
        return f"Turn {section}"
    return "Instructions" if any(e.turn == 0 for e in entries) else "Before turn 1"


class TextView:
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
        view = VIEWS.get(entry.kind or "", TextView._other)
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
    "message": TextView._message,
    "reasoning": TextView._reasoning,
    "function_call": TextView._call,
    "custom_tool_call": TextView._call,
    "function_call_output": TextView._output,
    "custom_tool_call_output": TextView._output,
}


@dataclass
class Screen:
    """Where the text view goes: a terminal (drawn with rich), in colour or not, and how wide."""

    terminal: bool = False
    rich: bool = False
    colour: bool = False
    columns: int = WIDTH

    @classmethod
    def of_stdout(cls, color: str = "auto") -> Screen:
        rich, colour = terminal_mode(color)
        terminal = isatty(sys.stdout)
        return cls(terminal, rich, colour, columns(default=WIDTH) if rich else WIDTH)


def write_text(
    entries, calls: Calls, *, pending: bool, hidden: Hidden | None, full: bool, screen: Screen, empty: bool
) -> None:
    if empty and not pending:
        from respctl import output

        output.note("the conversation is empty")
    gutter = len(str(max((e.line for e in entries), default=1)))
    rich, colour, columns = screen.rich, screen.colour, screen.columns
    view = TextView(calls, full, width=columns - gutter - 2)
    if pending:
        blocks: list = [view.block(e) for e in entries] or [Note("No tool calls are waiting for output.")]
    else:
        blocks = view.blocks(entries, hidden)
    if not blocks:
        return
    if rich:
        _RichWriter(gutter, colour, columns).write(blocks)
    else:
        _PlainWriter(gutter).write(blocks)


def terminal_mode(color: str) -> tuple[bool, bool]:
    """(draw with rich, in colour): auto draws on a terminal or with FORCE_COLOR, in colour unless
    NO_COLOR, which turns off every attribute (bold, dim, italic too), not only colours."""
    if color in ("never", "always"):
        return color == "always", color == "always"
    no_color = bool(os.environ.get("NO_COLOR"))
    forced = bool(os.environ.get("FORCE_COLOR")) and not no_color
    terminal = isatty(sys.stdout) and os.environ.get("TERM") != "dumb"
    return terminal or forced, colour_wanted(color, sys.stdout)


class _PlainWriter:
    """Plain text: what a pipe, a file, git's textconv and `--color never` get."""

    def __init__(self, width: int):
        self.width = width
        self.indent = " " * (width + 2)

    def write(self, blocks: list) -> None:
        chunks = "\n".join(self.render(block) for block in blocks)
        sys.stdout.write(_net(chunks, colour=False))

    def render(self, block) -> str:
        if isinstance(block, Rule):
            head = f"── {block.title} "
            return head + "─" * max(RULE_WIDTH - len(head), 3) + "\n"
        if isinstance(block, Note):
            return block.text + "\n"
        header = " · ".join([block.label, *block.names, *block.details] + ([block.flag] if block.flag else []))
        lines = [f"{block.line:>{self.width}}  {header}"]
        for kind, text in block.body:
            indent = self.indent + "  " if kind == "file" else self.indent
            lines.extend(indent + line if line else "" for line in text.split("\n"))
        return "\n".join(lines) + "\n"


class _RichWriter:
    """On a terminal: the assistant's markdown rendered, reasoning dimmed, text wrapped under its header."""

    BATCH = 64  # blocks drawn at a time: the first screen appears at once, and rich's per-print cost is shared

    def __init__(self, width: int, colour: bool, columns: int):
        import io

        from rich.console import Console
        from rich.theme import Theme

        self.width = width
        self.buffer = io.StringIO()
        self.console = Console(
            file=self.buffer,
            force_terminal=True,
            color_system="auto" if colour else None,  # None: no attribute at all, as NO_COLOR asks
            width=columns,
            theme=Theme(STYLES),
            highlight=False,
            emoji=False,
            markup=False,
            legacy_windows=False,
        )

    def write(self, blocks: list) -> None:
        from rich.console import Group

        for start in range(0, len(blocks), self.BATCH):
            group: list = []
            for block in blocks[start : start + self.BATCH]:
                if group:
                    group.append("")
                group.extend(self.renderables(block))
            self.console.print(Group(*group))
            sys.stdout.write(_net(self.buffer.getvalue(), colour=True))
            sys.stdout.flush()
            self.buffer.seek(0)
            self.buffer.truncate()

    def renderables(self, block):
        from rich.padding import Padding
        from rich.rule import Rule as RichRule
        from rich.table import Table
        from rich.text import Text

        if isinstance(block, Rule):
            title = Text("── ", style="rule")
            title.append(block.title, style="rule.title")
            yield RichRule(title, align="left", style="rule", characters="─")
            return
        if isinstance(block, Note):
            yield Text(block.text, style="note")
            return
        header = Text(block.label, style=block.style)
        for index, name in enumerate(block.names):
            header.append(" · ", style="details")
            header.append(name, style="name" if index == 0 and len(block.names) > 1 else "id")
        for detail in block.details:
            header.append(" · " + detail, style="details")
        if block.flag:
            header.append(" · ", style="details")
            header.append(block.flag, style=block.flag_style)
        # the line number in a column of its own: a header too long for the terminal (a long call id)
        # wraps under itself, not back to column 0
        row = Table.grid()
        row.add_column(width=self.width + 2, no_wrap=True)
        row.add_column(ratio=1, overflow="fold")
        row.add_row(Text(f"{block.line:>{self.width}}  ", style="gutter"), header)
        yield row
        for kind, text in block.body:
            indent = self.width + (4 if kind == "file" else 2)
            if kind == "gap":
                yield Text("")
            elif kind == "markdown":
                yield Padding(_markdown(text), (0, 0, 0, indent))
            else:
                yield Padding(Text(text, style=kind), (0, 0, 0, indent))


#: Text with none of these is prose, drawn as is: parsing it as markdown would change nothing.
_MARKDOWN_SYNTAX = re.compile(r"[*_`#>|\[\]<~]|^\s*(?:[-+]|\d+[.)])\s|^\s*(?:-{3,}|={3,})\s*$|https?://", re.M)
_answer_class = None


def _markdown(text: str):
    from rich.text import Text

    if not _MARKDOWN_SYNTAX.search(text):
        return Text(text)
    return _answer()(text, code_theme="ansi_dark", inline_code_theme="ansi_dark", hyperlinks=False)


def _answer():
    """rich's Markdown with every heading left-aligned (rich centres h1), made once."""
    global _answer_class
    if _answer_class is None:
        from rich.markdown import Heading, Markdown

        class LeftHeading(Heading):
            LEVEL_ALIGN = dict.fromkeys(("h1", "h2", "h3", "h4", "h5", "h6"), "left")

        class Answer(Markdown):
            elements = {**Markdown.elements, "heading_open": LeftHeading}

        _answer_class = Answer
    return _answer_class


# -- markdown -------------------------------------------------------------------------------------

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
        self.text = TextView(calls, full)

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
    sys.stdout.write(_net(text, colour=False))
