"""`respctl batch run` over 1,000 conversation files against the loopback server's Batch API: the
client's wall time, CPU time and peak memory, against a floor run side by side.

The floor is what any client of this job must do on its own side, without the network: start Python
with openai imported, read every file, hash its bytes (SHA-256) and build its request line (the
file's lines joined into `input`). The loopback server is a process of its own, so the client's CPU
time excludes the batch's execution; its wall time includes it (the server runs the 1,000 requests
while the client polls), so the wall ratio is an upper bound on respctl's own overhead.
    python bench/bench_batch.py [--quick]
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_turn import measure, start_server  # noqa: E402
from gen import write_conversation  # noqa: E402

PY = sys.executable
MODEL = "gpt-5-mini"
QUESTION = b'{"type":"message","role":"user","content":[{"type":"input_text","text":"And the next step?"}]}\n'

FLOOR = r"""
import hashlib, sys, orjson, openai
lines = []
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    digest = hashlib.sha256(data).hexdigest()
    body = b'{"model":"gpt-5-mini","store":false,"input":[' + b",".join(data.splitlines()) + b"]}"
    lines.append(b'{"custom_id":' + orjson.dumps(digest[:48]) + b',"body":' + body + b"}\n")
sys.stdout.buffer.write(b"".join(lines)[:0])
"""


def run(tmp: Path, quick: bool = False) -> list[dict]:
    n_files, n_items, runs = (100, 12, 2) if quick else (1_000, 12, 3)
    server, url = start_server()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "RESPCTL_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(OPENAI_BASE_URL=url, OPENAI_API_KEY="sk-bench-not-a-key", BENCH_TMP=str(tmp), RESPCTL_TARGET="openai")
    base = write_conversation(tmp / "batch-base.jsonl", n_items, model=MODEL)
    template = base.read_bytes() + QUESTION
    work = tmp / "batch-files"
    try:
        batch, floor = [], []
        for _ in range(runs):
            for which in ("batch", "floor"):  # paired, so drift hits both alike
                shutil.rmtree(work, ignore_errors=True)
                work.mkdir()
                paths = []
                for i in range(n_files):
                    path = work / f"conv-{i:04d}.jsonl"
                    path.write_bytes(template)
                    paths.append(str(path))
                if which == "batch":
                    argv = [PY, "-m", "respctl", "batch", "run", *paths, "-m", MODEL, "--poll", "0.05", "-q"]
                    here = os.getcwd()
                    os.chdir(work)  # the manifest goes in the folder run from
                    try:
                        batch.append(measure(argv, env))
                    finally:
                        os.chdir(here)
                    changed = sum(Path(p).stat().st_size > len(template) for p in paths)
                    assert changed == n_files, f"{changed} of {n_files} files answered"
                else:
                    floor.append(measure([PY, "-c", FLOOR, *paths], env))
        size = len(template) * n_files / 1e6
        label = f"{n_files:,} files of {n_items + 1} items, {size:.1f} MB"
        med = lambda rows, i: statistics.median(r[i] for r in rows)  # noqa: E731
        return [
            {
                "name": f"batch run wall vs read+hash+build ({label})",
                "median": med(batch, 0),
                "min": min(r[0] for r in batch),
                "max": max(r[0] for r in batch),
                "floor": med(floor, 0),
                "ratio": med(batch, 0) / med(floor, 0),
                "goal": "server's batch run included",
            },
            {
                "name": f"batch run client CPU vs read+hash+build ({label})",
                "median": med(batch, 1),
                "min": min(r[1] for r in batch),
                "max": max(r[1] for r in batch),
                "floor": med(floor, 1),
                "ratio": med(batch, 1) / med(floor, 1),
                "goal": "",
            },
            {
                "name": f"batch run peak memory vs read+hash+build ({label})",
                "median": med(batch, 2) / 1024,
                "min": min(r[2] for r in batch) / 1024,
                "max": max(r[2] for r in batch) / 1024,
                "floor": med(floor, 2) / 1024,
                "ratio": med(batch, 2) / med(floor, 2),
                "goal": "",
                "unit": "MB",
            },
        ]
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    import tempfile

    from run import print_table

    with tempfile.TemporaryDirectory() as d:
        print_table(run(Path(d), quick="--quick" in sys.argv))
