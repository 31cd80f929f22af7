"""respctl lint: the real CLI on small files, exact output lines and exit codes; gate(); the schema table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from conftest import clean_env, read_items, run_cli

from respctl.lint import RULES, gate, generate

MODEL = "gpt-5-mini"
ROOT = Path(__file__).resolve().parent.parent
#: 2,340 characters, never to be touched: base64url of 1,753 = 57 + 16 x 106 bytes, a Fernet token's envelope.
ENC = ("gAAAAABpPMlcH0HHEv5_ozHwP5Gxz5ZLE7A8Aw7GK94sa1KWHqXLrAch29KZ" * 40)[:2336] + "AA=="


def dumps(item) -> bytes:
    return orjson.dumps(item)


def jsonl(*items) -> bytes:
    return b"".join(dumps(i) + b"\n" for i in items)


USER = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Weather in Paris?"}]}
RS = {"id": "rs_1", "type": "reasoning", "encrypted_content": ENC, "summary": []}
MSG = {
    "id": "msg_1",
    "type": "message",
    "status": "completed",
    "role": "assistant",
    "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": "Sunny."}],
    "phase": "final_answer",
}
FC = {
    "id": "fc_1",
    "type": "function_call",
    "status": "completed",
    "arguments": '{"city":"Paris"}',
    "call_id": "call_1",
    "name": "get_weather",
}
FCO = {"type": "function_call_output", "call_id": "call_1", "output": "18C"}


@pytest.fixture
def lint(tmp_path):
    env = clean_env()

    def run(*args, input=None):
        return run_cli(["lint", *args], cwd=tmp_path, env=env, input=input)

    return run


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- text output ------------------------------------------------------------------------------


def test_clean_conversation_passes(lint, tmp_path):
    write(tmp_path, "chat.jsonl", jsonl(USER, RS, FC, FCO, {**RS, "id": "rs_2"}, MSG))
    r = lint("chat.jsonl")
    assert (r.code, r.out, r.err) == (0, "All checks passed!\n", "")


def test_text_lines_summary_and_exit_1(lint, tmp_path):
    write(
        tmp_path,
        "chat.jsonl",
        jsonl(USER, {**RS, "status": "completed"}, {**FC, "statuz": "x"}, FCO, {**RS, "id": "rs_2"}),
    )
    r = lint("chat.jsonl")
    assert r.code == 1
    assert r.out.splitlines() == [
        f"chat.jsonl:2:{len(dumps(RS)) + 1}: RSP108 [*] reasoning item: field 'status' is output-only: the API does "
        "not take it back",
        f"chat.jsonl:3:{dumps({**FC, 'statuz': 'x'}).index(b'statuz')}: RSP103 function_call item: unknown field "
        "'statuz' (did you mean 'status'?)",
        "chat.jsonl:5:1: RSP201 [*] reasoning item rs_2 has no following item: it is the last item",
        "Found 3 errors.",
        "[*] 2 fixable with the --fix option.",
        "1 problem cannot be fixed automatically: 'respctl lint --explain CODE' says how to mend each.",
    ]
    assert r.err_lines == [  # RSP108 and RSP103 are the OpenAI API's own rules: lint says it used them
        "respctl: lint rule set: --target openai (no base URL: api.openai.com): every rule, the OpenAI API's own "
        "included (a file for another server? --target compatible checks only what every server needs)"
    ]


def test_errors_and_warnings_are_counted_apart(lint, tmp_path):
    write(tmp_path, "chat.jsonl", jsonl(USER, RS, {**MSG, "phase": None}, {**USER, "statuz": 1}))
    r = lint("chat.jsonl")
    assert r.code == 1
    assert r.out.splitlines()[-3:] == [
        "Found 1 error (1 warning).",
        "[*] 1 fixable with the --fix option.",
        "1 problem cannot be fixed automatically: 'respctl lint --explain CODE' says how to mend each.",
    ]
    assert "RSP107 [*] warning: message item: field 'phase' is null (leave it out instead)" in r.out


def test_messages_name_the_field_and_nested_pointer(lint, tmp_path):
    no_summary = {k: v for k, v in RS.items() if k != "summary"}
    bad_part = {**MSG, "content": [{"type": "output_text", "text": 5, "annotations": []}]}
    write(tmp_path, "chat.jsonl", jsonl(USER, no_summary, bad_part))
    r = lint("chat.jsonl", "--format", "json")
    rows = orjson.loads(r.stdout)
    assert [(d["code"], d["line"], d["pointer"], d["message"]) for d in rows] == [
        ("RSP102", 2, "/summary", "reasoning item: field 'summary' is required"),
        ("RSP104", 3, "/content/0/text", "message item: field 'text' in /content/0 must be a string, not an integer"),
    ]


def test_status_on_a_custom_tool_call_is_output_only(lint, tmp_path):
    call = {
        "id": "ctc_1",
        "type": "custom_tool_call",
        "status": "completed",
        "call_id": "call_9",
        "name": "sql",
        "input": "SELECT 1",
    }
    write(
        tmp_path,
        "chat.jsonl",
        jsonl(USER, call, {"type": "custom_tool_call_output", "call_id": "call_9", "output": "1"}),
    )
    r = lint("chat.jsonl")
    column = dumps(call).index(b'"status"') + 1
    assert (
        r.out.splitlines()[0]
        == f"chat.jsonl:2:{column}: RSP108 [*] custom_tool_call item: field 'status' is output-only: "
        "the API does not take it back"
    )


def test_pending_calls_at_the_end_are_info_not_findings(lint, tmp_path):
    write(tmp_path, "chat.jsonl", jsonl(USER, RS, FC, {**FC, "id": "fc_2", "call_id": "call_2"}, FCO))
    r = lint("chat.jsonl")
    assert r.code == 0
    assert r.out.splitlines() == [
        "chat.jsonl:4:1: info: call call_2 (get_weather) is waiting for its output; answer it with 'respctl "
        "tool-result chat.jsonl call_2'",
        "All checks passed!",
    ]


def test_call_without_output_before_a_later_turn_is_an_error(lint, tmp_path):
    write(tmp_path, "chat.jsonl", jsonl(USER, RS, FC, USER))
    r = lint("chat.jsonl")
    assert r.code == 1
    assert (
        r.out.splitlines()[0]
        == "chat.jsonl:3:1: RSP204 function_call call_1 (get_weather) has no output, and a later turn follows it"
    )


# --- every rule, with a file that breaks it ----------------------------------------------------

BOM = b"\xef\xbb\xbf"
TRIGGERS = {
    "RSP001": b'{"role":"user","content":"hi"\n',
    "RSP002": b'{"role":"user","content":"caf\xe9"}\n',
    "RSP003": b'[{"role":"user","content":"hi"}]\n',
    "RSP004": jsonl(USER) + b"\n" + jsonl(USER),
    "RSP005": dumps(USER) + b"\r\n",
    "RSP006": BOM + jsonl(USER),
    "RSP007": dumps(USER),
    "RSP008": b"",
    "RSP009": b'{"role":"user","role":"assistant","content":"hi"}\n',
    "RSP010": b'{"role":"user","content":"hi","n":18446744073709551616}\n',
    "RSP101": jsonl({**RS, "type": "reasonning"}),
    "RSP102": jsonl(USER, RS, {k: v for k, v in FC.items() if k != "arguments"}, FCO),
    "RSP103": jsonl({**USER, "statuz": "completed"}),
    "RSP104": jsonl(USER, RS, {**FC, "arguments": {"city": "Paris"}}, FCO),
    "RSP105": jsonl({"role": "bot", "content": "hi"}),
    "RSP106": jsonl(USER, RS, {**FC, "namespace": None}, FCO),
    "RSP107": jsonl(USER, RS, {**MSG, "phase": None}),
    "RSP108": jsonl(USER, {**RS, "status": "completed"}, MSG),
    "RSP109": jsonl(USER, RS, {**MSG, "content": [{"type": "input_text", "text": "hi"}]}),
    "RSP110": jsonl(USER, RS, {**FC, "arguments": '{"city": "Par'}, FCO),
    "RSP111": jsonl(USER, RS, {**FC, "name": "get\u0000weather"}, FCO),
    "RSP112": jsonl(USER, RS, {**FC, "id": "msg_1"}, FCO),
    "RSP113": jsonl(USER, {**RS, "encrypted_content": ""}, MSG),
    "RSP114": jsonl(USER, {**RS, "encrypted_content": ENC[:-1]}, MSG),
    "RSP115": jsonl(USER, {k: v for k, v in RS.items() if k not in ("id", "encrypted_content")}, MSG),
    "RSP201": jsonl(USER, RS),
    "RSP202": jsonl(USER, RS, MSG, USER, {**MSG, "id": "msg_2"}),
    "RSP203": jsonl(USER, {k: v for k, v in RS.items() if k != "encrypted_content"}, MSG),
    "RSP204": jsonl(USER, RS, FC, USER),
    "RSP205": jsonl(USER, FCO),
    "RSP206": jsonl(USER, RS, FC, FCO, {**FCO, "output": "19C"}),
    "RSP207": jsonl(USER, RS, FC, {**FC, "id": "fc_2"}, FCO),
    "RSP208": jsonl(
        USER, RS, MSG, USER, {**RS, "summary": [{"type": "summary_text", "text": "x"}]}, {**MSG, "id": "msg_2"}
    ),
    "RSP209": jsonl({"type": "compaction_trigger"}, USER),
    "RSP301": jsonl(USER, {"type": "item_reference", "id": "msg_1"}),
    "RSP302": jsonl({"role": "user", "content": [{"type": "input_file", "file_id": "file-abc"}]}),
}


def test_every_rule_has_a_trigger_and_complete_docs():
    assert set(TRIGGERS) == set(RULES)
    for code, rule in RULES.items():
        assert rule.code == code and code[:3] == "RSP" and len(code) == 6
        assert rule.name == rule.name.lower() and " " not in rule.name
        assert rule.severity in ("error", "warning")
        assert all([rule.summary, rule.what, rule.why, rule.example, rule.mend]), code


@pytest.mark.parametrize("code", sorted(TRIGGERS))
def test_rule_fires_on_its_trigger(lint, tmp_path, code):
    write(tmp_path, "t.jsonl", TRIGGERS[code])
    r = lint("t.jsonl", "--format", "json")
    assert r.code == 1, r.err
    found = {d["code"]: d for d in orjson.loads(r.stdout)}
    assert code in found, found
    d = found[code]
    assert d["severity"] == RULES[code].severity and d["name"] == RULES[code].name
    assert (d["fix"] is not None) <= (RULES[code].fix is not None)


def test_file_level_positions(lint, tmp_path):
    write(tmp_path, "a.jsonl", b'{"role":"user","content":"caf\xe9"}\n{"role":"user","content":"hi"\n[1]\n')
    write(tmp_path, "b.jsonl", BOM + dumps(USER) + b"\r\n\n" + dumps(USER) + b"\r\n" + dumps(USER))
    r = lint("a.jsonl", "b.jsonl")
    assert r.out.splitlines()[:7] == [
        "a.jsonl:1:30: RSP002 invalid UTF-8: byte 0xe9 at byte 30",
        "a.jsonl:2:30: RSP001 invalid JSON: unexpected end of data",
        "a.jsonl:3:1: RSP003 expected a JSON object (one input item), got an array",
        "b.jsonl:1:1: RSP006 [*] file starts with a UTF-8 byte order mark",
        f"b.jsonl:1:{len(dumps(USER)) + 1}: RSP005 [*] line ends in CRLF (and 1 more line)",
        "b.jsonl:2:1: RSP004 [*] blank line",
        f"b.jsonl:4:{len(dumps(USER)) + 1}: RSP007 [*] warning: no newline at end of file",
    ]


# --- formats ------------------------------------------------------------------------------------


def test_json_format_one_object_per_diagnostic(lint, tmp_path):
    write(tmp_path, "chat.jsonl", jsonl(USER, {**RS, "status": "completed"}, MSG))
    r = lint("chat.jsonl", "--format", "json")
    assert r.code == 1
    assert orjson.loads(r.stdout) == [
        {
            "code": "RSP108",
            "name": "output-only-field",
            "severity": "error",
            "message": "reasoning item: field 'status' is output-only: the API does not take it back",
            "path": "chat.jsonl",
            "line": 2,
            "column": len(dumps(RS)) + 1,
            "pointer": "/status",
            "fix": {"title": "Remove the output-only field", "applicability": "safe"},
        }
    ]


def test_json_format_clean_is_an_empty_array(lint, tmp_path):
    write(tmp_path, "chat.jsonl", jsonl(USER, RS, MSG))
    r = lint("chat.jsonl", "--format", "json")
    assert (r.code, orjson.loads(r.stdout)) == (0, [])


def test_github_format_annotations(lint, tmp_path):
    write(tmp_path, "chat.jsonl", jsonl(USER, RS, {**MSG, "phase": None}, USER, {**RS, "id": "rs_2"}))
    r = lint("chat.jsonl", "--format", "github")
    assert r.code == 1
    assert r.out.splitlines() == [
        "::warning file=chat.jsonl,line=3,col="
        + str(dumps(MSG).index(b'"phase"') + 1)
        + ",title=RSP107 needless-null::RSP107 message item: field 'phase' is null (leave it out instead)",
        "::error file=chat.jsonl,line=5,col=1,title=RSP201 reasoning-without-following-item::RSP201 reasoning item "
        "rs_2 has no following item: it is the last item",
    ]


# --- files, globs, folders, exit 2 --------------------------------------------------------------


def test_many_files_globs_and_folders(lint, tmp_path):
    (tmp_path / "convs" / "deep").mkdir(parents=True)
    write(tmp_path, "convs/a.jsonl", jsonl(USER, RS, MSG))
    write(tmp_path, "convs/deep/b.jsonl", jsonl(USER, RS))
    write(tmp_path, "c.jsonl", jsonl(USER))
    r = lint("convs", "*.jsonl", "convs/a.jsonl")
    assert r.code == 1
    assert r.out.splitlines() == [
        "convs/deep/b.jsonl:2:1: RSP201 [*] reasoning item rs_1 has no following item: it is the last item",
        "Found 1 error.",
        "[*] 1 fixable with the --fix option.",
    ]


def test_missing_file_is_exit_2_and_the_others_are_still_linted(lint, tmp_path):
    write(tmp_path, "ok.jsonl", jsonl(USER))
    r = lint("nope.jsonl", "ok.jsonl", "none-*.jsonl")
    assert r.code == 2
    assert r.err_lines == ["respctl: error: nope.jsonl: no such file", "respctl: error: none-*.jsonl: no files match"]
    assert r.out == "All checks passed!\n"


def test_no_files_is_a_usage_error(lint):
    r = lint()
    assert r.code == 2 and r.err.startswith("respctl: error: ")


def test_explain_prints_the_rule_docs(lint):
    r = lint("--explain", "RSP201")
    assert r.code == 0
    lines = r.out.splitlines()
    assert lines[0] == "RSP201 (reasoning-without-following-item) [error]"
    for heading in ("What it does", "Why is this bad", "What the API says", "Example", "How to fix"):
        assert heading in lines
    assert lint("--explain", "duplicate-item-id").out.startswith("RSP208 (duplicate-item-id) [error]")
    bad = lint("--explain", "RSP999")
    assert bad.code == 2 and bad.err.startswith("respctl: error: no lint rule 'RSP999'")


def test_explain_says_when_a_fix_exists_and_whether_it_is_safe(lint):
    assert "Fix: Remove the blank line (safe; `--fix` applies it)." in lint("--explain", "RSP004").out
    assert "Sometimes available: only in the cases above." not in lint("--explain", "RSP004").out
    for code in ("RSP106", "RSP206", "RSP207", "RSP208"):
        assert "Sometimes available: only in the cases above." in lint("--explain", code).out, code
    assert "Fix: none automatic." in lint("--explain", "RSP114").out
    assert lint("--explain", "RSP114").out.splitlines()[-1].startswith("  the OpenAI API and Azure OpenAI only")
    assert {c for c, r in RULES.items() if r.fix_availability == "sometimes"} == {
        "RSP106",
        "RSP206",
        "RSP207",
        "RSP208",
    }


def test_duplicates_are_fixable_only_when_exact(lint, tmp_path):
    write(tmp_path, "same.jsonl", jsonl(USER, RS, FC, FCO, FCO))
    write(tmp_path, "other.jsonl", jsonl(USER, RS, FC, FCO, {**FCO, "output": "19C"}))
    found = {(Path(d["path"]).stem, d["code"]): d["fix"] for d in lint("*.jsonl", "--format", "json").json()}
    assert found == {
        ("same", "RSP206"): {"title": "Remove the duplicate line", "applicability": "safe"},
        ("other", "RSP206"): None,
    }
    text = lint("other.jsonl").out
    assert "RSP206 second output" in text and "[*]" not in text and "fixable with the --fix option" not in text


# --- encrypted content, reasoning with nothing to replay ------------------------------------------


def test_encrypted_content_envelope(lint, tmp_path):
    cases = {
        "whole": (ENC, None),
        "cut_odd": (ENC[:1001], "1001 characters, not a multiple of 4 (cut short?)"),
        "cut_at_4": (ENC[:1000], "it decodes to 750 bytes, not 57 + 16k (cut or edited)"),
        "ellipsis": (ENC[:-4] + "gA…=", "it holds non-ASCII characters (an ellipsis from a display?), not base64url"),
        "padding": (ENC[:-4] + "A=A=", 'it ends in "A=A=", not base64url'),
        "other_server": ("opaque-blob-of-another-server", None),  # not Fernet-looking: left alone
    }
    for name, (token, _) in cases.items():
        write(tmp_path, f"{name}.jsonl", jsonl(USER, {**RS, "encrypted_content": token}, MSG))
    r = lint("*.jsonl", "--format", "json")
    found = {Path(d["path"]).stem: d for d in r.json()}
    assert set(found) == {name for name, (_, problem) in cases.items() if problem}
    for name, (_, problem) in cases.items():
        if problem:
            d = found[name]
            assert (d["code"], d["line"], d["pointer"], d["fix"]) == ("RSP114", 2, "/encrypted_content", None)
            assert d["message"] == f"reasoning item rs_1: encrypted_content is not a whole Fernet token: {problem}"


def test_compaction_blob_is_checked_too(lint, tmp_path):
    write(tmp_path, "c.jsonl", jsonl({"id": "cmp_1", "type": "compaction", "encrypted_content": ENC[:-2]}, USER))
    assert [d["code"] for d in lint("c.jsonl", "--format", "json").json()] == ["RSP114"]


def test_empty_encrypted_content_and_nothing_to_replay(lint, tmp_path):
    bare = {k: v for k, v in RS.items() if k not in ("id", "encrypted_content")}
    write(tmp_path, "chat.jsonl", jsonl(USER, {**RS, "encrypted_content": ""}, MSG, USER, bare, {**MSG, "id": "msg_2"}))
    r = lint("chat.jsonl")
    column = dumps(RS).index(b'"encrypted_content"') + 1
    assert r.code == 1
    assert r.out.splitlines()[:2] == [
        f"chat.jsonl:2:{column}: RSP113 reasoning item rs_1: encrypted_content is empty",
        "chat.jsonl:5:1: RSP115 reasoning item has no id, no encrypted_content and no content: nothing to replay",
    ]
    # a reasoning item that carries its text (gpt-oss) or its blob needs neither id
    text = {**bare, "content": [{"type": "reasoning_text", "text": "The user greets me."}]}
    write(
        tmp_path, "ok.jsonl", jsonl(USER, text, MSG, USER, {**bare, "encrypted_content": ENC}, {**MSG, "id": "msg_2"})
    )
    assert lint("ok.jsonl").out == "All checks passed!\n"


def test_openai_only_rules_are_gated_by_target():
    from respctl.lint.check import check_items

    items = [USER, {**RS, "encrypted_content": ENC[:-1]}, MSG, USER, {**RS, "id": "rs_2", "encrypted_content": ""}]
    items.append({**MSG, "id": "msg_2"})
    lines = [dumps(i) for i in items]
    codes = {t: [d.code for d in check_items(lines, items, target=t)[0]] for t in ("openai", "compatible")}
    assert codes == {"openai": ["RSP114", "RSP113"], "compatible": ["RSP113"]}
    bare = {k: v for k, v in RS.items() if k not in ("id", "encrypted_content")}
    items = [USER, bare, MSG]
    lines = [dumps(i) for i in items]
    codes = {t: [d.code for d in check_items(lines, items, target=t)[0]] for t in ("openai", "compatible")}
    assert codes == {"openai": ["RSP115"], "compatible": []}  # OpenAI's answer; other servers may differ


def test_every_real_blob_and_every_loopback_blob_has_the_envelope(api):
    """respctl never refuses what the server produced: the 11 blobs of the real recordings (the shorter
    output_item.added copies included) and the loopback API's done / added / completed copies."""
    import re

    from fakeapi import ItemRegistry, reasoning, seal
    from fakeapi import _reasoning_versions as versions

    from respctl.lint.check import fernet_problem

    blobs = set()
    for path in (ROOT / "tests" / "fixtures" / "recordings").iterdir():
        blobs |= set(re.findall(r"gAAAAA[A-Za-z0-9_=-]+", path.read_text(encoding="utf-8")))
    assert len(blobs) == 11 and {len(b) for b in blobs} >= {844, 17060}
    assert [b[:12] for b in blobs if fernet_problem(b)] == []
    secret = ItemRegistry().secret
    for summary in ([], ["short"], ["x" * 5000]):
        made = versions(reasoning(summary), "rs_1", MODEL, secret, True)
        assert [fernet_problem(v["encrypted_content"]) for v in made] == [None, None, None]
    assert {fernet_problem(seal(secret, "rs_1", MODEL, n)) for n in range(60, 3000, 7)} == {None}


# --- the leniency table ---------------------------------------------------------------------------


def test_leniency_entries_name_required_fields_of_the_generated_table_and_their_evidence():
    from respctl import schema as table
    from respctl.lint import leniency

    assert len(leniency.LENIENT) >= 6
    for entry in leniency.LENIENT:
        required, _ = table.fields(entry.shape)[entry.field]  # KeyError: the SDK renamed it
        assert required, f"{entry.shape}.{entry.field} is optional in the SDK now: drop the entry"
        assert entry.evidence and all(e.startswith(("https://", "tests/")) for e in entry.evidence), entry
        for local in (e.split(" ")[0] for e in entry.evidence if e.startswith("tests/")):
            assert (ROOT / local).exists(), local
    assert {(e.shape, e.field) for e in leniency.LENIENT} >= {
        ("ResponseInputImageParam", "detail"),
        ("ResponseOutputMessageParam", "type"),
        ("ResponseReasoningItemParam", "id"),
        ("ResponseOutputTextParam", "annotations"),
        ("FunctionToolParam", "strict"),
    }


def test_what_the_api_accepts_beyond_the_sdk_types_passes(lint, tmp_path):
    image = {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="}
    write(
        tmp_path,
        "chat.jsonl",
        jsonl(
            {"role": "user", "content": [{"type": "input_text", "text": "What is this?"}, image]},
            {"role": "assistant", "content": [{"type": "output_text", "text": "A PNG."}]},
            {
                "role": "assistant",
                "id": "msg_9",
                "status": "completed",
                "content": [{"type": "output_text", "text": "x"}],
            },
            {k: v for k, v in RS.items() if k != "id"},
            MSG,
            {"type": "additional_tools", "role": "developer", "tools": [{"type": "function", "name": "now"}]},
        ),
    )
    r = lint("chat.jsonl")
    assert (r.code, r.out) == (0, "All checks passed!\n")
    # and the limits of that leniency still hold
    write(tmp_path, "bad.jsonl", jsonl({"role": "user", "content": [{**image, "detail": "medium"}]}))
    assert [d["code"] for d in lint("bad.jsonl", "--format", "json").json()] == ["RSP105"]


# --- --fix --------------------------------------------------------------------------------------


def test_fix_applies_safe_fixes_and_reports_each(lint, tmp_path):
    dump_like = {**RS, "status": None, "content": None}
    chat = write(
        tmp_path,
        "chat.jsonl",
        BOM
        + jsonl(USER, dump_like, {**MSG, "created_by": "u1"}, USER, RS, MSG).replace(b"\n", b"\r\n", 1)
        + jsonl(USER, RS),
    )
    r = lint("--fix", "chat.jsonl")
    assert r.code == 0, r.out
    assert r.out.splitlines() == [
        "chat.jsonl:1:1: RSP006 fixed: Remove the byte order mark (file starts with a UTF-8 byte order mark)",
        f"chat.jsonl:1:{len(dumps(USER)) + 1}: RSP005 fixed: Use LF line endings (line ends in CRLF)",
        f"chat.jsonl:2:{len(dumps(RS)) + 1}: RSP108 fixed: Remove the output-only field (reasoning item: field "
        "'status' is output-only: the API does not take it back)",
        f"chat.jsonl:2:{len(dumps(RS)) + 15}: RSP106 fixed: Remove the null field (reasoning item: field 'content' is "
        "null, which it does not take)",
        f"chat.jsonl:3:{len(dumps(MSG)) + 1}: RSP108 fixed: Remove the output-only field (message item: field "
        "'created_by' is output-only: the API does not take it back)",
        "chat.jsonl:8:1: RSP201 fixed: Remove the reasoning item (reasoning item rs_1 has no following item: it is "
        "the last item)",
        # the duplicates show once the first round has dropped the nulls and created_by
        "chat.jsonl:5:2: RSP208 fixed: Remove the duplicate line (duplicate item id rs_1 (first on line 2))",
        "chat.jsonl:6:2: RSP208 fixed: Remove the duplicate line (duplicate item id msg_1 (first on line 3))",
        "Fixed 8 problems.",
        "All checks passed!",
    ]
    assert chat.read_bytes() == jsonl(USER, RS, MSG, USER, USER)
    assert r.err == ""


def test_fix_strips_the_id_of_an_item_whose_reasoning_is_gone(lint, tmp_path):
    chat = write(tmp_path, "chat.jsonl", jsonl(USER, RS, MSG, USER, {**MSG, "id": "msg_2"}))
    r = lint("--fix", "chat.jsonl")
    assert r.code == 0
    assert "chat.jsonl:5:2: RSP202 fixed: Remove the id" in r.out
    assert read_items(chat)[-1] == {k: v for k, v in MSG.items() if k != "id"}


def test_fix_says_what_it_cannot_fix(lint, tmp_path):
    chat = write(tmp_path, "chat.jsonl", jsonl(USER, {**RS, "status": "completed"}, MSG, {**USER, "statuz": 1}))
    r = lint("--fix", "chat.jsonl")
    assert r.code == 1
    assert r.out.splitlines()[1:] == [
        f"chat.jsonl:4:{dumps({**USER, 'statuz': 1}).index(b'statuz')}: RSP103 message item: unknown field 'statuz' "
        "(did you mean 'status'?)",
        "Fixed 1 problem.",
        "Found 1 error.",
        "1 problem cannot be fixed automatically: 'respctl lint --explain CODE' says how to mend each.",
    ]
    assert read_items(chat) == [USER, RS, MSG, {**USER, "statuz": 1}]


def test_fix_leaves_a_file_with_unparseable_lines_untouched(lint, tmp_path):
    data = b"\xef\xbb\xbf" + jsonl(USER) + b'{"role":"user",\n'
    chat = write(tmp_path, "chat.jsonl", data)
    r = lint("--fix", "chat.jsonl")
    assert r.code == 1
    assert (
        r.out.splitlines()[0]
        == "chat.jsonl: not fixed: line 2 is not a JSON object; mend it by hand, then run --fix again"
    )
    assert chat.read_bytes() == data


def test_fix_normalizes_serialization_and_keeps_encrypted_content(lint, tmp_path):
    pretty = (
        b'{ "type": "message", "role": "user",\t"content": "caf\\u00e9" }\n'
        + orjson.dumps(RS, option=orjson.OPT_INDENT_2).replace(b"\n", b" ")
        + b"\n"
        + jsonl(MSG)
    )
    chat = write(tmp_path, "chat.jsonl", pretty)
    r = lint("--fix", "chat.jsonl")
    assert r.code == 0
    assert r.out.splitlines() == ["chat.jsonl: rewrote 2 lines in canonical form (compact JSON)", "All checks passed!"]
    assert chat.read_bytes() == jsonl({"type": "message", "role": "user", "content": "café"}, RS, MSG)


def test_fix_reports_normalized_lines_beside_fixes(lint, tmp_path):
    chat = write(
        tmp_path, "chat.jsonl", b'{"role": "user", "content": "hi"}\n' + jsonl({**RS, "status": "completed"}, MSG)
    )
    r = lint("--fix", "chat.jsonl")
    assert r.code == 0
    assert r.out.splitlines() == [
        f"chat.jsonl:2:{len(dumps(RS)) + 1}: RSP108 fixed: Remove the output-only field (reasoning item: field "
        "'status' is output-only: the API does not take it back)",
        "chat.jsonl: rewrote 1 line in canonical form (compact JSON)",
        "Fixed 1 problem.",
        "All checks passed!",
    ]
    assert chat.read_bytes() == jsonl({"role": "user", "content": "hi"}, RS, MSG)


def test_fix_does_not_rewrite_a_clean_file(lint, tmp_path):
    chat = write(tmp_path, "chat.jsonl", jsonl(USER, RS, MSG))
    before = os.stat(chat)
    r = lint("--fix", "chat.jsonl")
    assert (r.code, r.out) == (0, "All checks passed!\n")
    after = os.stat(chat)
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


# --- gate, schema table, imports ----------------------------------------------------------------


def _parsed(*items):
    lines = [dumps(i) for i in items]
    return lines, [orjson.loads(line) for line in lines]


def test_gate_reports_errors_only_and_not_pending_calls():
    lines, items = _parsed(USER, {**RS, "status": "completed"}, {**MSG, "phase": None}, USER, {**RS, "id": "rs_2"}, FC)
    assert gate("chat.jsonl", lines, items) == [
        f"chat.jsonl:2:{len(dumps(RS)) + 1}: RSP108 reasoning item: field 'status' is output-only: the API does not "
        "take it back",
    ]
    assert gate("chat.jsonl", *_parsed(USER, RS, MSG)) == []


def test_schema_table_and_generated_docs_match_the_installed_sdk(capsys):
    """The committed table holds the installed SDK's shapes (compared as data), and docs/rules.md and
    the leniency table of docs/lint.md are what `make schema` writes."""
    assert generate.main(["--check"]) == 0, capsys.readouterr()


def test_schema_check_finds_a_hand_edited_rules_page(capsys, monkeypatch, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for page in (generate.RULES_DOC, generate.LINT_DOC):
        (docs / page.name).write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(generate, "DOCS", docs)
    monkeypatch.setattr(generate, "RULES_DOC", docs / "rules.md")
    monkeypatch.setattr(generate, "LINT_DOC", docs / "lint.md")
    assert generate.main(["--check"]) == 0
    page = docs / "rules.md"
    page.write_text(page.read_text(encoding="utf-8").replace("## RSP201 ", "## RSP201 edited "), encoding="utf-8")
    capsys.readouterr()
    assert generate.main(["--check"]) == 1
    assert f"{page}: generated text is stale; run 'make schema'" in capsys.readouterr().err
    assert "## RSP201 reasoning-without-following-item\n" in generate.rules_page()


def test_schema_check_ignores_the_sdk_version_but_not_a_shape(capsys, monkeypatch):
    fresh = generate.build()
    # a new openai release whose shapes are unchanged: provenance differs, nothing fails
    monkeypatch.setattr(generate, "build", lambda: {**fresh, "version": "99.0.0"})
    assert generate.main(["--diff"]) == 0
    assert "openai 99.0.0 match the table" in capsys.readouterr().out
    # a release that changes one field of one shape, drops an output-only field and adds an item type
    shapes = {**fresh["shapes"], "ResponseReasoningItemParam": dict(fresh["shapes"]["ResponseReasoningItemParam"])}
    shapes["ResponseReasoningItemParam"]["id"] = (False, "str")
    output_only = {**fresh["output_only"], "custom_tool_call_output": ["created_by"]}
    items = {**fresh["items"], "new_item": ["NewItem"]}
    changed = {**fresh, "version": "99.0.0", "shapes": shapes, "output_only": output_only, "items": items}
    monkeypatch.setattr(generate, "build", lambda: changed)
    assert generate.main(["--diff"]) == 1
    out = capsys.readouterr()
    assert out.out.splitlines() == [
        f"shapes['ResponseReasoningItemParam'].id: {fresh['shapes']['ResponseReasoningItemParam']['id']!r} -> "
        "(False, 'str')",
        "items['new_item']: added: ['NewItem']",
        f"output_only['custom_tool_call_output']: {fresh['output_only']['custom_tool_call_output']!r} -> "
        "['created_by']",
    ]
    assert "differ from the table" in out.err and "in 3 place(s); run 'make schema'" in out.err


def test_lint_never_imports_openai(tmp_path):
    write(tmp_path, "chat.jsonl", jsonl(USER, RS, MSG))
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "respctl", "lint", "chat.jsonl"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if "|" in line}
    assert "respctl.lint" in imported and "respctl.schema" in imported
    assert not any(name == "openai" or name.startswith("openai.") for name in imported)


# --- say / tool-result refuse what lint rejects, before any request -------------------------------


def test_say_refuses_a_file_lint_rejects_and_sends_nothing(cli, api, tmp_path):
    chat = write(tmp_path, "chat.jsonl", jsonl(USER, {**RS, "status": "completed"}, MSG, {**USER, "statuz": 1}))
    before = chat.read_bytes()
    r = cli("say", "chat.jsonl", "hello", "-m", MODEL)
    assert r.code == 2
    assert r.err_lines == [
        f"respctl: error: chat.jsonl:2:{len(dumps(RS)) + 1}: RSP108 reasoning item: field 'status' is output-only: "
        "the API does not take it back (and 1 more); see 'respctl lint chat.jsonl' (a file for another server? "
        "--target compatible checks only what every server needs)"
    ]
    assert api.requests == []
    assert chat.read_bytes() == before


def test_tool_result_refuses_a_file_lint_rejects_and_sends_nothing(cli, api, tmp_path):
    chat = write(
        tmp_path, "chat.jsonl", jsonl(USER, RS, {**MSG, "content": [{"type": "input_text", "text": "x"}]}, USER, RS, FC)
    )
    before = chat.read_bytes()
    r = cli("tool-result", "chat.jsonl", "call_1", "18C", "-m", MODEL)
    assert r.code == 2
    assert r.err_lines[0].startswith("respctl: error: chat.jsonl:3:")
    assert "RSP109 assistant message: content part is 'input_text'" in r.err
    assert api.requests == []
    assert chat.read_bytes() == before


def test_say_runs_when_only_warnings_remain(cli, api, tmp_path):
    write(
        tmp_path, "chat.jsonl", jsonl(USER, {**MSG, "phase": None})
    )  # (no reasoning: the fake server verifies encrypted content)
    r = cli("say", "chat.jsonl", "hello", "-m", MODEL)
    assert r.code == 0, r.err
    assert len(api.accepted) == 1


def test_fix_waits_for_a_turn_holding_the_file_and_loses_nothing(tmp_path):
    """--fix takes the same lock as a turn: a turn that lands while it waits is kept."""
    import time

    from respctl.conversation import exclusive_lock, write_atomic

    chat = tmp_path / "chat.jsonl"
    chat.write_bytes(b'{"type":"message","role":"user","content":"hi","status":null}\n')
    turn = b'{"type":"message","role":"user","content":"a turn that landed meanwhile"}\n'
    with exclusive_lock(chat, lock_timeout=1):
        proc = subprocess.Popen(
            [sys.executable, "-m", "respctl", "lint", "--fix", str(chat)],
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(1.0)
        assert proc.poll() is None  # waiting for the lock
        write_atomic(chat, chat.read_bytes() + turn)  # the turn's write, under the lock
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert chat.read_bytes() == b'{"type":"message","role":"user","content":"hi"}\n' + turn


def test_shapes_built_on_first_use_do_not_leak_between_kinds(lint, tmp_path):
    """Shapes are compiled per item type when first met; a message shape is never taken for a type."""
    odd = {"type": "message (assistant)", "role": "assistant", "content": "x"}
    write(tmp_path, "chat.jsonl", jsonl(USER, {"role": "assistant", "content": "hi"}, odd))
    assert [(d["code"], d["line"]) for d in lint("chat.jsonl", "--format", "json").json()] == [("RSP101", 3)]


# --- the API's error texts and the rules that catch them --------------------------------------------


def _shape(text: str) -> str:
    """An error text with what varies in it (quoted values, `...`, `<id>`, f-string holes) as `*`."""
    import re

    text = " ".join(text.split())
    text = re.sub(r"\{[^}]*\}", "*", text)
    text = re.sub(r"'[^']*'", "'*'", text)
    text = re.sub(r"\S*\.\.\.\S*|<[a-z]+>", "*", text)
    return text.rstrip(".")


def _key(text: str) -> str:
    """The shape up to its first colon or sentence end: what names the error."""
    import re

    return re.split(r": |\. ", _shape(text), maxsplit=1)[0]


def _loopback_messages() -> list[str]:
    """Every string the loopback server's source holds, f-string holes as `{}`."""
    import ast

    tree = ast.parse((ROOT / "tests" / "fakeapi.py").read_text(encoding="utf-8"))
    texts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            texts.append("".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts.append(node.value)
    return [_shape(t) for t in texts]


def test_every_api_error_text_is_the_apis_and_names_rules_that_exist():
    from respctl.lint.rules import API_ERRORS

    reference = " ".join((ROOT / "tests" / "fixtures" / "reference" / "api-errors.md").read_text().split())
    loopback = _loopback_messages()
    for error in API_ERRORS:
        assert error.text in reference or any(_shape(error.text) in m for m in loopback), error.text
        assert all(code in RULES for code in error.rules), error
        assert error.rules or error.otherwise, f"{error.text}: no rule catches it, and no word on why"
    # each rule's example of what the API says is one of the table's errors, listed with that rule
    for rule in RULES.values():
        if rule.api:
            assert any(rule.code in error.rules and _key(error.text) in _shape(rule.api) for error in API_ERRORS), (
                f"{rule.code}: its API text {rule.api!r} is not in API_ERRORS with it"
            )
