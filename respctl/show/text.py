"""The text view on a terminal, drawn with rich (rich is imported only then), or as plain text for a
pipe, a file, git's textconv and `--color never`; the only place in show with colour."""

from __future__ import annotations

import io
import os
import re
import sys
from dataclasses import dataclass

from respctl import output
from respctl.show.blocks import WIDTH, BlockView, Note, Rule
from respctl.show.model import Calls, Hidden
from respctl.show.sanitize import net
from respctl.terminal import colour_wanted, columns, isatty

#: The width of a turn's rule in plain text.
RULE_WIDTH = 78

#: rich's theme: a style for each block style and body piece kind (blocks.Block).
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
        output.note("the conversation is empty")
    gutter = len(str(max((e.line for e in entries), default=1)))
    rich, colour, columns = screen.rich, screen.colour, screen.columns
    view = BlockView(calls, full, width=columns - gutter - 2)
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
        sys.stdout.write(net(chunks, colour=False))

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
            sys.stdout.write(net(self.buffer.getvalue(), colour=True))
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
