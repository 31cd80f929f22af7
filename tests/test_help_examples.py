"""The examples at the end of each command's --help (respctl/examples.py): shown, narrow enough for a
60-column terminal, and each run as written against the loopback API, so that none can rot."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from conftest import run_cli
from fakeapi import Turn, function_call, reasoning

from respctl.examples import EXAMPLES

ROOT = Path(__file__).parent.parent
CODEX_ROLLOUT = "rollout-2025-10-29T00-59-38-019a2d7a-41c4-78b1-b7cc-a45d62a89cd5.jsonl"
#: A 1x1 PNG, for `--image photo.png`.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def commands(name: str) -> list[tuple[str, int]]:
    """The commands of one entry, in order, each with the exit status its comment announces (else 0)."""
    out, expected, lines = [], 0, []
    for line in EXAMPLES[name].splitlines():
        if line.startswith("#"):
            found = re.search(r"\(exit (\d+)\)|\bexit (\d+)$", line)
            expected = int(found.group(1) or found.group(2)) if found else 0
        elif line.strip():
            lines.append(line)
            if not line.endswith("\\"):
                out.append(("\n".join(lines), expected))
                lines, expected = [], 0
    return out


def test_every_command_has_examples_and_each_line_fits_60_columns():
    from respctl.cli import app

    names = {info.name or info.callback.__name__ for info in app.registered_commands}
    for group in app.registered_groups:  # `batch` and its commands, `batch submit`...
        group_name = group.name or group.typer_instance.info.name
        names |= {group_name} | {f"{group_name} {info.name}" for info in group.typer_instance.registered_commands}
    assert set(EXAMPLES) == names | {"respctl"}
    for name, text in EXAMPLES.items():
        assert commands(name), name
        assert all(len(line) <= 56 for line in text.splitlines()), name


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_help_ends_with_the_examples(cli, name):
    args = ["--help"] if name == "respctl" else [*name.split(), "--help"]
    r = cli(*args, extra_env={"COLUMNS": "60"})
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    examples = lines[lines.index("  Examples:") :]
    assert [line[4:] for line in examples[2:]] == EXAMPLES[name].strip("\n").splitlines()
    assert max(len(line) for line in examples) <= 60


def _setup(name: str, tmp: Path, env: dict, api) -> None:
    for sample in ("tools.json", "get_weather.py"):
        shutil.copy(ROOT / "samples" / sample, tmp / sample)
    (tmp / "notes.md").write_text("# Notes\n\nBudget: 300 EUR.\n")
    (tmp / "prompt.md").write_text("You are terse.\n")
    (tmp / "rome.json").write_text('{"temp_c": 24}\n')
    (tmp / "photo.png").write_bytes(PNG)
    (tmp / "convs").mkdir()
    for sample in ("potatoland.jsonl", "rome-trip.jsonl"):
        shutil.copy(ROOT / "samples" / sample, tmp / "convs" / sample)
    (tmp / "messages.json").write_text(
        '[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]'
    )
    rollout = tmp / ".codex" / "sessions" / "2026" / "01" / "02" / "rollout-1.jsonl"
    rollout.parent.mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "fixtures" / "codex" / CODEX_ROLLOUT, rollout)
    if name in ("respctl", "start"):
        return
    if name.startswith("batch"):  # files that end in a question, as a batch's files do
        for folder in ("convs", "evals"):
            shutil.rmtree(tmp / folder, ignore_errors=True)
            (tmp / folder).mkdir()
            for n in range(3):
                (tmp / folder / f"q{n}.jsonl").write_text(f'{{"role": "user", "content": "Question {n}?"}}\n')
    r = run_cli(["start", "chat.jsonl", "--instructions", "Be terse.", "Hi"], cwd=tmp, env=env)
    assert r.code == 0, r.err
    if name == "show":
        for args in (["init", "-q"], ["add", "chat.jsonl"], ["commit", "-q", "-m", "chat"]):
            subprocess.run(["git", *args], cwd=tmp, env=env, check=True)
    if name == "tool-result":
        calls = [
            function_call("get_weather", {"city": c}, call_id=i)
            for c, i in (("Paris", "call_abc"), ("Rome", "call_def"))
        ]
        api.script(Turn([reasoning(), *calls]))
    if name in ("batch status", "batch collect"):  # an ended batch: its id in $BATCH
        r = run_cli(["batch", "submit", "convs/q0.jsonl", "convs/q1.jsonl"], cwd=tmp, env=env)
        assert r.code == 0, r.err
        env["BATCH"] = r.out.strip()
        while api.advance_batch(env["BATCH"])["status"] != "completed":
            pass


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_example_runs_as_written(env, api, tmp_path, name):
    if name in ("show", "export") and shutil.which("jq") is None:
        pytest.skip("jq is not installed")
    git = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    path = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env = {**env, **git, "PATH": path, "RESPCTL_MODEL": "gpt-5-mini", "HOME": str(tmp_path)}
    env["EDITOR"] = "true"  # `respctl edit` as written: the editor saves nothing
    _setup(name, tmp_path, env, api)
    for command, expected in commands(name):
        words = list(shlex.shlex(command.replace("\\\n", " "), posix=True, punctuation_chars=True))
        shell_words = any(set(w) <= set("|&;<>()") or w.startswith("~") or "$" in w or "*" in w for w in words)
        if words[0] == "respctl" and not shell_words:
            done = run_cli(words[1:], cwd=tmp_path, env=env)  # a forked process, as the other CLI tests run
            code, err = done.code, done.err
        else:  # a pipe or a redirection: as a shell runs it
            shell = subprocess.run(
                ["bash", "-c", f"set -o pipefail\n{command}"],
                cwd=tmp_path,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=60,
            )
            code, err = shell.returncode, shell.stderr
        assert code == expected, f"{command}\n{err[-2000:]}"
    assert all(req.error is None for req in api.requests)
    chat = tmp_path / "chat.jsonl"
    items = [orjson.loads(line) for line in chat.read_bytes().splitlines()] if chat.exists() else []
    if name == "start":  # the last example started over with the instructions as a system message
        assert [i.get("role") for i in items] == ["system"]
    if name == "tool-result":  # both calls answered, in the file, and the next turn ran
        outputs = {i["call_id"]: i["output"] for i in items if i.get("type") == "function_call_output"}
        assert outputs == {"call_abc": '{"temp_c": 21}', "call_def": '{"temp_c": 24}\n'}
        assert items[-1]["role"] == "assistant"
    if name == "show":
        assert "## Turn 1" in (tmp_path / "chat.md").read_text()
