"""`git diff` that reads like a conversation: show as git's textconv driver, in a real repository."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROME = ROOT / "samples" / "rome-trip.jsonl"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

#: The recipe of docs/show.md, with this interpreter standing in for the `respctl` on PATH.
TEXTCONV = f"{shlex.quote(sys.executable)} -m respctl show --format markdown --exit-zero"


@pytest.fixture
def repo(tmp_path) -> Path:
    env_home = tmp_path / "home"
    env_home.mkdir()
    work = tmp_path / "repo"
    work.mkdir()
    git(work, "init", "-q", home=env_home)
    git(work, "config", "user.email", "test@example.com", home=env_home)
    git(work, "config", "user.name", "Test", home=env_home)
    git(work, "config", "diff.respctl.textconv", TEXTCONV, home=env_home)
    (work / ".gitattributes").write_text("*.jsonl diff=respctl\n")
    (work / ".home").write_text(str(env_home))
    return work


def git(work: Path, *args: str, home: Path | None = None) -> str:
    home = home or Path((work / ".home").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "NO_COLOR", "FORCE_COLOR"))}
    env.update(
        HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_PAGER="cat", FORCE_COLOR="1"
    )  # FORCE_COLOR: textconv stays plain anyway
    result = subprocess.run(
        ["git", *args], cwd=work, capture_output=True, text=True, encoding="utf-8", env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_git_diff_shows_an_appended_turn_as_text(repo):
    lines = ROME.read_bytes().splitlines(keepends=True)
    chat = repo / "rome.jsonl"
    chat.write_bytes(b"".join(lines[:10]))  # instructions and turn 1 (with its tool round)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "two turns")
    chat.write_bytes(b"".join(lines))  # `respctl say` appended turn 2

    diff = git(repo, "diff", "--no-color")
    body = diff.split("\n@@", 1)[1].splitlines()[1:]
    added = [line[1:] for line in body if line.startswith("+")]
    assert [line for line in body if line.startswith("-")] == []  # an appended turn only adds lines
    assert added[:9] == [
        "",
        "## Turn 2",
        "",
        "**User**",
        "",
        "Make day 2 cheaper. My budget so far:",
        "",
        "`[text file: budget.md, 83 B]`",
        "",
    ]
    assert "**Reasoning** · no summary · 2.1 KB encrypted" in added
    assert "**Assistant** · final answer" in added
    assert "2. Take bus 64 instead of a taxi (`1.50 EUR`)." in added
    assert not any("encrypted_content" in line or line.startswith("{") for line in diff.splitlines())
    assert "\x1b" not in diff

    raw = git(repo, "diff", "--no-color", "--no-textconv")
    assert '+{"type":"message","role":"user"' in raw  # without the driver: JSON lines

    git(repo, "commit", "-q", "-am", "turn 2")
    log = git(repo, "log", "-p", "--no-color", "-1")
    assert "+## Turn 2" in log


def test_git_diff_of_a_conflicted_file_still_works(repo):
    chat = repo / "rome.jsonl"
    chat.write_bytes(ROME.read_bytes())
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "conversation")
    lines = ROME.read_bytes().splitlines(keepends=True)
    chat.write_bytes(b"".join(lines[:10]) + b"<<<<<<< HEAD\n" + b"".join(lines[10:]) + b"=======\n>>>>>>> fork\n")
    diff = git(repo, "diff", "--no-color")  # textconv exits 0 with --exit-zero: git does not fail
    assert "+**Damaged line 11** · *invalid JSON: unexpected character, expected a JSON value at column 1*" in diff
    assert "+<<<<<<< HEAD" in diff


def test_textconv_output_does_not_depend_on_the_file_name(tmp_path):
    copy = tmp_path / "tmp-Ab3xYz"  # git hands textconv a temporary file
    copy.write_bytes(ROME.read_bytes())
    runs = [
        subprocess.run(
            shlex.split(TEXTCONV) + [str(path)], capture_output=True, env={**os.environ, "FORCE_COLOR": "1"}
        ).stdout
        for path in (ROME, copy)
    ]
    assert runs[0] == runs[1] and runs[0]
