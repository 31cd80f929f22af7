"""respctl lint: will this conversation file replay? Checked before a turn is paid for.

    run(paths, output_format=..., fix=..., target=...)  the `respctl lint` command; returns the exit code
    gate(name, lines, items, target)                    the error lines that make `say`/`tool-result` refuse a file
    explain(code)                             `respctl lint --explain CODE`

Never imports openai: item shapes come from schema_table.json, generated from the SDK by
`python -m respctl.lint.generate` (`make schema`), and read as data (respctl/schema.py).
"""

from __future__ import annotations

import glob
import os
import sys
from pathlib import Path

from respctl import output
from respctl.conversation import exclusive_lock, read_bytes
from respctl.errors import ExitCode, RespctlError, UsageError
from respctl.lint import report
from respctl.lint.check import Result, check_file, check_items, errors_only
from respctl.lint.rules import RULES, Rule, find
from respctl.lint.rules import explain as explain_rule
from respctl.output import escape_controls
from respctl.target import COMPATIBLE, OPENAI, OTHER_SERVER, applies, where

__all__ = ["run", "gate", "explain", "RULES", "Rule"]

FORMATS = ("text", "json", "github")
#: How long --fix waits for a turn that holds the file (as `say --lock-timeout` does by default).
FIX_LOCK_TIMEOUT = 60.0


def gate(name: str, lines: list[bytes], items: list[dict], target: str = OPENAI) -> list[str]:
    """The errors of a strictly parsed file, as `name:line:col: CODE message`; pending calls are not errors.
    Only the rules that apply to `target` (respctl.target): respctl never refuses what a server produced."""
    diagnostics, _pending = check_items(lines, items, target=target)
    return [f"{name}:{d.line}:{d.column}: {d.code} {d.message}" for d in errors_only(diagnostics)]


def explain(code: str) -> int:
    rule = find(code)
    if rule is None:
        raise UsageError(f"no lint rule {code!r} (codes: {', '.join(RULES)})")
    sys.stdout.write(explain_rule(rule) + f"\n\nApplies to\n  {where(rule.code)}\n")
    return ExitCode.OK


def run(
    paths: list[str], *, output_format: str = "text", fix: bool = False, target: tuple[str, str] = (OPENAI, "")
) -> int:
    """Lint files (globs and folders expanded); print diagnostics; 0 clean, 1 findings, 2 could not run.
    `target` is (target, why it was chosen): only its rules are checked, and the output says which."""
    if output_format not in FORMATS:
        raise UsageError(f"unknown lint format {output_format!r} (text, json, github)")
    files, failed = _expand(paths)
    results: list[Result] = []
    lines: list[str] = []
    notes: list[str] = []  # --fix reports go to stdout in text format, to stderr otherwise
    fixed = 0
    try:
        for path in files:
            try:
                if path == "-":  # `git show HEAD:c.jsonl | respctl lint -`
                    if fix:
                        output.error("-: --fix cannot rewrite standard input; fix a file")
                        failed = True
                        continue
                    result = check_file(path, sys.stdin.buffer.read(), target[0])
                elif fix:
                    outcome = _fix_locked(path, target[0])
                    notes += _fix_notes(path, outcome)
                    fixed += len(outcome.applied)
                    result = outcome.result
                else:
                    result = check_file(path, read_bytes(Path(path)), target[0])
            except OSError as exc:
                output.error(f"{path}: cannot read: {exc.strerror}")
                failed = True
                continue
            except RespctlError as exc:  # busy (another respctl holds the file), or cannot be written
                output.error(str(exc))
                failed = True
                continue
            results.append(result)
            if output_format == "text":
                lines += [report.text_line(path, d) for d in result.diagnostics]
                lines += [report.pending_line(path, p) for p in result.pending]
            elif output_format == "github":
                lines += [report.github_line(path, d) for d in result.diagnostics]
                lines += [report.github_pending(path, p) for p in result.pending]
    except KeyboardInterrupt:  # the files fixed so far stay fixed: say how, then the interrupt says which
        report.write(notes, sys.stdout if output_format == "text" else sys.stderr)
        raise
    if output_format == "text":
        report.write(notes)
        report.write(lines)
        if fixed:
            report.write([f"Fixed {fixed} problem{'s' if fixed != 1 else ''}."])
        if results:
            report.write(report.summary(results, fixing=fix))
    else:
        report.write(notes, sys.stderr)
        if output_format == "json":
            report.write([report.render_json(results)])
        else:
            report.write(lines)
    sys.stdout.flush()
    openai_only = any(not applies(d.code, COMPATIBLE) for r in results for d in r.diagnostics)
    if results and not failed and (target[0] != OPENAI or openai_only):
        report.write([_rule_set(target)], sys.stderr)  # on stderr: stdout stays the diagnostics alone
    if failed:
        return ExitCode.USAGE
    return 1 if any(r.diagnostics for r in results) else 0


def _rule_set(target: tuple[str, str]) -> str:
    """Said when it matters: other servers' rule set, or findings that only the OpenAI API's rules make."""
    name, why = target
    if name == OPENAI:
        which = f"every rule, the OpenAI API's own included ({OTHER_SERVER})"
    else:
        which = "the portable rules only; the OpenAI API's own rules were not checked"
    return f"respctl: lint rule set: --target {name} ({escape_controls(why)}): {which}"


def _fix_locked(path: str, target: str):
    """--fix reads and rewrites the file under the same lock a turn takes, so no turn is lost."""
    from respctl.lint.fix import fix_file  # only --fix needs it (1.3 ms of lint's start-up)

    with exclusive_lock(path, lock_timeout=FIX_LOCK_TIMEOUT):
        before = os.stat(path)  # before reading: a program that appends without the lock is seen
        return fix_file(path, read_bytes(Path(path)), target, expect=before)


def _fix_notes(path: str, outcome) -> list[str]:
    # a file name is untrusted: no raw controls on a terminal
    return [escape_controls(note) for note in _notes(path, outcome)]


def _notes(path: str, outcome) -> list[str]:
    if outcome.refused:
        return [f"{path}: not fixed: {outcome.refused}"]
    notes = [
        f"{path}:{a.diagnostic.line}:{a.diagnostic.column}: {a.diagnostic.code} fixed: {a.title} "
        f"({a.diagnostic.message})"
        for a in outcome.applied
    ]
    if outcome.normalized:
        notes.append(
            f"{path}: rewrote {outcome.normalized} line{'s' if outcome.normalized != 1 else ''} "
            "in canonical form (compact JSON)"
        )
    return notes


def _expand(patterns: list[str]) -> tuple[list[str], bool]:
    """Files named, matched by a glob, or found (*.jsonl) under a folder; in order, each once."""
    files: dict[str, None] = {}  # ordered, each once
    failed = False
    for pattern in patterns:
        if pattern == "-":
            found = ["-"]
        elif os.path.isdir(pattern):
            found = sorted(str(p) for p in Path(pattern).rglob("*.jsonl") if p.is_file())
            if not found:
                output.error(f"{pattern}: no .jsonl files in this folder")
                failed = True
        elif glob.has_magic(pattern) and not os.path.exists(pattern):
            found = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
            if not found:
                output.error(f"{pattern}: no files match")
                failed = True
        elif os.path.exists(pattern):
            found = [pattern]
        else:
            output.error(f"{pattern}: no such file")
            failed = True
            found = []
        files.update(dict.fromkeys(found))
    return list(files), failed
