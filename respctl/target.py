"""Which server a file is sent to, and so which rules apply: the one definition of the target.

    openai      the OpenAI API (api.openai.com, and Azure OpenAI where its rules hold): every rule.
    compatible  any other Responses server (gpt-oss, vLLM, Ollama, gateways): the portable rules only.

respctl never refuses to send what the server itself produced. The rules that describe the
OpenAI API's own behaviour (id prefixes, closed item shapes and unknown fields, output-only
fields, server-side ids and storage, which models take `include`) hold only there. The evidence:
OpenAI's reference server (gpt-oss 0.0.9, tests/fixtures/recordings/gpt-oss-exchanges.jsonl)
answers with `item_` message ids and a `status` inside `output_text` parts, and takes them back.

Never imports openai (lint uses it).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

OPENAI = "openai"
COMPATIBLE = "compatible"
TARGETS = (OPENAI, COMPATIBLE)

#: Rules that hold on every Responses server: the file format, JSON, call/output pairing, every
#: call answered, a reasoning item kept with the item that follows it, and the warnings about
#: the model's own arguments and names. Every other rule (lint codes, and the request rule
#: `model-names`: which models take `include` and reasoning options) is the OpenAI API's own and
#: applies to the openai target only. A rule not listed here is the OpenAI API's: a rule that a
#: server may not share never refuses a file sent to that server.
PORTABLE = frozenset(
    {
        "RSP001",  # invalid JSON
        "RSP002",  # invalid UTF-8
        "RSP003",  # a line that is not an object
        "RSP004",  # blank line
        "RSP005",  # CRLF
        "RSP006",  # byte order mark
        "RSP007",  # no final newline
        "RSP008",  # empty file
        "RSP110",  # arguments not JSON (a warning)
        "RSP111",  # control characters in a name (a warning)
        "RSP201",  # reasoning kept with what follows it
        "RSP204",  # every call answered before a later turn
        "RSP205",  # an output answers an earlier call
        "RSP206",  # one output per call
        "RSP207",  # call ids unique
    }
)

#: The request-side rule: model names tell which models take `include` and reasoning options.
MODEL_NAMES = "model-names"
#: --tools checked against the SDK's tool shapes (other servers may know other tool types).
TOOL_SHAPES = "tool-shapes"

_AZURE_HOSTS = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")


def applies(rule: str, target: str) -> bool:
    """True when `rule` (a lint code or MODEL_NAMES) is checked for `target`."""
    return target == OPENAI or rule in PORTABLE


def where(rule: str) -> str:
    """Where a rule applies, in words (for `lint --explain`)."""
    if rule in PORTABLE:
        return "every server (--target openai and --target compatible)"
    return "the OpenAI API and Azure OpenAI only (--target openai); not checked for --target compatible"


def is_azure_url(url: str | None) -> bool:
    host = (urlsplit(url).hostname or "") if url else ""
    return host.endswith(_AZURE_HOSTS)


def azure_endpoint(base_url: str | None) -> str | None:
    """The Azure OpenAI endpoint a turn goes to, or None: an Azure host as the base URL, or,
    with no base URL at all, AZURE_OPENAI_ENDPOINT (as the SDK's AzureOpenAI reads it)."""
    if base_url:
        return base_url if is_azure_url(base_url) else None
    return os.environ.get("AZURE_OPENAI_ENDPOINT") or None


def resolve(explicit: str | None, base_url: str | None) -> tuple[str, str]:
    """The target and why it was chosen: --target/RESPCTL_TARGET, else from where turns go."""
    if explicit:
        return explicit, "RESPCTL_TARGET" if os.environ.get("RESPCTL_TARGET") == explicit else "--target"
    if azure_endpoint(base_url):
        return OPENAI, "Azure OpenAI endpoint"
    if not base_url:
        return OPENAI, "no base URL: api.openai.com"
    host = urlsplit(base_url).hostname or ""
    if host == "api.openai.com" or host.endswith(".api.openai.com"):
        return OPENAI, f"base URL {host}"
    return COMPATIBLE, f"base URL {host or base_url} is not api.openai.com"
