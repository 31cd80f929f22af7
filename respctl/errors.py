"""The exit codes of the contract and the one error type the core raises."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # the turn ended with the model's answer
    FAILED = 1  # API/network failure, failed response, busy file
    USAGE = 2  # bad flags or bad input; nothing written
    PENDING = 3  # the model asked for tool calls
    INCOMPLETE = 4  # incomplete response; complete items kept
    # An interrupt exits 128 + the signal (130 for Ctrl-C) or, after the turn was saved, the turn's own
    # code: respctl.cli._interrupted, which says what is on disk.


class RespctlError(Exception):
    """An error shown to the user as one line, mapped to an exit code."""

    exit_code: ExitCode = ExitCode.USAGE
    #: What went wrong, for `--json`: usage, bad_input, busy, write, http, connection, timeout, stream, response.
    kind: str = "usage"
    http_status: int | None = None
    #: Lines written before the failure (a --run-tool round's, which stay in the file).
    appended: int = 0
    #: What a server sent that respctl could not take in (an answer nested too deeply), to be rescued.
    raw: bytes | None = None

    def __init__(
        self,
        message: str,
        exit_code: ExitCode | None = None,
        *,
        detail: str | None = None,
        kind: str | None = None,
        http_status: int | None = None,
    ):
        super().__init__(message)
        # The whole story (a server's error body): printed with -v, and kept here for --json's failure object.
        self.detail = detail
        if exit_code is not None:
            self.exit_code = exit_code
        if kind is not None:
            self.kind = kind
        if http_status is not None:
            self.http_status = http_status


class UsageError(RespctlError):
    exit_code = ExitCode.USAGE


class BadFileError(RespctlError):
    """The conversation file (or another input file) cannot be used."""

    exit_code = ExitCode.USAGE
    kind = "bad_input"


class BusyError(RespctlError):
    exit_code = ExitCode.FAILED
    kind = "busy"


class ApiError(RespctlError):
    exit_code = ExitCode.FAILED
    kind = "response"


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, handled like Ctrl-C: the code in between cleans up (tools are killed)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
