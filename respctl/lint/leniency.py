"""Where the real API is more lenient than the openai SDK's types: the one reviewed list.

The generated table (schema_table.json, `make schema`) says what the SDK's TypedDicts require.
The API decides: a field listed here is accepted when left out, whatever the SDK says. Each
entry names its evidence (a recording, an issue thread, a document); an entry without evidence
does not belong here. Lint applies the list when it builds a shape (respctl/lint/shapes.py);
nothing else overrides the generated table.

Review an entry when its evidence changes; add one only with evidence that the API (not another
server) accepts the item without the field. A test fails when the SDK makes a listed field optional
(the entry is then no longer needed): `logprobs` on output_text, for one, is optional in the SDK
already, and the API takes a replayed output_text without it (HTTP 200 in
tests/fixtures/recordings/pydantic-ai__test_openai_responses_phase_streamed_on_part_start.yaml).
"""

from __future__ import annotations

from typing import NamedTuple


class Lenient(NamedTuple):
    shape: str  # a shape of the generated table
    field: str  # required there, optional in practice
    what: str  # the item as people write it
    evidence: tuple[str, ...]  # URLs, issue threads, recordings
    condition: str = ""  # when the leniency has a limit, the rule that enforces it


LENIENT: tuple[Lenient, ...] = (
    Lenient(
        "ResponseInputImageParam",
        "detail",
        "an input_image part without `detail` (the API defaults it to `auto`)",
        (
            # OpenAI's own curl example for POST /v1/responses sends input_image without detail:
            "https://platform.openai.com/docs/api-reference/responses/create?lang=curl",
            "https://github.com/openai/openai-python/pull/2786 (quotes that example; the SDK type requires detail)",
            "https://github.com/vercel/ai/issues/20300 (the Open Responses schema: optional, default auto; "
            "vLLM, validating with the SDK type, rejects what OpenAI accepts)",
        ),
    ),
    Lenient(
        "ResponseOutputMessageParam",
        "type",
        'an assistant message without `type` ({"role": "assistant", "content": [{"type": "output_text", ...}]}, '
        "even with `id` and `status`)",
        (
            "https://github.com/vercel/ai/pull/20995 (sent to api.openai.com)",
            "https://github.com/UKGovernmentBEIS/inspect_ai/pull/3090",
            "https://github.com/envoyproxy/ai-gateway/pull/2172 (OpenCode sends typeless assistant output messages)",
        ),
    ),
    Lenient(
        "ResponseReasoningItemParam",
        "id",
        "a reasoning item without `id` that carries `encrypted_content`",
        (
            "https://github.com/openai/openai-agents-python/pull/2068 (drops reasoning ids under store false; "
            "encrypted_content is decrypted by any instance)",
            "https://github.com/dotnet/extensions/pull/7629 (api.openai.com and the resource-scoped Azure endpoint "
            "accept a missing id)",
            "tests/lint_corpus/good_reasoning_without_id.jsonl (the loopback API, made to agree)",
        ),
        condition="RSP115: with neither id nor encrypted_content (nor content) there is nothing to replay",
    ),
    Lenient(
        "ResponseOutputTextParam",
        "annotations",
        "an output_text part without `annotations`",
        (
            "https://github.com/langchain-ai/langchain/pull/32557 (only vLLM, validating with the SDK type, "
            "refused it; the OpenAI API accepted the same input)",
            "https://github.com/vercel/ai/pull/20995 (assistant text replayed as output_text without annotations)",
        ),
    ),
    Lenient(
        "FunctionToolParam",
        "strict",
        "a function tool without `strict` (in additional_tools / tool_search_output items)",
        (
            "https://platform.openai.com/docs/guides/function-calling (strict mode is opt-in; the examples that "
            "do not use it leave the field out)",
        ),
    ),
    Lenient(
        "FunctionToolParam",
        "parameters",
        "a function tool without `parameters` (a function that takes no arguments)",
        ("https://platform.openai.com/docs/guides/function-calling (parameters may be omitted for no arguments)",),
    ),
)


class Accepted(NamedTuple):
    shape: str  # a shape of the generated table
    field: str  # not in it, taken back by the API in practice
    spec: str  # its type, in the table's notation
    what: str
    evidence: tuple[str, ...]


#: Fields the SDK's input types lack and the API takes back: respctl never refuses what the server produced.
ACCEPTED: tuple[Accepted, ...] = (
    Accepted(
        "Message",
        "id",
        "str",
        "a user message with `id` (`msg_...`), as `POST /responses/compact` returns the user messages of its window "
        "for the next input",
        (
            "openai-python types/responses/compacted_response.py (CompactedResponse.output: the compacted window, "
            "the next request's input; the SDK types its user messages as output messages, which carry id)",
            "https://github.com/openai/openai-agents-js/pull/760 (the user messages come back with id, type, "
            "status, content and role, and are sent back as they are)",
            "tests/test_compaction.py (the loopback API takes them back; lint must pass what it produced)",
        ),
    ),
)

#: shape -> {field: (False, spec)}: the fields ACCEPTED adds to it.
EXTRA_FIELDS: dict[str, dict[str, tuple]] = {}
for _accepted in ACCEPTED:
    EXTRA_FIELDS.setdefault(_accepted.shape, {})[_accepted.field] = (False, _accepted.spec)

#: shape -> the fields it requires in the SDK's types and not in practice.
OPTIONAL_IN_PRACTICE: dict[str, frozenset[str]] = {}
for _entry in LENIENT:
    OPTIONAL_IN_PRACTICE[_entry.shape] = OPTIONAL_IN_PRACTICE.get(_entry.shape, frozenset()) | {_entry.field}


def markdown() -> str:
    """The table for docs/lint.md."""
    out = ["| shape | field | accepted without it | evidence |", "|---|---|---|---|"]
    for e in LENIENT:
        evidence = "<br>".join(e.evidence) + (f"<br>limit: {e.condition}" if e.condition else "")
        out.append(f"| {e.shape} | `{e.field}` | {e.what} | {evidence} |")
    out += ["", "| shape | field | accepted with it | evidence |", "|---|---|---|---|"]
    for a in ACCEPTED:
        out.append(f"| {a.shape} | `{a.field}` | {a.what} | {'<br>'.join(a.evidence)} |")
    return "\n".join(out)
