"""`respctl show` on a 10,000-item conversation (25 MB: reasoning with 2-17 KB of encrypted content,
tool calls, outputs): each format must take under a second, start to finish, as a subprocess.

    python bench/bench_show.py [--quick]        (alone)
    make bench                                  (bench/run.py calls run(tmpdir, quick=...))

The terminal path (rich, `--color always`) is measured too: its goal is the first screen, since a
person at a terminal reads the first screen while the rest scrolls by (or pipes into a pager, which
gets the plain path). Bytecode is cached in the temporary folder, as it is for an installed respctl.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

ITEMS = 10_000
GOAL = 1.0  # seconds


def run(tmpdir, quick: bool = False) -> list[dict]:
    from gen import write_conversation

    tmp = Path(tmpdir)
    big = write_conversation(tmp / "show-10k.jsonl", ITEMS)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "NO_COLOR", "FORCE_COLOR")}
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    runs = 3 if quick else 7
    show = [sys.executable, "-m", "respctl", "show", str(big)]
    subprocess.run(
        show + ["--format", "json"], stdout=subprocess.DEVNULL, env=env, check=True
    )  # warm: bytecode, page cache
    size = f"{big.stat().st_size / 1e6:.0f} MB"
    rows = []
    for label, args in (
        ("text, piped", []),
        ("markdown", ["--format", "markdown"]),
        ("json", ["--format", "json"]),
        ("--pending --format json", ["--pending", "--format", "json"]),
        ("--last 1", ["--last", "1"]),
    ):
        times = [_timed(show + args, env) for _ in range(runs)]
        row = _row(
            f"show: {ITEMS:,} items ({size}), {label}", times, goal=f"< {GOAL:g} s", ok=statistics.median(times) < GOAL
        )
        row["imports_openai"] = "openai" in _imported(show[1:] + args, env)
        rows.append(row)
    first = [_first_screen(show + ["--color", "always"], env) for _ in range(runs)]
    rows.append(
        _row(
            f"show: {ITEMS:,} items, terminal (rich): first screen",
            first,
            goal=f"< {GOAL:g} s",
            ok=statistics.median(first) < GOAL,
        )
    )
    whole = [_timed(show + ["--color", "always"], env) for _ in range(1 if quick else 3)]
    rows.append(_row(f"show: {ITEMS:,} items, terminal (rich): whole file", whole, note="informational: scrolls past"))
    return rows


def _timed(argv: list, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    return time.perf_counter() - start


def _imported(args: list, env: dict) -> set:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    return {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


def _first_screen(argv: list, env: dict, size: int = 8192) -> float:
    """Seconds until the first `size` bytes (about a screen) arrive."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    got = 0
    while got < size:
        chunk = proc.stdout.read1(size)
        if not chunk:
            break
        got += len(chunk)
    elapsed = time.perf_counter() - start
    proc.kill()
    proc.wait()
    proc.stdout.close()
    return elapsed


def _row(name: str, times: list, goal: str | None = None, ok: bool | None = None, note: str | None = None) -> dict:
    row = {"name": name, "median": statistics.median(times), "min": min(times), "max": max(times), "runs": len(times)}
    if goal:
        row["goal"] = goal
        row["note"] = "ok" if ok else "MISSED"
    if note:
        row["note"] = note
    return row


if __name__ == "__main__":
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="respctl-bench-show-") as tmpdir:
        results = run(tmpdir, quick=options.quick)
    print(f"{'benchmark':<56} {'median':>8} {'min':>8} {'max':>8}  goal / notes")
    for r in results:
        openai = {True: "imports openai!", False: "no openai import"}.get(r.get("imports_openai"))
        notes = "; ".join(x for x in (r.get("goal"), openai, r.get("note")) if x)
        print(f"{r['name']:<56} {r['median']:>7.3f}s {r['min']:>7.3f}s {r['max']:>7.3f}s  {notes}")
    sys.exit(0 if all(r.get("note") != "MISSED" for r in results) else 1)
