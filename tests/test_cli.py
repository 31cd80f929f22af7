"""The command layer: one-line usage errors, start-up without openai, version."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import clean_env


def respctl(*args, env=None, python_flags=()):
    return subprocess.run(
        [sys.executable, *python_flags, "-m", "respctl", *args],
        capture_output=True,
        text=True,
        env=env or clean_env(),
        timeout=60,
    )


@pytest.mark.parametrize(
    "args, line",
    [
        (["say"], "respctl: error: Missing argument 'FILE'. (see 'respctl say --help')"),
        (
            ["say", "f", "--effort", "huge"],
            "respctl: error: Invalid value for '--effort': 'huge' is not one of 'none', 'minimal', 'low', 'medium', "
            "'high', 'xhigh'. (see 'respctl say --help')",
        ),
        (
            ["say", "f", "--max-output-tokens", "0"],
            "respctl: error: Invalid value for '--max-output-tokens': 0 is smaller than the minimum 1. (see 'respctl "
            "say --help')",
        ),
        (
            ["say", "f", "--timeout", "soon"],
            "respctl: error: Invalid value for '--timeout': 'soon' is not a number. (see 'respctl say --help')",
        ),
        (
            ["show", "f", "--last", "x"],
            "respctl: error: Invalid value for '--last': 'x' is not an integer. (see 'respctl show --help')",
        ),
        (
            ["say", "f", "--bogus"],
            "respctl: error: No such option: --bogus (Possible options: --verbose) (see 'respctl say --help')",
        ),
        (
            ["say", "f", "--verbos"],
            "respctl: error: No such option: --verbos (Possible options: --verbose) (see 'respctl say --help')",
        ),
        (["frobnicate"], "respctl: error: No such command 'frobnicate'. (see 'respctl --help')"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args, line):
    r = respctl(*args)
    assert r.returncode == 2 and r.stderr.splitlines() == [line] and r.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["say", "--help"],
        ["lint", "--help"],
        ["show", "--help"],
        ["lint", "samples/rome-trip.jsonl"],
        ["show", "samples/rome-trip.jsonl"],
    ],
)
def test_commands_that_do_not_call_the_api_never_import_openai_or_pydantic(args):
    r = respctl(*args, python_flags=("-X", "importtime"))
    modules = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert r.returncode == 0, r.stderr[-500:]
    assert "openai" not in modules and "pydantic" not in modules and "httpx2" not in modules
    # nor what only a turn needs: the request body's builder (hashlib), the writer's temp files (random)
    assert not modules & {"respctl.request", "hashlib", "tempfile", "random"}, modules & {"respctl.request", "hashlib"}


@pytest.mark.parametrize(
    "args",
    [
        ["say", "c.jsonl", "hi", "--stream", "--dry-run"],
        ["say", "c.jsonl", "hi", "--stream", "--no-send"],
        ["say", "c.jsonl", "hi", "--no-stream", "--dry-run", "--json"],
        ["start", "new.jsonl", "hi", "--stream", "--dry-run"],
        ["start", "new.jsonl", "hi", "--stream", "--no-send"],
        ["tool-result", "c.jsonl", "call_1", "42", "--stream", "--no-send"],
    ],
)
def test_turns_that_send_nothing_never_import_openai(tmp_path, args):
    """A turn loads openai (respctl.client) only to send: never to plan (--dry-run) nor to record (--no-send)."""
    call = {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"}
    (tmp_path / "c.jsonl").write_text(f'{{"type":"message","role":"user","content":"hi"}}\n{json.dumps(call)}\n')
    if args[0] == "say":  # a file that takes a message: no call waiting
        (tmp_path / "c.jsonl").write_text('{"type":"message","role":"user","content":"hi"}\n')
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "respctl", *args, "-m", "gpt-5-mini"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(OPENAI_API_KEY="sk-never-used-0000"),
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    modules = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert r.returncode == 0, r.stderr[-500:]
    assert not modules & {"openai", "httpx2", "pydantic", "respctl.client"}


def test_version_and_help_list_every_command():
    assert respctl("--version").stdout == "respctl 0.1.0\n"
    out = respctl("--help").stdout
    for command in ("start", "say", "tool-result", "lint", "show"):
        assert f"  {command} " in out


def test_python_dash_m_and_console_script_agree():
    script = subprocess.run(
        [sys.executable.rsplit("/", 1)[0] + "/respctl", "--version"], capture_output=True, text=True
    )
    assert script.stdout == respctl("--version").stdout
