"""Helpers shared by the tests/test_reliability_*.py files (no tests here).

The reliability tests check bytes, not impressions: what a turn must append is computed from
what the loopback server recorded for that request (the raw items it streamed), and the
shapes respctl creates are spelled out here as docs/file-format.md documents them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
from conftest import (  # noqa: F401 - the helpers the reliability tests share
    Result,
    Zygote,
    alive,
    developer,
    line,
    turn_lines,
    user,
)

MODEL = "gpt-5-mini"
TOOLS_JSON = b"""[{"type":"function","name":"get_weather","description":"Current weather for a city.","strict":true,
"parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}]"""


def call_output(call_id: str, output: str) -> dict:
    return {"type": "function_call_output", "call_id": call_id, "output": output}


def pending_calls(data: bytes) -> list[dict]:
    """Calls in a conversation that have no output yet (independent of respctl's own code)."""
    items = [orjson.loads(x) for x in data.splitlines()]
    answered = {i.get("call_id") for i in items if i.get("type") in ("function_call_output", "custom_tool_call_output")}
    return [
        i for i in items if i.get("type") in ("function_call", "custom_tool_call") and i.get("call_id") not in answered
    ]


def lint_errors(path: Path) -> list[str]:
    """What `say` would refuse: strict parse, then lint's gate (the errors, not warnings)."""
    from respctl.conversation import parse_lines
    from respctl.lint import gate

    lines, items = parse_lines(path.read_bytes(), str(path))
    return gate(str(path), lines, items)


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.002) -> bool:
    """Poll `predicate` until it holds or `timeout` passes; return whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def leftovers(folder: Path, name: str) -> dict[str, list[Path]]:
    """Files respctl may leave beside a conversation: temp files of an interrupted write, rescues."""
    return {
        "tmp": sorted(folder.glob(f".{name}.*.tmp")),
        "unsaved": sorted(folder.glob(f"{name}.unsaved-*.jsonl")),
    }


def files_under(folder: Path):
    for root, _dirs, files in os.walk(folder):
        for f in files:
            yield Path(root) / f


#: Capabilities that let root write where the permission bits say no; dropped to test read-only files.
_DAC_CAPS = "-dac_override,-dac_read_search,-fowner,-linux_immutable"


def unprivileged_prefix() -> list[str] | None:
    """A command prefix under which permission bits bind (as they do for any user but root):
    nothing for a normal user; for root, setpriv dropping the capabilities that bypass them.
    None when neither works (the caller skips)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        return None
    prefix = ["setpriv", "--bounding-set", _DAC_CAPS, "--inh-caps", _DAC_CAPS]
    probe = tempfile.mkdtemp()
    try:
        os.chmod(probe, 0o555)
        r = subprocess.run(
            [*prefix, sys.executable, "-c", f"import os; raise SystemExit(os.access({probe!r}, os.W_OK))"]
        )
        return prefix if r.returncode == 0 else None
    finally:
        os.chmod(probe, 0o755)
        os.rmdir(probe)


class Hostile:
    """A tiny HTTP server on a loopback address (127.0.0.1 or 127.0.0.2, nothing else) whose every
    answer is written raw by `answer(handler, request)`: trickles, endless streams, redirects.
    `requests` records (method, path, headers, body) of each request it read."""

    def __init__(self, answer, host: str = "127.0.0.1"):
        import http.server
        import threading

        assert host in ("127.0.0.1", "127.0.0.2"), "loopback only"
        outer = self
        self.requests: list[tuple[str, str, dict, bytes]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args):
                pass

            def _any(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                request = (self.command, self.path, dict(self.headers), body)
                outer.requests.append(request)
                self.close_connection = True
                try:
                    answer(self, request)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = _any

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.origin = f"http://{host}:{self.server.server_address[1]}"
        self.base_url = self.origin + "/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()


def raw_response(handler, status: str, headers: dict, body: bytes = b"") -> None:
    """Write one whole HTTP/1.1 response (Content-Length set from body unless given)."""
    head = {"Content-Length": str(len(body)), "Connection": "close", **headers}
    handler.wfile.write(f"HTTP/1.1 {status}\r\n".encode() + b"".join(f"{k}: {v}\r\n".encode() for k, v in head.items()))
    handler.wfile.write(b"\r\n" + body)


def response_json(output: list[dict]) -> bytes:
    """A completed (non-streamed) response body with these output items."""
    return orjson.dumps({"id": "resp_1", "object": "response", "status": "completed", "output": output})


def assistant(text: str, **content_extra) -> dict:
    return {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": [], **content_extra}],
    }
