"""Shared fixtures: the loopback Responses API and a runner for the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fakeapi import FakeResponsesAPI

from respctl.items import clean_output_item

#: A fake key that must never show up in any output or file.
CANARY_KEY = "sk-canary-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


@dataclass
class Result:
    code: int
    out: str
    err: str
    stdout: bytes

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()

    def json(self):
        return orjson.loads(self.stdout)


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RESPCTL_"))}
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


def run_cli(args, *, cwd, env, input: bytes | str | None = None, timeout: float = 60) -> Result:
    if isinstance(input, str):
        input = input.encode()
    proc = subprocess.run(
        [sys.executable, "-m", "respctl", *map(str, args)],
        cwd=cwd,
        env=env,
        input=input,
        capture_output=True,
        timeout=timeout,
    )
    return Result(
        proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"), proc.stdout
    )


@pytest.fixture
def api():
    with FakeResponsesAPI() as server:
        yield server


@pytest.fixture
def env(api):
    return clean_env(OPENAI_BASE_URL=api.base_url, OPENAI_API_KEY=CANARY_KEY)


@pytest.fixture
def cli(tmp_path, env):
    """Run `respctl ARGS...` in tmp_path against the loopback API."""

    def run(*args, input=None, extra_env=None, timeout=60) -> Result:
        return run_cli(args, cwd=tmp_path, env={**env, **(extra_env or {})}, input=input, timeout=timeout)

    return run


def user(text: str) -> dict:
    """The user message respctl creates (README: one documented, stable shape)."""
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def developer(text: str) -> dict:
    return {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": text}]}


def line(item: dict) -> bytes:
    return orjson.dumps(item) + b"\n"


def turn_lines(record) -> bytes:
    """The lines one accepted request must append: the items the server sent, cleaned, in order
    (streamed: the `output_item.done` copies; otherwise the response body's output)."""
    items = record.done_items if record.body.get("stream") else record.response["output"]
    return b"".join(line(clean_output_item(item)) for item in items)


def read_items(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]
