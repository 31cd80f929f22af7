"""One turn: the file and the options in, a request out, the new items appended. Never prints.

A turn is three steps, each its own function:
    plan    the exact request body, from the file's lines and the new items: no network, no openai
            (`plan`; `plan_say` is `say`'s, whole, for a body to send later);
    record  the new items written under the lock, nothing sent (`_record`: --no-send, calls still waiting);
    send    the body to the API through respctl.client, then the new items and the answer written (`_send`).
--dry-run stops after the plan. With --run-tool, tool rounds follow a sent turn (`_converse`).
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from respctl import boundaries, compaction
from respctl import items as it
from respctl import target as tg
from respctl.callbacks import Callbacks
from respctl.conversation import (
    Conversation,
    add_note,
    check_replaceable,
    dumps_item,
    locked_conversation,
    save_beside,
    signals_deferred,
)
from respctl.errors import ApiError, BadFileError, ExitCode, RespctlError, UsageError
from respctl.lint import gate
from respctl.outcome import Status
from respctl.request import Connection, RequestOptions, build_body, build_compact_body

# Imported where needed, at a cost only some turns pay: respctl.client loads openai (only a turn that
# is sent), respctl.runner subprocess and threading (only --run-tool rounds), respctl.apierror its
# patterns (only after an API error).


@dataclass
class TurnSettings:
    request: RequestOptions = field(default_factory=RequestOptions)
    route: tg.Route = field(default_factory=tg.route_default)  # which lint rules the gate applies, and why
    connection: Connection = field(default_factory=Connection)
    callbacks: Callbacks | None = None
    lock_timeout: float = 60.0
    dry_run: bool = False
    no_send: bool = False
    runners: dict = field(default_factory=dict)  # tool name -> runner.Runner
    max_tool_rounds: int = 8
    tool_timeout: float = 120.0
    on_tool_run: Callable[[dict, str], None] = lambda _call, _line: None
    on_lock_wait: Callable[[str, str, float], None] = lambda _event, _name, _seconds: None


@dataclass
class TurnResult:
    exit_code: ExitCode
    status: Status
    text: str = ""
    tool_calls: list[dict] = field(default_factory=list)
    usage: dict | None = None
    response_id: str | None = None
    appended: int = 0
    body: bytes | None = None  # --dry-run: the request body a turn would send (None: it would send none)
    rounds_limit: int | None = None  # --max-tool-rounds stopped a loop whose calls all had runners
    dropped: int = 0  # items a compaction replaced, moved from the file to its archive

    @property
    def sent(self) -> bool:
        return self.status in (Status.COMPLETED, Status.INCOMPLETE)

    def as_json(self) -> dict:
        return {
            "status": self.status.value,
            "text": self.text,
            "tool_calls": self.tool_calls,
            "usage": self.usage,
            "response_id": self.response_id,
            "appended": self.appended,
        }


@dataclass(frozen=True)
class Plan:
    """A turn worked out, nothing done yet: the items it appends, and the exact body it sends."""

    new_items: list[dict]
    body: bytes
    source: bytes = b""  # the file's bytes the plan was made from (plan_say; a batch identifies them)


def plan(conv: Conversation, new_items: list[dict], request: RequestOptions) -> Plan:
    """The plan step: the body of the turn's request, byte for byte, from the file's lines as they
    are on disk and the new items. No network, no openai, nothing written."""
    lines = conv.lines + [dumps_item(item) for item in new_items]
    if not lines:
        raise UsageError(f"{conv.name}: nothing to send: the conversation is empty and no MESSAGE was given")
    return Plan(new_items, build_body(lines, request))


def plan_say(
    path: str,
    *,
    settings: TurnSettings,
    message_item: dict | None = None,
    as_is: bool = False,
    nothing_new: str | None = None,
) -> Plan:
    """What `respctl say FILE [MESSAGE]` would send now (`--as-is`: with no message), after the checks
    `say` makes (the file clean for the target's rules, no call waiting, something new to answer):
    the plan step alone, for a request sent later (a batch). Nothing sent, nothing written.
    `nothing_new`: what to do about a file that ends in the model's answer, in the caller's words."""
    with _locked(path, settings) as conv:
        _lint_gate(conv, settings.route)
        new_items = _say_items(conv, message_item, as_is=as_is, stdin_empty=False, nothing_new=nothing_new)
        planned = plan(conv, new_items, settings.request)
        return Plan(planned.new_items, planned.body, conv.data)


def start(
    path: str, *, instructions: str | None, role: str, message_item: dict | None, force: bool, settings: TurnSettings
) -> TurnResult:
    """Create the conversation: instructions first, then, with a message, its first turn."""
    p = Path(path)
    existed = p.exists()
    new_items = ([it.instructions_message(instructions, role)] if instructions else []) + (
        [message_item] if message_item else []
    )
    sends = message_item is not None
    if settings.dry_run and not existed:
        return _take_turn(Conversation(p, b"", [], []), new_items, settings, sends=sends, replace=True)
    try:
        with _locked(path, settings, create=True) as conv:
            if conv.data and not force:
                raise UsageError(
                    f"{p}: already holds a conversation ({len(conv.items)} items); "
                    "use 'respctl say', or --force to start over"
                )
            conv.lines, conv.items = [], []  # --force starts from nothing; the file is replaced at the end
            return _converse(conv, _take_turn(conv, new_items, settings, sends=sends, replace=True), settings)
    except BaseException:
        if not existed:
            _remove_if_empty(p)
        raise


def say(
    path: str, *, message_item: dict | None, settings: TurnSettings, as_is: bool = False, stdin_empty: bool = False
) -> TurnResult:
    """Append a user message (if any) and run one turn on the whole file. With no message, the
    file must have something new to answer (a user message, tool outputs) unless `as_is`.
    `stdin_empty`: standard input was read for the message and held none."""
    with _locked(path, settings) as conv:
        _lint_gate(conv, settings.route)
        resumable = message_item is None and not (settings.dry_run or settings.no_send)
        if resumable and _runnable(it.pending_calls(conv.items), settings):
            # a rerun after a crash: the tool loop goes on, the calls left waiting answered first
            return _converse(conv, _tool_round(conv, settings, None), settings, rounds=1)
        new_items = _say_items(conv, message_item, as_is=as_is, stdin_empty=stdin_empty)
        return _converse(conv, _take_turn(conv, new_items, settings), settings)


def _say_items(
    conv: Conversation, message_item: dict | None, *, as_is: bool, stdin_empty: bool, nothing_new: str | None = None
) -> list[dict]:
    """What `say` appends before its turn, once the file is known to take it."""
    _refuse_pending(conv)
    if message_item is None and not as_is and conv.items and not it.is_client_input(conv.items[-1]):
        if nothing_new is not None:
            raise UsageError(f"{conv.name}: nothing new to answer: the file ends in the model's answer ({nothing_new})")
        raise UsageError(
            f"{conv.name}: nothing new to answer: the file ends in the model's answer and "
            + ("standard input was empty (give a MESSAGE" if stdin_empty else "no MESSAGE was given (give one")
            + ", as an argument or on standard input; --as-is runs a turn on the file as it is)"
        )
    return [message_item] if message_item else []


def _locked(path: str, settings: TurnSettings, create: bool = False):
    return locked_conversation(path, lock_timeout=settings.lock_timeout, create=create, on_wait=settings.on_lock_wait)


def tool_result(path: str, *, call_id: str, output: str, settings: TurnSettings) -> TurnResult:
    """Answer one pending call; when none is left waiting, run the next turn."""
    with _locked(path, settings) as conv:
        _lint_gate(conv, settings.route)  # call ids are unique past it (RSP207)
        pending = it.pending_calls(conv.items)
        call = _pending_call(conv, call_id, pending)
        still_pending = [c for c in pending if c is not call]
        return _converse(
            conv, _take_turn(conv, [it.tool_output(call, output)], settings, sends=not still_pending), settings
        )


def _pending_call(conv: Conversation, call_id: str, pending: list[dict]) -> dict:
    for call in pending:
        if call["call_id"] == call_id:
            return call
    if any(it.item_type(item) in it.CALL_OUTPUT_TYPES and item.get("call_id") == call_id for item in conv.items):
        raise UsageError(f"{conv.name}: call {call_id!r} already has its output")
    known = ", ".join(c["call_id"] for c in pending) or "none"
    raise UsageError(f"{conv.name}: no tool call with call_id {call_id!r} (waiting for output: {known})")


def _refuse_pending(conv: Conversation) -> None:
    pending = it.pending_calls(conv.items)
    if pending:
        ids = ", ".join(str(c.get("call_id")) for c in pending)
        raise UsageError(
            f"{conv.name}: {len(pending)} tool call(s) waiting for output ({ids}); "
            "answer them with 'respctl tool-result' first"
        )


def _take_turn(
    conv: Conversation, new_items: list[dict], settings: TurnSettings, *, sends: bool = True, replace: bool = False
) -> TurnResult:
    """One turn, step by step: plan, then record the new items (no request: `sends` false, or
    --no-send) or send and record them with the answer; --dry-run stops after the plan.
    `replace`: the new items replace the file's (start), rather than follow them."""
    sends = sends and not settings.no_send
    if settings.dry_run:
        body = plan(conv, new_items, settings.request).body if sends else None
        return TurnResult(ExitCode.OK, Status.DRY_RUN, body=body)
    check_replaceable(conv.path)  # before paying: the rename must be allowed
    if not sends:
        return _record(conv, new_items, replace=replace)
    return _send(conv, plan(conv, new_items, settings.request), settings, replace=replace)


def _converse(conv: Conversation, result: TurnResult, settings: TurnSettings, rounds: int = 0) -> TurnResult:
    """After a turn that was sent, as many tool rounds as the model asks for (up to the limit), while
    every call waiting has a runner. `rounds`: the rounds already run."""
    while result.sent and result.exit_code == ExitCode.PENDING:
        if not _runnable(it.pending_calls(conv.items), settings):
            break
        if rounds >= settings.max_tool_rounds:
            result.rounds_limit = settings.max_tool_rounds
            break
        rounds += 1
        result = _tool_round(conv, settings, result)
    return result


def _tool_round(conv: Conversation, settings: TurnSettings, previous: TurnResult | None) -> TurnResult:
    """Run the tools of the pending calls and then the next turn. The outputs are written first,
    each write atomic, so a crash leaves a file that replays and no tool runs twice."""
    outputs = _run_tools(it.pending_calls(conv.items), settings)
    conv.append(outputs)  # more to come: no outcome yet
    try:
        result = _take_turn(conv, [], settings)
    except RespctlError as exc:  # the rounds before stay in the file: say how many lines they added
        exc.appended = len(outputs) + (previous.appended if previous else 0)
        raise
    result.appended += len(outputs) + (previous.appended if previous else 0)
    result.usage = _add_usage(previous.usage if previous else None, result.usage)
    return result


def _runnable(calls: list[dict], settings: TurnSettings) -> bool:
    """True when every waiting call has a runner (a call without one is the script's to answer)."""
    return bool(calls) and all(call.get("name") in settings.runners for call in calls)


def _run_tools(calls: list[dict], settings: TurnSettings) -> list[dict]:
    from respctl.runner import run_call

    outputs = []
    for call in calls:
        text, line = run_call(settings.runners[call["name"]], call, settings.tool_timeout)
        settings.on_tool_run(call, line)
        outputs.append(it.tool_output(call, text))
    return outputs


def _add_usage(a: dict | None, b: dict | None) -> dict | None:
    if not a or not b:
        return b or a
    total: dict = {}
    for key in set(a) | set(b):
        x, y = a.get(key), b.get(key)
        if isinstance(x, dict) or isinstance(y, dict):
            total[key] = _add_usage(x if isinstance(x, dict) else None, y if isinstance(y, dict) else None)
        elif isinstance(x, int) or isinstance(y, int):
            total[key] = (x if isinstance(x, int) else 0) + (y if isinstance(y, int) else 0)
    return total


def _record(conv: Conversation, new_items: list[dict], *, replace: bool) -> TurnResult:
    """The record step alone: the new items written, no request (--no-send, or calls still waiting)."""
    waiting = it.pending_calls(conv.items + new_items)
    code = ExitCode.PENDING if waiting else ExitCode.OK
    _write(conv, new_items, replace, outcome=code)
    return TurnResult(code, Status.RECORDED, tool_calls=[it.call_summary(c) for c in waiting], appended=len(new_items))


def _send(conv: Conversation, planned: Plan, settings: TurnSettings, *, replace: bool) -> TurnResult:
    """The send step: the planned body to the API, then its new items and the answer written."""
    from respctl import client  # client imports openai: only a turn that is sent loads it

    try:
        response = client.send(
            planned.body, settings.connection, stream=settings.request.stream, callbacks=settings.callbacks
        )
    except ApiError as exc:
        if exc.raw is not None:
            saved = save_beside(conv.path, [exc.raw], ext=".json")
            where = f"what it sent was saved to {saved}" if saved else "what it sent could not be saved anywhere"
            raise ApiError(f"{exc}; {where}", kind=exc.kind) from None
        hint = _role_hint(exc.detail, conv, len(conv.lines) + len(planned.new_items))
        if hint:
            raise ApiError(f"{exc}; the server refuses the developer role: {hint}", detail=exc.detail) from None
        raise
    compact = settings.request.compact_threshold is not None
    return record_answer(conv, planned.new_items, response, replace=replace, compact=compact)


def record_answer(
    conv: Conversation, new_items: list[dict], response, *, replace: bool = False, compact: bool = False
) -> TurnResult:
    """The record step after a request was answered: the new items and the answer's output, cleaned
    (what replays), appended under the lock the caller holds. `response`: a client.RawResponse, from a
    turn's own request or from a batch's result line (`client.response_from_body`). `compact`: the
    request asked for compaction (--compact-threshold), so a compaction item in the output lets the
    file drop what it replaces."""
    status = Status(response.status)  # completed or incomplete only: client raises on the others
    output = answer_items(response)
    calls = [it.call_summary(item) for item in output if it.item_type(item) in it.CALL_OUTPUT_TYPES]
    if status is Status.INCOMPLETE:
        code = ExitCode.INCOMPLETE
    elif calls:
        code = ExitCode.PENDING
    else:
        code = ExitCode.OK
    _write(conv, new_items + output, replace, outcome=code)
    # Asked for (--compact-threshold), a compaction item lets the file drop what it replaces; one that came
    # unasked (not from the OpenAI API, which compacts only when asked) is kept as it came, the file whole.
    dropped = _drop_compacted(conv) if compact and any(it.item_type(item) == "compaction" for item in output) else 0
    text = "\n\n".join(filter(None, (it.message_text(item) for item in output if item.get("type") == "message")))
    return TurnResult(
        code,
        status,
        text=text,
        tool_calls=calls,
        usage=response.usage,
        response_id=response.response_id,
        appended=len(new_items) + len(output),
        dropped=dropped,
    )


def answer_items(response) -> list[dict]:
    """The items of an answer that go into the file: its output cleaned, and what replays of it."""
    return replayable_output([it.clean_output_item(item) for item in response.output], Status(response.status))


def _drop_compacted(conv: Conversation) -> int:
    """The items a compaction item in the answer replaces, archived and dropped (respctl.compaction).
    The turn is saved already: should this fail, the file stays whole and a later turn drops them."""

    try:
        return compaction.drop_compacted(conv)
    except RespctlError as exc:
        add_note(f"{conv.name}: the items a compaction replaces stay in the file for now: {exc}")
        return 0


def replayable_output(output: list[dict], status: Status) -> list[dict]:
    """Keep what replays: in an incomplete response, drop calls cut short and the
    reasoning items left with no following item (which the API refuses: RSP201)."""
    if status is not Status.INCOMPLETE:
        return output
    kept = [
        item
        for item in output
        if not (it.item_type(item) in it.CALL_OUTPUT_TYPES and item.get("status") == "incomplete")
    ]
    while kept and kept[-1].get("type") == "reasoning":
        kept.pop()
    return kept


def _role_hint(body: str | None, conv: Conversation, sent: int) -> str:
    """The fix that exists for a refused developer message: a new one (start --instructions) can be
    sent as `system`; one already in the file must be edited, or the conversation started over."""
    from respctl.apierror import refused_role

    index = refused_role(body) if body else None
    if index is None or not 0 <= index < sent:
        return ""
    if index >= len(conv.lines):
        return "try --role system"
    return (
        f"line {index + 1} of {conv.name} holds one; edit its role to system, "
        "or start over with 'respctl start --force --role system'"
    )


def _write(conv: Conversation, new_items: list[dict], replace: bool, outcome: ExitCode | None = None) -> None:
    """`outcome`: the exit code the turn ends with once these items are on disk (None: more to come)."""
    if replace:
        conv.replace(new_items, outcome)
    else:
        conv.append(new_items, outcome)


def _lint_gate(conv: Conversation, route: tg.Route) -> None:
    """Refuse a file the server would reject, before a request is paid for (the target's rules only)."""
    problems = gate(conv.name, conv.lines, conv.items, route.target)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        code = problems[0][len(conv.name) :].split(" ", 2)[1]
        hint = f" ({tg.OTHER_SERVER})" if not tg.applies(code, tg.COMPATIBLE) else ""
        raise BadFileError(f"{problems[0]}{more}; see '{tg.lint_command(conv.name, route)}'{hint}")


def _remove_if_empty(path: Path) -> None:
    try:
        st = path.lstat()
        if stat.S_ISREG(st.st_mode) and st.st_size == 0:  # never a device or a FIFO: their size is 0 too
            path.unlink()
    except OSError:
        pass


@dataclass
class Compacted:
    """What `respctl compact` did (or, --dry-run, would send)."""

    items_before: int = 0
    items_after: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    usage: dict | None = None
    archive: str | None = None
    body: bytes | None = None  # --dry-run: the request body
    archived: int = 0
    output: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "status": "dry_run" if self.body is not None else "compacted",
            "items_before": self.items_before,
            "items_after": self.items_after,
            "bytes_before": self.bytes_before,
            "bytes_after": self.bytes_after,
            "usage": self.usage,
            "archive": self.archive,
            "archived": self.archived,
        }


def compact(path: str, settings: TurnSettings) -> Compacted:
    """`respctl compact FILE`: the file's items to POST /responses/compact, and the file replaced by its
    instructions and the window the server returns (the rest archived). The same checks as `say` first
    (the target's lint rules, no call waiting); a failure leaves the file and its archive unchanged."""
    with _locked(path, settings) as conv:
        _lint_gate(conv, settings.route)
        _refuse_pending(conv)
        if not conv.items:
            raise UsageError(f"{conv.name}: nothing to compact: the conversation is empty")
        body = build_compact_body(conv.lines, settings.request)
        before = Compacted(items_before=len(conv.items), bytes_before=len(conv.data))
        if settings.dry_run:
            before.body = body
            return before
        check_replaceable(conv.path)  # before paying: the rename must be allowed
        from respctl import client

        answer = client.compact(body, settings.connection, callbacks=settings.callbacks)
        output = [it.clean_output_item(item) for item in answer.get("output") or [] if isinstance(item, dict)]
        if not any(it.item_type(item) == "compaction" for item in output):
            raise ApiError(f"the server's compaction holds no compaction item; {conv.name} is unchanged")
        first = boundaries.instructions_end(conv.items)
        new_lines = [dumps_item(item) for item in output]
        with signals_deferred():  # a paid compaction is not left half done: Ctrl-C waits for both writes
            archive = compaction.append_archive(conv.path, conv.lines[first:])
            conv.rewrite(conv.lines[:first] + new_lines, conv.items[:first] + output)
            conv.compacted(str(archive))
        usage = answer.get("usage")
        return Compacted(
            items_before=before.items_before,
            bytes_before=before.bytes_before,
            items_after=len(conv.items),
            bytes_after=len(conv.data),
            usage=usage if isinstance(usage, dict) else None,
            archive=str(archive),
            archived=before.items_before - first,
            output=output,
        )
