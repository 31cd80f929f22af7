"""`respctl batch`: the next turn of many files through the Batch API of the loopback server (and
--local), run through the CLI as users run it. Each applied file must hold its submitted bytes then
exactly the answer's items, be lint-clean, and take its next `say`."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time

import orjson
import pytest
from conftest import clean_output_item, line, run_in_pty, user
from fakeapi import BatchPlan, HttpError, Raw, Stall

MODEL = "gpt-5.4"
FAST = ("--poll", "0.001")  # the loopback batch moves one state per poll


def files(tmp_path, n: int = 3) -> list:
    paths = []
    for i in range(n):
        path = tmp_path / f"c{i}.jsonl"
        path.write_bytes(line(user(f"Question number {i}")))
        paths.append(path)
    return paths


def columns(out: str) -> list[list[str]]:
    """The report's lines, split into outcome, file and detail (columns are two spaces apart or more)."""
    return [re.split(r"\s{2,}", x) for x in out.splitlines()]


def batch_answers(api, batch_id: str) -> dict[str, dict]:
    """custom_id -> the response body the loopback server put in the batch's output file."""
    batch = api.batch(batch_id)
    if not batch["output_file_id"]:
        return {}
    data = api.files[batch["output_file_id"]].data
    return {obj["custom_id"]: obj["response"]["body"] for obj in map(orjson.loads, data.splitlines())}


def manifest(tmp_path, batch_id: str) -> dict:
    return orjson.loads((tmp_path / ".respctl-batch" / f"{batch_id}.json").read_bytes())


def applied_bytes(before: bytes, body: dict) -> bytes:
    return before + b"".join(line(clean_output_item(item)) for item in body["output"])


def only_batch(api) -> str:
    (batch_id,) = api.batches
    return batch_id


def assert_next_say_accepted(cli, api, path):
    r = cli("say", path.name, "And then?", "-m", MODEL)
    assert r.code == 0, r.err
    assert api.requests[-1].error is None


def test_submit_then_collect_applies_each_answer_once_exactly_as_say_would(cli, api, tmp_path):
    paths = files(tmp_path)
    before = [p.read_bytes() for p in paths]
    # the body `say` would send, to compare with what the batch carried
    expected = [cli("say", p.name, "--dry-run", "--no-stream", "-m", MODEL).stdout.rstrip(b"\n") for p in paths]
    r = cli("batch", "submit", *[p.name for p in paths], "-m", MODEL)
    assert r.code == 0, r.err
    batch_id = r.out.strip()
    assert r.out == batch_id + "\n" and batch_id in api.batches  # stdout: the id alone
    # the input file: one POST /v1/responses per file, its body byte for byte the one say builds
    uploaded = api.files[api.batch(batch_id)["input_file_id"]].data.splitlines()
    requests = [orjson.loads(x) for x in uploaded]
    assert [(q["method"], q["url"]) for q in requests] == [("POST", "/v1/responses")] * 3
    assert [orjson.dumps(q["body"]) for q in requests] == [orjson.dumps(orjson.loads(b)) for b in expected]
    assert all(b'"body":' + body + b"}" in raw for raw, body in zip(uploaded, expected, strict=True))
    entries = manifest(tmp_path, batch_id)["entries"]
    assert manifest(tmp_path, batch_id)["options"] == {
        k: v for k, v in requests[0]["body"].items() if k not in ("input", "prompt_cache_key")
    }
    assert all(len(cid) <= 64 for cid in entries)
    assert sorted(e["path"] for e in entries.values()) == sorted(str(p) for p in paths)
    # nothing is written before collect
    assert [p.read_bytes() for p in paths] == before

    r = cli("batch", "collect", batch_id)
    assert r.code == 1 and "collect it once it has ended" in r.err  # still validating
    for _ in range(3):
        api.advance_batch(batch_id)
    assert api.batch(batch_id)["status"] == "completed"
    r = cli("batch", "collect", batch_id)
    assert r.code == 0, r.err
    assert r.out.splitlines() == [f"answered  {p.name}" for p in paths]
    answers = batch_answers(api, batch_id)
    by_path = {e["path"]: cid for cid, e in entries.items()}
    for path, old in zip(paths, before, strict=True):
        assert path.read_bytes() == applied_bytes(old, answers[by_path[str(path)]])
        assert cli("lint", path.name).code == 0
    # a second collect changes nothing, and says why
    after = [p.read_bytes() for p in paths]
    again = cli("batch", "collect", batch_id, "--json")
    assert again.code == 0 and [p.read_bytes() for p in paths] == after
    assert {f["outcome"] for f in again.json()["files"]} == {"already applied"}
    assert_next_say_accepted(cli, api, paths[0])


def test_run_reports_a_failed_request_and_applies_the_others(cli, api, tmp_path):
    paths = files(tmp_path)
    before = [p.read_bytes() for p in paths]
    api.script_batch(BatchPlan(fail={1: HttpError(500)}, reverse_output=True))
    r = cli("batch", "run", *[p.name for p in paths], "-m", MODEL, *FAST, "--json")
    assert r.code == 1, r.err
    report = r.json()
    outcomes = {f["file"]: f["outcome"] for f in report["files"]}
    assert outcomes == {str(paths[0]): "answered", str(paths[1]): "failed", str(paths[2]): "answered"}
    assert "HTTP 500" in report["files"][1]["detail"]
    assert paths[1].read_bytes() == before[1]
    for i in (0, 2):
        assert paths[i].read_bytes() != before[i] and cli("lint", paths[i].name).code == 0
    # the failed one can be run again: it still holds what it held
    assert_next_say_accepted(cli, api, paths[1])


def test_an_expired_batch_applies_what_ran_and_reports_the_rest(cli, api, tmp_path):
    paths = files(tmp_path)
    before = [p.read_bytes() for p in paths]
    api.script_batch(BatchPlan(expire_after=1))
    r = cli("batch", "run", *[p.name for p in paths], "-m", MODEL, *FAST)
    assert r.code == 1
    assert r.out.splitlines()[0] == "answered  c0.jsonl"
    assert [x.split()[0] for x in r.out.splitlines()[1:]] == ["failed", "failed"]
    assert "batch_expired" in r.out and "expired: 1 answered, 2 failed (exit 1)" in r.err
    assert [p.read_bytes() for p in paths[1:]] == before[1:]


def test_a_batch_that_fails_validation_changes_no_file(cli, api, tmp_path):
    paths = files(tmp_path, 2)
    before = [p.read_bytes() for p in paths]
    error = {"code": "invalid_request", "line": 1, "message": "Something is wrong.", "param": None}
    api.script_batch(BatchPlan(fail_validation=[error]))
    r = cli("batch", "run", *[p.name for p in paths], "-m", MODEL, *FAST, "--json")
    assert r.code == 1
    assert {f["outcome"] for f in r.json()["files"]} == {"failed"}
    assert "Something is wrong." in r.json()["files"][0]["detail"]
    assert [p.read_bytes() for p in paths] == before


def test_a_file_edited_between_submit_and_collect_is_left_alone_and_reported(cli, api, tmp_path):
    paths = files(tmp_path)
    batch_id = cli("batch", "submit", *[p.name for p in paths], "-m", MODEL).out.strip()
    edited = paths[1].read_bytes() + line(user("an afterthought"))
    paths[1].write_bytes(edited)
    for _ in range(3):
        api.advance_batch(batch_id)
    r = cli("batch", "collect", batch_id)
    assert r.code == 2
    assert columns(r.out)[1][:2] == ["changed meanwhile", "c1.jsonl"]
    assert paths[1].read_bytes() == edited
    assert columns(r.out)[0] == ["answered", "c0.jsonl"]
    # run twice: still nothing applied to it, and the others are not applied again
    after = [p.read_bytes() for p in paths]
    r = cli("batch", "collect", batch_id)
    assert r.code == 2 and [p.read_bytes() for p in paths] == after
    assert [x[0] for x in columns(r.out)] == ["already applied", "changed meanwhile", "already applied"]


def test_tool_calls_waiting_and_incomplete_answers_are_applied_and_summarised(cli, api, tmp_path):
    (tmp_path / "tools.json").write_text(
        '[{"type":"function","name":"weather","parameters":{"type":"object","properties":{}}}]'
    )
    asks = tmp_path / "asks.jsonl"
    asks.write_bytes(line(user("What is the weather in Oslo today?")))
    r = cli("batch", "run", "asks.jsonl", "-m", MODEL, "--tools", "tools.json", *FAST)
    assert r.code == 3, r.err
    assert r.out.startswith("calls waiting  asks.jsonl  (call_")
    assert cli("lint", "asks.jsonl").code == 0
    assert "waiting for output" in cli("batch", "submit", "asks.jsonl", "-m", MODEL).err  # refused as say refuses

    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(line(user("Tell me a long story about " + "rivers " * 50)))
    r = cli("batch", "run", "cut.jsonl", "asks2.jsonl", "-m", MODEL, "--max-output-tokens", "16", *FAST)
    assert r.code == 2 and "asks2.jsonl" in r.err  # a missing file: refused up front, nothing submitted
    r = cli("batch", "run", "cut.jsonl", "-m", MODEL, "--max-output-tokens", "16", *FAST)
    assert r.code == 4, r.err
    assert r.out.startswith("incomplete  cut.jsonl")
    assert cli("lint", "cut.jsonl").code == 0
    assert_next_say_accepted(cli, api, cut)


def test_files_say_would_refuse_are_listed_and_nothing_is_uploaded(cli, api, tmp_path):
    good, answered, broken = tmp_path / "good.jsonl", tmp_path / "answered.jsonl", tmp_path / "broken.jsonl"
    good.write_bytes(line(user("Hi")))
    answered.write_bytes(line(user("Hi")) + line({"type": "message", "role": "assistant", "content": "Hello"}))
    broken.write_bytes(b'{"type": "message", "role": "user"}\n')
    r = cli("batch", "submit", "good.jsonl", "answered.jsonl", "broken.jsonl", "-m", MODEL)
    assert r.code == 2 and r.out == ""
    assert "broken.jsonl" in r.err
    assert (
        "respctl: error: answered.jsonl: nothing new to answer: the file ends in the model's answer "
        "(add a user message first: respctl say answered.jsonl MESSAGE --no-send)\n"
    ) in r.err  # a batch has no MESSAGE and no --as-is: not say's wording
    assert "2 files of 3 would be refused" in r.err
    assert api.files == {} and api.batches == {}
    r = cli("batch", "submit", "good.jsonl", "answered.jsonl", "broken.jsonl", "-m", MODEL, "--skip-invalid")
    assert r.code == 0 and r.out.strip() in api.batches
    assert len(api.files[api.batch(r.out.strip())["input_file_id"]].data.splitlines()) == 1


def test_local_mode_sends_the_same_requests_to_the_base_url_and_reports_alike(cli, api, tmp_path):
    paths = files(tmp_path, 4)
    before = [p.read_bytes() for p in paths]
    expected = [cli("say", p.name, "--dry-run", "--no-stream", "-m", MODEL).stdout.rstrip(b"\n") for p in paths]
    r = cli("batch", "run", *[p.name for p in paths], "-m", MODEL, "--local", "--jobs", "2", "--json")
    assert r.code == 0, r.err
    report = r.json()
    assert report["batch_id"].startswith("local-") and report["counts"] == {"answered": 4}
    assert (tmp_path / ".respctl-batch" / f"{report['batch_id']}.json").exists()
    assert api.batches == {} and sorted(q.raw for q in api.requests) == sorted(expected)
    by_body = {q.raw: q.response for q in api.requests}
    for path, old, body in zip(paths, before, expected, strict=True):
        assert path.read_bytes() == applied_bytes(old, by_body[body])
        assert cli("lint", path.name).code == 0


def test_hostile_names_and_answers_never_act_on_the_terminal(cli, api, tmp_path):
    name = "evil\x1b]0;PWNED\x07\x1b[2J.jsonl"
    (tmp_path / name).write_bytes(line(user("Hi")))
    api.script_batch(BatchPlan(fail={0: HttpError(400, message="bad \x1b[31mred\x1b[0m")}))
    r = cli("batch", "run", name, "-m", MODEL, *FAST)
    assert r.code == 1
    assert "\x1b" not in r.out and "\x1b" not in r.err and "\x07" not in r.out
    assert "evil\\x1b]0;PWNED" in r.out


@pytest.mark.parametrize("args", [("--no-send",), ("--stream",), ("--run-tool", "f=/bin/true")])
def test_options_that_do_not_apply_to_a_batch_are_refused(cli, api, tmp_path, args):
    files(tmp_path, 1)
    r = cli("batch", "submit", "c0.jsonl", "-m", MODEL, *args)
    assert r.code == 2 and "batch submit takes no" in r.err and api.files == {}


def test_ctrl_c_during_a_local_run_reports_each_file_and_exits_130(env, api, tmp_path):
    """A fresh process (the signal is the point): the request in flight is not applied, the others are
    never sent, every file is unchanged, the report says so, and the manifest keeps it."""
    paths = files(tmp_path)
    before = [p.read_bytes() for p in paths]
    release = threading.Event()
    api.script(Stall(30, release=release))
    proc = subprocess.Popen(
        [sys.executable, "-m", "respctl", "batch", "run", *[p.name for p in paths], "-m", MODEL, "--local"]
        + ["--jobs", "1", "--json"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while not api.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        assert api.requests, "the first request never came"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        release.set()
    assert proc.returncode == 130, err
    assert b"do not send it again" not in err
    report = orjson.loads(out)
    assert report["interrupted"] is True and report["exit_code"] == 130
    assert [f["outcome"] for f in report["files"]] == ["not applied", "not sent", "not sent"]
    assert [p.read_bytes() for p in paths] == before
    assert len(api.requests) == 1
    batch_id = report["batch_id"]
    assert manifest(tmp_path, batch_id)["report"]["counts"] == {"not applied": 1, "not sent": 2}


def test_a_local_run_is_known_to_status_and_collect(cli, api, tmp_path):
    paths = files(tmp_path, 2)
    r = cli("batch", "run", *[p.name for p in paths], "-m", MODEL, "--local", "--json")
    batch_id = r.json()["batch_id"]
    r = cli("batch", "status", batch_id)
    assert r.code == 0 and r.out.startswith(f"{batch_id}  ran locally  it ended: 2 answered (exit 0)")
    assert cli("batch", "status", batch_id, "--json").json()["report"]["counts"] == {"answered": 2}
    r = cli("batch", "collect", batch_id)
    assert r.code == 2 and "ran locally (--local), nothing to collect: it ended: 2 answered" in r.err


def test_a_manifest_folder_that_cannot_be_written_stops_submit_before_anything_is_uploaded(cli, api, tmp_path):
    files(tmp_path, 1)
    (tmp_path / ".respctl-batch").write_text("not a folder")
    for command in (("submit",), ("run", *FAST), ("run", "--local")):
        r = cli("batch", *command, "c0.jsonl", "-m", MODEL)
        assert (r.code, r.out) == (2, ""), r.err
        assert r.err_lines == [
            f"respctl: error: cannot write the batch's manifest in {tmp_path / '.respctl-batch'} "
            "(a file is in the way); nothing was submitted"
        ]
    assert api.files == {} and api.batches == {} and api.requests == []


def test_a_batch_created_without_a_manifest_still_prints_its_id(cli, api, tmp_path):
    """The server names the batch with an id no manifest can be named after: the batch exists (paid),
    so its id is printed, with one error line, exit 1."""
    files(tmp_path, 1)
    upload = {"id": "file-abc", "object": "file", "bytes": 1, "created_at": 0, "filename": "respctl-batch.jsonl"}
    upload |= {"purpose": "batch", "status": "processed"}
    odd = {"id": "batch_a/b", "object": "batch", "endpoint": "/v1/responses", "input_file_id": "file-abc"}
    odd |= {"completion_window": "24h", "status": "validating", "created_at": 0}
    api.script(Raw(200, orjson.dumps(upload), "application/json"), Raw(200, orjson.dumps(odd), "application/json"))
    r = cli("batch", "submit", "c0.jsonl", "-m", MODEL)
    assert (r.code, r.out) == (1, "batch_a/b\n"), r.err
    assert len(r.err_lines) == 1 and "the batch batch_a/b was created, but its manifest could not be written" in r.err
    assert "internal error" not in r.err


@pytest.mark.parametrize("columns", [60, 80])
def test_the_progress_bar_never_wraps(env, api, tmp_path, columns):
    files(tmp_path)
    api.script_batch(BatchPlan(hold=2))
    code, screen = run_in_pty(
        ["batch", "run", "c0.jsonl", "c1.jsonl", "c2.jsonl", "-m", MODEL, *FAST], env=env, cwd=tmp_path, columns=columns
    )
    assert code == 0, screen
    drawn = [x.replace("\x1b[K", "") for x in re.split(r"[\r\n]", screen) if not x.startswith("respctl: ")]
    assert any("validating" in x for x in drawn)
    assert max(len(x) for x in drawn) < columns, [x for x in drawn if len(x) >= columns]


def test_submit_json_prints_one_object_and_errors_as_json(cli, api, tmp_path):
    files(tmp_path, 2)
    (tmp_path / "done.jsonl").write_bytes(
        line(user("Hi")) + line({"type": "message", "role": "assistant", "content": "Hello"})
    )
    r = cli("batch", "submit", "c0.jsonl", "c1.jsonl", "done.jsonl", "-m", MODEL, "--json", "--skip-invalid")
    assert r.code == 0, r.err
    obj = r.json()
    assert obj["batch_id"] in api.batches and obj["files"] == 2
    assert obj["manifest"] == f".respctl-batch/{obj['batch_id']}.json" and (tmp_path / obj["manifest"]).exists()
    assert [x["file"] for x in obj["refused"]] == ["done.jsonl"] and "nothing new to answer" in obj["refused"][0]["why"]
    r = cli("batch", "submit", "c0.jsonl", "done.jsonl", "-m", MODEL, "--json")
    assert r.code == 2 and r.json()["error"]["message"].startswith("1 file of 2 would be refused")


def test_batch_help_describes_its_own_json_and_hides_the_options_it_refuses(cli):
    submit, run = cli("batch", "submit", "--help").out, cli("batch", "run", "--help").out
    for page in (submit, run):
        assert "describing the turn" not in page
        for flag in ("--stream", "--no-send", "--run-tool", "--max-tool-rounds", "--tool-timeout"):
            assert not re.search(rf"^ +{flag}\b", page, re.M), flag
    assert "batch_id, manifest, files" in " ".join(submit.split()) and "--dry-run" in submit
    assert "--dry-run" not in run and "collect's report" in " ".join(run.split())


def test_status_json_is_the_batch_object_as_the_server_sent_it(cli, api, tmp_path):
    """A server that leaves fields out: --json adds none (the SDK's model would add a null for each)."""
    sent = {"id": "batch_abc", "object": "batch", "endpoint": "/v1/responses", "input_file_id": "file-abc"}
    sent |= {"completion_window": "24h", "status": "in_progress", "created_at": 1, "x_vendor": {"a": 1}}
    api.script(Raw(200, orjson.dumps(sent), "application/json"))
    r = cli("batch", "status", "batch_abc", "--json")
    assert r.code == 0 and r.json() == sent


def test_the_same_file_under_two_names_is_submitted_once(cli, api, tmp_path):
    files(tmp_path, 1)
    (tmp_path / "alias.jsonl").symlink_to(tmp_path / "c0.jsonl")
    r = cli("batch", "submit", "c0.jsonl", "alias.jsonl", "-m", MODEL)
    assert r.code == 2 and "alias.jsonl: given twice" in r.err and api.files == {}


def test_a_second_collect_after_the_conversation_went_on_says_already_applied(cli, api, tmp_path):
    """collect, then `say` on the answered file, then collect again: the answer is still there, followed
    by the conversation going on; that is not a change to what was submitted."""
    (path,) = files(tmp_path, 1)
    batch_id = cli("batch", "submit", path.name, "-m", MODEL).out.strip()
    for _ in range(3):
        api.advance_batch(batch_id)
    assert cli("batch", "collect", batch_id).code == 0
    assert_next_say_accepted(cli, api, path)
    went_on = path.read_bytes()
    r = cli("batch", "collect", batch_id)
    assert r.code == 0, r.out + r.err
    assert columns(r.out)[0][:2] == ["already applied", "c0.jsonl"]
    assert path.read_bytes() == went_on


def test_a_batch_over_the_documented_limits_gets_a_note_never_a_refusal():
    """50,000 requests and 200 MB per input file (the API reference): over them, submit says so and still
    submits (the server decides); the size is that of the input file sent, counted without building it."""
    from respctl.batch import Entry, Planned

    def planned(count: int, body: bytes) -> Planned:
        entries = [Entry(f"{i}-{i:048x}", f"/f{i}.jsonl", "0" * 64, 1) for i in range(count)]
        return Planned(entries, [body] * count, [])

    small = b'{"model":"gpt-5-mini","input":[{"role":"user","content":"hi"}],"store":false}'
    assert planned(3, small).input_size() == len(planned(3, small).input_jsonl())
    assert planned(50_000, small).over_documented_limits() is None
    note = planned(50_001, small).over_documented_limits()
    assert note is not None and note.startswith("50,001 requests, ") and "(50,000 requests, 200 MB)" in note
    # 10,000 requests of 20,000 bytes each: the count is fine, the input file (201.2 MB) is not
    large = b'{"input":"' + b"x" * (20_000 - 12) + b'"}'
    assert len(large) == 20_000
    assert planned(10_000, large).over_documented_limits().startswith("10,000 requests, 201.2 MB: over")
    assert planned(9_900, large).over_documented_limits() is None


def test_the_hint_for_a_file_with_nothing_new_can_be_pasted_as_it_is(cli, api, tmp_path):
    """A name with a space is quoted once, and one starting with '-' is never read as an option."""
    answered = line(user("Hi")) + line({"type": "message", "role": "assistant", "content": "Hello"})
    (tmp_path / "-x y.jsonl").write_bytes(answered)
    r = cli("batch", "submit", "./-x y.jsonl", "-m", MODEL)
    assert r.code == 2 and api.files == {}
    assert r.err_lines[0] == (
        "respctl: error: -x y.jsonl: nothing new to answer: the file ends in the model's answer "
        "(add a user message first: respctl say './-x y.jsonl' MESSAGE --no-send)"
    )
