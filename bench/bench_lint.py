"""Lint speed: `respctl lint` of a 100,000-item conversation against just parsing its lines with orjson.

Goal (issue 13): within 1.5x of the parse (it was 2x in issue 4). The file is bench/gen.py's realistic conversation
(reasoning items with 2-17 KB of encrypted content, summaries, calls and outputs, messages).
Both sides are timed as whole processes, side by side, alternating:
    floor   python -c: read the file, split the lines, orjson.loads each
    lint    python -m respctl lint FILE           (startup, reading, every check, the report)
and in-process, without interpreter startup:
    floor   the same read + split + loads
    lint    respctl.lint.check.check_file on the bytes just read

    python bench/bench_lint.py [--quick] [--items N]
"""

from __future__ import annotations

import gc
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

PY = sys.executable
FLOOR_SCRIPT = (
    "import orjson, sys\n"
    "data = open(sys.argv[1], 'rb').read()\n"
    "items = [orjson.loads(line) for line in data.split(b'\\n') if line]\n"
)
GOAL = "<= 1.5x floor"


def _row(name: str, times: list[float], floor: list[float], **extra) -> dict:
    row = {
        "name": name,
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "runs": len(times),
        "floor": statistics.median(floor),
        "goal": GOAL,
    }
    row["ratio"] = row["median"] / row["floor"]
    row.update(extra)
    return row


def _process_times(path: Path, runs: int) -> tuple[list[float], list[float]]:
    floor, lint = [], []
    for _ in range(runs):
        for argv, out in (
            ([PY, "-c", FLOOR_SCRIPT, str(path)], floor),
            ([PY, "-m", "respctl", "lint", str(path)], lint),
        ):
            start = time.perf_counter()
            proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            out.append(time.perf_counter() - start)
            if proc.returncode not in (0, 1):
                raise SystemExit(f"{argv}: exit {proc.returncode}: {proc.stderr.decode()}")
    return floor, lint


def _peak_mb(argv: list[str], tmp: Path) -> float | None:
    """Peak resident memory (MB) of one run, from GNU time; None where there is no /usr/bin/time."""
    if not Path("/usr/bin/time").exists():
        return None
    report = tmp / "peak.txt"
    subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(report), *argv], stdout=subprocess.DEVNULL, check=False)
    return int(report.read_text().split()[-1]) / 1024


def _parse(path: Path) -> list:
    import orjson

    data = path.read_bytes()
    return [orjson.loads(line) for line in data.split(b"\n") if line]


def _lint(path: Path):
    from respctl.lint.check import check_file

    return check_file(str(path), path.read_bytes())


def _parse_no_gc(path: Path) -> list:
    gc.disable()
    try:
        return _parse(path)
    finally:
        gc.enable()


def _inprocess_times(path: Path, runs: int) -> tuple[list[float], list[float], list[float]]:
    floor, lint, floor_no_gc = [], [], []
    for _ in range(runs):
        for fn, out in ((_parse, floor), (_lint, lint), (_parse_no_gc, floor_no_gc)):
            gc.collect()
            start = time.perf_counter()
            result = fn(path)
            out.append(time.perf_counter() - start)
            del result
    return floor, lint, floor_no_gc


def run(tmpdir, quick: bool = False, items: int | None = None) -> list[dict]:
    from gen import write_conversation

    n = items or (20_000 if quick else 100_000)
    runs = 3 if quick else 5
    path = Path(tmpdir) / f"lint-{n}.jsonl"
    write_conversation(path, n)
    size = f"{n:,} items, {path.stat().st_size / 1e6:.0f} MB"
    _lint(path)  # warm the page cache and check the file is clean
    floor, lint = _process_times(path, runs)
    rows = [
        _row(f"lint: respctl lint ({n:,} items)", lint, floor, note=f"{size}; floor: python -c read+split+orjson.loads")
    ]
    peak = _peak_mb([PY, "-m", "respctl", "lint", str(path)], Path(tmpdir))
    floor_peak = _peak_mb([PY, "-c", FLOOR_SCRIPT, str(path)], Path(tmpdir))
    if peak is not None and floor_peak is not None:
        file_mb = path.stat().st_size / 2**20
        rows.append(
            {
                "name": f"lint: peak memory ({n:,} items)",
                "unit": "MB",
                "median": peak,
                "min": peak,
                "max": peak,
                "runs": 1,
                "floor": floor_peak,
                "ratio": peak / floor_peak,
                "note": f"file {file_mb:.0f} MB; {peak / file_mb:.2f}x the file; floor: the parse alone",
                "goal": "report (peak vs file size)",
            }
        )
    floor, lint, floor_no_gc = _inprocess_times(path, runs)
    rows.append(
        _row(
            f"lint: check_file in-process ({n:,} items)", lint, floor, note="floor: read+split+orjson.loads in-process"
        )
    )
    # lint turns the cyclic GC off while it reads (nothing it builds is cyclic); the same parse without it:
    rows.append(
        _row(
            f"lint: check_file vs parse without gc ({n:,} items)",
            lint,
            floor_no_gc,
            note="floor: read+split+orjson.loads in-process, gc disabled",
        )
    )
    return rows


def main() -> int:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 items, 3 runs")
    parser.add_argument("--items", type=int, help="number of items (default 100,000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="respctl-bench-lint-") as tmp:
        rows = run(tmp, quick=args.quick, items=args.items)
    for r in rows:
        unit = r.get("unit", "s")
        print(
            f"{r['name']:<48} median {r['median']:.3f}{unit} (min {r['min']:.3f}, max {r['max']:.3f}) "
            f"floor {r['floor']:.3f}{unit} ratio {r['ratio']:.2f}x  [{r.get('goal', '')}]  {r.get('note', '')}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
