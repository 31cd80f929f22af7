"""Every lint rule in one table: code, name, severity, message shape, fix title and docs.

Codes are stable and never reused. RSP0xx: the file itself (bytes, lines, JSON).
RSP1xx: one item's shape (from the SDK's generated table) and what the API refuses in it.
RSP2xx: the conversation as a whole (pairing, order, duplicates): what replay needs.
RSP3xx: references to state kept on the server, which a stateless replay cannot rely on.

Severity: an *error* is something the API rejects (or respctl refuses to send); a turn is
refused before any request. A *warning* is suspicious or wasteful but replays, or is a
heuristic that a file alone cannot prove; it does not stop a turn.

Fixes, as ruff says them: whether `--fix` can mend a problem (`fix_when`: "always", or
"sometimes" when only some cases are mendable, e.g. exact duplicate lines) and whether the fix is
safe (`fix_safety`: "safe" keeps what the model is told, or drops only what the API refuses
anyway; `--fix` applies safe fixes only).

Which server each rule holds for (`--target openai|compatible`) is said in one place: respctl/target.py.
"""

from __future__ import annotations

from typing import NamedTuple

ERROR = "error"
WARNING = "warning"
ALWAYS, SOMETIMES = "always", "sometimes"
SAFE, UNSAFE = "safe", "unsafe"


class Rule:
    """One rule. A plain class (not a dataclass): creating a dataclass costs lint's start-up half a millisecond."""

    __slots__ = (
        "code",
        "name",
        "severity",
        "summary",
        "fix",
        "what",
        "why",
        "example",
        "mend",
        "api",
        "fix_when",
        "fix_safety",
    )

    def __init__(
        self,
        code: str,
        name: str,
        severity: str,
        summary: str,  # one line: what is wrong
        fix: str | None,  # the fix title when --fix can mend it (always or sometimes), else None
        *,
        what: str,
        why: str,
        example: str,
        mend: str,  # how to fix it (by --fix or by hand)
        api: str = "",  # the API error it prevents, when there is one
        fix_when: str = ALWAYS,  # with a fix: ALWAYS, or SOMETIMES (only some cases can be mended)
        fix_safety: str = SAFE,  # with a fix: SAFE (applied by --fix) or UNSAFE
    ):
        self.code, self.name, self.severity, self.summary, self.fix = code, name, severity, summary, fix
        self.what, self.why, self.example, self.mend, self.api = what, why, example, mend, api
        self.fix_when, self.fix_safety = fix_when, fix_safety

    def __repr__(self) -> str:
        return f"Rule({self.code!r}, {self.name!r})"

    @property
    def fix_availability(self) -> str:
        """ "always", "sometimes" or "never", as ruff says it."""
        return self.fix_when if self.fix else "never"


_RULES = [
    # --- RSP0xx: the file ---------------------------------------------------------------------
    Rule(
        "RSP001",
        "invalid-json",
        ERROR,
        "a line is not valid JSON",
        None,
        what="A line that does not parse as JSON, with the column where parsing stopped.",
        why="The request's `input` is the file's lines joined with commas; one bad line makes the whole body "
        "unparseable.",
        example='{"type":"message","role":"user","content":"hi"',
        mend="Edit the line by hand (often a merge conflict marker or a line cut short by `head -c`).",
        api="We could not parse the JSON body of your request.",
    ),
    Rule(
        "RSP002",
        "invalid-utf8",
        ERROR,
        "a line is not valid UTF-8",
        None,
        what="Bytes that are not UTF-8, with the column of the first bad byte.",
        why="JSON text must be UTF-8; the API refuses the body and respctl cannot read the file.",
        example='a line saved as Latin-1: {"content":"caf\\xe9"}',
        mend="Re-encode the file as UTF-8 (`iconv -f latin1 -t utf-8`).",
    ),
    Rule(
        "RSP003",
        "not-an-object",
        ERROR,
        "a line is JSON but not an object",
        None,
        what="A line holding an array, string, number, boolean or null instead of one input item.",
        why="Each line is one input item, and items are JSON objects. A pasted `input` array (`jq -s .` output) lands "
        "here.",
        example='[{"role":"user","content":"hi"}]',
        mend="Write one item per line: `jq -c '.[]' pasted.json >> chat.jsonl`.",
    ),
    Rule(
        "RSP004",
        "blank-line",
        ERROR,
        "a blank line",
        "Remove the blank line",
        what="An empty line, or one holding only spaces.",
        why="respctl joins the lines with commas to build `input`; a blank line would become `,,`. respctl refuses "
        "such a file.",
        example='{"role":"user","content":"hi"}\n\n{"role":"user","content":"again"}',
        mend="`--fix` removes it.",
    ),
    Rule(
        "RSP005",
        "crlf-line-ending",
        ERROR,
        "a line ends in CRLF",
        "Use LF line endings",
        what="A line ending in `\\r\\n` (an editor or a git checkout on Windows).",
        why="The file format is LF-terminated JSON Lines so that appends and diffs stay one line per item; respctl "
        "refuses CRLF.",
        example='{"role":"user","content":"hi"}\\r\\n',
        mend="`--fix` rewrites the file with LF endings (or set `* text eol=lf` in .gitattributes).",
    ),
    Rule(
        "RSP006",
        "byte-order-mark",
        ERROR,
        "the file starts with a byte order mark",
        "Remove the byte order mark",
        what="The UTF-8 byte order mark (EF BB BF) at the start of the file.",
        why="It is not JSON whitespace: the first item would not parse in the request body.",
        example='\\ufeff{"role":"user","content":"hi"}',
        mend="`--fix` removes it.",
    ),
    Rule(
        "RSP007",
        "missing-final-newline",
        WARNING,
        "the last line has no newline",
        "Add the final newline",
        what="The file does not end in `\\n`.",
        why="Each line ends in a newline, so `cat a.jsonl b.jsonl` and appends never glue two items together.",
        example='printf \'{"role":"user","content":"hi"}\' > chat.jsonl',
        mend="`--fix` adds it.",
    ),
    Rule(
        "RSP008",
        "empty-file",
        WARNING,
        "the file holds no items",
        None,
        what="A file of zero items.",
        why="Nothing to replay: the history is gone, and a turn would start the conversation over. Often a `head -n "
        "0`, or a `>` meant to be `>>`.",
        example="(an empty file)",
        mend="Start the conversation with `respctl start FILE`, or restore the file.",
    ),
    Rule(
        "RSP009",
        "duplicate-key",
        WARNING,
        "an object has the same key twice",
        None,
        what='A JSON object in which one key appears twice (`"role":"user","role":"assistant"`).',
        why="JSON parsers disagree on which value wins (most keep the last, silently), so the file may not say "
        "what its author meant. respctl sends the line as it is; `--fix` does not rewrite a file holding one, "
        "since rewriting would keep one value and drop the other.",
        example='{"type":"message","role":"user","role":"assistant","content":"hi"}',
        mend="Remove the key that is wrong, by hand.",
    ),
    Rule(
        "RSP010",
        "inexact-integer",
        WARNING,
        "an integer beyond 64 bits",
        None,
        what="An integer below -2^63 or from 2^64 up.",
        why="Most JSON libraries, respctl's included, read it as a float and would write it back rounded. respctl "
        "sends the line as it is; `--fix` does not rewrite a file holding one.",
        example='{"type":"function_call","call_id":"c1","name":"f","arguments":"{}","n":18446744073709551616}',
        mend="Write the number as a string, or fix the file by hand.",
    ),
    # --- RSP1xx: one item's shape -------------------------------------------------------------
    Rule(
        "RSP101",
        "unknown-item-type",
        ERROR,
        "an item of an unknown type, or with no type",
        None,
        what="An item whose `type` is not one of the input item types, or that has no `type` and is not a message "
        "(`role` + `content`).",
        why="The API validates every item against its input item types.",
        example='{"type":"reasonning","id":"rs_1","summary":[]}',
        mend="Correct the type (the message suggests the closest one).",
        api="Invalid value: 'reasonning'. Supported values are: ...",
    ),
    Rule(
        "RSP102",
        "missing-field",
        ERROR,
        "a required field is missing",
        None,
        what="A field the item type requires (per the openai SDK's input types) is absent, at any depth.",
        why="The API answers with a 400 before the model runs.",
        example='{"type":"function_call","call_id":"call_1","name":"f"}   (no arguments)',
        mend="Restore the field from where the item came from; an item the API produced is stored whole.",
        api="Missing required parameter: 'input[1].arguments'.",
    ),
    Rule(
        "RSP103",
        "unknown-field",
        ERROR,
        "a field the item type does not take",
        None,
        what="A field that no input shape of that item type has (typos included: 'statuz').",
        why="The API rejects unknown parameters, even when their value is null.",
        example='{"type":"message","role":"user","content":"hi","statuz":"completed"}',
        mend="Remove or rename the field (the message suggests the closest known one).",
        api="Unknown parameter: 'input[1].statuz'.",
    ),
    Rule(
        "RSP104",
        "wrong-type",
        ERROR,
        "a field holds the wrong JSON type",
        None,
        what="A value whose JSON type does not match the SDK's input types (a number for a string, an object for a "
        "list...).",
        why="The API checks types before anything else.",
        example='{"type":"function_call","call_id":"call_1","name":"f","arguments":{"x":1}}',
        mend="Write the value in the expected type (function call `arguments` is a JSON *string*).",
        api="Invalid type for 'input[1].arguments': expected a string, but got an object instead.",
    ),
    Rule(
        "RSP105",
        "invalid-value",
        ERROR,
        "a field holds a value outside its allowed set",
        None,
        what="A value outside the `Literal` values the SDK lists for that field (a role, a status, a part type).",
        why="The API accepts only those values.",
        example='{"type":"message","role":"bot","content":"hi"}',
        mend="Use one of the values the message lists.",
        api="Invalid value: 'bot'. Supported values are: 'assistant', 'system', 'developer', and 'user'.",
    ),
    Rule(
        "RSP106",
        "null-value",
        ERROR,
        "null in a field that does not take null",
        "Remove the null field",
        what="`null` where the input type takes no null. Often left by the SDK's `model_dump()`.",
        why="The API refuses null there; leaving an optional field out is the way to say 'none'.",
        example='{"type":"function_call","id":null,"call_id":"call_1","name":"f","arguments":"{}"}',
        mend="`--fix` removes an optional field holding null; a required one must be restored by hand.",
        api="Invalid type for 'input[1].id': expected a string, but got null instead.",
        fix_when=SOMETIMES,
    ),
    Rule(
        "RSP107",
        "needless-null",
        WARNING,
        "null in an optional field",
        "Remove the null field",
        what="`null` in an optional field that does accept null.",
        why="It replays, but it is what `model_dump()` leaves behind and it makes diffs noisy; the API never sends it "
        "this way.",
        example='{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":null,"content":[{"type":"reasoning_text","text":"..."}]}',
        mend="`--fix` removes it.",
    ),
    Rule(
        "RSP108",
        "output-only-field",
        ERROR,
        "a field the API sends but does not take back",
        "Remove the output-only field",
        what="A field that appears in API output but not in input: `status` on reasoning, `custom_tool_call`, "
        "`mcp_call` and `shell_call_output` items, "
        "`created_by`, SDK-only fields (`parsed`, `parsed_arguments`), and every field the SDK's output models have "
        "and its input types lack.",
        why="Storing output items as they arrive is right, but these fields must be dropped: the API rejects `status` "
        "on a reasoning item even as 'completed'.",
        example='{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"gAAAA...","status":"completed"}',
        mend="`--fix` removes the field.",
        api="Unknown parameter: 'input[1].status'.",
    ),
    Rule(
        "RSP109",
        "assistant-input-text",
        ERROR,
        "an assistant message with an input_text part",
        None,
        what="An assistant message whose content has an `input_text` part.",
        why="Assistant content is `output_text` or `refusal` parts (or a plain string).",
        example='{"role":"assistant","content":[{"type":"input_text","text":"Hello"}]}',
        mend="Write the content as a string, or use `output_text` parts.",
        api="Invalid value: 'input_text'. Supported values are: 'output_text' and 'refusal'.",
    ),
    Rule(
        "RSP110",
        "invalid-arguments-json",
        WARNING,
        "function call arguments that are not valid JSON",
        None,
        what="A `function_call` whose `arguments` string does not parse as JSON (often a call cut off while "
        "streaming, or a hand edit).",
        why="The API takes the string as it is, but the model is shown a call it could never have made, and tools "
        "replaying it fail.",
        example='{"type":"function_call","call_id":"call_1","name":"f","arguments":"{\\"city\\": \\"Par"}',
        mend="Restore the full arguments, or remove the call together with its output.",
    ),
    Rule(
        "RSP111",
        "control-character-in-name",
        WARNING,
        "a name with NUL or control characters",
        None,
        what="A NUL or other control character in a call's `name` (or `namespace`).",
        why="Tool names are plain identifiers: such a name matches no tool, so its output can never be produced by a "
        "real tool; usually a corrupted line.",
        example='{"type":"function_call","call_id":"call_1","name":"get_\\u0000weather","arguments":"{}"}',
        mend="Correct the name by hand.",
    ),
    Rule(
        "RSP112",
        "id-prefix-mismatch",
        ERROR,
        "an id whose prefix does not match the item type",
        None,
        what="An item id that does not begin with the prefix the API uses for that item type "
        "(msg_, rs_, fc_, fco_, ctc_, ctco_, ws_, ig_, lsh_, cmp_, tsc_, tso_).",
        why="The API checks ids against the item type: an id copied onto another item, or an invented one, is refused.",
        example='{"type":"function_call","id":"ctco_123","call_id":"call_1","name":"f","arguments":"{}"}',
        mend="Use the id the API gave that item, or remove the id (never invent one).",
        api="Invalid 'input[8].id': 'ctco_...'. Expected an ID that begins with 'fc'.",
    ),
    Rule(
        "RSP113",
        "empty-encrypted-content",
        ERROR,
        "encrypted_content that is the empty string",
        None,
        what='A reasoning or compaction item whose `encrypted_content` is `""`.',
        why="An empty blob decrypts to nothing: every server refuses it (an item without reasoning to replay "
        "leaves the field out, or has no reasoning item at all).",
        example='{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":""}',
        mend="Restore the blob from where the item came from, or remove the reasoning item and the id of the item "
        "that follows it (the model loses that reasoning).",
        api="The encrypted content for item rs_... could not be verified. Reason: Encrypted content could not be "
        "decrypted or parsed.",
    ),
    Rule(
        "RSP114",
        "malformed-encrypted-content",
        ERROR,
        "encrypted_content that is not a whole Fernet token",
        None,
        what="An `encrypted_content` blob that starts like OpenAI's (`gAAAAA`, a Fernet token) but is not one: a "
        "length that is not a multiple of 4, non-ASCII characters, stray padding, or a decoded length that is not "
        "57 + 16k bytes. OpenAI target only: other servers use other formats.",
        why="The blob was cut (a `head -c`, an editor's line limit, a copy from `output_item.added`, which is "
        "shorter) or edited; the API cannot decrypt it. A blob cut at a token boundary still looks whole: only the "
        "server can tell (RSP114 cannot see every damage).",
        example='{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"gAAAAABpPMlcH0HHEv5_ozHw"}',
        mend="Restore the blob byte for byte from where the item came from, or remove the reasoning item and the id "
        "of the item that follows it (the model loses that reasoning).",
        api="The encrypted content for item rs_... could not be verified. Reason: Encrypted content could not be "
        "decrypted or parsed.",
    ),
    Rule(
        "RSP115",
        "reasoning-nothing-to-replay",
        ERROR,
        "a reasoning item with neither id, encrypted_content nor content",
        None,
        what="A reasoning item with no `id`, no `encrypted_content` (or null) and no (non-empty) `content`: "
        "only a summary, which the API does not take as reasoning.",
        why="Without an id (nothing to look up) and without the encrypted blob or reasoning text, the item carries "
        "no reasoning the model could be given back. Often a reasoning item rewritten by hand, or saved by a "
        "client that dropped both fields.",
        example='{"type":"reasoning","summary":[{"type":"summary_text","text":"..."}]}',
        mend="Restore the item from where it came from, or remove it (the model loses that reasoning).",
        api="Missing required parameter: 'input[1].encrypted_content'.",
    ),
    # --- RSP2xx: the conversation -------------------------------------------------------------
    Rule(
        "RSP201",
        "reasoning-without-following-item",
        ERROR,
        "a reasoning item without its following item",
        "Remove the reasoning item",
        what="A reasoning item (with an `id` or `encrypted_content`) that is last in the file, or followed by "
        "something a "
        "response does not produce after reasoning (a user message, a tool output, another reasoning item).",
        why="The API pairs a reasoning item with the item that followed it in the response. A response cut off "
        "(max_output_tokens), or an item deleted by hand, leaves it alone.",
        example='{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"gAAAA..."}\n{"type":"message","role":"user","content":"next"}',
        mend="`--fix` removes the reasoning item: the model loses that reasoning, the conversation replays.",
        api="Item 'rs_...' of type 'reasoning' was provided without its required following item.",
    ),
    Rule(
        "RSP202",
        "id-without-reasoning",
        WARNING,
        "a message or call keeping its id while its reasoning item seems gone",
        "Remove the id",
        what="An assistant message or call that keeps its API id where its reasoning item seems gone: a turn "
        "answering a "
        "user message starts with it (no reasoning item) while other turns start with one; or, with mid-2025 ids "
        "(prefix_ + 48 hex, the items of one response ending alike), it follows the reasoning item of another "
        "response.",
        why="The API knows from the id that the item was produced after a reasoning item and asks for it. The id "
        "format is undocumented and has changed, so a file alone cannot prove the reasoning was removed: this is a "
        "warning, and a turn made after tool outputs (which often has no reasoning) is not suspected at all.",
        example='{"role":"user","content":"hi"}\n'
        '{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[...]}'
        "   (its rs_ item deleted)",
        mend="Restore the reasoning item just before it, or let `--fix` remove the id (then the item replays as plain "
        "history).",
        api="Item 'msg_...' of type 'message' was provided without its required 'reasoning' item: 'rs_...'.",
    ),
    Rule(
        "RSP203",
        "reasoning-not-replayable",
        ERROR,
        "a reasoning item with an id and neither encrypted_content nor content",
        None,
        what="A reasoning item that has an `id` but no `encrypted_content` and no (non-empty) `content`.",
        why="With `store: false` the API keeps nothing, so it would look the id up and fail: such an item comes from a "
        'turn made without `include: ["reasoning.encrypted_content"]`, or from a stored response.',
        example='{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"..."}]}',
        mend="Remove the reasoning item and the id of its following item (the model loses that reasoning), or get the "
        "item again with encrypted_content.",
        api="Item with id 'rs_...' not found. Items are not persisted when `store` is set to false. (HTTP 404)",
    ),
    Rule(
        "RSP204",
        "call-without-output",
        ERROR,
        "a tool call with no output before a later turn",
        None,
        what="A call the client answers (`function_call`, `custom_tool_call`, `shell_call`, `apply_patch_call`, "
        "`computer_call`) with no output item for its `call_id`, followed by a later turn. Calls still waiting at the "
        "end of the file are reported as pending (an info line), not as a problem: `respctl tool-result` answers them.",
        why="Every call needs exactly one output later in the input.",
        example='{"type":"function_call","call_id":"call_1","name":"f","arguments":"{}"}\n'
        '{"role":"user","content":"never mind"}',
        mend="Add its output right after the call (`respctl tool-result` does this for the calls at the end), or "
        "remove the call.",
        api="No tool output found for function call call_....",
    ),
    Rule(
        "RSP205",
        "output-without-call",
        ERROR,
        "a tool output with no earlier call",
        None,
        what="A tool output (`function_call_output`, `custom_tool_call_output`...) whose `call_id` matches no earlier "
        "call "
        "of the matching type (moved above its call, or its call deleted or edited).",
        why="Every output needs its call earlier in the input.",
        example='{"type":"function_call_output","call_id":"call_9","output":"42"}   (no call_9 before it)',
        mend="Move the output after its call, or remove it.",
        api="No tool call found for function call output with call_id call_....",
    ),
    Rule(
        "RSP206",
        "duplicate-output",
        ERROR,
        "a second output for one call",
        "Remove the duplicate line",
        what="Two outputs for the same `call_id`.",
        why="One call, one output. Often an exact duplicate line from a merge.",
        example='{"type":"function_call_output","call_id":"call_1","output":"42"}   (twice)',
        mend="`--fix` removes an exact duplicate line; otherwise keep the right output by hand.",
        fix_when=SOMETIMES,
    ),
    Rule(
        "RSP207",
        "duplicate-call-id",
        ERROR,
        "two calls with the same call_id",
        "Remove the duplicate line",
        what="Two calls carrying the same `call_id`.",
        why="One call per call_id: the outputs could not be paired.",
        example='{"type":"function_call","call_id":"call_1","name":"f","arguments":"{}"}   (twice)',
        mend="`--fix` removes an exact duplicate line; otherwise remove one call by hand.",
        fix_when=SOMETIMES,
    ),
    Rule(
        "RSP208",
        "duplicate-item-id",
        ERROR,
        "two items with the same id",
        "Remove the duplicate line",
        what="Two items with the same `id`.",
        why="Item ids are unique in the input. A fork merged back in git, or a `cat` of two overlapping files, "
        "duplicates them.",
        example='{"type":"reasoning","id":"rs_1",...}\n...\n{"type":"reasoning","id":"rs_1",...}',
        mend="`--fix` removes an exact duplicate line; otherwise remove one of the items by hand.",
        api="Duplicate item found with id rs_.... Remove duplicate items from your input and try again.",
        fix_when=SOMETIMES,
    ),
    # A warning, not an error: the SDK's CompactionTrigger says "Must be the final input item", but no refusal of
    # one elsewhere has been observed (a false reject blocks the user, worse than a false accept); the loopback
    # API accepts and ignores it, as lint expects: tests/test_compaction.py::
    # test_lint_and_the_server_agree_on_compaction_items and the corpus case warn_compaction_trigger_not_last.
    Rule(
        "RSP209",
        "compaction-trigger-not-last",
        WARNING,
        "a compaction_trigger item that is not the last item",
        None,
        what="A `compaction_trigger` item anywhere but at the end of the input.",
        why="It asks the API to compact everything before it, which only makes sense as the last item; elsewhere it "
        "is left from an earlier request.",
        example='{"type":"compaction_trigger"}\n{"role":"user","content":"hi"}',
        mend="Remove it, or move it to the end.",
    ),
    # --- RSP3xx: state on the server ----------------------------------------------------------
    Rule(
        "RSP301",
        "item-reference",
        ERROR,
        "an item_reference, which needs stored items",
        None,
        what='An `item_reference` item (`{"type":"item_reference","id":...}`).',
        why="It points at an item stored on the server; respctl's turns are stateless (`store: false`), so there is "
        "nothing to point at.",
        example='{"type":"item_reference","id":"msg_123"}',
        mend="Replace it with the item itself.",
        api="Item with id 'msg_...' not found. Items are not persisted when `store` is set to false. (HTTP 404)",
    ),
    Rule(
        "RSP302",
        "file-id-reference",
        WARNING,
        "a file_id reference, which needs an uploaded file",
        None,
        what="An `input_image` / `input_file` part that names an uploaded file by `file_id`.",
        why="The file lives on the account that uploaded it: the conversation does not replay on another account, or "
        "once the file is deleted.",
        example='{"role":"user","content":[{"type":"input_file","file_id":"file-abc"}]}',
        mend="Embed the data instead (`respctl say --attach PATH`, `--image PATH`), if the file must travel with the "
        "conversation.",
    ),
]


class ApiError(NamedTuple):
    """One error the API answers a replayed conversation with, and the rules that catch it first."""

    text: str  # as the API words it; '...' stands where it names an item, a call or a value
    rules: tuple[str, ...]  # the lint rules that report it before a request is sent
    otherwise: str = ""  # when no rule can: why not, and what respctl does instead


#: Every API error a replayed file can meet, each with the rules that catch it: the one table (a rule's
#: `api` is one example of its text). The texts are the API's (recorded, or quoted in issue threads);
#: tests/test_lint.py checks each against tests/fixtures/reference/api-errors.md or the loopback server.
API_ERRORS: tuple[ApiError, ...] = (
    ApiError("We could not parse the JSON body of your request.", ("RSP001", "RSP002", "RSP004", "RSP006")),
    ApiError("Unknown parameter: 'input[1].status'.", ("RSP103", "RSP108")),
    ApiError("Invalid type for 'input[N].field': expected a string, but got null instead.", ("RSP104", "RSP106")),
    ApiError("Invalid value: 'input_text'. Supported values are: 'output_text' and 'refusal'.", ("RSP109",)),
    ApiError("Invalid value: '...'. Supported values are: ...", ("RSP101", "RSP105")),
    ApiError("Missing required parameter: 'input[1].arguments'.", ("RSP102",)),
    ApiError("Missing required parameter: 'input[N].encrypted_content'.", ("RSP115",)),
    ApiError("Invalid 'input[8].id': 'ctco_...'. Expected an ID that begins with 'fc'.", ("RSP112",)),
    ApiError("Item 'rs_...' of type 'reasoning' was provided without its required following item.", ("RSP201",)),
    ApiError(
        "Item 'msg_...' of type 'message' was provided without its required 'reasoning' item: 'rs_...'.",
        ("RSP202",),
        "a warning: the file alone cannot prove that a reasoning item was removed",
    ),
    ApiError(
        "Item with id 'rs_...' not found. Items are not persisted when `store` is set to false. Try again with "
        "`store` set to true, or remove this item from your input.",
        ("RSP203", "RSP301"),
    ),
    ApiError("No tool output found for function call call_....", ("RSP204",), "at the end of the file: pending calls"),
    ApiError("No tool call found for function call output with call_id call_....", ("RSP205",)),
    ApiError(
        "Duplicate item found with id <id>. Remove duplicate items from your input and try again.",
        ("RSP208",),
    ),
    # The encrypted content for item rs_... could not be verified. Reason: ...
    ApiError(
        "Reason: Encrypted content could not be decrypted or parsed.",
        ("RSP113", "RSP114"),
        "a blob cut at a cipher block, or edited inside, only the server can tell",
    ),
    ApiError(
        "Reason: Encrypted content item_id did not match the target item id.",
        (),
        "the content is bound to its item id, model and account: only the server can check",
    ),
    ApiError(
        "Encrypted content is not supported with this model.",
        (),
        "not in the file: respctl leaves `include` out for the models that reject it (respctl.request)",
    ),
    ApiError(
        "Missing namespace for function_call 'create_widget'.",
        (),
        "depends on the request's tools, which the file does not hold",
    ),
)

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}
BY_NAME: dict[str, Rule] = {rule.name: rule for rule in _RULES}


def find(code_or_name: str) -> Rule | None:
    key = code_or_name.strip()
    return RULES.get(key.upper()) or BY_NAME.get(key.lower())


def explain(rule: Rule) -> str:
    """The rule's documentation as plain text (for `respctl lint --explain CODE`)."""
    if not rule.fix:
        fix = "Fix: none automatic."
    else:
        when = " Sometimes available: only in the cases above." if rule.fix_when == SOMETIMES else ""
        applies = "`--fix` applies it" if rule.fix_safety == SAFE else "`--fix` does not apply it"
        fix = f"Fix: {rule.fix} ({rule.fix_safety}; {applies}).{when}"
    parts = [
        f"{rule.code} ({rule.name}) [{rule.severity}]",
        "",
        "What it does",
        f"  {rule.what}",
        "",
        "Why is this bad",
        f"  {rule.why}",
    ]
    if rule.api:
        parts += ["", "What the API says", f"  {rule.api}"]
    parts += [
        "",
        "Example",
        *("  " + line for line in rule.example.split("\n")),
        "",
        "How to fix",
        f"  {rule.mend}",
        f"  {fix}",
    ]
    return "\n".join(parts)
