"""Rendering lint results: text (like ruff), json (one object per diagnostic), github (annotations)."""

from __future__ import annotations

import shlex
import sys

import orjson

from respctl.lint.check import Diagnostic, Pending, Result
from respctl.lint.rules import ERROR, WARNING
from respctl.output import (
    escape_controls,
    plural,
)  # values quoted from a file are untrusted: no raw controls on a terminal


def text_line(path: str, d: Diagnostic) -> str:
    mark = " [*]" if d.fix is not None else ""
    level = " warning:" if d.severity == WARNING else ""
    return escape_controls(f"{path}:{d.line}:{d.column}: {d.code}{mark}{level} {d.message}")


def pending_line(path: str, p: Pending) -> str:
    file = "FILE" if path == "-" else shlex.quote(path)  # standard input: the hint cannot name the file
    return escape_controls(
        f"{path}:{p.line}:1: info: call {p.call_id} ({p.name}) is waiting for its output; "
        f"answer it with 'respctl tool-result {file} {p.call_id}'"
    )


def summary(results: list[Result], *, fixing: bool) -> list[str]:
    diags = [d for r in results for d in r.diagnostics]
    errors = sum(1 for d in diags if d.severity == ERROR)
    warnings = len(diags) - errors
    if not diags:
        return ["All checks passed!"]
    if errors and warnings:
        lines = [f"Found {plural(errors, 'error')} ({plural(warnings, 'warning')})."]
    elif errors:
        lines = [f"Found {plural(errors, 'error')}."]
    else:
        lines = [f"Found {plural(warnings, 'warning')}."]
    fixable = sum(1 for d in diags if d.fix is not None)
    if fixable and not fixing:
        lines.append(f"[*] {fixable} fixable with the --fix option.")
    by_hand = len(diags) - fixable
    if by_hand:
        lines.append(
            f"{plural(by_hand, 'problem')} cannot be fixed automatically: 'respctl lint --explain CODE' says how to "
            "mend each."
        )
    return lines


def render_json(results: list[Result]) -> str:
    rows = [
        {
            "code": d.code,
            "name": d.rule.name,
            "severity": d.severity,
            "message": d.message,
            "path": r.path,
            "line": d.line,
            "column": d.column,
            "pointer": d.pointer,
            "fix": {"title": d.rule.fix, "applicability": d.rule.fix_safety} if d.fix is not None else None,
        }
        for r in results
        for d in r.diagnostics
    ]
    return orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode()


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_line(path: str, d: Diagnostic) -> str:
    level = "error" if d.severity == ERROR else "warning"
    title = _escape_property(f"{d.code} {d.rule.name}")
    message = _escape_data(escape_controls(f"{d.code} {d.message}"))
    return f"::{level} file={_escape_property(path)},line={d.line},col={d.column},title={title}::{message}"


def github_pending(path: str, p: Pending) -> str:
    message = _escape_data(pending_line(path, p))
    return f"::notice file={_escape_property(path)},line={p.line},col=1,title=pending call::{message}"


def write(lines: list[str], stream=None) -> None:
    if lines:
        (stream or sys.stdout).write("\n".join(lines) + "\n")
