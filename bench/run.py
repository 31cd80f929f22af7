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


#: Start-up goal (issue 13): `--help`, `lint` and `show` on a small file within 1.3x of a bare Typer program.
STARTUP_GOAL = 1.3


def instructions(argv) -> int | None:
    """Instructions one run executes, counted by valgrind (callgrind): steady on a busy machine, where
    wall times are not. None without valgrind."""
    import shutil

    if shutil.which("valgrind") is None:
        return None
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        capture_output=True,
        text=True,
        env=BENCH_ENV,
    )
    found = [line.split()[-1] for line in out.stderr.splitlines() if "Collected :" in line]
    return int(found[-1]) if found else None


def bench_startup(tmp: Path, runs: int, count_instructions: bool = False) -> list[dict]:
    """Paired: each round runs the floor and every command once, in turn, so that a busy machine
    slows both sides of a ratio alike; the ratio reported is the median of the per-round ratios."""
    from gen import write_conversation

    small = tmp / "small.jsonl"
    write_conversation(small, 20)
    commands = {
        "floor": [PY, "-c", "import typer, orjson"],
        "startup: respctl --help": [PY, "-m", "respctl", "--help"],
        "startup: respctl lint (20 items)": [PY, "-m", "respctl", "lint", str(small)],
        "startup: respctl show (20 items)": [PY, "-m", "respctl", "show", str(small)],
    }
    for argv in commands.values():  # warm-up: bytecode caches written, files in the page cache
        timed(argv, 1)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            times[name] += timed(argv, 1)
    floor = times.pop("floor")
    rows = []
    for name, argv in commands.items():
        if name == "floor":
            continue
        paired = [t / f for t, f in zip(times[name], floor, strict=True)]
        r = row(
            name,
            times[name],
            floor,
            goal=f"<= {STARTUP_GOAL}x floor (python -c 'import typer, orjson'), paired",
            imports_openai=imports_openai(argv[1:]),
        )
        r["ratio"] = statistics.median(paired)
        r["ratio_of_medians"] = r["median"] / r["floor"]
        r["met"] = r["ratio"] <= STARTUP_GOAL
        rows.append(r)
    if count_instructions:
        floor_ir = instructions(commands["floor"])
        for r in rows:
            ir = instructions(commands[r["name"]])
            if floor_ir and ir:
                r["instructions_ratio"] = ir / floor_ir
                r["note"] = f"instructions {r['instructions_ratio']:.2f}x the floor's (valgrind)"
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs and smaller files (a smoke run)")
    parser.add_argument(
        "--json", default=str(HERE / "results" / "latest.json"), help="where to write the table as JSON"
    )
    parser.add_argument("--startup-only", action="store_true", help="only the start-up rows (about a minute)")
    parser.add_argument(
        "--instructions", action="store_true", help="also count start-up instructions with valgrind (busy machines)"
    )
    args = parser.parse_args()
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="respctl-bench-") as tmpdir:
        tmp = Path(tmpdir)
        load_before = os.getloadavg()[0]
        rows += bench_startup(tmp, 5 if args.quick else 31, args.instructions)
        for module in (
            ()
            if args.startup_only
            else ("bench_lint", "bench_show", "bench_turn", "bench_memory", "bench_batch", "bench_compaction")
        ):
            try:
                mod = __import__(module)
            except ImportError:
                continue
            rows += mod.run(tmp, quick=args.quick)
    print_table(rows)
    print(f"\nload average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after ({os.cpu_count()} cpus)")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": [load_before, os.getloadavg()[0]],  # wall-time ratios are noisier under load
    }
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    print(f"\nwritten to {out}")
    return 0


def print_table(rows: list[dict]) -> None:
    print(f"{'benchmark':<56} {'median':>9} {'min':>9} {'max':>9} {'floor':>9} {'ratio':>7}  goal / notes")
    for r in rows:
        unit = r.get("unit", "s")
        fmt = (lambda v: f"{v:.3f}s") if unit == "s" else (lambda v, unit=unit: f"{v:.0f}{unit}")
        floor = fmt(r["floor"]) if "floor" in r else ""
        ratio = f"{r['ratio']:.2f}x" if "ratio" in r else ""
        notes = [r.get("goal", "")]
        if "met" in r:
            notes.append("goal met" if r["met"] else "GOAL MISSED")
        if "imports_openai" in r:
            notes.append("imports openai!" if r["imports_openai"] else "no openai import")
        if r.get("note"):
            notes.append(r["note"])
        print(
            f"{r['name']:<56} {fmt(r['median']):>9} {fmt(r['min']):>9} {fmt(r['max']):>9} {floor:>9} {ratio:>7}  "
            f"{'; '.join(n for n in notes if n)}"
        )


if __name__ == "__main__":
    sys.exit(main())
