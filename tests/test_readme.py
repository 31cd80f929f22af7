"""The shell examples of the README and of every docs/*.md page, run as scripts under `set -euo pipefail`
against the loopback API, so that an example moved into docs/ stays tested."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fakeapi import Turn, function_call, reasoning

ROOT = Path(__file__).parent.parent
PAGES = {
    path.relative_to(ROOT).as_posix(): path.read_text()
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
}
BLOCKS = [
    (page, block) for page, text in PAGES.items() for block in re.findall(r"^```bash\n(.*?)^```", text, re.S | re.M)
]


def test_the_readme_and_docs_have_shell_examples_and_each_runs_under_strict_mode():
    pages = [page for page, _ in BLOCKS]
    assert "README.md" in pages and "docs/scripting.md" in pages and pages.count("docs/tools.md") >= 2
    assert len(BLOCKS) >= 4
    for page, block in BLOCKS:
        assert "set -euo pipefail" in block.splitlines()[:3], f"{page}: {block[:200]}"


def test_every_example_that_handles_exit_statuses_is_a_tested_script():
    """`$?` and `rc=` belong to scripts, and every script is a ```bash block, run below."""
    for page, text in PAGES.items():
        for tag, block in re.findall(r"^```(\w*)\n(.*?)^```", text, re.S | re.M):
            if "$?" in block or "rc=" in block:
                assert tag == "bash", f"{page}: {block[:200]}"


@pytest.mark.parametrize(("page", "block"), BLOCKS, ids=[f"{p}:{b.splitlines()[3][:40]}" for p, b in BLOCKS])
def test_shell_example_runs_as_a_script(env, api, tmp_path, page, block):
    for name in ("get_weather.py", "tools.json"):
        shutil.copy(ROOT / "samples" / name, tmp_path / name)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "hello.sh").write_text("#!/bin/sh\necho hello\n")
    git_env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    if "call_abc" in block:  # the step-by-step loop answers two calls by their ids
        calls = [
            function_call("get_weather", {"city": c}, call_id=i)
            for c, i in (("Paris", "call_abc"), ("Rome", "call_def"))
        ]
        api.script(Turn([reasoning(), *calls]))
    script = tmp_path / "example.sh"
    script.write_text(block)
    path = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    r = subprocess.run(
        ["bash", str(script)],
        cwd=tmp_path,
        env={**env, **git_env, "PATH": path, "RESPCTL_MODEL": "gpt-5-mini", "HOME": str(tmp_path)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, f"{page}: {r.stderr[-2000:]}"
    assert api.requests and all(req.error is None for req in api.requests)


def _anchors(text: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as '-'."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in re.findall(r"^#+ (.*)$", text, re.M)}


def test_every_link_between_the_readme_and_docs_resolves():
    """A page moved or a heading renamed breaks no link: each relative link names a file that exists,
    and its #anchor a heading of that page."""
    checked = 0
    for page, text in PAGES.items():
        here = (ROOT / page).parent
        for target in re.findall(r"\]\(([^)\s]+)\)", re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            file = (here / path).resolve() if path else ROOT / page
            assert file.exists(), f"{page}: {target}"
            if anchor:
                assert anchor in _anchors(file.read_text()), f"{page}: {target}"
            checked += 1
    assert checked > 30
