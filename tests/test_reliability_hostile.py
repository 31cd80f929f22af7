"""Hostile input: random bytes, invalid UTF-8, NUL bytes, deep nesting, huge lines, wrong types.

Property-based (hypothesis) over the strict reader, lint, show, the --tools and --schema files
and the command line, in-process so that many thousands of cases fit in CI; then a sample of
real `python -m respctl` runs. The property everywhere: respctl either works or refuses with
its own error (one line, `respctl: error: ...`, exit 2; lint reports findings) and never
raises anything else: no traceback, whatever the input.

Example counts (max_examples) add up to more than 10,000 under the thorough profile
(HYPOTHESIS_PROFILE=thorough); `EXAMPLES` below lists them, and the default run takes a tenth.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import sys
from pathlib import Path

import orjson
import pytest
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from respctl.conversation import parse_lines
from respctl.errors import RespctlError

#: The thorough profile's counts; the default run takes a tenth (conftest.examples).
EXAMPLES = {
    name: examples(n)
    for name, n in {
        "reader": 2500,
        "lint": 2500,
        "items": 1500,
        "show": 1000,
        "tools_schema": 2000,
        "flags": 800,
    }.items()
}
FAST = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)

ITEM_TYPES = [
    "message",
    "reasoning",
    "function_call",
    "function_call_output",
    "custom_tool_call",
    "custom_tool_call_output",
    "web_search_call",
    "compaction",
    "item_reference",
    "mcp_call",
    "\x00",
    "",
]
KEYS = [
    "type",
    "role",
    "content",
    "text",
    "summary",
    "output",
    "call_id",
    "name",
    "arguments",
    "input",
    "id",
    "encrypted_content",
    "phase",
    "status",
    "annotations",
    "image_url",
    "file_data",
    "filename",
    "namespace",
    "\x00name",
]

nasty_text = st.text(
    alphabet=st.one_of(st.characters(codec="utf-8"), st.sampled_from('\x00\x1b\r\n\t\u2028\u202e\ufeff"\\')),
    max_size=30,
)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    nasty_text,
)
json_values = st.one_of(
    leaves,
    st.lists(leaves, max_size=3),
    st.dictionaries(st.sampled_from(KEYS), st.one_of(leaves, st.lists(leaves, max_size=2)), max_size=3),
)
items = st.builds(
    lambda fields, kind: fields if kind is None else {**fields, "type": kind},
    st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6),
    st.sampled_from(ITEM_TYPES + [None]),
)


def _nest(depth: int, kind: str) -> bytes:
    return (b"[" * depth + b"]" * depth) if kind == "list" else (b'{"a":' * depth + b"1" + b"}" * depth)


line_pieces = st.one_of(
    items.map(orjson.dumps),
    st.binary(max_size=60),
    st.sampled_from(
        [
            b"",
            b" ",
            b"\r",
            b"\xef\xbb\xbf{}",
            b"\x00",
            b'{"type":"message"\x00}',
            b"\xff\xfe",
            b"\xc3\x28",
            b"\xed\xa0\x80",
            b"null",
            b"[]",
            b'"text"',
            b"1e999999",
            b'{"n":123456789012345678901234567890}',
            b'{"a":1,"a":2}',
            b"{",
            b"}",
        ]
    ),
    st.builds(_nest, st.integers(1, 1100), st.sampled_from(["list", "dict"])),
    st.builds(lambda n, b: b * n, st.integers(1, 30_000), st.sampled_from([b"a", b"\x00", b"\xff", b"{"])),
)
files = st.builds(
    lambda pieces, sep: sep.join(pieces), st.lists(line_pieces, max_size=6), st.sampled_from([b"\n", b"\r\n", b"\n\n"])
)


def one_line_error(exc: RespctlError, name: str | None = None) -> None:
    text = str(exc)
    assert text and "\n" not in text and "\r" not in text, repr(text)
    assert exc.exit_code == 2
    if name is not None:
        assert text.startswith(name)


@settings(max_examples=EXAMPLES["reader"], **FAST)
@given(files | st.binary(max_size=300))
def test_the_strict_reader_parses_or_names_file_and_line(data):
    try:
        lines, parsed = parse_lines(data, "chat.jsonl")
    except RespctlError as exc:
        one_line_error(exc, "chat.jsonl:")
        return
    assert len(lines) == len(parsed) and all(isinstance(item, dict) for item in parsed)


@settings(max_examples=EXAMPLES["lint"], **FAST)
@given(files | st.binary(max_size=300))
def test_lint_reports_findings_and_never_raises(data):
    from respctl.lint import gate
    from respctl.lint.check import check_file

    result = check_file("chat.jsonl", data)
    for d in result.diagnostics:
        assert (
            d.line >= 1 and d.column >= 1 and d.code.startswith("RSP")
        )  # (raw controls in messages: see the xfail below)
    try:
        lines, parsed = parse_lines(data, "chat.jsonl")
    except RespctlError:
        assert result.diagnostics, "the strict reader refused a file lint found nothing wrong with"
        return
    for problem in gate("chat.jsonl", lines, parsed):
        assert problem.startswith("chat.jsonl:")


@settings(max_examples=EXAMPLES["items"], **FAST)
@given(st.lists(items, max_size=8), st.sampled_from(["text", "json"]))
def test_lint_and_show_take_any_json_objects(scratch, objs, output_format):
    from respctl import show
    from respctl.lint import gate
    from respctl.lint.check import check_file

    data = b"".join(orjson.dumps(o) + b"\n" for o in objs)
    check_file("chat.jsonl", data)
    lines, parsed = parse_lines(data, "chat.jsonl")
    for problem in gate("chat.jsonl", lines, parsed):  # (raw controls in quoted values: see the xfail below)
        assert problem.startswith("chat.jsonl:")
    path = scratch / "objects.jsonl"
    path.write_bytes(data)
    out = _Out()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert show.run(str(path), output_format=output_format, color="never") == 0  # objects are never damaged lines
    if output_format == "json":
        assert len(orjson.loads(out.value())) == len(objs)


class _Out:
    """A stdout stand-in with a binary buffer, as respctl's writers need."""

    def __init__(self):
        self.buffer = io.BytesIO()
        self._text = io.StringIO()

    def write(self, s):
        return self._text.write(s)

    def flush(self):
        pass

    def isatty(self):
        return False

    def fileno(self):
        raise OSError("no descriptor")

    def value(self) -> bytes:
        return self._text.getvalue().encode("utf-8", "surrogateescape") + self.buffer.getvalue()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile")


@settings(max_examples=EXAMPLES["show"], **FAST)
@given(files, st.sampled_from(["text", "markdown", "json"]), st.booleans(), st.sampled_from([None, 1, 3]))
def test_show_prints_any_file_or_refuses_in_one_line(scratch, data, output_format, pending, last):
    from respctl import show

    path = scratch / "show.jsonl"
    path.write_bytes(data)
    out, err = _Out(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = show.run(str(path), output_format=output_format, pending=pending, last=last, color="never")
            assert code == 0
        except RespctlError as exc:
            one_line_error(exc, str(path))
    if output_format == "json" and out.value():
        orjson.loads(out.value())


tools_like = st.one_of(
    st.binary(max_size=200),
    json_values.map(orjson.dumps),
    st.lists(
        st.one_of(
            leaves,
            st.dictionaries(
                st.sampled_from(["type", "name", "parameters", "strict", "description"]),
                st.one_of(json_values, st.sampled_from(["function", "custom", "web_search", "f", "bad name"])),
                max_size=4,
            ),
        ),
        max_size=3,
    ).map(orjson.dumps),
    st.builds(_nest, st.integers(1, 1100), st.sampled_from(["list", "dict"])),
    st.builds(
        lambda depth: b'[{"type":"function","name":"f","parameters":' + _nest(depth, "dict") + b"}]",
        st.integers(240, 260),
    ),
    st.builds(lambda depth: _nest(depth, "dict"), st.integers(240, 260)),
)


@settings(max_examples=EXAMPLES["tools_schema"], **FAST)
@given(tools_like, st.sampled_from(["tools", "schema"]))
def test_tools_and_schema_files_load_or_refuse_in_one_line(scratch, data, which):
    from respctl.request import load_schema, load_tools

    path = scratch / f"{which}.json"
    path.write_bytes(data)
    from respctl.request import RequestOptions, build_body

    try:
        value = (load_tools if which == "tools" else load_schema)(str(path))
    except RespctlError as exc:
        one_line_error(exc, str(path))
        return
    opts = RequestOptions(model="gpt-5-mini", **({"tools": value} if which == "tools" else {"text_format": value}))
    try:
        orjson.loads(
            build_body([b'{"role":"user","content":"hi"}'], opts)
        )  # whatever loads is sent, or refused in one line
    except RespctlError as exc:
        one_line_error(exc)


@pytest.mark.parametrize(
    "data",
    [
        b'{"role":"\\r\\u001b[2J","type":"message","content":"x"}\n',
        b'{"role":"\\n","type":"message","content":"x"}\n',
        b'{"type":"message","role":"user","content":"hi"}\n{"type":"function_call","call_id":"c\\u001b]0;pwned\\u0007","name":"f\\u001b[2J","arguments":"{}"}\n',
    ],
    ids=["quoted-value", "quoted-newline", "pending-call-line"],
)
def test_lint_text_output_never_carries_control_characters(workdir, data):
    (workdir / "controls.jsonl").write_bytes(data)
    try:
        code, out, err = run_main(["lint", "controls.jsonl"], workdir)
    finally:
        (workdir / "controls.jsonl").unlink()
    assert code in (0, 1)
    printed = out.decode("utf-8", "replace") + err
    assert not any(c in printed for c in "\r\x1b\x07"), printed
    shapes = re.compile(
        r"^(controls\.jsonl:\d+:\d+: |Found \d|All checks|\d+ problems? cannot|\[\*\] \d|respctl: lint rule set: )"
    )
    assert all(shapes.match(line) for line in printed.splitlines()), printed  # no line broken in two


# --- the command line, in-process ----------------------------------------------------------------

COMMANDS = ["start", "say", "tool-result", "lint", "show"]
FLAGS = [
    "--model",
    "-m",
    "--tools",
    "--effort",
    "--summary",
    "--max-output-tokens",
    "--schema",
    "--stream",
    "--no-stream",
    "--json",
    "--dry-run",
    "--no-send",
    "--base-url",
    "--timeout",
    "--max-retries",
    "--lock-timeout",
    "--reasoning-context",
    "--run-tool",
    "--max-tool-rounds",
    "--tool-timeout",
    "--image",
    "--attach",
    "--instructions",
    "--instructions-file",
    "--role",
    "--force",
    "--output-file",
    "--format",
    "--fix",
    "--pending",
    "--last",
    "--full",
    "--color",
    "--exit-zero",
    "--explain",
    "--help",
    "--version",
    "--",
    "-",
]
NAMES = [
    "chat.jsonl",
    "garbage.jsonl",
    "empty.jsonl",
    "pending.jsonl",
    "missing.jsonl",
    "folder",
    "tools.json",
    "bad.json",
    "pic.png",
    "notes.txt",
    "gpt-5-mini",
    "gpt-4.1",
    "call_1",
    "low",
    "auto",
    "json",
    "0",
    "-1",
    "1e999",
    "nan",
    "x=",
    "=y",
    "f=/bin/true",
    "http://127.0.0.1:9/v1",
    "data:image/png;base64,AAAA",
]


def _argv_word():
    # what a shell can pass: any bytes but NUL, decoded the way Python decodes argv
    return st.one_of(
        st.sampled_from(NAMES),
        st.sampled_from(FLAGS),
        st.binary(min_size=1, max_size=20).filter(lambda b: b"\0" not in b).map(os.fsdecode),
        nasty_text.filter(lambda s: "\0" not in s),
    )


argvs = st.tuples(st.sampled_from(COMMANDS), st.lists(_argv_word(), max_size=9)).map(lambda t: [t[0], *t[1]])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flags")
    user = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
    call = {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"}
    (folder / "chat.jsonl").write_bytes(orjson.dumps(user) + b"\n")
    (folder / "pending.jsonl").write_bytes(orjson.dumps(user) + b"\n" + orjson.dumps(call) + b"\n")
    (folder / "garbage.jsonl").write_bytes(b"\xff\x00{not json\n[1]\n")
    (folder / "empty.jsonl").write_bytes(b"")
    (folder / "folder").mkdir()
    (folder / "tools.json").write_bytes(b'[{"type":"function","name":"f","parameters":{"type":"object"}}]')
    (folder / "bad.json").write_bytes(b"\xff[[[")
    (folder / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / "notes.txt").write_bytes(b"notes\n")
    return folder


def run_main(argv: list[str], cwd: Path, stdin: bytes = b"", env: dict | None = None) -> tuple[int, bytes, str]:
    """respctl's real entry point, in-process: argv, environment, stdin, stdout, stderr."""
    from respctl import cli, conversation

    conversation._saved.clear()  # what an earlier in-process run wrote is not this run's (a process starts empty)
    conversation._rewritten.clear()
    out, err = _Out(), io.StringIO()
    saved = (sys.argv, sys.stdin, os.getcwd(), dict(os.environ))
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    sys.argv = ["respctl", *argv]
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    os.environ.clear()
    os.environ.update({k: v for k, v in saved[3].items() if not k.startswith(("OPENAI_", "RESPCTL_"))})
    os.environ.update(env or {})
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv, sys.stdin = saved[0], saved[1]
        os.chdir(saved[2])
        os.environ.clear()
        os.environ.update(saved[3])
        for signum, handler in handlers.items():  # main() installs its own, and ignores them once it is done
            signal.signal(signum, handler)
    return code, out.value(), err.getvalue()


def check_outcome(argv, code: int, err: str) -> None:
    assert "Traceback" not in err, err
    assert code in (0, 1, 2, 3, 4), (argv, code, err)
    if code == 2 or (code == 1 and argv[0] != "lint"):
        lines = err.splitlines()
        assert lines and lines[-1].startswith("respctl: error: "), (argv, err)
        if argv[0] not in ("lint", "show"):  # lint and show print their own findings before their verdict
            assert len(lines) == 1, (argv, err)


@settings(max_examples=EXAMPLES["flags"], **FAST)
@given(
    argvs,
    st.binary(max_size=40),
    st.dictionaries(
        st.sampled_from(["RESPCTL_MODEL", "RESPCTL_TOOLS", "OPENAI_BASE_URL"]),
        st.sampled_from(NAMES) | st.binary(min_size=1, max_size=12).filter(lambda b: b"\0" not in b).map(os.fsdecode),
        max_size=2,
    ),
)
def test_any_command_line_works_or_fails_in_one_line(workdir, argv, stdin, env):
    """No API key is set, so no turn can reach a network: every path up to the request runs."""
    for name in ("new.jsonl", "chat.jsonl.unsaved"):
        (workdir / name).unlink(missing_ok=True)
    before = {p.name: p.read_bytes() for p in workdir.iterdir() if p.is_file()}
    code, _out, err = run_main(argv, workdir, stdin, env)
    check_outcome(argv, code, err)
    if code not in (0, 3) and argv[0] in ("say", "tool-result"):
        after = {p.name: p.read_bytes() for p in workdir.iterdir() if p.is_file() and p.name in before}
        assert after == before, "a failed command changed a file"
    # put back what a successful command (--no-send, start --force, lint --fix) changed
    for name, data in before.items():
        if (workdir / name).read_bytes() != data:
            (workdir / name).write_bytes(data)


# --- hand-picked cases, in-process and through the real CLI -------------------------------------

INVALID_UTF8 = os.fsdecode(b"caf\xe9 \xff\xfe")


@pytest.mark.parametrize(
    "argv",
    [
        ["say", "chat.jsonl", INVALID_UTF8, "-m", "gpt-5-mini", "--dry-run"],
        ["say", "chat.jsonl", INVALID_UTF8, "--no-send"],
        ["say", "chat.jsonl", "hi", "-m", INVALID_UTF8, "--dry-run"],
        ["start", "new.jsonl", "--instructions", INVALID_UTF8],
        ["start", "new.jsonl", "hi", "--image", "https://example.com/" + INVALID_UTF8, "--no-send"],
        ["tool-result", "pending.jsonl", "call_1", INVALID_UTF8, "--no-send"],
        ["tool-result", "pending.jsonl", INVALID_UTF8, "x", "--no-send"],
        ["say", "chat.jsonl", "hi", "--no-send", "--attach", "notes.txt", "-m", "gpt-5-mini"],
    ],
    ids=["message", "message-no-send", "model", "instructions", "image-url", "tool-output", "call-id", "attach-ok"],
)
def test_invalid_utf8_arguments_are_refused_in_one_line(workdir, argv):
    (workdir / "new.jsonl").unlink(missing_ok=True)
    before = {p.name: p.read_bytes() for p in workdir.iterdir() if p.is_file()}
    code, _, err = run_main(argv, workdir)
    check_outcome(argv, code, err)
    if argv[-1] != "gpt-5-mini":
        assert code == 2 and err.count("\n") == 1, err
        assert {p.name: p.read_bytes() for p in workdir.iterdir() if p.is_file() and p.name in before} == before
        assert not (workdir / "new.jsonl").exists()
    for name, data in before.items():
        (workdir / name).write_bytes(data)


def test_an_attachment_whose_name_is_not_utf8_is_kept_as_text(workdir):
    name = os.fsdecode(b"r\xe9sum\xe9.txt")
    (workdir / name).write_bytes(b"plain text\n")
    before = (workdir / "chat.jsonl").read_bytes()
    try:
        code, _, err = run_main(["say", "chat.jsonl", "see attached", "--attach", name, "--no-send"], workdir)
        assert code == 0, err
        last = orjson.loads((workdir / "chat.jsonl").read_bytes().splitlines()[-1])
        assert last["content"][1]["text"].startswith('<file name="r\ufffdsum\ufffd.txt">')
    finally:
        (workdir / "chat.jsonl").write_bytes(before)
        (workdir / name).unlink()


HOSTILE_FILES = {
    "random-bytes": bytes(range(256)) * 4,
    "nul-bytes": b"\x00" * 1000 + b"\n",
    "invalid-utf8": b'{"type":"message","role":"user","content":"caf\xe9"}\n',
    "nul-in-a-name": b'{"type":"function_call","call_id":"c1","name":"get\\u0000weather","arguments":"{}"}\n',
    "deep-nesting": b'{"type":"message","role":"user","content":' + _nest(5000, "list") + b"}\n",
    "huge-line": b'{"type":"message","role":"user","content":"' + b"a" * 30_000_000 + b'"\n',
    "wrong-types": b'{"type":"message","role":7,"content":{"text":null}}\n{"type":["reasoning"]}\n',
    "not-objects": b'[]\n"text"\n42\nnull\n',
}


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """The real CLI on the hostile files (subprocess: tracebacks and all would show here)."""
    import subprocess

    folder = tmp_path_factory.mktemp("real")
    for name, data in HOSTILE_FILES.items():
        (folder / f"{name}.jsonl").write_bytes(data)
    (folder / "deep.json").write_bytes(_nest(100_000, "dict"))
    (folder / "binary.json").write_bytes(bytes(range(256)))
    (folder / "ok.jsonl").write_bytes(b'{"type":"message","role":"user","content":"hi"}\n')
    from conftest import clean_env

    env = clean_env(OPENAI_API_KEY="sk-not-used", OPENAI_BASE_URL="http://127.0.0.1:9/v1", RESPCTL_TARGET="openai")

    def run(*args, environ=None):
        argv = [os.fsencode(a) if isinstance(a, str) else a for a in args]
        return subprocess.run(
            [sys.executable, "-m", "respctl", *argv],
            cwd=folder,
            env={**env, **(environ or {})},
            capture_output=True,
            timeout=120,
        )

    return run


@pytest.mark.parametrize("name", list(HOSTILE_FILES))
def test_real_cli_say_refuses_a_hostile_file_in_one_line(real, name):
    r = real("say", f"{name}.jsonl", "hi", "-m", "gpt-5-mini", "--max-retries", "0")
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 2 and b"Traceback" not in r.stderr, err
    assert len(err.splitlines()) == 1 and err.startswith(f"respctl: error: {name}.jsonl:"), err


@pytest.mark.parametrize(
    "command",
    [
        ["lint"],
        ["show"],
        ["show", "--format", "json"],
        ["tool-result", "FILE", "c1", "x", "-m", "gpt-5-mini", "--dry-run"],
    ],
)
def test_real_cli_other_commands_on_all_hostile_files(real, command):
    for name in HOSTILE_FILES:
        args = [a.replace("FILE", f"{name}.jsonl") for a in command]
        if "FILE" not in command:
            args.append(f"{name}.jsonl")
        r = real(*args)
        err = r.stderr.decode("utf-8", "replace")
        assert b"Traceback" not in r.stderr, (name, err)
        if command == ["lint"]:
            assert r.returncode == 1 and r.stdout, (name, err)  # findings, not a crash
        elif name == "nul-in-a-name" or (name == "wrong-types" and command[0] == "show"):
            assert r.returncode == 0, (name, err)  # JSON objects: show shows them; the NUL name is only a lint warning
        else:
            assert r.returncode == 2 and err.splitlines()[-1].startswith("respctl: error: "), (name, err)
            if command[0] != "show":  # show prints what it can read, then its one error line
                assert len(err.splitlines()) == 1, (name, err)


@pytest.mark.parametrize(
    "args",
    [
        ["say", "--tools", "deep.json"],
        ["say", "--tools", "binary.json"],
        ["say", "--schema", "deep.json"],
        ["say", "--schema", "binary.json"],
        ["say", "--max-output-tokens", "many"],
        ["say", "--effort", "extreme"],
        ["say", "--timeout", "-1"],
        ["say", "--run-tool", "noequals"],
        ["say", "--run-tool", "f=unclosed 'quote"],
        ["say", "--image", "notes.jsonl"],
        ["say", b"caf\xe9 \xff"],
        ["say", "--model", b"gpt\xff"],
    ],
)
def test_real_cli_bad_flags_and_files_one_line_exit_2(real, args):
    r = real(args[0], "ok.jsonl", *args[1:], *(["-m", "gpt-5-mini"] if "--model" not in args else []), "--dry-run")
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 2 and b"Traceback" not in r.stderr, err
    assert len(err.splitlines()) == 1 and err.startswith("respctl: error: "), err
