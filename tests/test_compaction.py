"""Compaction through the CLI: `--compact-threshold` on turns (the file keeps its instructions and the
latest compaction window, the rest goes to FILE.history.jsonl) and `respctl compact FILE`, against the
loopback API (tests/fakeapi.py), which seals and checks compaction items."""

from __future__ import annotations

import os
import signal
import threading
import time

import orjson
from conftest import alive, read_items, soak, tools_file, user
from fakeapi import HttpError, Stall, Turn, function_call, message, reasoning
from test_reliability_support import wait_until

from respctl.items import clean_output_item
from respctl.lint import gate

MODEL = "gpt-5.4"


def lines(path) -> list[bytes]:
    return path.read_bytes().splitlines() if path.exists() else []


def lint_errors(path) -> list[str]:
    raw = lines(path)
    return gate(str(path), raw, [orjson.loads(x) for x in raw])


#: Turns of the long conversation: 200 under HYPOTHESIS_PROFILE=thorough (the issue's figure), and by default
#: enough for several compactions (one every ~5 turns at this threshold) at ~0.1 s a turn.
TURNS = soak(200, 30)


def test_200_turns_with_a_threshold_stay_bounded_replay_and_lose_nothing(cli, api, tmp_path):
    chat, archive = tmp_path / "c.jsonl", tmp_path / "c.jsonl.history.jsonl"
    assert cli("start", chat, "--instructions", "Be brief.").code == 0
    written: list[bytes] = list(lines(chat))  # every line ever written, in order
    for turn in range(TURNS):
        before = chat.read_bytes()
        text = f"Turn {turn}: tell me more about Lisbon and Porto."
        r = cli("say", chat, text, "-m", MODEL, "--compact-threshold", "1500")
        assert r.code == 0, r.err
        request = api.requests[-1]
        assert request.error is None
        # the file's promise: the request's input is the file as it was, then the message
        assert request.body["input"] == [orjson.loads(x) for x in before.splitlines()] + [
            user(f"Turn {turn}: tell me more about Lisbon and Porto.")
        ]
        assert request.body["context_management"] == [{"type": "compaction", "compact_threshold": 1500}]
        new = [orjson.dumps(user(f"Turn {turn}: tell me more about Lisbon and Porto."))]
        new += [orjson.dumps(clean_output_item(o)) for o in request.response["output"]]
        written += new
    assert len(api.accepted) == TURNS and not api.rejected
    compacted = sum(any(o["type"] == "compaction" for o in r.response["output"]) for r in api.accepted)
    assert compacted >= TURNS // 5
    sizes = [len(r.raw) for r in api.requests]
    assert max(sizes) < 1500 * 4 + 2500  # bounded; without compaction the 200th request is ~300 KB
    # nothing lost: the instructions, then the archive, then the rest of the file, is every line written
    assert lines(chat)[:1] + lines(archive) + lines(chat)[1:] == written
    assert lint_errors(chat) == []
    assert oct(archive.stat().st_mode & 0o777) == oct(chat.stat().st_mode & 0o777)


def test_a_compaction_waits_for_the_calls_before_it_then_drops_them(cli, api, tmp_path):
    chat, archive = tmp_path / "c.jsonl", tmp_path / "c.jsonl.history.jsonl"
    tools = tools_file(tmp_path, "get_weather")
    api.script(
        Turn([reasoning(), message("Hi.")]),
        Turn([reasoning(), function_call("get_weather", {"city": "Oslo"}, call_id="call_o")], compact=True),
        Turn([reasoning(), message("Cold.")]),
    )
    assert cli("start", chat, "--instructions", "Be brief.", "hello", "-m", MODEL).code == 0
    r = cli("say", chat, "Weather in Oslo?", "-m", MODEL, "--tools", tools, "--compact-threshold", "1000")
    assert r.code == 3 and not archive.exists()  # the call is still waiting: nothing dropped yet
    assert "call_o" in {i.get("call_id") for i in read_items(chat)}
    r = cli("tool-result", chat, "call_o", "cold", "-m", MODEL, "--tools", tools, "--compact-threshold", "1000")
    assert r.code == 0, r.err
    kinds = [i.get("role") or i["type"] for i in read_items(chat)]
    assert kinds[:2] == ["developer", "compaction"] and "function_call" not in kinds
    assert lint_errors(chat) == []
    assert cli("say", chat, "And Bergen?", "-m", MODEL).code == 0 and not api.rejected
    # rewind after a compaction is safe: the window stays whole and the next turn is accepted
    assert cli("rewind", chat).code == 0
    assert [i.get("role") or i["type"] for i in read_items(chat)][:2] == ["developer", "compaction"]
    assert cli("say", chat, "Again", "-m", MODEL).code == 0 and not api.rejected


def test_a_threshold_below_the_apis_minimum_is_refused_before_sending(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    chat.write_bytes(orjson.dumps(user("hi")) + b"\n")
    r = cli("say", chat, "more", "-m", MODEL, "--compact-threshold", "999")
    assert r.code == 2 and "1000" in r.err and api.requests == []
    r = cli("say", chat, "more", "-m", MODEL, "--dry-run", extra_env={"RESPCTL_COMPACT_THRESHOLD": "2000"})
    assert r.code == 0 and orjson.loads(r.stdout)["context_management"][0]["compact_threshold"] == 2000


def _conversation(cli, chat, turns=3):
    assert cli("start", chat, "--instructions", "Be brief.", "Tell me about Lima.", "-m", MODEL).code == 0
    for n in range(turns):
        assert cli("say", chat, f"And city {n}?", "-m", MODEL).code == 0


def test_compact_replaces_the_history_by_the_window_and_archives_it(cli, api, tmp_path):
    chat, archive = tmp_path / "c.jsonl", tmp_path / "c.jsonl.history.jsonl"
    _conversation(cli, chat)
    before = lines(chat)
    r = cli("compact", chat, "-m", MODEL)
    assert r.code == 0, r.err
    request = api.requests[-1]
    assert request.path.endswith("/responses/compact") and request.error is None
    assert request.body["input"] == [orjson.loads(x) for x in before]
    output = request.response["output"]
    assert lines(chat) == before[:1] + [orjson.dumps(item) for item in output]
    assert lines(archive) == before[1:]
    assert r.out.startswith(f"compacted {chat}: {len(before)} items") and "tokens:" in r.out
    assert lint_errors(chat) == []  # its user messages carry ids: lint takes what the server produced
    assert cli("say", chat, "And Bogota?", "-m", MODEL).code == 0 and not api.rejected
    j = cli("compact", chat, "-m", MODEL, "--json").json()
    assert j["status"] == "compacted" and j["exit_code"] == 0 and j["items_after"] == len(lines(chat))


def test_compact_dry_run_prints_the_body_and_sends_nothing(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    _conversation(cli, chat, turns=1)
    sent, before = len(api.requests), chat.read_bytes()
    r = cli("compact", chat, "-m", MODEL, "--dry-run")
    assert r.code == 0 and len(api.requests) == sent and chat.read_bytes() == before
    body = orjson.loads(r.stdout)
    assert set(body) == {"model", "prompt_cache_key", "input"} and len(body["input"]) == len(lines(chat))


def test_compact_failures_leave_file_and_archive_unchanged(cli, api, tmp_path):
    chat, archive = tmp_path / "c.jsonl", tmp_path / "c.jsonl.history.jsonl"
    _conversation(cli, chat, turns=1)
    assert cli("compact", chat, "-m", MODEL).code == 0
    assert cli("say", chat, "more", "-m", MODEL).code == 0
    file_before, archive_before = chat.read_bytes(), archive.read_bytes()
    api.script(HttpError(500, "boom", count=3))
    r = cli("compact", chat, "-m", MODEL, "--max-retries", "0")
    assert r.code == 1 and "respctl: error:" in r.err
    assert chat.read_bytes() == file_before and archive.read_bytes() == archive_before


def test_compact_refuses_pending_calls_and_a_file_lint_refuses(cli, api, tmp_path):
    chat = tmp_path / "c.jsonl"
    tools = tools_file(tmp_path, "get_weather")
    api.script(Turn([reasoning(), function_call("get_weather", {"city": "Oslo"}, call_id="call_o")]))
    assert cli("start", chat, "Weather in Oslo?", "-m", MODEL, "--tools", tools).code == 3
    sent, before = len(api.requests), chat.read_bytes()
    r = cli("compact", chat, "-m", MODEL)
    assert r.code == 2 and "waiting for output" in r.err
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"type":"item_reference","id":"msg_1"}\n')
    r = cli("compact", bad, "-m", MODEL)
    assert r.code == 2 and "RSP301" in r.err
    assert len(api.requests) == sent and chat.read_bytes() == before


def test_show_marks_the_compaction_and_what_it_replaced(cli, api, tmp_path):
    chat = tmp_path / "c\x1b[2J.jsonl"  # a name that must not act on the terminal
    archive = tmp_path / (chat.name + ".history.jsonl")
    _conversation(cli, chat, turns=2)
    assert cli("compact", chat, "-m", MODEL).code == 0
    replaced = archive.read_bytes()
    n = replaced.count(b"\n")
    assert n == 9  # the instructions stay; three user messages, each with reasoning and an answer, archived
    r = cli("show", chat, "--format", "json")
    (mark,) = [o for o in r.json() if o["type"] == "compaction"]
    assert mark["replaces"] == {"items": n, "bytes": len(replaced), "archive": str(archive)}
    text = cli("show", chat, "--color", "always", extra_env={"COLUMNS": "60"}).out
    assert "compacted here" in text and f"replaces {n} earlier items" in text
    assert "[see c.jsonl.history.jsonl]" in text and "\x1b[2J" not in text  # the escape sequence cleaned out
    md = cli("show", chat, "--format", "markdown").out
    assert "**compacted here**" in md and f"*replaces {n} earlier items" in md
    # without its archive (a copy, standard input) the items are no longer anywhere to count
    alone = cli("show", "-", input=chat.read_bytes()).out
    assert "replaces earlier items that are not in this file" in alone


def _server_verdict(api, lines: list[bytes]) -> int:
    """The HTTP status of the request respctl would build from these lines (the file as it is)."""
    import urllib.error
    import urllib.request

    from respctl.request import RequestOptions, build_body

    body = build_body(lines, RequestOptions(model=MODEL))
    request = urllib.request.Request(
        api.base_url + "/responses",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": "Bearer k"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code


def test_lint_and_the_server_agree_on_compaction_items(cli, api, tmp_path):
    """The OpenAI target's rules on compaction items (shape: RSP102/RSP104/RSP113, the Fernet envelope
    RSP114, the `cmp_` prefix RSP112; a compaction_trigger not last: RSP209, a warning): lint passes
    exactly what the loopback API accepts, and warnings never stop a file the server takes."""
    chat = tmp_path / "c.jsonl"
    _conversation(cli, chat, turns=1)
    assert cli("compact", chat, "-m", MODEL).code == 0  # user messages with ids, then the compaction item
    good = [orjson.loads(x) for x in lines(chat)]
    at = next(i for i, item in enumerate(good) if item["type"] == "compaction")
    cmp = good[at]

    def variant(**changes) -> list[dict]:
        item = {k: v for k, v in {**cmp, **changes}.items() if v is not None}
        return [*good[:at], item, *good[at + 1 :]]

    cases = {
        "as compacted": (good, "accept"),
        "without its id": (variant(id=None), "accept"),
        "a trigger not last": ([*good[:at], {"type": "compaction_trigger"}, *good[at:]], "accept"),
        "encrypted_content missing": (variant(encrypted_content=None), "reject"),
        "encrypted_content empty": (variant(encrypted_content=""), "reject"),
        "encrypted_content a number": (variant(encrypted_content=5), "reject"),
        "encrypted_content cut mid-token": (variant(encrypted_content=cmp["encrypted_content"][:-5]), "reject"),
        "an id of another kind": (variant(id="rs_" + cmp["id"].removeprefix("cmp_")), "reject"),
    }
    for name, (items, expected) in cases.items():
        path = tmp_path / "case.jsonl"
        path.write_bytes(b"".join(orjson.dumps(i) + b"\n" for i in items))
        status = _server_verdict(api, lines(path))
        errors = lint_errors(path)
        assert (status == 200) == (expected == "accept") == (errors == []), (name, status, errors)
    r = cli("lint", path)  # the last case, through the CLI: the rule that applies, named
    assert r.code == 1 and "RSP112" in r.out


def _compact_interrupted(api, zygote, env, tmp_path, chat, *, after_answer: bool) -> tuple[int, str]:
    """`respctl compact` as a process of its own, Ctrl-C once the server holds its request: at once, or
    (after_answer) again and again from the moment the server answers until respctl has exited."""
    release = threading.Event()
    api.script(Stall(30, release=release))
    sent = len(api.requests)
    out, err = tmp_path / "out", tmp_path / "err"
    pid = zygote.start(["compact", chat, "-m", MODEL], cwd=tmp_path, env=env, out=out, err=err)
    try:
        assert wait_until(lambda: len(api.requests) > sent, timeout=30)
        if not after_answer:
            os.kill(pid, signal.SIGINT)
        release.set()
        while after_answer and alive(pid):
            os.kill(pid, signal.SIGINT)
            time.sleep(0.0005)
        return zygote.wait(pid), err.read_text()
    finally:
        release.set()


def test_ctrl_c_while_compact_waits_for_the_server_changes_nothing(cli, api, zygote, env, tmp_path):
    chat, archive = tmp_path / "c.jsonl", tmp_path / "c.jsonl.history.jsonl"
    _conversation(cli, chat, turns=1)
    assert cli("compact", chat, "-m", MODEL).code == 0 and cli("say", chat, "more", "-m", MODEL).code == 0
    file_before, archive_before = chat.read_bytes(), archive.read_bytes()
    code, err = _compact_interrupted(api, zygote, env, tmp_path, chat, after_answer=False)
    assert (code, err) == (130, "respctl: error: interrupted; nothing was written\n")
    assert chat.read_bytes() == file_before and archive.read_bytes() == archive_before


def test_ctrl_c_after_the_compaction_answer_leaves_it_whole_or_not_at_all(cli, api, zygote, env, tmp_path):
    """Ctrl-C pressed again and again from the moment the answer is sent: the file is either unchanged
    (exit 130, the archive too) or compacted with its history in the archive (exit 0); no line is lost."""
    chat, archive = tmp_path / "c.jsonl", tmp_path / "c.jsonl.history.jsonl"
    _conversation(cli, chat, turns=1)
    outcomes = set()
    for attempt in range(soak(12, 4)):
        assert cli("say", chat, f"more {attempt}", "-m", MODEL).code == 0
        file_before, archive_before = lines(chat), lines(archive)
        code, err = _compact_interrupted(api, zygote, env, tmp_path, chat, after_answer=True)
        if lines(chat) == file_before:
            outcomes.add("unchanged")
            assert (code, err) == (130, "respctl: error: interrupted; nothing was written\n")
            assert lines(archive) == archive_before  # never the archive without the file
        else:  # the interrupt waited for both writes, and does not undo them
            outcomes.add("compacted")
            saved = f"respctl: interrupted after the compaction was saved to {chat} (its history is in {archive})\n"
            assert code == 0 and err in ("", saved), (code, err)
            assert lines(chat)[0] == file_before[0] and lint_errors(chat) == []
            assert lines(archive)[: len(archive_before)] == archive_before
        history = set(lines(archive)) | set(lines(chat))
        assert set(file_before) <= history, "a line of the conversation is in neither the file nor its archive"
    assert outcomes <= {"unchanged", "compacted"}


#: `respctl compact` with a Ctrl-C pressed right after the archive is written, before the file is.
_CTRL_C_AFTER_THE_ARCHIVE = r"""
import os, signal
from respctl import cli, compaction

real = compaction.append_archive

def append_archive(*args, **kwargs):
    try:
        return real(*args, **kwargs)
    finally:
        os.kill(os.getpid(), signal.SIGINT)

compaction.append_archive = append_archive
cli.main()
"""


def test_ctrl_c_between_the_archive_and_the_file_waits_for_both(cli, api, env, tmp_path):
    """A fresh interpreter (signals are the point): the paid compaction is written whole, the archive
    and the file agree, and the run ends as a saved compaction does: a note, exit 0."""
    import subprocess
    import sys

    chat, archive = tmp_path / "c.jsonl", tmp_path / "c.jsonl.history.jsonl"
    _conversation(cli, chat, turns=1)
    before = lines(chat)
    done = subprocess.run(
        [sys.executable, "-c", _CTRL_C_AFTER_THE_ARCHIVE, "compact", chat, "-m", MODEL],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr.decode()) == (
        0,  # the compaction is saved: a script that retried on 130 would pay for it twice
        f"respctl: interrupted after the compaction was saved to {chat} (its history is in {archive})\n",
    )
    assert lines(archive) == before[1:]
    assert lines(chat) == before[:1] + [orjson.dumps(item) for item in api.requests[-1].response["output"]]
