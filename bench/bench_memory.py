"""Peak memory for a large conversation: `show`, `lint`, `say --no-send` and a real `say` turn
against the loopback API, each as a multiple of the file's size (GNU time's maximum RSS).
    python bench/bench_memory.py [--quick]
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_turn import MODEL, PY, measure, start_server  # noqa: E402
from gen import write_conversation  # noqa: E402


def run(tmp: Path, quick: bool = False) -> list[dict]:
    n_items = 4_000 if quick else 40_000  # ~10 MB (full: ~100 MB)
    base = write_conversation(tmp / f"memory-{n_items}.jsonl", n_items, model=MODEL)
    size_mb = base.stat().st_size / 1e6
    server, url = start_server()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RESPCTL_"))}
    env.update(OPENAI_BASE_URL=url, OPENAI_API_KEY="sk-bench-not-a-key", BENCH_TMP=str(tmp))
    work = tmp / "memory.jsonl"
    rows = []
    try:
        for label, args in (
            ("show", ["show", work]),
            ("lint", ["lint", work]),
            ("say --no-send", ["say", work, "More?", "--no-send"]),
            ("say, a streamed turn", ["say", work, "More?", "-m", MODEL, "--stream"]),
        ):
            shutil.copyfile(base, work)
            ok = (0, 1) if label == "lint" else (0,)  # lint exits 1 on findings: measured all the same
            peak_mb = measure([PY, "-m", "respctl", *map(str, args)], env, ok)[2] / 1024
            rows.append(
                {
                    "name": f"peak memory: {label} ({size_mb:.0f} MB file)",
                    "median": peak_mb,
                    "min": peak_mb,
                    "max": peak_mb,
                    "unit": "MB",
                    "note": f"{peak_mb / size_mb:.1f}x the file",
                }
            )
    finally:
        server.kill()
        server.wait()
    return rows


if __name__ == "__main__":
    import tempfile

    from run import print_table

    with tempfile.TemporaryDirectory() as d:
        print_table(run(Path(d), quick="--quick" in sys.argv))
