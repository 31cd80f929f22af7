"""The item kinds: one row per input item `type`, and what respctl knows about each.

Every other module asks this table (respctl.items for turns, respctl.lint for the checks, show
for turns and calls); none keeps a list of kinds of its own. The SDK's *shapes* are elsewhere
(respctl/schema.py, generated); this table holds what the shapes do not say.

A row says:
    prefix     the id prefix the API checks against the type (Invalid 'input[8].id': 'ctco_...'. Expected an
               ID that begins with 'fc'.): the twelve kinds whose prefix is known, observed; None for the rest
    output     for a call the client answers: the output kind that answers it, paired by call_id
    answered   respctl answers the call itself (`tool-result`, `--run-tool`, `show --pending`)
    client     written by the client (a user, its tools, its developer), never produced by a model: it ends a
               response's run of items, and a file that ends in one has something new for a turn
    follows    may be the "following item" of a reasoning item (Item 'rs_...' of type 'reasoning' was provided
               without its required following item.); an assistant message may too (a message is by role)
    paired     a model item whose id tells the API a reasoning item came before it (Item 'msg_...' of type
               'message' was provided without its required 'reasoning' item)
    named      carries a tool `name` (and `namespace`) the API reads
    encrypted  carries `encrypted_content` (a Fernet token from api.openai.com)
    drop       fields the API sends and refuses to take back, beyond what the SDK's types show
"""

from __future__ import annotations

from typing import NamedTuple


class Kind(NamedTuple):
    name: str
    prefix: str | None = None
    output: str | None = None
    answered: bool = False
    client: bool = False
    follows: bool = False
    paired: bool = False
    named: bool = False
    encrypted: bool = False
    drop: frozenset[str] = frozenset()


_STATUS = frozenset({"status"})

#: Where respctl's modules disagreed, the evidence that settled it is next to the row.
KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("message", "msg", paired=True),  # client or model by role: see is_client_input
        # `status` is rejected even as "completed" on reasoning (issue reports); real reasoning outputs carry
        # none (tests/fixtures/recordings).
        Kind("reasoning", "rs", encrypted=True, drop=_STATUS),
        Kind("function_call", "fc", "function_call_output", answered=True, follows=True, paired=True, named=True),
        Kind("function_call_output", "fco", client=True),
        # `status` on a custom tool call: the API sends it although neither SDK model has it (no input shape
        # takes it: Unknown parameter).
        Kind(
            "custom_tool_call",
            "ctc",
            "custom_tool_call_output",
            answered=True,
            follows=True,
            paired=True,
            named=True,
            drop=_STATUS,
        ),
        Kind("custom_tool_call_output", "ctco", client=True),
        Kind("computer_call", output="computer_call_output", follows=True),
        Kind("computer_call_output", client=True),
        Kind("shell_call", output="shell_call_output", follows=True),
        Kind("shell_call_output", client=True, drop=_STATUS),  # `status`: Unknown parameter (issue reports)
        Kind("apply_patch_call", output="apply_patch_call_output", follows=True),
        Kind("apply_patch_call_output", client=True),
        Kind("local_shell_call", "lsh", follows=True),
        Kind("local_shell_call_output", client=True),
        Kind("web_search_call", "ws", follows=True),
        Kind("file_search_call", follows=True),
        Kind("code_interpreter_call", follows=True),
        Kind("image_generation_call", "ig", follows=True),
        Kind("mcp_call", follows=True, named=True, drop=_STATUS),  # `status`: Unknown parameter (issue reports)
        Kind("mcp_list_tools", follows=True),
        Kind("mcp_approval_request", follows=True, named=True),
        Kind("mcp_approval_response", client=True),
        Kind("tool_search_call", "tsc", follows=True),
        Kind("tool_search_output", "tso"),
        Kind("program", follows=True),
        Kind("program_output"),
        Kind("configuration_update"),
        # compaction: `cmp_` ids in the real traffic (tests/fixtures/recordings/vercel-ai__openai-compaction.1.json:
        # {"id": "cmp_0a31…", "type": "compaction", "encrypted_content": "gAAAA…"}, a Fernet token like reasoning's);
        # the SDK's ResponseCompactionItemParam requires encrypted_content (str), id optional. Lint and the loopback
        # API agree on each: tests/test_compaction.py::test_lint_and_the_server_agree_on_compaction_items.
        Kind("compaction", "cmp", follows=True, encrypted=True),
        # The three kinds respctl disagreed about: lint counted them as the client's, while turns and show
        # counted them as the model's. The SDK settles it: none of the three is ever output by a model.
        #   additional_tools: `role: Literal["developer"]`, "The role that provided the additional tools.
        #     Only `developer` is supported." (openai.types.responses.response_input_item_param.AdditionalTools)
        #   compaction_trigger: "Compacts the current context. Must be the final input item." (CompactionTrigger),
        #     an input-only type: not in ResponseOutputItem; the client adds it to ask for a compaction.
        #   item_reference: "An internal identifier for an item to reference." (ItemReference), input-only too:
        #     the client writes it in place of an item stored on the server.
        Kind("additional_tools", client=True),
        Kind("compaction_trigger", client=True),
        Kind("item_reference", client=True),
    )
}

#: Fields dropped from every output item: output-only (`created_by`) or SDK-only (`parsed`...).
DROP_ALWAYS = frozenset({"created_by", "parsed", "parsed_arguments"})

#: Roles of the messages that instruct the model (the instructions at the top of a file).
INSTRUCTION_ROLES = frozenset({"developer", "system"})

_NONE = Kind("")


def row(kind: str | None) -> Kind:
    """The row of a kind; a row that says nothing for a kind the table does not know (or None)."""
    return KINDS.get(kind, _NONE) if kind is not None else _NONE


def kinds_where(**wanted: object) -> frozenset[str]:
    """The kinds whose row has every field given: kinds_where(client=True)."""
    return frozenset(k.name for k in KINDS.values() if all(getattr(k, f) == v for f, v in wanted.items()))


def kind_of(item: dict) -> str | None:
    """The item's type. An item with no `type` is a message when it has a `role`, and an
    item_reference when it has only an `id` (the SDK's ItemReference has an optional `type`);
    None when `type` is missing otherwise, or not a string (a file for another server may hold anything)."""
    kind = item.get("type")
    if kind is None:
        if "role" in item:
            return "message"
        if "id" in item and item.keys() <= {"id", "type"}:
            return "item_reference"
    return kind if isinstance(kind, str) else None


def is_client_input(item: dict) -> bool:
    """Written by the client: a message of the user's (or developer's, system's), a tool output, or
    another item no model produces. A file that ends in one has something new for a turn to answer."""
    kind = kind_of(item)
    if kind == "message":
        return item.get("role") != "assistant"
    return row(kind).client


def is_follower(item: dict | None, kind: str | None) -> bool:
    """May follow a reasoning item: an assistant message, or a model item of a `follows` kind."""
    if kind == "message":
        return item is not None and item.get("role") == "assistant"
    return row(kind).follows


#: Calls the client answers -> the output kind that answers each (paired by call_id), and back.
CALL_OUTPUTS = {k.name: k.output for k in KINDS.values() if k.output}
OUTPUT_CALLS = {output: call for call, output in CALL_OUTPUTS.items()}
#: The calls respctl answers itself (tool-result, --run-tool), and back.
ANSWERED_CALLS = {k.name: k.output for k in KINDS.values() if k.answered and k.output}
ANSWERING_OUTPUTS = {output: call for call, output in ANSWERED_CALLS.items()}
ID_PREFIXES = {k.name: k.prefix for k in KINDS.values() if k.prefix}
#: Model items that may follow a reasoning item (and assistant messages: see is_follower).
FOLLOWERS = kinds_where(follows=True)
