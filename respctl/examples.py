"""The examples at the end of each command's `--help`, as llm and httpie show theirs.

One entry per command: a short comment line, then the command (a long one continues on the next line
after a trailing backslash). A comment that ends in `exit N`, or holds `(exit N)`, tells the reader (and
the test that runs every example, tests/test_help_examples.py) the exit status of the command that
follows it; otherwise that is 0.
The examples work on files in the current folder: chat.jsonl, tools.json and get_weather.py (as in
samples/), notes.md, photo.png, prompt.md, rome.json. Keep each line within 56 characters, so that
the help fits a terminal 60 columns wide.

Plain strings, imported by `--help`: nothing here may import anything.
"""

EXAMPLES: dict[str, str] = {
    "respctl": """\
# a conversation in one file: start it, then a turn
respctl start chat.jsonl -m gpt-5-mini \\
    --instructions "Be terse." "Plan a trip to Rome"
respctl say chat.jsonl "Make it cheaper" -m gpt-5-mini

# read it, and check it for what the API would reject
respctl show chat.jsonl
respctl lint chat.jsonl

# set RESPCTL_MODEL to leave out -m; 'respctl COMMAND
# --help' shows each command's options and examples
""",
    "start": """\
# instructions only; the first turn comes with 'say'
respctl start chat.jsonl --instructions "Be terse."

# instructions and the first turn, over what was there
respctl start chat.jsonl --force -m gpt-5-mini \\
    --instructions "Be terse." "Plan a trip to Rome"

# instructions from a file, as a system message
respctl start chat.jsonl --force --role system \\
    --instructions-file prompt.md
""",
    "say": """\
# one turn: the answer streams to the terminal
respctl say chat.jsonl "Make it cheaper" -m gpt-5-mini

# the message from standard input; one JSON object out
echo "What to pack?" | respctl say chat.jsonl --json

# with a text file and an image
respctl say chat.jsonl "Review this" --attach notes.md \\
    --image photo.png

# print the request it would send; send nothing
respctl say chat.jsonl "Hello" --dry-run

# a command answers the model's tool calls
respctl say chat.jsonl "Weather in Oslo?" \\
    --tools tools.json \\
    --run-tool get_weather=./get_weather.py

# a long conversation: the server compacts it past
# 20k tokens; what that replaces is moved to
# chat.jsonl.history.jsonl
respctl say chat.jsonl "Next step" \\
    --compact-threshold 20000
""",
    "compact": """\
# the request it would send; send nothing
respctl compact chat.jsonl --dry-run -m gpt-5-mini

# replace the history by the server's compacted
# window (the rest goes to chat.jsonl.history.jsonl)
respctl compact chat.jsonl -m gpt-5-mini
""",
    "tool-result": """\
# the model asked for two calls (exit 3): list them
respctl say chat.jsonl "Paris, Rome?" --tools tools.json
respctl show chat.jsonl --pending

# answer one; the other still waits: exit 3
respctl tool-result chat.jsonl call_abc '{"temp_c": 21}'

# record the last answer only (--no-send)
respctl tool-result chat.jsonl call_def --no-send \\
    --output-file rome.json

# then run the next turn on the file as it is
respctl say chat.jsonl --as-is --tools tools.json
""",
    "lint": """\
# one line per problem; exit 1 if any, else 0
respctl lint chat.jsonl

# every *.jsonl under a folder, as GitHub annotations
respctl lint --format github convs/

# mend the problems that have a safe fix
respctl lint --fix chat.jsonl

# what a rule checks, why, and how to fix it
respctl lint --explain RSP201

# only the rules every server shares (vLLM, gpt-oss)
respctl lint --target compatible chat.jsonl
""",
    "show": """\
# turn by turn (through a pager on a terminal)
respctl show chat.jsonl

# the last turn only, long tool outputs whole
respctl show chat.jsonl --last 1 --full

# markdown, for a pull request or an export
respctl show chat.jsonl --format markdown > chat.md

# for scripts: one JSON object per line of the file
respctl show chat.jsonl --format json | jq -r '.[].type'

# the committed version, read from git
git show HEAD:chat.jsonl | respctl show -
""",
    "rewind": """\
# what the last turn holds; nothing is changed
respctl rewind chat.jsonl --dry-run

# drop the last turn, then ask again
respctl rewind chat.jsonl
respctl say chat.jsonl "Plan a trip to Rome, briefly"

# keep lines 1-2 (moved back if 2 splits a pair)
respctl rewind chat.jsonl --to-line 2 --json
""",
    "fork": """\
# a copy to try another direction in
respctl fork chat.jsonl try.jsonl

# the instructions and the first turn only
respctl fork chat.jsonl first.jsonl --at 1

# over a file that exists
respctl fork chat.jsonl try.jsonl --at 0 --force
""",
    "edit": """\
# in $VISUAL or $EDITOR (else vi); saved once lint-clean
respctl edit chat.jsonl

# any command that edits in place: drop line 1
EDITOR="sed -i 1d" respctl edit chat.jsonl
""",
    "import": """\
# Chat Completions messages (a JSON array or request)
respctl import messages.json chat2.jsonl

# a codex session, over a file that exists
respctl import --force \\
    ~/.codex/sessions/2026/01/02/rollout-1.jsonl \\
    chat2.jsonl

# from standard input, saying what it is
cat messages.json | respctl import - chat3.jsonl \\
    --from chat
""",
    "export": """\
# the conversation as Chat Completions messages
respctl export chat.jsonl > messages.json

# the messages of the last turn only
respctl export chat.jsonl | jq '.[-2:]'
""",
    "batch": """\
# the next turn of every file, through the Batch API;
# 'batch submit', 'status' and 'collect' do it in steps
respctl batch run convs/*.jsonl -m gpt-5-mini
""",
    "batch submit": """\
# one batch of every file's next turn; prints its id
respctl batch submit convs/*.jsonl -m gpt-5-mini

# leave out (and list) the files say would refuse
respctl batch submit convs/*.jsonl chat.jsonl \\
    -m gpt-5-mini --skip-invalid

# print the batch's input file; send nothing
respctl batch submit convs/*.jsonl --dry-run
""",
    "batch status": """\
# state and requests done, in one line
respctl batch status "$BATCH"

# the batch object, for scripts
respctl batch status "$BATCH" --json
""",
    "batch collect": """\
# apply the answers of an ended batch; one line a file
respctl batch collect "$BATCH"

# again: nothing is applied twice; a JSON report
respctl batch collect "$BATCH" --json
""",
    "batch run": """\
# submit, wait (a progress bar), collect
respctl batch run convs/*.jsonl -m gpt-5-mini

# a server without a Batch API: 8 requests at a time
respctl batch run evals/*.jsonl -m gpt-5-mini \\
    --local --jobs 8
""",
}


def epilog(command: str) -> str:
    """The examples of COMMAND as a help epilog: each paragraph marked `\\b`, so that the help
    formatter keeps its lines as they are instead of joining and rewrapping them."""
    paragraphs = EXAMPLES[command].strip("\n").split("\n\n")
    body = "\n\n".join("\b\n" + "\n".join("  " + line for line in p.split("\n")) for p in paragraphs)
    return "Examples:\n\n" + body
