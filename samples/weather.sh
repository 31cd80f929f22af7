#!/usr/bin/env bash
# The canonical shell tool loop: say -> read the pending calls -> answer each -> repeat.
#   samples/weather.sh [FILE]      (needs RESPCTL_MODEL, and OPENAI_API_KEY or OPENAI_BASE_URL)
set -u
here=$(cd "$(dirname "$0")" && pwd)
chat=${1:-weather.jsonl}
export RESPCTL_TOOLS="$here/tools.json"

respctl start "$chat" --force --instructions "Use get_weather for every city you are asked about. Answer in one sentence."
respctl say "$chat" "What is the weather in Paris and Rome right now?" --no-stream
rc=$?
rounds=0
while [ "$rc" -eq 3 ] && [ "$rounds" -lt 8 ]; do
  rounds=$((rounds + 1))
  # one "call_id<TAB>arguments" line per call waiting for output
  respctl show "$chat" --pending --format json |
    python3 -c 'import json,sys; [print(c["call_id"], c["arguments"], sep="\t") for c in json.load(sys.stdin)]' > "$chat.pending"
  rc=0
  while IFS=$'\t' read -r call_id args; do
    echo "tool: get_weather $args" >&2
    # --no-send records the output; the last answer runs the next turn by itself
    # (exit 3 just says other calls still wait)
    "$here/get_weather.py" "$args" | respctl tool-result "$chat" "$call_id" - --no-send
    rc=$?
    [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || break
  done < "$chat.pending"
  rm -f "$chat.pending"
  [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || exit "$rc"
  respctl say "$chat" --no-stream --as-is   # every call answered: the next turn on the file as it is (stdin unread)
  rc=$?
done
exit "$rc"
