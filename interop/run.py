"""`make interop`: a real conversation with OpenAI's reference Responses server (gpt-oss).

Starts interop/gpt_oss_server.py in the interop venv (gpt-oss==0.0.9, a scripted token function
instead of weights), then runs respctl as a user would, streamed and not:

    start --role system ... "Hello gpt-oss"   -> exit 0, "Echo: Hello gpt-oss"
    say "What's the weather in Paris?"         -> exit 3, a get_weather call waiting
    tool-result CALL_ID '{"temp_c": 21}'        -> exit 0, "Tool said: ..."
    say "thanks"                               -> exit 0, "Echo: thanks"
    lint FILE                                  -> exit 0 (the default target for this URL: compatible)
and, once, `start` with the developer role: exit 1, one line, the `--role system` hint.

Prints one line per step and a count; exits 1 when a step fails.

    python interop/run.py --server-python .venv-interop/bin/python --encodings .venv-interop/tiktoken
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODEL = "gpt-oss-120b"
TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, server: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"interop: the gpt-oss server exited with {server.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("interop: the gpt-oss server did not listen within 120 s")


class Steps:
    def __init__(self) -> None:
        self.passed = self.failed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.passed += ok
        self.failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}" + ("" if ok else f": {detail}"), flush=True)
        return ok


def respctl(env: dict, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "respctl", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def conversation(env: dict, cwd: Path, stream: str, steps: Steps) -> None:
    chat = f"chat{stream}.jsonl"
    turn = ["-m", MODEL, "--tools", "tools.json", stream]
    r = respctl(env, cwd, "start", chat, "--role", "system", "--instructions", "Be brief.", "Hello gpt-oss", *turn)
    steps.check(f"{stream} start", r.returncode == 0 and r.stdout == "Echo: Hello gpt-oss\n", r.stderr + r.stdout)
    if stream == "--stream":
        steps.check(f"{stream} reasoning_text streamed to stderr", "User said: Hello gpt-oss" in r.stderr, r.stderr)
    r = respctl(env, cwd, "say", chat, "What's the weather in Paris?", *turn)
    pending = respctl(env, cwd, "show", chat, "--pending", "--format", "json")
    calls = json.loads(pending.stdout or "[]")
    ok = r.returncode == 3 and len(calls) == 1 and json.loads(calls[0]["arguments"]) == {"city": "Paris"}
    if not steps.check(f"{stream} say (a tool call)", ok, r.stderr + pending.stdout):
        return
    r = respctl(env, cwd, "tool-result", chat, calls[0]["call_id"], '{"temp_c": 21}', *turn)
    steps.check(f"{stream} tool-result", r.returncode == 0 and r.stdout == 'Tool said: {"temp_c": 21}\n', r.stderr)
    r = respctl(env, cwd, "say", chat, "thanks", *turn)
    steps.check(f"{stream} say (another turn)", r.returncode == 0 and r.stdout == "Echo: thanks\n", r.stderr)
    r = respctl(env, cwd, "lint", chat)
    steps.check(f"{stream} lint (default target)", r.returncode == 0, r.stdout + r.stderr)
    r = respctl(env, cwd, "show", chat)
    steps.check(f"{stream} show prints the reasoning text", "Need to call get_weather." in r.stdout, r.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-python", required=True)
    parser.add_argument("--encodings", required=True, help="folder holding o200k_base.tiktoken")
    args = parser.parse_args(argv)
    port = free_port()
    server_env = {**os.environ, "TIKTOKEN_ENCODINGS_BASE": str(Path(args.encodings).resolve())}
    log = tempfile.TemporaryFile()
    server = subprocess.Popen(
        [args.server_python, str(HERE / "gpt_oss_server.py"), str(port)], env=server_env, stdout=log, stderr=log
    )
    steps = Steps()
    try:
        wait_for(port, server, time.monotonic() + 120)
        print(f"interop: gpt_oss.responses_api listening on 127.0.0.1:{port}", flush=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RESPCTL_", "AZURE_OPENAI_"))}
        env.update(OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1", OPENAI_API_KEY="unused")
        with tempfile.TemporaryDirectory() as tmp:
            cwd = Path(tmp)
            (cwd / "tools.json").write_text(json.dumps(TOOLS))
            for stream in ("--no-stream", "--stream"):
                conversation(env, cwd, stream, steps)
            r = respctl(env, cwd, "start", "dev.jsonl", "--instructions", "Be brief.", "hi", "-m", MODEL, "--no-stream")
            line = r.stderr.strip()
            ok = (
                r.returncode == 1
                and "\n" not in line
                and "HTTP 422: input[0].role:" in line
                and "--role system" in line
            )
            steps.check("developer role refused: one line with the --role system hint", ok, r.stderr)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        if steps.failed:
            log.seek(0)
            sys.stdout.write("interop: the server's log:\n" + log.read().decode("utf-8", "replace")[-4000:])
    print(f"interop: {steps.passed} of {steps.passed + steps.failed} steps passed")
    return 1 if steps.failed else 0


if __name__ == "__main__":
    sys.exit(main())
