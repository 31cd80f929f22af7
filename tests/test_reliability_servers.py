"""Hostile servers: tiny HTTP servers on 127.0.0.1 and 127.0.0.2 that trickle, never finish, answer
without end, or redirect elsewhere. Whatever they do, respctl ends within --timeout per attempt,
holds a bounded amount of memory, and sends the conversation to no origin but the configured one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from conftest import CANARY_KEY, clean_env
from test_reliability_support import (
    MODEL,
    Hostile,
    assistant,
    developer,
    line,
    raw_response,
    response_json,
    user,
)

SSE = {"Content-Type": "text/event-stream", "Transfer-Encoding": "chunked", "Content-Length": None}


def _head(handler, headers: dict) -> None:
    head = {"Connection": "close", **headers}
    handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
    handler.wfile.write(b"".join(f"{k}: {v}\r\n".encode() for k, v in head.items() if v is not None) + b"\r\n")
    handler.wfile.flush()


def _chunk(handler, data: bytes) -> None:
    handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
    handler.wfile.flush()


def keep_alive_forever(handler, _request) -> None:
    """An SSE stream that sends a comment every 0.2 s and never an event (for at most 30 s)."""
    _head(handler, SSE)
    for _ in range(150):
        _chunk(handler, b": keep-alive\n\n")
        time.sleep(0.2)


def trickle_forever(handler, _request) -> None:
    """A JSON body announced as 10,000 bytes, sent one byte every 0.2 s."""
    _head(handler, {"Content-Type": "application/json", "Content-Length": "10000"})
    for _ in range(150):
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(0.2)


@pytest.fixture
def chat(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(line(developer("Be brief.")))
    return path


# --- 15. --timeout is a deadline for the whole attempt ----------------------------------------------


@pytest.mark.parametrize(
    "answer, mode, attempts",
    [(keep_alive_forever, "--stream", 1), (trickle_forever, "--no-stream", 2)],
    ids=["keep-alive", "trickle"],
)
def test_timeout_is_a_deadline_for_each_attempt(cli, chat, answer, mode, attempts):
    """A stream that has begun is never retried (its answer cannot be resumed); a body that has not
    arrived whole is, by the SDK. Either way each attempt ends at --timeout."""
    before = chat.read_bytes()
    with Hostile(answer) as server:
        started = time.monotonic()
        r = cli(
            "say", chat, "hi", "-m", MODEL, mode, "--timeout", "1", "--max-retries", "1",
            extra_env={"OPENAI_BASE_URL": server.base_url}, timeout=30,
        )  # fmt: skip
        took = time.monotonic() - started
    errors = [line for line in r.err_lines if "; retrying in " not in line]  # a retry gets a line of its own
    assert r.code == 1 and len(errors) == 1 and "--timeout" in errors[0], r.err
    assert len(r.err_lines) - 1 == attempts - 1
    assert len(server.requests) == attempts  # each cut at 1 s
    assert took < 6, f"took {took:.1f}s"
    assert chat.read_bytes() == before


def test_the_default_timeout_is_documented_in_help(cli):
    r = cli("say", "--help")
    assert "each whole attempt" in " ".join(r.out.split()) and "default: 600" in r.out


@pytest.mark.parametrize("option", ["--timeout", "--lock-timeout", "--tool-timeout"])
@pytest.mark.parametrize("value", ["1e10", "inf", "nan"])
def test_seconds_that_no_timer_takes_are_refused_in_one_line(cli, api, chat, option, value):
    before = chat.read_bytes()
    r = cli("say", chat, "hi", "-m", MODEL, option, value, "--max-retries", "0")
    assert r.code == 2 and len(r.err_lines) == 1 and f"Invalid value for '{option}'" in r.err, r.err
    assert "internal error" not in r.err and api.requests == [] and chat.read_bytes() == before


# --- 16. a cap on one answer, with memory bounded while reading ---------------------------------------


def endless_json(handler, _request) -> None:
    """A JSON body announced as 2 GB, sent as fast as the socket takes it."""
    _head(handler, {"Content-Type": "application/json", "Content-Length": str(2 << 30)})
    chunk = b" " * (1 << 20)
    for _ in range(2048):
        handler.wfile.write(chunk)


def endless_deltas(handler, _request) -> None:
    """A stream of 1 MB text deltas that never completes."""
    _head(handler, SSE)
    delta = b'data: {"type":"response.output_text.delta","delta":"' + b"x" * (1 << 20) + b'"}\n\n'
    for _ in range(2048):
        _chunk(handler, delta)


# A stream takes the same guard (each chunk of a body is counted, whatever its framing); sending
# another 64 MB to show it would cost the default suite several seconds: run this file by hand
# (python tests/test_reliability_servers.py) for the streamed case and its peak memory.
@pytest.mark.parametrize("answer, mode", [(endless_json, "--no-stream")], ids=["body"])
def test_an_endless_answer_is_refused_at_the_cap_with_memory_bounded(chat, tmp_path, answer, mode):
    """The peak comes from GNU time: a child's own ru_maxrss would count the pages of this (large)
    test process it was forked from."""
    if not os.path.exists("/usr/bin/time"):
        pytest.skip("needs GNU time for the peak memory of one process")
    before = chat.read_bytes()
    report = tmp_path / "peak.txt"
    with Hostile(answer) as server:
        env = clean_env(OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY=CANARY_KEY)
        args = ["say", chat, "hi", "-m", MODEL, "--max-retries", "0"]
        args += ["--stream", "--json"] if mode == "--json" else [mode]
        r = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", report, sys.executable, "-m", "respctl", *map(str, args)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=120,
        )
    err = r.stderr.decode()
    assert r.returncode == 1 and err.count("\n") == 1 and "larger than" in err, err
    peak_mb = int(report.read_text().split()[-1]) / 1024
    assert peak_mb < 400, f"peak {peak_mb:.0f} MB"
    assert chat.read_bytes() == before


# --- 11. no redirect takes the conversation to another origin ------------------------------------------


def test_a_redirect_to_another_host_never_gets_the_conversation(cli, chat):
    before = chat.read_bytes()
    with Hostile(lambda h, _r: raw_response(h, "200 OK", {}, response_json([assistant("stolen")])), "127.0.0.2") as b:
        target = b.origin + "/v1/responses"
        with Hostile(lambda h, _r: raw_response(h, "307 Temporary Redirect", {"Location": target})) as a:
            r = cli("say", chat, "hi", "-m", MODEL, "--no-stream", extra_env={"OPENAI_BASE_URL": a.base_url})
    assert r.code == 1 and len(r.err_lines) == 1, r.err
    assert "redirect" in r.err and "127.0.0.2" in r.err
    assert b.requests == [] and chat.read_bytes() == before


def test_a_redirect_within_the_same_origin_is_followed(cli, chat):
    def answer(handler, request):
        if request[1] == "/v1/responses":
            raw_response(handler, "307 Temporary Redirect", {"Location": "/v2/responses"})
        else:
            raw_response(handler, "200 OK", {"Content-Type": "application/json"}, response_json([assistant("moved")]))

    with Hostile(answer) as server:
        r = cli("say", chat, "hi", "-m", MODEL, "--no-stream", extra_env={"OPENAI_BASE_URL": server.base_url})
    assert r.code == 0, r.err
    assert [p for _m, p, _h, _b in server.requests] == ["/v1/responses", "/v2/responses"]
    assert chat.read_bytes().startswith(line(developer("Be brief.")) + line(user("hi")))
    assert b"moved" in chat.read_bytes()


if __name__ == "__main__":  # the streamed variant of the cap, by hand: peak memory and the one line
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d, Hostile(endless_deltas) as server:
        chat = Path(d) / "c.jsonl"
        chat.write_bytes(line(developer("Be brief.")))
        env = clean_env(OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY=CANARY_KEY)
        argv = [sys.executable, "-m", "respctl", "say", str(chat), "hi", "-m", MODEL, "--stream", "--json"]
        subprocess.run(["/usr/bin/time", "-f", "peak %M KB", *argv, "--max-retries", "0"], env=env, check=False)
