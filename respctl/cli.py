"""The command line: parse options, call one function, render, map errors to exit codes.

Nothing here imports openai: only respctl.client does, and only a turn that is sent loads it.

No `from __future__ import annotations` here: Typer reads every parameter's annotation, and a
string annotation costs a compile() each time a command is built (`--help` builds them all);
evaluated once at import from bytecode, they cost a fraction of that.
"""

import copy
import functools
import inspect
import os
import signal
import sys
from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any

import typer

from respctl import DEFAULT_TIMEOUT, MAX_SECONDS, __version__, fastparams
from respctl.errors import ExitCode, Interrupted, RespctlError, UsageError
from respctl.examples import epilog

# Imported inside the commands that need them, where loading them for every command would cost
# start-up (python -X importtime, bytecode cached, medians of 21 runs, 2 cores, 2026-12-01):
#   respctl.turn and what only a turn needs (inputs, request, runner, conversation): 21 ms, and
#       hashlib with the request builder, which --help, lint and show never load (tests/test_cli.py);
#   respctl.show 9.5 ms, respctl.lint 3.3 ms: each for its own command;
#   respctl.target 1.8 ms: for lint and turns, not show nor --help; glob 0.6 ms: shell completion only.
#   respctl.output 3.5 ms (10 M instructions, 3% of --help): every command but --help and --version.


class PlainCommand(typer.core.TyperCommand):
    """Help with plain metavars: `FILE [MESSAGE]`, `FILE...`, never `{FILE}` or `FILE <str>`."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = _plain_name(param)
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx, formatter) -> None:
        args, opts = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                args.append((_plain_name(param), record[1]))
            else:
                opts.append(record)
        for title, rows in (("Arguments", args), ("Options", opts)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _plain_name(param) -> str:
    name = param.metavar or param.name.upper()
    return f"{name}..." if param.nargs != 1 else name


app = typer.Typer(
    name="respctl",
    help="Keep an OpenAI Responses API conversation in one JSONL file: one input item per line, "
    "every turn stateless (store: false), encrypted reasoning replayed byte for byte.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=True,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=epilog("respctl"),
)


class Role(str, Enum):
    developer = "developer"
    system = "system"


class Effort(str, Enum):
    none = "none"
    minimal = "minimal"
    low = "low"
    medium = "medium"
    high = "high"
    xhigh = "xhigh"


class Summary(str, Enum):
    auto = "auto"
    concise = "concise"
    detailed = "detailed"


class ReasoningContext(str, Enum):
    auto = "auto"
    current_turn = "current_turn"
    all_turns = "all_turns"


class Target(str, Enum):  # target.TARGETS, spelled out: cli declares it without importing target
    openai = "openai"
    compatible = "compatible"


class LintFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"


class ShowFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"


TURN = "Turn options"


def _complete_path(incomplete: str) -> list[str]:
    """Shell completion of a FILE: the paths that start with what was typed (folders end in /)."""
    import glob

    found = sorted(glob.glob(glob.escape(os.path.expanduser(incomplete)) + "*"))
    return [p + "/" if os.path.isdir(p) else p for p in found if p.endswith(".jsonl") or os.path.isdir(p)]


File = Annotated[
    str,
    typer.Argument(
        metavar="FILE",
        help="The conversation file (JSON Lines, one input item per line).",
        show_default=False,
        autocompletion=_complete_path,
    ),
]
Message = Annotated[
    str | None,
    typer.Argument(metavar="MESSAGE", help="The user message; '-' reads standard input.", show_default=False),
]


def _target_help(default: str) -> str:
    return (
        "Which server's rules apply: openai (every lint rule) or compatible (portable rules only, for "
        f"gpt-oss, vLLM, Ollama, gateways) [default: {default}]."
    )


#: --target: one definition; only where each command takes its default from differs.
_TARGET: dict = {"envvar": "RESPCTL_TARGET", "case_sensitive": False, "show_default": False}
LintTargetOpt = Annotated[
    Target | None,
    typer.Option(
        "--target",
        help=_target_help(
            "from OPENAI_BASE_URL and AZURE_OPENAI_ENDPOINT, as a turn's: openai when OPENAI_BASE_URL is unset or "
            "api.openai.com or Azure, else compatible"
        ),
        **_TARGET,
    ),
]


Image = Annotated[
    list[str] | None,
    typer.Option(
        "--image",
        metavar="PATH_OR_URL",
        help="Image file or URL to include (repeatable); files are embedded.",
        show_default=False,
    ),
]
Attach = Annotated[
    list[str] | None,
    typer.Option(
        "--attach",
        metavar="PATH",
        help="File to include (repeatable): text files as text, others (PDF...) embedded as data.",
        show_default=False,
    ),
]


class ColorChoice(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No notes on stderr; errors only.")]
Color = Annotated[
    ColorChoice,
    typer.Option(
        "--color",
        help="Colour and attributes (bold, dim...) where the command uses them (show also its terminal layout; "
        "lint none): auto follows the terminal, NO_COLOR and FORCE_COLOR.",
    ),
]


#: Turn options that other commands take too (`import` reaches the API as a turn does; rewind, fork, edit
#: and import wait for a file's lock): declared here, once, for TurnOptions and those commands.
LockTimeout = Annotated[
    float,
    typer.Option(
        "--lock-timeout",
        metavar="S",
        min=0,
        max=MAX_SECONDS,
        help="Seconds to wait for another invocation holding the file.",
    ),
]
BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        metavar="URL",
        envvar="OPENAI_BASE_URL",
        help="Any Responses-compatible server.",
        rich_help_panel=TURN,
        show_default=False,
    ),
]
TargetOpt = Annotated[
    Target | None,
    typer.Option(
        "--target", help=_target_help("openai for api.openai.com, Azure or no base URL, else compatible"), **_TARGET
    ),
]
Verbose = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Also say what respctl does (the URL, request size, retries, lock waits, timings) and, on an API "
        "error, print the server's whole answer.",
    ),
]
Timeout = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        metavar="S",
        min=0.001,
        max=MAX_SECONDS,
        help=f"Deadline in seconds for each whole attempt, answer included [default: {DEFAULT_TIMEOUT:g}].",
        rich_help_panel=TURN,
        show_default=False,
    ),
]
MaxRetries = Annotated[
    int | None,
    typer.Option(
        "--max-retries",
        metavar="N",
        min=0,
        help="Retries on connection errors, 408/409/429 and 5xx [default: 2].",
        rich_help_panel=TURN,
        show_default=False,
    ),
]


class TurnOptions:
    """The options of a turn, shared by start, say and tool-result: each declared once, here (or just
    above, where other commands take it too), with its default. `@turn_command` puts them where a
    command's `options: TurnOptions` parameter stands (so in this order in its --help) and hands
    them to the command as one TurnOptions.

    Not a dataclass: making one of 20 fields costs every command 1 ms at start-up, this class nothing."""

    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            metavar="MODEL",
            envvar="RESPCTL_MODEL",
            help="Model; required for a turn.",
            rich_help_panel=TURN,
            show_default=False,
        ),
    ] = None
    tools: Annotated[
        str | None,
        typer.Option(
            "--tools",
            metavar="PATH",
            envvar="RESPCTL_TOOLS",
            help="JSON file holding the `tools` array.",
            rich_help_panel=TURN,
            show_default=False,
        ),
    ] = None
    effort: Annotated[
        Effort | None, typer.Option("--effort", help="Reasoning effort.", rich_help_panel=TURN, show_default=False)
    ] = None
    summary: Annotated[
        Summary | None,
        typer.Option(
            "--summary",
            help="Reasoning summary (shown on stderr while streaming).",
            rich_help_panel=TURN,
            show_default=False,
        ),
    ] = None
    max_output_tokens: Annotated[
        int | None,
        typer.Option(
            "--max-output-tokens",
            metavar="N",
            min=1,
            help="Upper bound on output tokens, reasoning included.",
            rich_help_panel=TURN,
            show_default=False,
        ),
    ] = None
    compact_threshold: Annotated[
        int | None,
        typer.Option(
            "--compact-threshold",
            metavar="N",
            min=1,
            envvar="RESPCTL_COMPACT_THRESHOLD",
            help="Let the server compact the context once the input reaches N tokens (OpenAI: N >= 1000); "
            "the items a compaction replaces move to FILE.history.jsonl.",
            rich_help_panel=TURN,
            show_default=False,
        ),
    ] = None
    schema: Annotated[
        str | None,
        typer.Option(
            "--schema",
            metavar="PATH",
            help="JSON Schema file for structured output (text.format json_schema).",
            rich_help_panel=TURN,
            show_default=False,
        ),
    ] = None
    stream: Annotated[
        bool | None,
        typer.Option(
            "--stream/--no-stream",
            help="Stream the answer [default: stream when stdout is a terminal].",
            rich_help_panel=TURN,
            show_default=False,
        ),
    ] = None
    json_out: Annotated[
        bool,
        typer.Option("--json", help="Print one JSON object describing the turn instead of text.", rich_help_panel=TURN),
    ] = False
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print the request body that would be sent; send and write nothing.", rich_help_panel=TURN
        ),
    ] = False
    no_send: Annotated[
        bool, typer.Option("--no-send", help="Record the new item(s) without running a turn.", rich_help_panel=TURN)
    ] = False
    base_url: BaseUrl = None
    target: TargetOpt = None
    verbose: Verbose = False
    timeout: Timeout = None
    max_retries: MaxRetries = None
    lock_timeout: LockTimeout = 60.0
    reasoning_context: Annotated[
        ReasoningContext | None,
        typer.Option(
            "--reasoning-context",
            help="Which replayed reasoning the model sees.",
            rich_help_panel=TURN,
            show_default=False,
        ),
    ] = None
    run_tool: Annotated[
        list[str] | None,
        typer.Option(
            "--run-tool",
            metavar="NAME=COMMAND",
            help="Answer calls of NAME by running COMMAND (no shell; arguments JSON on stdin; repeatable).",
            rich_help_panel=TURN,
            show_default=False,
        ),
    ] = None
    max_tool_rounds: Annotated[
        int,
        typer.Option(
            "--max-tool-rounds",
            metavar="N",
            min=0,
            help="At most this many rounds of --run-tool calls per invocation.",
            rich_help_panel=TURN,
        ),
    ] = 8
    tool_timeout: Annotated[
        float,
        typer.Option(
            "--tool-timeout",
            metavar="S",
            min=0.001,
            max=MAX_SECONDS,
            help="Seconds one tool command may run before its process group is killed.",
            rich_help_panel=TURN,
        ),
    ] = 120.0

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - set(TURN_OPTIONS)
        if unknown:
            raise TypeError(f"not a turn option: {', '.join(sorted(unknown))}")
        for name in TURN_OPTIONS:
            setattr(self, name, values.get(name, getattr(TurnOptions, name)))

    def replace(self, **changes: Any) -> "TurnOptions":
        return TurnOptions(**{**vars(self), **changes})


#: The turn options' names, in their order in --help.
TURN_OPTIONS = tuple(TurnOptions.__annotations__)


def turn_command(
    command: Callable[..., None] | None = None,
    *,
    hide: tuple[str, ...] = (),
    helps: dict[str, str] | None = None,
    only: tuple[str, ...] = TURN_OPTIONS,
) -> Any:
    """A turn command for typer: its one parameter annotated TurnOptions stands for every field of
    TurnOptions (`only`: those named), in order, as parameters of their own; the command gets their
    values as one TurnOptions, the others at their defaults. Everything else (its arguments, other
    options, docstring, name) is the command's.
    `@turn_command(hide=(field, ...), helps={field: text})`: the same options, some left out of the
    command's --help (it refuses them) or described in its own words."""
    if command is None:
        return functools.partial(turn_command, hide=hide, helps=helps, only=only)
    return _TurnCommand(command, hide, helps or {}, only)


class _TurnCommand:
    """What @turn_command makes of a command: typer reads its __signature__ and __annotations__, which
    are built on first read. typer builds only the command run (_only_the_command_run), so `lint` and
    `show` never pay for expanding the turn commands' options (about 6 million instructions, 1.5 ms)."""

    def __init__(self, command: Callable[..., None], hide: tuple[str, ...], helps: dict[str, str], only: tuple):
        self._command, self._hide, self._helps = command, hide, helps
        self._chosen = [option for option in TURN_OPTIONS if option in only]
        self.__name__, self.__qualname__ = command.__name__, command.__qualname__
        self.__module__, self.__doc__ = command.__module__, command.__doc__

    @functools.cached_property
    def _expanded(self) -> tuple[inspect.Signature, str]:
        signature = inspect.signature(self._command)
        (name,) = [param.name for param in signature.parameters.values() if param.annotation is TurnOptions]
        params: list[inspect.Parameter] = []
        for param in signature.parameters.values():
            if param.name != name:
                params.append(param)
                continue
            for option in self._chosen:
                annotation = _reworded(
                    TurnOptions.__annotations__[option], option in self._hide, self._helps.get(option)
                )
                params.append(
                    inspect.Parameter(option, param.kind, annotation=annotation, default=getattr(TurnOptions, option))
                )
        return signature.replace(parameters=params), name

    @property
    def __signature__(self) -> inspect.Signature:
        return self._expanded[0]

    @property
    def __annotations__(self) -> dict[str, Any]:  # type: ignore[override]
        return {param.name: param.annotation for param in self.__signature__.parameters.values()}

    def __call__(self, **values) -> None:
        options = TurnOptions(**{option: values.pop(option) for option in self._chosen})
        self._command(**values, **{self._expanded[1]: options})


def _reworded(annotation: Any, hidden: bool, help: str | None) -> Any:
    """An option's Annotated definition, the same option, hidden from --help or with other help text."""
    if not hidden and help is None:
        return annotation
    base, info = annotation.__origin__, copy.copy(annotation.__metadata__[0])
    if hidden:
        info.hidden = True
    if help is not None:
        info.help = help
    return Annotated[base, info]


def _turn_settings(options: TurnOptions):
    """What turn.py takes, from the options as given: files read, URLs and names checked."""
    from respctl import output
    from respctl import target as tg
    from respctl.inputs import check_text
    from respctl.request import Connection, RequestOptions, check_base_url, load_schema, load_tools, tool_names
    from respctl.runner import keep_environment_private, parse_runners
    from respctl.turn import TurnSettings

    keep_environment_private()  # before the key is needed: no same-user process reads it from /proc
    stream, json_out = options.stream, options.json_out
    if stream is None:
        stream = sys.stdout.isatty() and not json_out
    value = lambda enum: enum.value if enum else None  # noqa: E731
    output.hide_url_secrets(options.base_url)  # from now on, in every line shown
    if options.base_url and not options.no_send:
        check_base_url(options.base_url)
    route = tg.route(value(options.target), options.base_url)
    output.hide_url_secrets(route.azure)
    route.check_url(options.base_url)
    tools = load_tools(options.tools, shapes=tg.applies(tg.TOOL_SHAPES, route.target)) if options.tools else None
    request = RequestOptions(
        model=check_text(options.model, "model name") if options.model else options.model,
        tools=tools,
        effort=value(options.effort),
        summary=value(options.summary),
        max_output_tokens=options.max_output_tokens,
        text_format=load_schema(options.schema) if options.schema else None,
        reasoning_context=value(options.reasoning_context),
        stream=stream,
        compact_threshold=_compact_threshold(options.compact_threshold, route.target),
    )
    request.model_names = route.model_names
    connection = Connection(
        route.azure or options.base_url,
        os.environ.get("AZURE_OPENAI_API_KEY" if route.azure else "OPENAI_API_KEY"),
        options.timeout,
        options.max_retries,
        azure=bool(route.azure),
        api_version=os.environ.get("OPENAI_API_VERSION") or None,
    )
    return TurnSettings(
        request=request,
        route=route,
        connection=connection,
        callbacks=output.turn_callbacks(json_out=json_out, stream=stream),
        lock_timeout=options.lock_timeout,
        dry_run=options.dry_run,
        no_send=options.no_send,
        runners=parse_runners(options.run_tool or [], tool_names(tools) if tools is not None else None),
        max_tool_rounds=options.max_tool_rounds,
        tool_timeout=options.tool_timeout,
        on_tool_run=output.tool_ran,
        on_lock_wait=output.lock_wait,
    )


#: The OpenAI API's least compact_threshold, from its refusal of a lower one: "Invalid
#: 'context_management[0].compact_threshold': integer below minimum value. Expected a value >= 1000, but got
#: 500 instead." (the project's replay reference, section "Compaction": N >= 1000, else "integer below minimum
#: value"; the loopback server of tests/fakeapi.py answers the same). Other servers decide for themselves.
OPENAI_MIN_COMPACT_THRESHOLD = 1000


def _compact_threshold(n: int | None, target: str) -> int | None:
    from respctl import target as tg

    if n is not None and target == tg.OPENAI and n < OPENAI_MIN_COMPACT_THRESHOLD:
        raise UsageError(
            f"--compact-threshold {n}: the OpenAI API takes {OPENAI_MIN_COMPACT_THRESHOLD} tokens or more "
            "(--target compatible sends any positive N)"
        )
    return n


def _run(fn, *args, json_out: bool = False, verbose: bool = False, **kwargs) -> None:
    """Call the core once and turn what it returns or raises into output and an exit code.
    With `verbose`, an error's whole story (a server's error body) follows its one line; with
    --json, a failure is one JSON object on stdout too (the error line stays on stderr)."""
    from respctl import output

    try:
        try:
            code = fn(*args, **kwargs)
        finally:
            _print_notes()
        _settle()  # the code is known: a Ctrl-C now would reach typer, which makes it a silent 130
    except RespctlError as exc:
        _settle()
        output.error(str(exc))
        if verbose and exc.detail:
            output.block("the server's whole answer:", exc.detail)
        if json_out:
            output.failure_json(exc, int(exc.exit_code))
        raise typer.Exit(int(exc.exit_code)) from None
    except KeyboardInterrupt as exc:
        raise typer.Exit(_interrupted(exc, json_out=json_out)) from None
    raise typer.Exit(int(code))


def _configure(*, quiet: bool, color: ColorChoice, verbose: bool = False) -> None:
    from respctl import output

    if quiet and verbose:
        raise UsageError("-q/--quiet and -v/--verbose cannot be used together")
    output.configure(quiet=quiet, verbose=verbose, color=color.value)


def _print_notes() -> None:
    conversation = sys.modules.get("respctl.conversation")  # loaded only if a file was read
    if conversation is not None:
        from respctl import output

        for line in conversation.notes():
            output.note(line)


def _interrupted(exc: KeyboardInterrupt, *, json_out: bool = False) -> int:
    """Say what is on disk after Ctrl-C (or SIGTERM, SIGHUP), and exit with the code that matches it:
    128 + the signal when nothing, or nothing but tool outputs, was written; the turn's own code
    when the interrupt came after the model's answer was saved (0 after a saved `compact`). With --json,
    the object's error message is the line's text, and `appended` the lines it says were saved."""
    from respctl import output

    _settle()  # a second Ctrl-C while this is said must not cut it short
    signum = getattr(exc, "signum", signal.SIGINT)
    what = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
    conversation = sys.modules.get("respctl.conversation")
    saved = conversation.saved() if conversation is not None else None
    rewritten = conversation.rewritten() if conversation is not None else []
    appended, code, say = 0, 128 + signum, output.error
    if saved is None and rewritten:  # lint --fix: the files done are done, the others untouched
        message = f"{what} after rewriting {', '.join(rewritten)}; no other file was changed"
    elif saved is None:
        message = f"{what}; nothing was written"
    elif saved.outcome is None:
        appended = saved.items
        message = (
            f"{what} after {output.plural(saved.items, 'new item')} {'was' if saved.items == 1 else 'were'} saved to "
            f"{saved.name}; the request that follows them was not answered: 'respctl say {saved.name}' sends it"
        )
    elif saved.archive is not None:  # `compact` is done: a script must not pay for it twice
        code, say = int(saved.outcome), output.note
        message = f"{what} after the compaction was saved to {saved.name} (its history is in {saved.archive})"
    else:
        appended, code, say = saved.items, int(saved.outcome), output.note  # not an error: the run ends as the turn did
        message = (
            f"{what} after the turn was saved to {saved.name} ({output.plural(saved.items, 'new item')}); "
            "do not send it again"
        )
        if saved.outcome == ExitCode.PENDING:
            message += (
                f": its tool calls are waiting ('respctl show {saved.name} --pending'; answer each with "
                f"'respctl tool-result {saved.name} CALL_ID OUTPUT')"
            )
    say(message)
    if json_out:
        output.failure_json(exc, code, message=message, appended=appended)
    return code


def _settle() -> None:
    """The exit code is known and says what is on disk: from here on Ctrl-C, SIGTERM and SIGHUP are
    ignored, so that one landing in typer's code or the interpreter's teardown cannot turn a saved
    turn into 130."""
    global _settled
    for name in _STOP_SIGNALS:
        signum = getattr(signal, name, None)
        if signum is not None:
            signal.signal(signum, signal.SIG_IGN)
    _settled = True


_STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")
_settled = False  # set by _settle(): the exit code was decided by respctl, not by typer
_last_signal: int = signal.SIGINT  # the stop signal last raised as an interrupt


def _stop_on(signum: int, _frame) -> None:
    global _last_signal
    _last_signal = signum
    raise Interrupted(signum)


def _handle_stop_signals() -> None:
    """SIGTERM and SIGHUP unwind like Ctrl-C, so that every exit path stops the tools and says what was
    written. A signal someone set to be ignored (nohup) stays ignored."""
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) == signal.SIG_DFL:
            signal.signal(signum, _stop_on)


@app.command(cls=PlainCommand, epilog=epilog("start"))
@turn_command
def start(
    file: File,
    message: Message = None,
    instructions: Annotated[
        str | None,
        typer.Option(
            "--instructions", metavar="TEXT", help="Instructions, stored as the first item.", show_default=False
        ),
    ] = None,
    instructions_file: Annotated[
        str | None,
        typer.Option(
            "--instructions-file", metavar="PATH", help="Read the instructions from a file.", show_default=False
        ),
    ] = None,
    role: Annotated[Role, typer.Option("--role", help="Role of the instructions message.")] = Role.developer,
    force: Annotated[
        bool, typer.Option("--force", help="Start over even if FILE already holds a conversation.")
    ] = False,
    image: Image = None,
    attach: Attach = None,
    *,
    options: TurnOptions,
    quiet: Quiet = False,
    color: Color = ColorChoice.auto,
) -> None:
    """Create FILE with the instructions and, given MESSAGE, run the first turn as `say` does."""

    _configure(quiet=quiet, verbose=options.verbose, color=color)

    def go() -> int:
        from respctl import inputs, output, turn

        text = inputs.instructions_text(instructions, instructions_file)
        item = inputs.message_item(message, image or [], attach or [], stdin_unasked=inputs.stdin_is_data())
        if text is None and item is None:
            raise UsageError(f"{file}: nothing to start: give --instructions, a MESSAGE, or both")
        # no message: no turn, so no model needed
        settings = _turn_settings(options.replace(no_send=options.no_send or item is None))
        result = turn.start(file, instructions=text, role=role.value, message_item=item, force=force, settings=settings)
        return output.turn_result(result, json_out=options.json_out, streamed=settings.request.stream, file=file)

    _run(
        go, json_out=options.json_out, verbose=options.verbose
    )  # --json: the server's whole answer in its failure object


@app.command(cls=PlainCommand, epilog=epilog("say"))
@turn_command
def say(
    file: File,
    message: Message = None,
    image: Image = None,
    attach: Attach = None,
    *,
    options: TurnOptions,
    as_is: Annotated[
        bool,
        typer.Option(
            "--as-is",
            help="No message: run a turn on the file as it is, even when it ends in an answer; stdin is not read.",
        ),
    ] = False,
    quiet: Quiet = False,
    color: Color = ColorChoice.auto,
) -> None:
    """Append a user message to FILE and run one turn.

    MESSAGE '-', or no MESSAGE while standard input is not a terminal, reads the message from
    standard input. With no message, run a turn on the file as it is when it has something new
    to answer (a user message, tool outputs); --as-is runs one in any case.
    """

    _configure(quiet=quiet, verbose=options.verbose, color=color)

    def go() -> int:
        from respctl import inputs, output, turn

        if as_is and message is not None:
            raise UsageError("--as-is runs a turn without a message; give a MESSAGE or --as-is, not both")
        from_stdin = message is None and not as_is and inputs.stdin_is_data()
        item = inputs.message_item(message, image or [], attach or [], stdin_unasked=from_stdin)
        if as_is and item is not None:
            raise UsageError("--as-is runs a turn without a message; --image and --attach need a MESSAGE")
        settings = _turn_settings(options)
        result = turn.say(file, message_item=item, settings=settings, as_is=as_is, stdin_empty=from_stdin)
        return output.turn_result(result, json_out=options.json_out, streamed=settings.request.stream, file=file)

    _run(
        go, json_out=options.json_out, verbose=options.verbose
    )  # --json: the server's whole answer in its failure object


@app.command("tool-result", cls=PlainCommand, epilog=epilog("tool-result"))
@turn_command
def tool_result(
    file: File,
    call_id: Annotated[
        str, typer.Argument(metavar="CALL_ID", help="The call_id of the call being answered.", show_default=False)
    ],
    output_text: Annotated[
        str | None,
        typer.Argument(metavar="OUTPUT", help="The tool's output; '-' reads standard input.", show_default=False),
    ] = None,
    output_file: Annotated[
        str | None,
        typer.Option("--output-file", metavar="PATH", help="Read the output from a file.", show_default=False),
    ] = None,
    *,
    options: TurnOptions,
    quiet: Quiet = False,
    color: Color = ColorChoice.auto,
) -> None:
    """Append the output for CALL_ID; when no call is left waiting, run the next turn (unless --no-send)."""

    _configure(quiet=quiet, verbose=options.verbose, color=color)

    def go() -> int:
        from respctl import inputs, output, turn

        text = inputs.tool_output_text(output_text, output_file)
        settings = _turn_settings(options)
        result = turn.tool_result(file, call_id=call_id, output=text, settings=settings)
        return output.turn_result(result, json_out=options.json_out, streamed=settings.request.stream, file=file)

    _run(
        go, json_out=options.json_out, verbose=options.verbose
    )  # --json: the server's whole answer in its failure object


#: The turn options `compact` takes (declared once, in TurnOptions).
COMPACT_OPTIONS = (
    "model",
    "json_out",
    "dry_run",
    "base_url",
    "target",
    "verbose",
    "timeout",
    "max_retries",
    "lock_timeout",
)


@app.command(cls=PlainCommand, epilog=epilog("compact"))
@turn_command(only=COMPACT_OPTIONS)
def compact(
    file: File,
    *,
    options: TurnOptions,
    quiet: Quiet = False,
    color: Color = ColorChoice.auto,
) -> None:
    """Replace FILE's history by the server's compacted window (POST /responses/compact).

    FILE keeps its instructions, then what the server returns (the user messages and one compaction
    item); the items replaced are appended to FILE.history.jsonl first. Refused, like say, for a file
    lint finds an error in or with tool calls waiting (exit 2)."""

    _configure(quiet=quiet, verbose=options.verbose, color=color)

    def go() -> int:
        from respctl import output, turn

        result = turn.compact(file, _turn_settings(options.replace(stream=False)))
        return output.compact_result(result, json_out=options.json_out, file=file)

    _run(go, json_out=options.json_out, verbose=options.verbose)


@app.command(cls=PlainCommand, epilog=epilog("lint"))
def lint(
    files: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="FILE",
            help="Conversation files, glob patterns or folders (their *.jsonl); '-' reads standard input.",
            show_default=False,
            autocompletion=_complete_path,
        ),
    ] = None,
    output_format: Annotated[LintFormat, typer.Option("--format", help="Output format.")] = LintFormat.text,
    fix: Annotated[bool, typer.Option("--fix", help="Apply the safe fixes, atomically, and report each.")] = False,
    target: LintTargetOpt = None,
    explain: Annotated[
        str | None,
        typer.Option(
            "--explain",
            metavar="CODE",
            help="Print the documentation of a rule (code or name) and exit.",
            show_default=False,
        ),
    ] = None,
    color: Color = ColorChoice.auto,  # taken as every command that prints takes it; lint prints no attributes today
) -> None:
    """Check conversation files for everything the API would reject. Exit 0 clean, 1 findings, 2 could not run."""
    import respctl.lint as lint_

    if explain is not None:
        _run(lint_.explain, explain)
    if not files:
        raise typer.BadParameter("give at least one FILE (or --explain CODE)", param_hint="FILES")
    from respctl import target as tg

    chosen = tg.resolve(target.value if target else None, os.environ.get("OPENAI_BASE_URL"))
    _run(lint_.run, files, output_format=output_format.value, fix=fix, target=chosen)


@app.command(cls=PlainCommand, epilog=epilog("show"))
def show(
    file: File,
    output_format: Annotated[ShowFormat, typer.Option("--format", help="Output format.")] = ShowFormat.text,
    pending: Annotated[bool, typer.Option("--pending", help="Show only the tool calls waiting for output.")] = False,
    last: Annotated[
        int | None,
        typer.Option("--last", metavar="N", min=1, help="Show only the last N turns.", show_default=False),
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Show long tool outputs and arguments whole.")] = False,
    color: Color = ColorChoice.auto,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even when lines are damaged (for git's textconv).")
    ] = False,
    no_pager: Annotated[
        bool, typer.Option("--no-pager", help="Never page (on a terminal, long output goes through $PAGER or less).")
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Print the conversation for people (text, markdown) or scripts (json); FILE '-' reads standard input.

    Damaged lines are shown and make the exit status 2."""
    from respctl.show import run as run_show

    _configure(quiet=quiet, color=color)
    _run(
        run_show,
        file,
        output_format=output_format.value,
        pending=pending,
        last=last,
        full=full,
        color=color.value,
        exit_zero=exit_zero,
        pager=not no_pager,
    )


class ImportFormat(str, Enum):
    chat = "chat"
    codex = "codex"
    response = "response"


Force = Annotated[bool, typer.Option("--force", help="Replace the file written if it exists.")]


def _lint_target(target, base_url: str | None = None) -> str:
    """The rule set a written file is checked against: as `respctl lint` chooses it."""
    from respctl import target as tg

    return tg.resolve(target.value if target else None, base_url or os.environ.get("OPENAI_BASE_URL"))[0]


@app.command(cls=PlainCommand, epilog=epilog("rewind"))
def rewind(
    file: File,
    turns: Annotated[
        int | None,
        typer.Argument(
            metavar="N", min=0, help="How many turns to drop from the end [default: 1].", show_default=False
        ),
    ] = None,
    to_line: Annotated[
        int | None,
        typer.Option(
            "--to-line",
            metavar="L",
            min=1,
            help="Keep lines 1 to L instead, moved back to the nearest safe boundary if L is inside a pair.",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would be removed; change nothing.")] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON object saying what was (or would be) removed.")
    ] = False,
    lock_timeout: LockTimeout = 60.0,
    quiet: Quiet = False,
    color: Color = ColorChoice.auto,
) -> None:
    """Drop the last N turns of FILE (default 1), atomically; never leaves half a pair behind.

    A turn is a user message and everything that came of it, as 'respctl show' numbers them; the
    instructions at the top are never removed."""
    from respctl import surgery

    _configure(quiet=quiet, color=color)

    def go() -> int:  # --json is rewind's own: a failure is the error line alone, not a turn's failure object
        return surgery.rewind(
            file, turns, to_line=to_line, dry_run=dry_run, json_out=json_out, lock_timeout=lock_timeout
        )

    _run(go)


@app.command(cls=PlainCommand, epilog=epilog("fork"))
def fork(
    src: Annotated[
        str,
        typer.Argument(
            metavar="SRC", help="The conversation to fork.", show_default=False, autocompletion=_complete_path
        ),
    ],
    dst: Annotated[
        str,
        typer.Argument(
            metavar="DST", help="The new conversation file.", show_default=False, autocompletion=_complete_path
        ),
    ],
    at: Annotated[
        int | None,
        typer.Option(
            "--at",
            metavar="TURN",
            min=0,
            help="Keep turns 1 to TURN (0: the instructions only) [default: all of SRC].",
            show_default=False,
        ),
    ] = None,
    force: Force = False,
    lock_timeout: LockTimeout = 60.0,
    quiet: Quiet = False,
    color: Color = ColorChoice.auto,
) -> None:
    """Write DST holding SRC up to the end of a turn; SRC is left as it is."""
    from respctl import surgery

    _configure(quiet=quiet, color=color)
    _run(surgery.fork, src, dst, at=at, force=force, lock_timeout=lock_timeout)


@app.command(cls=PlainCommand, epilog=epilog("edit"))
def edit(
    file: File,
    target: LintTargetOpt = None,
    lock_timeout: LockTimeout = 60.0,
    quiet: Quiet = False,
    color: Color = ColorChoice.auto,
) -> None:
    """Edit FILE in $VISUAL or $EDITOR (else vi), on a copy; the edit replaces FILE only once lint
    finds no error in it, and only if FILE did not change meanwhile."""
    from respctl import surgery

    _configure(quiet=quiet, color=color)
    _run(surgery.edit, file, target=_lint_target(target), lock_timeout=lock_timeout)


@app.command("import", cls=PlainCommand, epilog=epilog("import"))
def import_(
    source: Annotated[
        str,
        typer.Argument(
            metavar="SOURCE",
            help="Chat Completions messages (JSON), a codex rollout (rollout-*.jsonl), or a stored response's id "
            "(resp_...); '-' reads standard input.",
            show_default=False,
            autocompletion=_complete_path,
        ),
    ],
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE", help="The conversation file to write.", show_default=False, autocompletion=_complete_path
        ),
    ],
    source_format: Annotated[
        ImportFormat | None,
        typer.Option("--from", help="What SOURCE is [default: told from SOURCE itself].", show_default=False),
    ] = None,
    force: Force = False,
    base_url: BaseUrl = None,
    target: TargetOpt = None,
    timeout: Timeout = None,
    max_retries: MaxRetries = None,
    lock_timeout: LockTimeout = 60.0,
    verbose: Verbose = False,
    quiet: Quiet = False,
    color: Color = ColorChoice.auto,
) -> None:
    """Write FILE, a new conversation, from a conversation kept elsewhere; say what could not be carried over."""
    from respctl import migrate

    _configure(quiet=quiet, verbose=verbose, color=color)

    def connection():  # the key, base URL and Azure, as a turn finds them; nothing is sent but GETs
        options = TurnOptions(base_url=base_url, target=target, timeout=timeout, max_retries=max_retries, stream=False)
        return _turn_settings(options).connection

    _run(
        migrate.import_conversation,
        source,
        file,
        source_format=source_format.value if source_format else None,
        force=force,
        target=_lint_target(target, base_url),
        connection=connection,
        lock_timeout=lock_timeout,
        verbose=verbose,
    )


@app.command(cls=PlainCommand, epilog=epilog("export"))
def export(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="The conversation file; '-' reads standard input.",
            show_default=False,
            autocompletion=_complete_path,
        ),
    ],
    quiet: Quiet = False,
    color: Color = ColorChoice.auto,
) -> None:
    """Print the conversation as Chat Completions messages (a JSON array); what they cannot hold is said on stderr."""
    from respctl import migrate

    _configure(quiet=quiet, color=color)
    _run(migrate.export, file)


batch_app = typer.Typer(
    name="batch",
    help="The next turn of many conversation files at once, through the Batch API (or --local). See docs/batch.md.",
    rich_markup_mode=None,
    no_args_is_help=True,
    epilog=epilog("batch"),
)
app.add_typer(batch_app)

Files = Annotated[
    list[str],
    typer.Argument(
        metavar="FILE",
        help="Conversation files, each ending in something new to answer (as for 'respctl say FILE').",
        show_default=False,
        autocompletion=_complete_path,
    ),
]
BatchId = Annotated[str, typer.Argument(metavar="ID", help="The batch id 'batch submit' printed.", show_default=False)]
SkipInvalid = Annotated[
    bool,
    typer.Option("--skip-invalid", help="Leave out the files 'say' would refuse (listed) instead of submitting none."),
]
Poll = Annotated[
    float,
    typer.Option(
        "--poll",
        metavar="S",
        min=0.001,
        max=MAX_SECONDS,
        help="Longest wait in seconds between two polls of the batch.",
    ),
]


def _batch_settings(options: TurnOptions, command: str):
    """The settings of a batch's requests: a turn's, never streamed (a batch answers whole)."""
    refused = [
        flag
        for flag, given in (
            ("--no-send", options.no_send),
            ("--run-tool", options.run_tool),
            ("--stream", options.stream),
        )
        if given
    ]
    if refused:
        raise UsageError(f"batch {command} takes no {', '.join(refused)}: each file gets one turn, answered whole")
    return _turn_settings(options.replace(stream=False))


def _batch_plan(files: list[str], settings, skip_invalid: bool, *, local: bool = False):
    """Each file's request, the refused ones listed; over the Batch API's documented limits (not
    --local's), a note, before anything is paid for (and with --dry-run, when it is previewed)."""
    from respctl import batch, output

    planned = batch.plan(files, settings)
    for name, why in planned.refused:
        named = why.startswith((name, os.path.normpath(name)))  # the file's own error names it (./x as x)
        (output.note if skip_invalid else output.error)(why if named else f"{name}: {why}")
    if planned.refused and not skip_invalid:
        raise UsageError(
            f"{output.plural(len(planned.refused), 'file')} of {len(files):,} would be refused by 'respctl say' "
            "(listed above); nothing was submitted (--skip-invalid leaves them out)"
        )
    if not planned.entries:
        raise UsageError("no file left to submit")
    over = None if local else planned.over_documented_limits()
    if over:
        output.note(over)
    return planned


#: Left out of the batch commands' --help: refused (_batch_settings), or only of use with --run-tool.
_BATCH_HIDDEN = ("stream", "no_send", "run_tool", "max_tool_rounds", "tool_timeout")


def _submit(planned, settings, options: TurnOptions):
    """batch.submit, and, when the batch exists but its manifest is missing or Ctrl-C came, its id on
    stdout all the same (a paid batch is never left without a name)."""
    from pathlib import Path

    from respctl import batch, output

    try:
        return batch.submit(planned, settings.connection, model=options.model, folder=Path.cwd())
    except batch.Orphaned as exc:
        print(output.escape_controls(exc.batch_id), flush=True)
        raise
    except KeyboardInterrupt as exc:
        batch_id = getattr(exc, "batch_id", None)
        if batch_id is None:
            raise
        _settle()
        print(output.escape_controls(batch_id), flush=True)
        output.error(
            f"interrupted after the batch {batch_id} was created; its manifest is written: "
            f"'respctl batch collect {batch_id}' applies its answers once it has ended"
        )
        raise _Stopped(128 + int(getattr(exc, "signum", signal.SIGINT))) from None


class _Stopped(Exception):
    """What was on disk has been said: exit with this code."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


@batch_app.command("submit", cls=PlainCommand, epilog=epilog("batch submit"))
@turn_command(
    hide=_BATCH_HIDDEN,
    helps={"json_out": "Print one JSON object: batch_id, manifest, files (how many), refused (the files left out)."},
)
def batch_submit(
    files: Files,
    *,
    options: TurnOptions,
    skip_invalid: SkipInvalid = False,
    quiet: Quiet = False,
    color: Color = ColorChoice.auto,
) -> None:
    """Submit the next turn of each FILE as one batch; print its id. Nothing is written to the files
    until 'respctl batch collect ID'. --dry-run prints the batch's input file instead."""
    _configure(quiet=quiet, verbose=options.verbose, color=color)

    def go() -> int:
        from respctl import batch, output

        settings = _batch_settings(options, "submit")
        planned = _batch_plan(files, settings, skip_invalid)
        if options.dry_run:
            sys.stdout.buffer.write(planned.input_jsonl())
            return int(ExitCode.OK)
        try:
            manifest = _submit(planned, settings, options)
        except _Stopped as stop:
            return stop.code
        path = f"{batch.MANIFEST_DIR}/{manifest.batch_id}.json"
        if options.json_out:
            output.write_json(
                {
                    "batch_id": manifest.batch_id,
                    "manifest": path,
                    "files": len(planned.entries),
                    "refused": [{"file": name, "why": why} for name, why in planned.refused],
                }
            )
        else:
            print(manifest.batch_id)
        output.note(
            f"submitted {output.plural(len(planned.entries), 'file')}; manifest {path}; "
            f"'respctl batch collect {manifest.batch_id}' applies the answers once the batch has ended"
        )
        return int(ExitCode.OK)

    _run(go, json_out=options.json_out, verbose=options.verbose)


def _connection_settings(base_url, timeout, max_retries, lock_timeout=60.0):
    return _turn_settings(
        TurnOptions(base_url=base_url, timeout=timeout, max_retries=max_retries, lock_timeout=lock_timeout)
    )


@batch_app.command("status", cls=PlainCommand, epilog=epilog("batch status"))
def batch_status(
    batch_id: BatchId,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the batch object as the API sends it (its 'status' field: the state); for a --local "
            "run, its manifest.",
        ),
    ] = False,
    base_url: BaseUrl = None,
    timeout: Timeout = None,
    max_retries: MaxRetries = None,
    verbose: Verbose = False,
    quiet: Quiet = False,
    color: Color = ColorChoice.auto,
) -> None:
    """One line: the batch's state (validating, in_progress, finalizing, cancelling; ended: completed,
    failed, expired, cancelled) and how many of its requests are done."""
    _configure(quiet=quiet, verbose=verbose, color=color)

    def go() -> int:
        from respctl import batch, client, output

        batch.manifest_path(batch_id)  # an id, never a path
        if batch_id.startswith("local-"):  # ran with --local: no server knows it; its manifest says what happened
            manifest = batch.load_manifest(batch_id)
            if json_out:
                output.write_json(manifest.as_json() | {"report": manifest.report})
            else:
                print(output.escape_controls(f"{batch_id}  ran locally  {batch.local_summary(manifest)}"))
            return int(ExitCode.OK)
        import orjson

        raw = client.retrieve_batch_raw(_connection_settings(base_url, timeout, max_retries).connection, batch_id)
        obj = orjson.loads(raw)
        if json_out:
            sys.stdout.buffer.write(raw.rstrip(b"\n") + b"\n")
            sys.stdout.flush()
        else:
            print(output.batch_status_line(obj))
        return int(ExitCode.OK)

    _run(go, json_out=json_out, verbose=verbose)


@batch_app.command("collect", cls=PlainCommand, epilog=epilog("batch collect"))
def batch_collect(
    batch_id: BatchId,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
    base_url: BaseUrl = None,
    timeout: Timeout = None,
    max_retries: MaxRetries = None,
    lock_timeout: LockTimeout = 60.0,
    verbose: Verbose = False,
    quiet: Quiet = False,
    color: Color = ColorChoice.auto,
) -> None:
    """Apply an ended batch's answers to their files: each only if the file still holds the bytes it was
    submitted with. One line per file; exit 1 if any failed, else 2 if any changed meanwhile, else 4 if any
    is incomplete, else 3 if any has tool calls waiting, else 0 (130 on Ctrl-C: the files not yet written
    are listed 'not applied'). Running it again applies nothing twice."""
    _configure(quiet=quiet, verbose=verbose, color=color)

    def go() -> int:
        from respctl import batch, output

        settings = _connection_settings(base_url, timeout, max_retries, lock_timeout)
        report = batch.collect(batch_id, settings.connection, lock_timeout=lock_timeout, on_interrupt=_settle)
        return output.batch_report(report, json_out=json_out, cwd=os.getcwd())

    _run(go, json_out=json_out, verbose=verbose)


@batch_app.command("run", cls=PlainCommand, epilog=epilog("batch run"))
@turn_command(
    hide=(*_BATCH_HIDDEN, "dry_run"),
    helps={"json_out": "Print collect's report as one JSON object (as 'batch collect --json')."},
)
def batch_run(
    files: Files,
    *,
    options: TurnOptions,
    skip_invalid: SkipInvalid = False,
    poll: Poll = 30.0,
    local: Annotated[
        bool, typer.Option("--local", help="No Batch API: send the requests to the base URL, --jobs at a time.")
    ] = False,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", metavar="N", min=1, max=256, help="Requests at a time with --local.")
    ] = 4,
    quiet: Quiet = False,
    color: Color = ColorChoice.auto,
) -> None:
    """Submit, wait for the batch to end (a progress bar on a terminal), collect: 'batch submit' then
    'batch collect', with collect's report and exit code. Ctrl-C while waiting leaves the batch running;
    Ctrl-C while answers are applied (or with --local, sent) stops there: the report lists what was
    done, the rest 'not applied' or 'not sent', and the exit code is 130."""
    _configure(quiet=quiet, verbose=options.verbose, color=color)

    def go() -> int:
        from pathlib import Path

        from respctl import batch, output

        if options.dry_run:
            raise UsageError("batch run takes no --dry-run: 'batch submit --dry-run' prints the requests")
        settings = _batch_settings(options, "run")
        planned = _batch_plan(files, settings, skip_invalid, local=local)
        progress = output.Progress()
        if local:
            try:
                report = batch.run_local(
                    planned,
                    settings.connection,
                    model=options.model,
                    folder=Path.cwd(),
                    jobs=jobs,
                    lock_timeout=options.lock_timeout,
                    on_done=lambda done, total: progress.update("--local", done, total),
                    on_interrupt=_settle,
                )
            finally:
                progress.close()
            return output.batch_report(report, json_out=options.json_out, cwd=os.getcwd())
        try:
            manifest = _submit(planned, settings, options)
        except _Stopped as stop:
            return stop.code
        output.note(f"submitted {output.plural(len(planned.entries), 'file')} as {manifest.batch_id}")
        try:
            ended = batch.wait(
                manifest.batch_id,
                settings.connection,
                longest=poll,
                on_poll=lambda obj: progress.update(
                    f"{manifest.batch_id} {obj.get('status')}",
                    sum(int((obj.get("request_counts") or {}).get(k) or 0) for k in ("completed", "failed")),
                    int((obj.get("request_counts") or {}).get("total") or len(planned.entries)),
                ),
            )
        except KeyboardInterrupt as exc:
            _settle()
            progress.close()
            output.error(
                f"interrupted; the batch {manifest.batch_id} goes on running: "
                f"'respctl batch collect {manifest.batch_id}' applies its answers once it has ended"
            )
            return 128 + int(getattr(exc, "signum", signal.SIGINT))
        finally:
            progress.close()
        report = batch.collect(
            manifest.batch_id, settings.connection, lock_timeout=options.lock_timeout, batch=ended, on_interrupt=_settle
        )
        return output.batch_report(report, json_out=options.json_out, cwd=os.getcwd())

    _run(go, json_out=options.json_out, verbose=options.verbose)


def _version(value: bool) -> None:
    if value:
        print(f"respctl {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    pass


def main() -> None:
    """Entry point: usage errors become one `respctl: error: ...` line and exit 2."""
    _handle_stop_signals()
    args = sys.argv[1:]
    try:  # from here a Ctrl-C is told in one line, never a traceback
        command = typer.main.get_command(_only_the_command_run(args))
        fastparams.install(command)  # never raises: where typer is not as it expects, typer coerces as usual
        if not args and "_RESPCTL_COMPLETE" not in os.environ:  # bare `respctl`: the help, as --help prints, exit 2
            with command.make_context("respctl", ["--help"], resilient_parsing=True) as ctx:
                sys.stderr.write(command.get_help(ctx) + "\n")
            sys.exit(int(ExitCode.USAGE))
        code = command.main(args=args, prog_name="respctl", standalone_mode=False)
        if code == 128 + signal.SIGINT and not _settled:
            # typer (0.29) turns a KeyboardInterrupt raised in its own code (parsing, or unwinding a
            # command that did not settle) into a silent exit 130: say what is on disk, as for any other
            code = _interrupted(Interrupted(_last_signal), json_out=_wants_json(args))
        _settle()  # inside the try: a Ctrl-C before this line is still told, none after it can land uncaught
    except KeyboardInterrupt as exc:
        sys.exit(_interrupted(exc, json_out=_wants_json(args)))
    except Exception as exc:  # click's usage errors; anything else is a bug worth one line, not a traceback
        from respctl import output

        # bare `respctl batch`: its help, as bare `respctl` prints it. By name, as typer's rich_utils
        # tells it (its module moved from click to typer._click; the name did not)
        if type(exc).__name__ == "NoArgsIsHelpError":
            sys.stderr.write(getattr(exc, "format_message", exc.__str__)() + "\n")
            sys.exit(int(ExitCode.USAGE))
        usage = _usage_error_text(exc)
        if usage is None:
            if os.environ.get("RESPCTL_TRACEBACK"):
                raise
            usage = f"internal error, a bug in respctl (RESPCTL_TRACEBACK=1 shows where): {type(exc).__name__}: {exc}"
        output.error(usage)
        if _wants_json(args):
            output.failure_json(UsageError(usage), int(ExitCode.USAGE))
        code = int(ExitCode.USAGE)
    _settle()
    sys.exit(code if isinstance(code, int) else 0)


#: The commands that take --json (every `batch` subcommand does).
_JSON_COMMANDS = ("start", "say", "tool-result", "compact", "rewind", "batch")


def _wants_json(args: list[str]) -> bool:
    """--json on a command whose own parsing failed, or that typer's code saw interrupted: its one object
    is still wanted."""
    head = args[: args.index("--")] if "--" in args else args
    return "--json" in head and bool(head) and head[0] in _JSON_COMMANDS


def _only_the_command_run(args: list[str], whole: typer.Typer | None = None) -> typer.Typer:
    """The app, with only the subcommand named first on the command line (`lint`, `show`, `batch
    submit`...).

    Typer builds every subcommand's parameters before it runs one: about 1-2 ms each, most of
    `lint`'s or `show`'s start-up beyond a bare Typer program. Each option is still defined once,
    above; when the first argument names no subcommand (`--help`, `--version`, a typo) the whole
    app (or group: `batch --help`) is built, so help and error messages are Typer's own.
    """
    whole = app if whole is None else whole
    name = args[0] if args else ""
    commands = [
        info
        for info in whole.registered_commands
        if (info.name or typer.main.get_command_name(getattr(info.callback, "__name__", ""))) == name
    ]
    groups = [info for info in whole.registered_groups if _group_name(info) == name]
    if len(commands) + len(groups) != 1:
        return whole
    one = copy.copy(whole)
    one.registered_commands = commands
    one.registered_groups = groups
    if groups:  # a group's own subcommand, chosen the same way
        group = copy.copy(groups[0])
        assert group.typer_instance is not None
        group.typer_instance = _only_the_command_run(args[1:], group.typer_instance)
        one.registered_groups = [group]
    return one


def _group_name(info) -> str | None:
    """A group's name: given to add_typer, or (as for batch) to its own Typer()."""
    for candidate in (info.name, getattr(getattr(info.typer_instance, "info", None), "name", None)):
        if isinstance(candidate, str):  # not typer's DefaultPlaceholder
            return candidate
    return None


def _usage_error_text(exc: Exception) -> str | None:
    if isinstance(exc, UsageError):  # a check of the options before the command runs (-q with -v)
        return str(exc)
    if isinstance(exc, typer.Abort):
        return "aborted"
    if isinstance(exc, typer.TyperException) and hasattr(exc, "format_message"):  # click's UsageError & co.
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        return f"{exc.format_message()}{hint}"
    return None
