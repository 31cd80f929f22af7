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
import shlex
from dataclasses import dataclass
from urllib.parse import urlsplit

from respctl.errors import UsageError

OPENAI = "openai"
COMPATIBLE = "compatible"
TARGETS = (OPENAI, COMPATIBLE)  # the choices of --target (cli.Target, declared where typer needs it)

#: Rules that hold on every Responses server: the file format, JSON, call/output pairing, every
#: call answered, a reasoning item kept with the item that follows it, and the warnings about
#: the model's own arguments and names. Every other lint rule, and the request rule on model names
#: (which models take `include` and reasoning options: `Route.model_names`), is the OpenAI API's own
#: and applies to the openai target only. A rule not listed here is the OpenAI API's: a rule that a
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
        "RSP113",  # empty encrypted_content: an empty blob decrypts to nothing on any server
        "RSP201",  # reasoning kept with what follows it
        "RSP204",  # every call answered before a later turn
        "RSP205",  # an output answers an earlier call
        "RSP206",  # one output per call
        "RSP207",  # call ids unique
    }
)

#: --tools checked against the SDK's tool shapes (other servers may know other tool types).
TOOL_SHAPES = "tool-shapes"

#: Azure OpenAI's hosts, the sovereign clouds (Azure Government `.us`, Azure China `.cn`) included.
_AZURE_HOSTS = (
    ".openai.azure.com",
    ".cognitiveservices.azure.com",
    ".services.ai.azure.com",
    ".openai.azure.us",
    ".cognitiveservices.azure.us",
    ".openai.azure.cn",
    ".cognitiveservices.azure.cn",
)

#: The one phrase that points a refused file at the other rule set (the pre-send check, `lint`).
OTHER_SERVER = "a file for another server? --target compatible checks only what every server needs"


@dataclass(frozen=True)
class Route:
    """Where a turn goes and which rules apply: worked out once, by `route`."""

    target: str
    why: str  # why this target was chosen, in words
    azure: str | None = None  # the Azure OpenAI endpoint, when turns go to Azure
    from_env: bool = False  # azure came from AZURE_OPENAI_ENDPOINT (not from --base-url/OPENAI_BASE_URL)

    def check_url(self, base_url: str | None) -> None:
        """Refuse a URL a turn cannot be sent to, as one line (exit 2). `lint` never needs one."""
        url = self.azure or base_url
        if url and _host(url) is None:
            source = "AZURE_OPENAI_ENDPOINT" if self.from_env else "--base-url, OPENAI_BASE_URL"
            raise UsageError(f"not a valid API URL ({source}): it does not parse as a URL")

    @property
    def model_names(self) -> bool:
        """Whether model names decide which models take `include` and reasoning options: the
        OpenAI API's own rule, and not on Azure (a deployment name says nothing about the model)."""
        return self.target == OPENAI and not self.azure


def applies(rule: str, target: str) -> bool:
    """True when the lint rule `rule` is checked for `target`."""
    return target == OPENAI or rule in PORTABLE


def where(rule: str) -> str:
    """Where a rule applies, in words (for `lint --explain`)."""
    if rule in PORTABLE:
        return "every server (--target openai and --target compatible)"
    return "the OpenAI API and Azure OpenAI only (--target openai); not checked for --target compatible"


def _host(url: str | None) -> str | None:
    """The host of a URL in lower case ("" when there is none), or None when it does not parse
    (`http://[bad`: urlsplit raises ValueError). An unparsable URL is not api.openai.com."""
    if not url:
        return ""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return None


def route(explicit: str | None, base_url: str | None) -> Route:
    """The target and why: --target/RESPCTL_TARGET, else from where turns go: an Azure host as the
    base URL, or, with no base URL at all, AZURE_OPENAI_ENDPOINT (as the SDK's AzureOpenAI reads it)."""
    env_azure = None if base_url else os.environ.get("AZURE_OPENAI_ENDPOINT") or None
    host = _host(base_url)
    azure = env_azure or (base_url if host and host.endswith(_AZURE_HOSTS) else None)
    if explicit:
        explicit = explicit.lower()
        why = "RESPCTL_TARGET" if (os.environ.get("RESPCTL_TARGET") or "").lower() == explicit else "--target"
        return Route(explicit, why, azure, bool(env_azure))
    if azure:
        return Route(OPENAI, "Azure OpenAI endpoint", azure, bool(env_azure))
    if not base_url:
        return route_default()
    if host == "api.openai.com" or (host or "").endswith(".api.openai.com"):
        return Route(OPENAI, f"base URL {host}")
    return Route(COMPATIBLE, f"base URL {host or base_url} is not api.openai.com")


def route_default() -> Route:
    """No base URL, no --target: the OpenAI API."""
    return Route(OPENAI, "no base URL: api.openai.com")


def resolve(explicit: str | None, base_url: str | None) -> tuple[str, str]:
    """(target, why it was chosen): `route` without the endpoint (lint's view)."""
    r = route(explicit, base_url)
    return r.target, r.why


def lint_default() -> str:
    """The target `respctl lint FILE` chooses on its own in this environment."""
    return route(os.environ.get("RESPCTL_TARGET") or None, os.environ.get("OPENAI_BASE_URL")).target


def lint_command(name: str, chosen: Route) -> str:
    """`respctl lint FILE`, with the target a turn used when lint alone would not pick it (or it was given)."""
    flag = f"--target {chosen.target} " if chosen.why == "--target" or chosen.target != lint_default() else ""
    return f"respctl lint {flag}{shlex.quote(name)}"
