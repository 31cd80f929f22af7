"""Regenerate the lint corpus: real-shaped conversations and their damaged copies.

    .venv/bin/python tests/lint_corpus/make_corpus.py

The good conversations are made by the real respctl CLI talking to the loopback API
(tests/fakeapi.py), so their items are exactly what respctl stores: reasoning with
encrypted content sealed to its id and model, assistant messages with phase, calls and
outputs. Each damaged copy applies one thing people do to these files (drop a line, edit an
id, `head -n`, `cat` two forks, a CRLF checkout...). `registry.json` records every item id
the server issued (what the server remembers: which reasoning item each item followed), so
that the agreement test can replay the corpus against a fresh server that judges E3 as the
real API does. The files are committed; rerun this only to change the corpus, then review
the diff and tests/test_lint_agreement.py's table of cases.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from fakeapi import (  # noqa: E402
    FakeResponsesAPI,
    ItemRegistry,
    Turn,
    custom_tool_call,
    function_call,
    message,
    reasoning,
)

MODEL = "gpt-5-mini"  # encrypted content is sealed to it: the agreement test sends with the same model


class RecordingRegistry(ItemRegistry):
    """The server's registry, also kept in a dict that can be written out."""

    def __init__(self):
        super().__init__()
        self.issued: dict = {}

    def register(self, item_id, issued):
        super().register(item_id, issued)
        self.issued[item_id] = issued


def dumps(item: dict) -> bytes:
    return orjson.dumps(item)


def read(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def write_items(path: Path, items: list[dict]) -> None:
    path.write_bytes(b"".join(dumps(i) + b"\n" for i in items))


class Maker:
    def __init__(self, api: FakeResponsesAPI, out: Path, work: Path):
        self.api, self.out, self.work = api, out, work
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RESPCTL_"))}
        self.env.update(OPENAI_BASE_URL=api.base_url, OPENAI_API_KEY="sk-corpus", RESPCTL_MODEL=MODEL)

    def cli(self, *args, ok=(0, 3, 4)) -> dict:
        proc = subprocess.run(
            [sys.executable, "-m", "respctl", *map(str, args), "--json", "--no-stream"],
            env=self.env,
            capture_output=True,
            cwd=self.work,
        )
        if proc.returncode not in ok:
            raise SystemExit(f"respctl {' '.join(map(str, args))}: exit {proc.returncode}: {proc.stderr.decode()}")
        return orjson.loads(proc.stdout) if proc.stdout.strip() else {}

    def conversation(self, name: str, steps) -> Path:
        """steps: ("start"|"say", text, [turns]) or ("tool", None, [turns]) answering every pending call."""
        path = self.work / f"{name}.jsonl"
        path.unlink(missing_ok=True)
        for kind, text, turns in steps:
            self.api.script(*turns)
            if kind == "start":
                result = self.cli("start", path, "--instructions", "You are a terse assistant.", text)
            elif kind == "say":
                result = self.cli("say", path, text)
            else:
                calls = result["tool_calls"]
                for n, call in enumerate(calls):
                    last = n == len(calls) - 1
                    answer = f'{{"result": "{call["name"]} done", "n": {n}}}'
                    result = self.cli("tool-result", path, call["call_id"], answer, *(() if last else ("--no-send",)))
        return path

    def keep(self, name: str, src: Path | list[dict] | bytes) -> None:
        target = self.out / f"{name}.jsonl"
        if isinstance(src, Path):
            shutil.copyfile(src, target)
        elif isinstance(src, bytes):
            target.write_bytes(src)
        else:
            write_items(target, src)


def index_of(items, pred, nth=0) -> int:
    found = [i for i, item in enumerate(items) if pred(item)]
    return found[nth]


def is_type(kind):
    return lambda item: item.get("type") == kind


def is_assistant(item):
    return item.get("type") == "message" and item.get("role") == "assistant"


def main() -> None:
    out = HERE
    for old in out.glob("*.jsonl"):
        old.unlink()
    work = Path(os.environ.get("TMPDIR", "/tmp")) / "respctl-corpus-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    registry = RecordingRegistry()
    with FakeResponsesAPI(registry=registry) as api:
        m = Maker(api, out, work)
        think = reasoning(["**Thinking it over**\n\nA short answer will do."])

        # --- good conversations, as respctl writes them -----------------------------------
        chat = m.conversation(
            "chat",
            [
                (
                    "start",
                    "Plan a day in Rome",
                    [Turn([think, message("Colosseum, then Trastevere.", phase="final_answer")])],
                ),
                (
                    "say",
                    "Make it cheaper",
                    [Turn([reasoning(), message("Walk instead of taxis.", phase="final_answer")])],
                ),
                ("say", "Any museum?", [Turn([think, message("The Vatican Museums.", phase="final_answer")])]),
            ],
        )
        m.keep("good_chat", chat)

        tools = m.conversation(
            "tools",
            [
                (
                    "start",
                    "Weather in Paris and in Oslo?",
                    [
                        Turn(
                            [
                                think,
                                message("Checking both.", phase="commentary"),
                                function_call("get_weather", {"city": "Paris"}),
                                function_call("get_weather", {"city": "Oslo"}),
                            ]
                        )
                    ],
                ),
                ("tool", None, [Turn([message("Paris 18C, Oslo 9C.", phase="final_answer")])]),
                ("say", "And in Rome?", [Turn([reasoning(), function_call("get_weather", {"city": "Rome"})])]),
                ("tool", None, [Turn([think, message("Rome 24C.", phase="final_answer")])]),
            ],
        )
        m.keep("good_tool_calls", tools)

        custom = m.conversation(
            "custom",
            [
                (
                    "start",
                    "Fix the typo in README",
                    [Turn([think, custom_tool_call("apply_patch", "*** Begin Patch\n*** End Patch")])],
                ),
                ("tool", None, [Turn([reasoning(), message("Patched.", phase="final_answer")])]),
            ],
        )
        m.keep("good_custom_tool", custom)

        oss = m.conversation(
            "oss",
            [
                (
                    "start",
                    "Hello",
                    [Turn([reasoning(encrypted=False, content=["The user greets me."]), message("Hi!")])],
                ),
                ("say", "Bye", [Turn([reasoning(encrypted=False, content=["Farewell."]), message("Bye!")])]),
            ],
        )
        m.keep("good_gpt_oss_reasoning_text", oss)

        plain = m.conversation(
            "plain",
            [
                ("start", "Hi", [Turn([message("Hello.")])]),
                ("say", "2+2?", [Turn([message("4.")])]),
            ],
        )
        m.keep("good_no_reasoning", plain)

        long = m.conversation(
            "long",
            [("start", "Count with me: 1", [Turn([think, message("2", phase="final_answer")])])]
            + [
                (
                    "say",
                    str(n),
                    [Turn([reasoning(["**Counting**\n\nNext number."]), message(str(n + 1), phase="final_answer")])],
                )
                for n in range(3, 20, 2)
            ],
        )
        m.keep("good_long", long)

        incomplete = m.conversation(
            "incomplete",
            [
                ("start", "Write an essay", [Turn([think, message("Rome was not built")], status="incomplete")]),
                ("say", "Shorter please", [Turn([think, message("Rome: old, grand.", phase="final_answer")])]),
            ],
        )
        m.keep("good_after_incomplete_turn", incomplete)

        pending = m.conversation(
            "pending",
            [
                (
                    "start",
                    "Weather in Paris and in Oslo?",
                    [
                        Turn(
                            [
                                think,
                                function_call("get_weather", {"city": "Paris"}),
                                function_call("get_weather", {"city": "Oslo"}),
                            ]
                        )
                    ],
                ),
            ],
        )
        m.keep("pending_two_calls", pending)
        items = read(pending)
        call = items[index_of(items, is_type("function_call"))]
        m.keep(
            "pending_one_of_two_answered",
            items + [{"type": "function_call_output", "call_id": call["call_id"], "output": "18C"}],
        )

        # hand-written items only (what a person or a script appends)
        m.keep(
            "good_hand_written",
            [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello."},
                {
                    "type": "message",
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "What is this?"},
                        {"type": "input_image", "detail": "auto", "image_url": "data:image/png;base64,iVBORw0KGgo="},
                    ],
                },
                {"role": "assistant", "content": [{"type": "output_text", "text": "A tiny PNG."}]},
            ],
        )

        # where the API is more lenient than the SDK's types (respctl/lint/leniency.py)
        m.keep(
            "good_input_image_without_detail",
            [
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "What is this?"},
                        {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="},
                    ],
                },
            ],
        )
        m.keep(
            "good_assistant_message_without_type",
            [{k: v for k, v in i.items() if not (is_assistant(i) and k == "type")} for i in read(chat)],
        )
        m.keep(
            "good_output_text_without_annotations_or_logprobs",
            [
                {**i, "content": [{"type": "output_text", "text": p["text"]} for p in i["content"]]}
                if is_assistant(i)
                else i
                for i in read(chat)
            ],
        )
        m.keep(
            "good_function_tool_without_strict",
            read(plain)
            + [
                {
                    "type": "additional_tools",
                    "role": "developer",
                    "tools": [{"type": "function", "name": "get_time", "description": "The time now."}],
                }
            ],
        )

        # --- edits that keep a conversation replayable ------------------------------------
        items = read(chat)
        second_user = index_of(items, lambda i: i.get("role") == "user", 1)
        m.keep("good_rewound_with_head", items[:second_user])
        forked = work / "fork.jsonl"
        shutil.copyfile(chat, forked)
        api.script(Turn([think, message("Try the Borghese Gallery.", phase="final_answer")]))
        m.cli("say", forked, "Another museum?")
        m.keep("good_forked_and_continued", forked)

        items = read(chat)
        rs = index_of(items, is_type("reasoning"))
        m.keep(
            "good_reasoning_without_id",
            items[:rs] + [{k: v for k, v in items[rs].items() if k != "id"}] + items[rs + 1 :],
        )
        msg = rs + 1
        m.keep(
            "good_reasoning_dropped_and_id_stripped",
            items[:rs] + [{k: v for k, v in items[msg].items() if k != "id"}] + items[msg + 1 :],
        )
        m.keep("good_turn_output_removed", items[:rs] + items[msg + 1 :])

        # warnings only: the API accepts these
        items = read(chat)
        msg = index_of(items, is_assistant)
        m.keep("warn_needless_null_phase", items[:msg] + [{**items[msg], "phase": None}] + items[msg + 1 :])
        m.keep("warn_missing_final_newline", chat.read_bytes()[:-1])
        m.keep("warn_empty_file", b"")
        m.keep(
            "warn_file_id_reference",
            read(chat)
            + [{"type": "message", "role": "user", "content": [{"type": "input_file", "file_id": "file-abc123"}]}],
        )
        m.keep("warn_compaction_trigger_not_last", [read(chat)[0], {"type": "compaction_trigger"}] + read(chat)[1:])
        items = read(tools)
        fc = index_of(items, is_type("function_call"))
        m.keep("warn_arguments_not_json", items[:fc] + [{**items[fc], "arguments": '{"city": "Par'}] + items[fc + 1 :])
        m.keep(
            "warn_control_character_in_name",
            items[:fc] + [{**items[fc], "name": "get_\u0000weather"}] + items[fc + 1 :],
        )

        # --- damage: each rule ----------------------------------------------------------------
        items = read(chat)
        rs = index_of(items, is_type("reasoning"), 1)
        m.keep("e2_head_cut_after_reasoning", items[: rs + 1])
        m.keep("e2_reasoning_then_user", items[: rs + 1] + items[rs + 2 :])
        first_rs = index_of(items, is_type("reasoning"))
        m.keep(
            "e2_two_reasoning_in_a_row",
            items[:first_rs] + [items[first_rs], items[rs]] + items[first_rs + 1 : rs] + items[rs + 1 :],
        )
        m.keep("e3_reasoning_dropped_after_user", items[:rs] + items[rs + 1 :])
        tools_items = read(tools)
        last_rs = index_of(tools_items, is_type("reasoning"), -1)
        m.keep("e3_reasoning_dropped_after_tool_output", tools_items[:last_rs] + tools_items[last_rs + 1 :])
        m.keep(
            "e4_encrypted_content_removed",
            items[:rs] + [{k: v for k, v in items[rs].items() if k != "encrypted_content"}] + items[rs + 1 :],
        )
        m.keep("e4_encrypted_content_null", items[:rs] + [{**items[rs], "encrypted_content": None}] + items[rs + 1 :])
        token = items[rs]["encrypted_content"]
        # cut at a 16-byte block: still a whole Fernet envelope (57 + 16k bytes), like output_item.added's copy
        raw = base64.urlsafe_b64decode(token)
        cut = base64.urlsafe_b64encode(raw[: 57 + 16 * ((len(raw) - 57) // 32)]).decode()
        m.keep(
            "e8_encrypted_content_truncated", items[:rs] + [{**items[rs], "encrypted_content": cut}] + items[rs + 1 :]
        )
        half = len(token) // 2 | 1  # an odd length: not base64
        m.keep(
            "e8_encrypted_content_cut_mid_token",
            items[:rs] + [{**items[rs], "encrypted_content": token[:half]}] + items[rs + 1 :],
        )
        m.keep("e8_encrypted_content_empty", items[:rs] + [{**items[rs], "encrypted_content": ""}] + items[rs + 1 :])
        m.keep(
            "e4_reasoning_nothing_to_replay",
            items[:rs]
            + [{k: v for k, v in items[rs].items() if k not in ("id", "encrypted_content")}]
            + items[rs + 1 :],
        )
        other = items[first_rs]["encrypted_content"]
        swapped = list(items)
        swapped[first_rs] = {**items[first_rs], "encrypted_content": token}
        swapped[rs] = {**items[rs], "encrypted_content": other}
        m.keep("e8_encrypted_content_swapped", swapped)
        m.keep(
            "e8_encrypted_content_edited",
            items[:rs]
            + [{**items[rs], "encrypted_content": token[:40] + ("A" if token[40] != "A" else "B") + token[41:]}]
            + items[rs + 1 :],
        )

        t = read(tools)
        fco = index_of(t, is_type("function_call_output"))
        m.keep("e5_output_dropped", t[:fco] + t[fco + 1 :])
        call_index = index_of(t, is_type("function_call"))
        m.keep(
            "e6_output_moved_before_call",
            t[:call_index] + [t[fco]] + [x for j, x in enumerate(t[call_index:], call_index) if j != fco],
        )
        m.keep("e6_output_duplicated", t[: fco + 1] + [t[fco]] + t[fco + 1 :])
        m.keep("e6_output_call_id_edited", t[:fco] + [{**t[fco], "call_id": "call_edited0000"}] + t[fco + 1 :])
        m.keep(
            "e5_call_then_user_message",
            read(pending)
            + [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "never mind"}]}],
        )
        m.keep("e7_call_line_duplicated", t[: call_index + 1] + [t[call_index]] + t[call_index + 1 :])

        items = read(chat)
        msg = index_of(items, is_assistant)
        m.keep("e7_message_line_duplicated", items + [items[msg]])
        m.keep("e7_forks_concatenated", items + read(forked))
        m.keep(
            "e10_message_id_prefix_edited",
            items[:msg] + [{**items[msg], "id": "fc_" + items[msg]["id"][4:]}] + items[msg + 1 :],
        )
        m.keep(
            "e10_call_id_prefix_edited",
            t[:call_index] + [{**t[call_index], "id": "ctco_" + t[call_index]["id"][3:]}] + t[call_index + 1 :],
        )
        m.keep(
            "e11_assistant_input_text",
            items[:msg]
            + [{**items[msg], "content": [{"type": "input_text", "text": "Colosseum."}]}]
            + items[msg + 1 :],
        )
        m.keep(
            "e12_arguments_missing",
            t[:call_index] + [{k: v for k, v in t[call_index].items() if k != "arguments"}] + t[call_index + 1 :],
        )
        rs = index_of(items, is_type("reasoning"))
        m.keep(
            "e12_summary_missing",
            items[:rs] + [{k: v for k, v in items[rs].items() if k != "summary"}] + items[rs + 1 :],
        )
        m.keep("e1_status_on_reasoning", items[:rs] + [{**items[rs], "status": "completed"}] + items[rs + 1 :])
        m.keep("e1_created_by", t[:fco] + [{**t[fco], "created_by": "user_123"}] + t[fco + 1 :])
        m.keep(
            "e1_field_typo",
            items[:msg] + [{("statuz" if k == "status" else k): v for k, v in items[msg].items()}] + items[msg + 1 :],
        )
        m.keep("e1_model_dump_nulls", items[:rs] + [{**items[rs], "status": None, "content": None}] + items[rs + 1 :])
        m.keep(
            "null_in_non_nullable_field", t[:call_index] + [{**t[call_index], "namespace": None}] + t[call_index + 1 :]
        )
        part = items[msg]["content"][0]
        m.keep(
            "null_logprobs", items[:msg] + [{**items[msg], "content": [{**part, "logprobs": None}]}] + items[msg + 1 :]
        )
        m.keep("item_reference", items + [{"type": "item_reference", "id": items[msg]["id"].replace("msg_", "msg_0")}])
        m.keep("unknown_item_type", items[:rs] + [{**items[rs], "type": "reasonning"}] + items[rs + 1 :])
        m.keep(
            "wrong_type_arguments_object",
            t[:call_index] + [{**t[call_index], "arguments": {"city": "Paris"}}] + t[call_index + 1 :],
        )
        m.keep("invalid_role", [{"role": "bot", "content": "hi"}] + items[1:])

        # --- file-level damage ------------------------------------------------------------------
        raw = chat.read_bytes()
        lines = raw.split(b"\n")
        m.keep("file_blank_line", b"\n".join(lines[:2] + [b""] + lines[2:]))
        m.keep("file_bom", b"\xef\xbb\xbf" + raw)
        m.keep("file_crlf", raw.replace(b"\n", b"\r\n"))
        m.keep("file_head_c_cut_mid_line", raw[: len(lines[0]) + 1 + len(lines[1]) + 1 + 200])
        m.keep("file_pasted_input_array", b"[" + b",".join(lines[:2]) + b"]\n" + b"\n".join(lines[2:]))
        m.keep("file_invalid_utf8", raw.replace(b"Plan a day", b"Plan a d\xe9y"))
        m.keep(
            "file_merge_conflict",
            b"\n".join(lines[:3] + [b"<<<<<<< HEAD"] + lines[3:5] + [b"=======", b">>>>>>> fork"] + lines[5:]),
        )

    issued = {
        item_id: {"type": i.type, "response_id": i.response_id, "index": i.index, "reasoning_id": i.reasoning_id}
        for item_id, i in sorted(registry.issued.items())
    }
    (out / "registry.json").write_text(json.dumps({"model": MODEL, "issued": issued}, indent=1) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {len(list(out.glob('*.jsonl')))} conversations and registry.json to {out}")


if __name__ == "__main__":
    main()
