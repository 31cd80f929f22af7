"""Secrets: with a canary OPENAI_API_KEY, the key shows up nowhere but in the Authorization header.

Every command and failure path below runs with the canary key; after each, the canary must be
absent from stdout, stderr, the request body, and every file under the test's folder (the
conversation, rescue files, temp files, tool output). Servers and proxies that echo the
Authorization header back in an error are simulated: respctl masks the key in what it prints.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CANARY_KEY, tools_file
from fakeapi import ErrorEvent, Failed, HttpError, Stall, Turn, function_call, message, reasoning
from test_reliability_support import MODEL, files_under


def assert_no_key_anywhere(tmp_path, api, *results) -> None:
    for r in results:
        assert CANARY_KEY not in r.out and CANARY_KEY not in r.err, (r.out, r.err)
    for path in files_under(tmp_path):
        assert CANARY_KEY.encode() not in path.read_bytes(), path
    for record in api.requests:
        assert CANARY_KEY.encode() not in record.raw  # the body never carries it
        assert record.headers.get("authorization") == f"Bearer {CANARY_KEY}"  # only the header does


@pytest.fixture
def chat(cli, api, tmp_path):
    path = tmp_path / "c.jsonl"
    api.script(Turn([reasoning(["Thinking"]), function_call("get_weather", '{"city":"Oslo"}', call_id="call_1")]))
    r = cli(
        "start", path, "--instructions", "Be brief.", "Weather in Oslo?", "-m", MODEL, "--summary", "auto", "--stream"
    )
    assert r.code == 3, r.err
    return path


def test_every_command_on_the_happy_path(cli, api, tmp_path, chat):
    runs = [
        cli("show", chat),
        cli("show", chat, "--format", "json"),
        cli("show", chat, "--pending", "--format", "json"),
        cli("lint", chat),
        cli("lint", chat, "--format", "json"),
        cli("lint", chat, "--format", "github"),
        cli("tool-result", chat, "call_1", "cold", "-m", MODEL, "--dry-run"),
        cli("tool-result", chat, "call_1", "cold", "-m", MODEL, "--json", "--stream"),
        cli("say", chat, "And tomorrow?", "-m", MODEL, "--dry-run"),
        cli("say", chat, "Thanks", "--no-send"),
        cli("say", chat, "-m", MODEL, "--json", "--summary", "detailed"),
        cli("start", tmp_path / "d.jsonl", "hi", "-m", MODEL, "--dry-run"),
        cli("--help"),
        cli("say", "--help"),
        cli("--version"),
    ]
    assert [r.code for r in runs] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [r.err for r in runs]
    assert len(api.requests) == 3
    assert_no_key_anywhere(tmp_path, api, *runs)


ECHOES = [
    pytest.param(HttpError(401, message="Incorrect API key provided: {authorization}."), id="401-echoes-the-header"),
    pytest.param(
        HttpError(400, message="Bad request from {authorization}", code="invalid_request"), id="400-echoes-the-header"
    ),
    pytest.param(HttpError(500, message="upstream said {authorization}", count=3), id="500-retried-echoes"),
    pytest.param(
        HttpError(429, message="quota for {authorization}", headers={"retry-after": "0"}, count=3),
        id="429-retried-echoes",
    ),
    pytest.param(Failed(message=f"failed for key {CANARY_KEY}"), id="response-failed-quotes-the-key"),
    pytest.param(ErrorEvent(f"stream error for {CANARY_KEY}"), id="error-event-quotes-the-key"),
]


@pytest.mark.parametrize("reply", ECHOES)
@pytest.mark.parametrize("command", ["say", "tool-result"])
def test_errors_that_quote_the_key_are_masked(cli, api, tmp_path, chat, reply, command):
    if command == "say":
        api.script(Turn([message("Cold.")]))
        assert cli("tool-result", chat, "call_1", "cold", "-m", MODEL).code == 0
        args = ["say", chat, "More?"]
    else:
        args = ["tool-result", chat, "call_1", "cold"]
    api.script(reply)
    before = chat.read_bytes()
    r = cli(*args, "-m", MODEL, "--stream", "--max-retries", "1")
    errors = [e for e in r.err_lines if "; retrying in " not in e]  # a retried status gets one line per retry
    assert r.code == 1 and len(errors) == 1, r.err
    assert "[the API key]" in r.err  # the echo was there, and masked
    assert chat.read_bytes() == before
    assert_no_key_anywhere(tmp_path, api, r)


def test_a_non_json_error_body_that_echoes_the_key(cli, api, tmp_path, chat, monkeypatch):
    """A proxy answering text/plain with the request's headers in it."""
    import fakeapi

    def echo_headers(self, x, body, reply):
        auth = x.record.headers.get("authorization", "")
        data = f"Proxy error.\nAuthorization: {auth}\n".encode()
        x.record.status, x.record.error = 502, {"message": "proxy"}
        x._head(502, {"Content-Type": "text/plain", "Content-Length": str(len(data))})
        x.h.wfile.write(data)

    monkeypatch.setattr(fakeapi.FakeResponsesAPI, "_answer", echo_headers)
    r = cli("tool-result", chat, "call_1", "cold", "-m", MODEL, "--max-retries", "0")
    assert r.code == 1 and r.err_lines == ["respctl: error: HTTP 502: Proxy error."]
    assert_no_key_anywhere(tmp_path, api, r)


def test_timeouts_refused_connections_and_bad_urls(cli, api, tmp_path, chat):
    api.script(Stall(5))
    runs = [
        cli("tool-result", chat, "call_1", "cold", "-m", MODEL, "--timeout", "0.3", "--max-retries", "0"),
        cli(
            "tool-result",
            chat,
            "call_1",
            "cold",
            "-m",
            MODEL,
            "--max-retries",
            "0",
            extra_env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"},
        ),
        cli("tool-result", chat, "call_1", "cold", "-m", MODEL, "--base-url", "http://[::1"),
        cli(
            "tool-result",
            chat,
            "call_1",
            "cold",
            "-m",
            MODEL,
            "--base-url",
            f"http://{CANARY_KEY}.invalid/v1",
            "--max-retries",
            "0",
        ),
    ]
    assert [r.code for r in runs] == [1, 1, 2, 1]
    assert all(len(r.err_lines) == 1 for r in runs), [r.err for r in runs]
    assert "[the API key]" in runs[3].err  # even where the user put it in the URL themselves
    assert_no_key_anywhere(tmp_path, api, *runs)


@pytest.mark.parametrize(
    "bad_key", [CANARY_KEY + "\n", CANARY_KEY + "\r", "\t" + CANARY_KEY, CANARY_KEY + "é", "Bearer " + CANARY_KEY]
)
def test_a_malformed_key_is_refused_without_quoting_it(cli, api, tmp_path, chat, bad_key):
    r = cli("tool-result", chat, "call_1", "cold", "-m", MODEL, extra_env={"OPENAI_API_KEY": bad_key})
    assert r.code == 2 and r.err_lines == [
        "respctl: error: OPENAI_API_KEY holds a space, a control character (a stray newline?) or a non-ASCII "
        "character; "
        "the key itself is not shown"
    ]
    assert CANARY_KEY not in r.err and len(api.requests) == 1  # the start only


def test_a_tool_dumping_its_environment_never_sees_the_key(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    dump = f'{sys.executable} -c "import os, json; print(json.dumps(dict(os.environ)))"'
    api.script(Turn([function_call("get_env", "{}", call_id="call_env")]), Turn([message("Seen.")]))
    r = cli(
        "start",
        chat,
        "Show me your environment",
        "-m",
        MODEL,
        "--tools",
        tools_file(tmp_path, "get_env"),
        "--run-tool",
        f"get_env={dump}",
    )
    assert r.code == 0, r.err
    assert b"RESPCTL_CALL_ID" in chat.read_bytes()  # the tool ran and its output is in the file
    assert_no_key_anywhere(tmp_path, api, r)


def test_sdk_debug_logging_and_real_processes(api, env, tmp_path):
    """Real processes (the SDK reads OPENAI_LOG when it is imported), with the SDK's debug log on."""
    chat = tmp_path / "c.jsonl"
    debug = {**env, "OPENAI_LOG": "debug"}
    runs = []
    for args in (["start", chat, "hello", "-m", MODEL, "--stream"], ["say", chat, "again", "-m", MODEL, "--no-stream"]):
        if args[0] == "say":
            api.script(HttpError(401, message="Incorrect API key provided: {authorization}."))
        p = subprocess.run(
            [sys.executable, "-m", "respctl", *map(str, args)], cwd=tmp_path, env=debug, capture_output=True, timeout=60
        )
        runs.append(p)
        assert CANARY_KEY.encode() not in p.stdout + p.stderr, p.stderr.decode()[-2000:]
    assert [p.returncode for p in runs] == [0, 1]
    assert b"HTTP Request: POST" in runs[0].stderr or b"Request options" in runs[0].stderr  # the debug log was on
    for path in files_under(tmp_path):
        assert CANARY_KEY.encode() not in path.read_bytes()


def test_a_disk_full_rescue_and_a_changed_file_hold_no_key(cli, api, tmp_path):
    """The files respctl writes on failure paths are just items."""
    import threading

    chat = tmp_path / "c.jsonl"
    assert cli("start", chat, "hello", "-m", MODEL).code == 0
    release = threading.Event()
    api.script(Stall(30, release=release))
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("r", cli("say", chat, "more", "-m", MODEL)))
    t.start()
    from test_reliability_support import wait_until

    assert wait_until(lambda: len(api.requests) == 2, timeout=30)
    chat.open("ab").write(b'{"type":"message","role":"user","content":"edited"}\n')
    release.set()
    t.join(timeout=60)
    assert result["r"].code == 1 and "changed by another program" in result["r"].err
    assert list(tmp_path.glob("c.jsonl.unsaved-*.jsonl"))
    assert_no_key_anywhere(tmp_path, api, result["r"])


@pytest.mark.parametrize(
    "url, secret",
    [
        ("http://user:s3cr3tpw@127.0.0.1:9/v1", "s3cr3tpw"),
        ("http://tok3nuser@127.0.0.1:9/v1", "tok3nuser"),
    ],
    ids=["password", "user-only"],
)
def test_credentials_in_the_base_url_are_never_shown(cli, api, tmp_path, chat, url, secret):
    r = cli(
        "tool-result", chat, "call_1", "cold", "-m", MODEL, "--max-retries", "0", extra_env={"OPENAI_BASE_URL": url}
    )
    assert r.code == 1 and len(r.err_lines) == 1, r.err
    assert secret not in r.err and "127.0.0.1:9" in r.err  # the line still says where it tried
    r = cli("tool-result", chat, "call_1", "cold", "-m", MODEL, "--base-url", url.replace("127.0.0.1:9", "[::1"))
    assert r.code == 2 and secret not in r.err, r.err


def _as_a_plain_user() -> tuple[list[str], dict]:
    """A command prefix and environment running respctl as an ordinary user: as root, uid 1000 through
    setpriv, with a system python of the same version reading this checkout and its packages."""
    import shutil
    import sysconfig

    if os.geteuid() != 0:
        return [sys.executable], {}
    python = shutil.which("python3", path="/usr/bin:/bin")
    if shutil.which("setpriv") is None or python is None:
        pytest.skip("needs setpriv and a system python to run respctl as an ordinary user")
    same = subprocess.run([python, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True)
    if same.stdout.strip() != str(sys.version_info[:2]):
        pytest.skip("the system python is another version than the test's")
    import respctl

    root = str(Path(respctl.__file__).resolve().parents[1])  # the respctl under test
    return ["setpriv", "--reuid", "1000", "--regid", "1000", "--clear-groups", python], {
        "PYTHONPATH": f"{root}:{sysconfig.get_paths()['purelib']}:{sysconfig.get_paths()['platlib']}"
    }


def test_a_tool_cannot_read_the_key_from_respctls_proc_environ(api, env):
    """respctl is non-dumpable: a tool running as the same user cannot read /proc/$PPID/environ,
    where the key is (its own environment is clean already)."""
    import tempfile

    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_DUMPABLE is Linux's")
    prefix, extra = _as_a_plain_user()
    folder = Path(tempfile.mkdtemp(prefix="respctl-environ-"))
    try:
        if os.geteuid() == 0:
            os.chown(folder, 1000, 1000)
        chat = folder / "c.jsonl"
        peek = (
            f'{prefix[-1]} -c "import os, sys\n'
            "try: print(open(f'/proc/{os.getppid()}/environ', 'rb').read().decode(errors='replace'))\n"
            'except OSError as e: print(e.strerror)"'
        )
        api.script(Turn([function_call("peek", "{}", call_id="call_p")]), Turn([message("Seen.")]))
        p = subprocess.run(
            [
                *prefix,
                "-m",
                "respctl",
                "start",
                chat,
                "peek",
                "-m",
                MODEL,
                "--tools",
                tools_file(folder, "peek"),
                "--run-tool",
                f"peek={peek}",
            ],
            cwd=folder,
            env={**env, **extra},
            capture_output=True,
            timeout=60,
        )
        assert p.returncode == 0, p.stderr
        assert b"Permission denied" in chat.read_bytes()
        assert CANARY_KEY.encode() not in chat.read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_base_url_with_a_query_is_refused_without_quoting_it(cli, api, tmp_path, chat):
    """The SDK appends the request path after a query (`/v1/?api_key=...responses`): no request
    could work, and the server's 404 quoted the query's value whole. Refused before any request."""
    url = api.base_url.replace("http://", "http://user:s3cr3tpw@") + "?api_key=qs3cr3t"
    seen = len(api.requests)
    for verbose in ([], ["-v"]):
        r = cli("tool-result", chat, "call_1", "cold", "-m", MODEL, *verbose, extra_env={"OPENAI_BASE_URL": url})
        assert r.code == 2 and len(r.err_lines) == 1 and "has a query" in r.err, r.err
        assert "s3cr3t" not in r.err + r.out
    assert len(api.requests) == seen


def test_a_password_quoted_alone_is_never_shown(cli, tmp_path, chat):
    """A server (or the HTTP library) quoting the configured URL's password by itself, without the
    URL around it: hidden like the key, in the one line and in -v's whole answer."""
    from test_reliability_support import Hostile, raw_response

    def echo(handler, _request):
        raw_response(handler, "401 Unauthorized", {"Content-Type": "text/plain"}, b"wrong password s3cr3tpw for user")

    with Hostile(echo) as server:
        url = server.base_url.replace("http://", "http://user:s3cr3tpw@")
        r = cli(
            "tool-result",
            chat,
            "call_1",
            "cold",
            "-m",
            MODEL,
            "-v",
            "--max-retries",
            "0",
            extra_env={"OPENAI_BASE_URL": url},
        )
    assert r.code == 1 and "401" in r.err and "wrong password" in r.err, r.err
    assert "s3cr3tpw" not in r.err + r.out
    # a `#` in the password: the URL parser cuts it there and complains about a "port" that is half of it
    r = cli("tool-result", chat, "call_1", "cold", "-m", MODEL, "--base-url", "http://user:s3cr#3tpw@127.0.0.1:1/v1")
    assert r.code == 2 and len(r.err_lines) == 1 and "s3cr" not in r.err, r.err
