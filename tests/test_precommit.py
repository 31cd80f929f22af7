"""respctl lint as users run it outside respctl: a pre-commit hook, and a GitHub Actions step.

The pre-commit test runs under the thorough profile (`make test-thorough`, which CI runs): it
installs pre-commit (pip) into a venv kept in pytest's cache, and pre-commit then installs respctl
and its dependencies into an environment of its own, about 40 s of two pip runs that the default
suite leaves out. Where pre-commit cannot be installed (offline) the test is skipped, saying so.

- The hook as docs/lint.md tells users to add it: `repo:` this repository (a copy of the working
  tree, committed with fixed dates so that an unchanged tree keeps its commit and pre-commit reuses
  the environment it built), `rev:` that commit, `pre-commit install`, then `git commit`.
- The GitHub Actions example of docs/lint.md: its `respctl lint --format github` line, run on a
  folder of conversations, prints workflow commands GitHub can read.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import venv
from pathlib import Path

import orjson
import pytest
from conftest import THOROUGH, clean_env, run_cli

ROOT = Path(__file__).resolve().parent.parent
GOOD = b'{"role":"user","content":"hi"}\n'
BAD = b'{"role":"bot","content":"hi"}\n'
PENDING = (
    b'{"role":"user","content":"weather?"}\n'
    b'{"type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{}"}\n'
)
FIXED_DATE = "2026-01-01T00:00:00+00:00"


def _git(*args, cwd: Path, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {
        **clean_env(),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_AUTHOR_DATE": FIXED_DATE,
        "GIT_COMMITTER_DATE": FIXED_DATE,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env={**base, **(env or {})}, capture_output=True, text=True, check=check
    )


@pytest.fixture(scope="module")
def home(request, tmp_path_factory) -> Path:
    """Where pre-commit, its environments and the respctl repository live: pytest's cache, kept
    between runs, or a temporary folder when the cache is turned off."""
    cache = getattr(request.config, "cache", None)
    return Path(cache.mkdir("respctl-pre-commit")) if cache else tmp_path_factory.mktemp("respctl-pre-commit")


@pytest.fixture(scope="module")
def pre_commit(home) -> Path:
    """The pre-commit executable, from a venv kept in `home`."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    exe = home / "venv" / "bin" / "pre-commit"
    if not exe.exists():
        venv.create(home / "venv", with_pip=True)
        pip = subprocess.run(
            [str(home / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet", "pre-commit>=3"],
            capture_output=True,
            text=True,
        )
        if pip.returncode != 0 or not exe.exists():
            shutil.rmtree(home / "venv", ignore_errors=True)
            pytest.skip(f"pre-commit could not be installed (offline?): {pip.stderr.strip()[-300:]}")
    return exe


def _respctl_repo(home: Path) -> tuple[Path, str]:
    """A git repository holding this working tree (tracked and new files), and its commit."""
    files = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT).stdout.split("\0")
    repo = home / "respctl-repo"
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir(parents=True)
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, repo / name)
    _git("init", "-q", "-b", "main", cwd=repo)
    _git("add", "-A", cwd=repo)
    _git("commit", "-q", "-m", "respctl under test", cwd=repo)
    return repo, _git("rev-parse", "HEAD", cwd=repo).stdout.strip()


def test_the_hooks_file_declares_respctl_lint_on_jsonl_files():
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    hooks = re.findall(r"^- id: (\S+)$", text, re.M)
    assert hooks == ["respctl-lint", "respctl-lint-fix"]
    assert "  entry: respctl lint\n" in text and "  entry: respctl lint --fix\n" in text
    assert text.count("  files: \\.jsonl$\n") == 2 and text.count("  language: python\n") == 2


@pytest.mark.skipif(not THOROUGH, reason="two pip installs (about 40 s): make test-thorough runs it")
def test_respctl_lint_runs_as_a_pre_commit_hook(pre_commit, home, tmp_path):
    """A repository of conversations adds the hook as docs/lint.md shows; commits are checked."""
    repo, rev = _respctl_repo(home)
    convs = tmp_path / "convs"
    convs.mkdir()
    _git("init", "-q", "-b", "main", cwd=convs)
    (convs / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {repo}\n    rev: {rev}\n    hooks:\n      - id: respctl-lint\n"
    )
    env = {"PRE_COMMIT_HOME": str(home / "cache"), "PATH": f"{pre_commit.parent}:{os.environ['PATH']}"}
    installed = subprocess.run([str(pre_commit), "install"], cwd=convs, env={**clean_env(), **env}, capture_output=True)
    assert installed.returncode == 0, installed.stderr

    (convs / "chat.jsonl").write_bytes(GOOD)
    (convs / "tools.jsonl").write_bytes(PENDING)  # calls waiting for their output: not a problem
    (convs / "notes.txt").write_bytes(BAD)  # not a conversation: not linted
    _git("add", "-A", cwd=convs)
    ok = _git("commit", "-m", "two conversations", cwd=convs, check=False, env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert re.search(r"respctl lint\.+Passed", ok.stdout + ok.stderr)

    (convs / "bad.jsonl").write_bytes(BAD)
    _git("add", "bad.jsonl", cwd=convs)
    refused = _git("commit", "-m", "a bad one", cwd=convs, check=False, env=env)
    out = refused.stdout + refused.stderr
    assert refused.returncode == 1, out
    assert re.search(r"respctl lint\.+Failed", out) and "- exit code: 1" in out
    assert "bad.jsonl:1:2: RSP105 message item: field 'role' is 'bot'" in out
    assert _git("log", "--format=%s", cwd=convs).stdout.splitlines() == ["two conversations"]
    assert (convs / "bad.jsonl").read_bytes() == BAD  # the hook never edits a file


def _workflow_lint_command() -> list[str]:
    """The `respctl lint ...` step of the GitHub Actions example in docs/lint.md."""
    doc = (ROOT / "docs" / "lint.md").read_text()
    workflow = re.search(r"```yaml\n(# \.github/workflows/.*?)```", doc, re.S).group(1)
    (line,) = [m for m in re.findall(r"- run: (respctl lint .*)", workflow)]
    return line.split()[1:]


_COMMAND = re.compile(r"::(error|warning|notice) file=([^,:]+),line=(\d+),col=(\d+),title=([^:]+)::(.*)")


def test_the_github_actions_example_prints_workflow_commands(tmp_path):
    args = _workflow_lint_command()
    assert args[:3] == ["lint", "--format", "github"]
    folder = tmp_path / args[3].rstrip("/")
    folder.mkdir(parents=True)
    (folder / "chat.jsonl").write_bytes(GOOD)
    (folder / "tools.jsonl").write_bytes(PENDING)
    (folder / "bad.jsonl").write_bytes(BAD + b"\n" + GOOD)
    r = run_cli(args, cwd=tmp_path, env=clean_env())
    assert r.code == 1
    assert [line.split(":")[:2] for line in r.err_lines] == [
        ["respctl", " lint rule set"]
    ]  # the log, not an annotation
    lines = r.out.splitlines()
    parsed = [_COMMAND.fullmatch(line) for line in lines]
    assert all(parsed), lines
    rows = [(m[1], m[2], int(m[3]), int(m[4]), m[5]) for m in parsed]
    assert rows == [
        ("error", "conversations/bad.jsonl", 1, 2, "RSP105 invalid-value"),
        ("error", "conversations/bad.jsonl", 2, 1, "RSP004 blank-line"),
        ("notice", "conversations/tools.jsonl", 2, 1, "pending call"),
    ]
    assert parsed[0][6].startswith("RSP105 message item: field 'role' is 'bot'")
    # the same findings as the json format, one annotation each
    as_json = run_cli(["lint", "--format", "json", *args[3:]], cwd=tmp_path, env=clean_env())
    assert [(d["code"], d["line"]) for d in orjson.loads(as_json.stdout)] == [("RSP105", 1), ("RSP004", 2)]
