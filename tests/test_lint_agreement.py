"""Does lint flag exactly the files the API rejects? The corpus (tests/lint_corpus/) against the loopback API.

Each corpus file is sent the way respctl sends a conversation (its lines joined into `input`,
store false) to a fresh loopback server that remembers the items it issued when the corpus was
made (registry.json), as the real API remembers which reasoning item an id followed.
"Lint flags" means at least one error; warnings never stop a turn.

Regenerate the corpus with tests/lint_corpus/make_corpus.py (then review this table).
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import orjson
import pytest
from conftest import clean_env, run_cli
from fakeapi import FakeResponsesAPI, IssuedItem, ItemRegistry

from respctl.request import RequestOptions, build_body

CORPUS = Path(__file__).resolve().parent / "lint_corpus"
REGISTRY = json.loads((CORPUS / "registry.json").read_text())
MODEL = REGISTRY["model"]  # the encrypted content in the corpus is sealed to this model

ACCEPT, REJECT = "accept", "reject"

#: Must agree: the server accepts exactly these, and lint reports no error on them (warnings allowed).
AGREE_ACCEPT = {
    "good_chat",
    "good_tool_calls",
    "good_custom_tool",
    "good_gpt_oss_reasoning_text",
    "good_no_reasoning",
    "good_long",
    "good_after_incomplete_turn",
    "good_hand_written",
    "good_rewound_with_head",
    "good_forked_and_continued",
    "good_reasoning_without_id",
    "good_reasoning_dropped_and_id_stripped",
    "good_turn_output_removed",
    # the API is more lenient than the SDK's types here (respctl/lint/leniency.py)
    "good_input_image_without_detail",
    "good_assistant_message_without_type",
    "good_output_text_without_annotations_or_logprobs",
    "good_function_tool_without_strict",
    # warnings only: they replay
    "warn_needless_null_phase",
    "warn_missing_final_newline",
    "warn_empty_file",
    "warn_file_id_reference",
    "warn_compaction_trigger_not_last",
    "warn_arguments_not_json",
    "warn_control_character_in_name",
}
#: Must agree: the server rejects these, and lint reports at least one error.
AGREE_REJECT = {
    "e1_created_by",
    "e1_field_typo",
    "e1_model_dump_nulls",
    "e1_status_on_reasoning",
    "e2_head_cut_after_reasoning",
    "e2_reasoning_then_user",
    "e2_two_reasoning_in_a_row",
    "e4_encrypted_content_null",
    "e4_encrypted_content_removed",
    "e4_reasoning_nothing_to_replay",
    "e8_encrypted_content_cut_mid_token",
    "e8_encrypted_content_empty",
    "e5_call_then_user_message",
    "e5_output_dropped",
    "e6_output_call_id_edited",
    "e6_output_duplicated",
    "e6_output_moved_before_call",
    "e7_call_line_duplicated",
    "e7_forks_concatenated",
    "e7_message_line_duplicated",
    "e10_call_id_prefix_edited",
    "e10_message_id_prefix_edited",
    "e11_assistant_input_text",
    "e12_arguments_missing",
    "e12_summary_missing",
    "null_in_non_nullable_field",
    "null_logprobs",
    "item_reference",
    "unknown_item_type",
    "wrong_type_arguments_object",
    "invalid_role",
    "file_blank_line",
    "file_bom",
    "file_head_c_cut_mid_line",
    "file_pasted_input_array",
    "file_invalid_utf8",
    "file_merge_conflict",
}

#: Outside the "must agree" set, on purpose; each says why, and the test checks that it is so.
#: Out of lint's reach: the server rejects, and nothing in the file shows it.
OUT_OF_REACH = {
    # E8: encrypted content is opaque; only the server can verify it (bound to item id, model, account).
    "e8_encrypted_content_truncated": "E8: cut at a block boundary, still a whole Fernet envelope",
    "e8_encrypted_content_swapped": "E8: each ciphertext is well formed, only bound to the other item",
    "e8_encrypted_content_edited": "E8: one character changed inside the ciphertext",
    # E3 after a tool output: responses made after tool outputs often have no reasoning item, so a
    # message there with its id and no reasoning is normal; only the server knows it had one.
    "e3_reasoning_dropped_after_tool_output": "E3: the server remembers the id followed a reasoning item",
}
#: A heuristic sees it: the server rejects (E3), lint warns (RSP202) but cannot call it an error,
#: since the same shape also comes from a response that had no reasoning (reference rule 8).
HEURISTIC = {"e3_reasoning_dropped_after_user": "RSP202"}
#: respctl refuses it (its strict reader), though the server would take the bytes: `\r` is JSON whitespace.
RESPCTL_REFUSES = {"file_crlf": "RSP005"}
#: Calls waiting at the end: lint says info (exit 0) because `respctl tool-result` answers them before
#: anything is sent; sent as they are, the server answers E5.
PENDING = {"pending_two_calls", "pending_one_of_two_answered"}


def corpus_names() -> set[str]:
    return {p.stem for p in CORPUS.glob("*.jsonl")}


def registry() -> ItemRegistry:
    reg = ItemRegistry()
    for item_id, issued in REGISTRY["issued"].items():
        reg.register(item_id, IssuedItem(**issued))
    return reg


def file_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return lines


def encrypted(path: Path) -> set[str]:
    """Every encrypted_content string in a file (read leniently: BOM, CRLF and blank lines allowed)."""
    lines = path.read_bytes().removeprefix(b"\xef\xbb\xbf").splitlines()
    return {i["encrypted_content"] for i in map(orjson.loads, filter(bytes.strip, lines)) if i.get("encrypted_content")}


def send(api: FakeResponsesAPI, lines: list[bytes]) -> tuple[int, str]:
    """POST the request respctl would build from these lines; (HTTP status, error message or '')."""
    body = build_body(lines, RequestOptions(model=MODEL))
    request = urllib.request.Request(
        api.base_url + "/responses",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": "Bearer sk-test"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, orjson.loads(exc.read())["error"]["message"]


@pytest.fixture(scope="module")
def server():
    with FakeResponsesAPI(registry=registry()) as api:
        yield api


@pytest.fixture(scope="module")
def verdicts(server):
    """name -> (server status, server message, lint error codes, lint warning codes)."""
    out = {}
    names = sorted(corpus_names())
    r = run_cli(["lint", "--format", "json", *[CORPUS / f"{n}.jsonl" for n in names]], cwd=CORPUS, env=clean_env())
    assert r.code in (0, 1), r.err
    found: dict[str, tuple[set, set]] = {n: (set(), set()) for n in names}
    for d in orjson.loads(r.stdout):
        errors, warnings = found[Path(d["path"]).stem]
        (errors if d["severity"] == "error" else warnings).add(d["code"])
    for name in names:
        status, message = send(server, file_lines((CORPUS / f"{name}.jsonl").read_bytes()))
        out[name] = (status, message, *found[name])
    return out


def test_corpus_is_big_enough_and_every_file_is_classified():
    classified = [AGREE_ACCEPT, AGREE_REJECT, set(OUT_OF_REACH), set(HEURISTIC), set(RESPCTL_REFUSES), PENDING]
    assert sum(len(c) for c in classified) == len(set().union(*classified)), "a case is in two classes"
    assert set().union(*classified) == corpus_names()
    assert len(corpus_names()) >= 40


def test_lint_flags_exactly_the_files_the_server_rejects(verdicts):
    false_accepts = {
        n: verdicts[n][1] for n in AGREE_ACCEPT | AGREE_REJECT if verdicts[n][0] != 200 and not verdicts[n][2]
    }
    false_rejects = {
        n: sorted(verdicts[n][2]) for n in AGREE_ACCEPT | AGREE_REJECT if verdicts[n][0] == 200 and verdicts[n][2]
    }
    assert false_accepts == {}, "lint passed files the server rejects"
    assert false_rejects == {}, "lint failed files the server accepts"
    # and each class is what it says (so that a changed server or corpus shows up here)
    assert {n for n in AGREE_ACCEPT if verdicts[n][0] != 200} == set()
    assert {n for n in AGREE_REJECT if verdicts[n][0] == 200} == set()


def test_cases_out_of_lint_reach_are_rejected_by_the_server_only(verdicts):
    for name, why in OUT_OF_REACH.items():
        status, message, errors, _ = verdicts[name]
        assert status == 400 and errors == set(), (name, why, message, errors)
    assert {verdicts[n][1].split(" ")[1] for n in OUT_OF_REACH if n.startswith("e8")} == {"encrypted"}


def test_heuristic_cases_are_warned_about(verdicts):
    for name, code in HEURISTIC.items():
        status, message, errors, warnings = verdicts[name]
        assert status == 400 and "without its required 'reasoning' item" in message
        assert errors == set() and code in warnings


def test_respctl_refuses_what_its_reader_refuses(verdicts):
    for name, code in RESPCTL_REFUSES.items():
        status, _, errors, _ = verdicts[name]
        assert status == 200 and errors == {code}


def test_pending_calls_are_info_until_answered(server, verdicts):
    for name in PENDING:
        status, message, errors, warnings = verdicts[name]
        assert status == 400 and message.startswith("No tool output found for function call")
        assert errors == warnings == set()
        r = run_cli(["lint", CORPUS / f"{name}.jsonl"], cwd=CORPUS, env=clean_env())
        assert r.code == 0 and " info: call call_" in r.out
        # answered the way `respctl tool-result` answers them, the file replays
        items = [orjson.loads(line) for line in file_lines((CORPUS / f"{name}.jsonl").read_bytes())]
        answered = {i["call_id"] for i in items if i.get("type") == "function_call_output"}
        outputs = [
            orjson.dumps({"type": "function_call_output", "call_id": i["call_id"], "output": "ok"})
            for i in items
            if i.get("type") == "function_call" and i["call_id"] not in answered
        ]
        assert send(server, file_lines((CORPUS / f"{name}.jsonl").read_bytes()) + outputs) == (200, "")


def test_fix_makes_every_fixable_file_replay(server, tmp_path):
    """After --fix, a file with no error left is accepted; encrypted content is kept byte for byte."""
    work = tmp_path / "corpus"
    shutil.copytree(CORPUS, work)
    names = sorted(AGREE_ACCEPT | AGREE_REJECT | set(HEURISTIC) | set(RESPCTL_REFUSES))
    r = run_cli(["lint", "--fix", "--format", "json", *[f"{n}.jsonl" for n in names]], cwd=work, env=clean_env())
    left = {Path(d["path"]).stem for d in orjson.loads(r.stdout) if d["severity"] == "error"}
    fixed = [n for n in names if n not in left]
    assert len(fixed) >= 30
    for name in fixed:
        status, message = send(server, file_lines((work / f"{name}.jsonl").read_bytes()))
        assert status == 200, (name, message)
        assert encrypted(work / f"{name}.jsonl") <= encrypted(CORPUS / f"{name}.jsonl"), name
    # what still has errors is what no safe fix can mend
    assert left == {
        "e1_field_typo",
        "e4_encrypted_content_null",
        "e4_encrypted_content_removed",
        "e4_reasoning_nothing_to_replay",
        "e8_encrypted_content_cut_mid_token",
        "e8_encrypted_content_empty",
        "e5_call_then_user_message",
        "e5_output_dropped",
        "e6_output_call_id_edited",
        "e6_output_moved_before_call",
        "e10_call_id_prefix_edited",
        "e10_message_id_prefix_edited",
        "e11_assistant_input_text",
        "e12_arguments_missing",
        "e12_summary_missing",
        "item_reference",
        "unknown_item_type",
        "wrong_type_arguments_object",
        "invalid_role",
        "file_head_c_cut_mid_line",
        "file_pasted_input_array",
        "file_invalid_utf8",
        "file_merge_conflict",
    }
