"""A long conversation, turn after turn, with and without server-side compaction (--compact-threshold):
the request bytes and the client's wall time per turn, against the loopback server.

Each turn is `respctl say` as a user runs it (a process of its own). The server runs in this process
(a thread) so that each request's exact bytes can be read from it; the client's wall time includes the
server's answer, which is the same work in both runs but for the compaction itself.
    python bench/bench_compaction.py [--quick]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from fakeapi import FakeResponsesAPI  # noqa: E402

PY = sys.executable
MODEL = "gpt-5.4"
THRESHOLD = 2000  # tokens: the loopback server counts a token per 4 bytes of the request


def conversation(tmp: Path, turns: int, threshold: int | None) -> tuple[list[int], list[float]]:
    """(request bytes, client wall seconds) of each turn of a fresh conversation."""
    chat = tmp / f"long-{threshold or 'none'}.jsonl"
    for path in (chat, Path(str(chat) + ".history.jsonl")):
        path.unlink(missing_ok=True)
    sizes, times = [], []
    with FakeResponsesAPI() as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RESPCTL_"))}
        env.update(OPENAI_BASE_URL=api.base_url, OPENAI_API_KEY="sk-bench-not-a-key", RESPCTL_TARGET="openai")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([PY, "-m", "respctl", "start", chat, "--instructions", "Be brief."], env=env, check=True)
        extra = ["--compact-threshold", str(threshold)] if threshold else []
        for turn in range(turns):
            argv = [PY, "-m", "respctl", "say", chat, f"Turn {turn}: and then?", "-m", MODEL, "-q", *extra]
            start = time.perf_counter()
            subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
            sizes.append(len(api.requests[-1].raw))
        assert not api.rejected, "a request was refused"
    return sizes, times


def run(tmp: Path, quick: bool = False) -> list[dict]:
    turns = 40 if quick else 200
    rows = []
    plain = conversation(tmp, turns, None)
    compacted = conversation(tmp, turns, THRESHOLD)
    last = turns // 10  # the last tenth of the turns: where the difference is
    for label, (sizes, times) in (("no threshold", plain), (f"--compact-threshold {THRESHOLD}", compacted)):
        rows.append(
            {
                "name": f"{turns} turns, request bytes per turn ({label})",
                "median": statistics.median(sizes),
                "min": min(sizes),
                "max": max(sizes),
                "goal": f"last {last} turns: median {statistics.median(sizes[-last:]):,.0f} B",
                "unit": "B",
            }
        )
        rows.append(
            {
                "name": f"{turns} turns, client wall per turn ({label})",
                "median": statistics.median(times),
                "min": min(times),
                "max": max(times),
                "goal": f"last {last} turns: median {statistics.median(times[-last:]):.3f}s",
            }
        )
    return rows


if __name__ == "__main__":
    import tempfile

    from run import print_table

    with tempfile.TemporaryDirectory() as d:
        print_table(run(Path(d), quick="--quick" in sys.argv))
