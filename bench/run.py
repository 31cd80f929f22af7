"""make bench: one table of medians (min, max) against each measurement's floor; also written as JSON.

Every figure is a ratio taken side by side in one run on the same machine; nothing here is a test.
    python bench/run.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))

PY = sys.executable

#: Measure as an installed tool runs: with its bytecode cached (this environment may say otherwise).
BENCH_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(argv, runs, env=None, stdin_path=None) -> list[float]:
    """Wall times of `runs` runs of a command (its output discarded)."""
    times = []
    for _ in range(runs):
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
        start = time.perf_counter()
        subprocess.run(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=stdin, env=env or BENCH_ENV, check=False
        )
        times.append(time.perf_counter() - start)
        if stdin_path:
            stdin.close()
    return times


def row(name, times, floor_times=None, goal=None, **extra) -> dict:
    r = {"name": name, "median": statistics.median(times), "min": min(times), "max": max(times), "runs": len(times)}
    if floor_times:
        r["floor"] = statistics.median(floor_times)
        r["ratio"] = r["median"] / r["floor"]
    if goal:
        r["goal"] = goal
    r.update(extra)
    return r


def imports_openai(argv) -> bool:
    out = subprocess.run([PY, "-X", "importtime", *argv], capture_output=True, text=True)
    return any(line.rstrip().endswith(" openai") for line in out.stderr.splitlines())


def bench_startup(tmp: Path, runs: int) -> list[dict]:
    from gen import write_conversation

    small = tmp / "small.jsonl"
    write_conversation(small, 20)
    timed([PY, "-m", "respctl", "show", str(small)], 1)  # warm-up: writes the bytecode caches
    floor = timed([PY, "-c", "import typer, orjson"], runs)
    rows = []
    for label, args in (
        ("startup: respctl --help", ["--help"]),
        ("startup: respctl lint (20 items)", ["lint", str(small)]),
        ("startup: respctl show (20 items)", ["show", str(small)]),
    ):
        argv = [PY, "-m", "respctl", *args]
        rows.append(
            row(
                label,
                timed(argv, runs),
                floor,
                goal="<= 1.5x floor",
                imports_openai=imports_openai(["-m", "respctl", *args]),
            )
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs and smaller files (a smoke run)")
    parser.add_argument(
        "--json", default=str(HERE / "results" / "latest.json"), help="where to write the table as JSON"
    )
    args = parser.parse_args()
    runs = 3 if args.quick else 7
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="respctl-bench-") as tmpdir:
        tmp = Path(tmpdir)
        rows += bench_startup(tmp, runs)
        for module in ("bench_lint", "bench_show", "bench_turn", "bench_memory"):
            try:
                mod = __import__(module)
            except ImportError:
                continue
            rows += mod.run(tmp, quick=args.quick)
    print_table(rows)
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    print(f"\nwritten to {out}")
    return 0


def print_table(rows: list[dict]) -> None:
    print(f"{'benchmark':<56} {'median':>9} {'min':>9} {'max':>9} {'floor':>9} {'ratio':>7}  goal / notes")
    for r in rows:
        unit = r.get("unit", "s")
        fmt = (lambda v: f"{v:.3f}s") if unit == "s" else (lambda v: f"{v:.0f}{unit}")
        floor = fmt(r["floor"]) if "floor" in r else ""
        ratio = f"{r['ratio']:.2f}x" if "ratio" in r else ""
        notes = [r.get("goal", "")]
        if "imports_openai" in r:
            notes.append("imports openai!" if r["imports_openai"] else "no openai import")
        if r.get("note"):
            notes.append(r["note"])
        print(
            f"{r['name']:<56} {fmt(r['median']):>9} {fmt(r['min']):>9} {fmt(r['max']):>9} {floor:>9} {ratio:>7}  {'; '.join(n for n in notes if n)}"
        )


if __name__ == "__main__":
    sys.exit(main())
