"""respctl: one OpenAI Responses API conversation in one JSONL file."""

__version__ = "0.1.0"

#: --timeout when none is given: seconds one attempt may take, from sending the request to the last
#: byte of the answer (a deadline; the SDK's own 600 s applied to each read, so it never ended).
#: Here rather than in respctl.request, so that the help text has it without loading the request code.
DEFAULT_TIMEOUT = 600.0

#: The most --timeout, --lock-timeout and --tool-timeout take (a day): a deadline past it is a typo,
#: and `inf` or 1e10 would overflow the timers underneath.
MAX_SECONDS = 86_400.0
