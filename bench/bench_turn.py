"""Turn overhead: `respctl say` against the loopback API versus a minimal openai-SDK script that
sends the identical request (same body, same streaming), and say's own cost as the file grows.

The loopback server runs in its own process, so CPU time (user + sys) of the client process is
the client's own cost; wall time includes the server's.
    python bench/bench_turn.py [--quick]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from gen import write_conversation  # noqa: E402

PY = sys.executable
MODEL = "gpt-5-mini"

#: The floor: the same request made with the SDK alone. It reads the file, sends the same body
#: (as `input` the parsed lines), streams, and keeps the output_item.done items, as respctl does.
FLOOR = r"""
import sys, orjson, openai
path = sys.argv[1]
items = [orjson.loads(line) for line in open(path, "rb")]
items.append({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "One more question?"}]})
client = openai.OpenAI()
stream = client.responses.create(model=sys.argv[2], input=items, store=False, stream=True,
                                 include=["reasoning.encrypted_content"], prompt_cache_key="bench")
done = [event.item for event in stream if event.type == "response.output_item.done"]
sys.stdout.write("".join(i.model_dump_json() for i in done)[:0])
"""


def start_server() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([PY, str(ROOT / "tests" / "fakeapi.py"), "--port", "0"], stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise RuntimeError("the loopback server did not start")
    return proc, url


def measure(argv, env, ok: tuple[int, ...] = (0,)) -> tuple[float, float, int]:
    """(wall seconds, client CPU seconds, client peak RSS in KB) of one run, which must exit with a
    code in `ok`.

    The peak RSS comes from GNU time where there is one: a child's own ru_maxrss would include
    this (large) benchmark process's pages from before the exec."""
    report = Path(env["BENCH_TMP"]) / "time.txt"
    timer = ["/usr/bin/time", "-f", "%M", "-o", str(report)] if Path("/usr/bin/time").exists() else []
    start = time.perf_counter()
    proc = subprocess.Popen(timer + argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) not in ok:
        raise RuntimeError(f"{argv[:4]} failed: {err.strip()[-300:]}")
    peak = int(report.read_text().split()[-1]) if timer else usage.ru_maxrss
    return wall, usage.ru_utime + usage.ru_stime, peak


def compare(tmp: Path, n_items: int, runs: int, env: dict) -> list[dict]:
    base = write_conversation(tmp / f"base-{n_items}.jsonl", n_items, model=MODEL)
    size_mb = base.stat().st_size / 1e6
    work = tmp / "turn.jsonl"
    say, floor = [], []
    for _ in range(runs):
        for which in ("say", "floor"):  # interleaved, so drift hits both alike
            shutil.copyfile(base, work)
            if which == "say":
                argv = [PY, "-m", "respctl", "say", str(work), "One more question?", "-m", MODEL, "--stream"]
                say.append(measure(argv, env))
            else:
                floor.append(measure([PY, "-c", FLOOR, str(work), MODEL], env))
    label = f"{n_items:,} items, {size_mb:.1f} MB"
    med = lambda rows, i: statistics.median(r[i] for r in rows)  # noqa: E731
    return [
        {
            "name": f"turn wall: say vs SDK script ({label})",
            "median": med(say, 0),
            "min": min(r[0] for r in say),
            "max": max(r[0] for r in say),
            "floor": med(floor, 0),
            "ratio": med(say, 0) / med(floor, 0),
            "goal": "<= 1.10x floor" if size_mb > 5 else "",
        },
        {
            "name": f"turn memory: say vs SDK script ({label})",
            "median": med(say, 2) / 1024,
            "min": min(r[2] for r in say) / 1024,
            "max": max(r[2] for r in say) / 1024,
            "floor": med(floor, 2) / 1024,
            "ratio": med(say, 2) / med(floor, 2),
            "goal": "<= 1.5x floor" if size_mb > 5 else "",
            "unit": "MB",
        },
    ]


def scaling(tmp: Path, runs: int, env: dict, sizes) -> list[dict]:
    """say's own CPU time (server excluded) per file size: it should grow linearly with the bytes."""
    rows = []
    for n in sizes:
        base = write_conversation(tmp / f"scale-{n}.jsonl", n, model=MODEL)
        work = tmp / "scale.jsonl"
        cpu = []
        for _ in range(runs):
            shutil.copyfile(base, work)
            cpu.append(measure([PY, "-m", "respctl", "say", str(work), "Next?", "-m", MODEL, "--stream"], env)[1])
        mb = base.stat().st_size / 1e6
        row = {
            "name": f"say CPU, client only ({n:,} items, {mb:.1f} MB)",
            "median": statistics.median(cpu),
            "min": min(cpu),
            "max": max(cpu),
            "mb": mb,
        }
        if rows:  # the cost the file adds over the smallest one: flat per MB when the work is linear
            extra = row["median"] - rows[0]["median"]
            row["note"] = (
                f"+{extra:.3f}s over {sizes[0]} items: {extra / max(mb - rows[0]['mb'], 0.001) * 1000:.1f} ms per MB"
            )
        rows.append(row)
    return rows


def run(tmp: Path, quick: bool = False) -> list[dict]:
    server, url = start_server()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "RESPCTL_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(OPENAI_BASE_URL=url, OPENAI_API_KEY="sk-bench-not-a-key", BENCH_TMP=str(tmp))
    try:
        runs = 3 if quick else 5
        rows = compare(tmp, 4_000 if not quick else 400, runs, env)  # ~10 MB (quick: ~1 MB)
        rows += scaling(tmp, runs, env, (10, 1_000) if quick else (10, 1_000, 10_000))
        return rows
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    import tempfile

    from run import print_table

    with tempfile.TemporaryDirectory() as d:
        print_table(run(Path(d), quick="--quick" in sys.argv))
