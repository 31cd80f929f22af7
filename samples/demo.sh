#!/usr/bin/env bash
# make demo: a multi-turn conversation with reasoning, then the shell tool loop and the runner.
# Against the real API when OPENAI_API_KEY is set, else against the loopback server in tests/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill "${server_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

if [ -n "${OPENAI_API_KEY:-}" ]; then
  export RESPCTL_MODEL=${RESPCTL_MODEL:-gpt-5-mini}
  echo "demo: using the real OpenAI API (model $RESPCTL_MODEL)"
else
  python3 -u "$here/../tests/fakeapi.py" --port 0 > "$work/server.url" &
  server_pid=$!
  for _ in $(seq 50); do [ -s "$work/server.url" ] && break; sleep 0.1; done
  export OPENAI_BASE_URL=$(head -n 1 "$work/server.url")
  export OPENAI_API_KEY=sk-demo-not-a-real-key RESPCTL_MODEL=gpt-5-mini
  echo "demo: no OPENAI_API_KEY, so using the loopback test server at $OPENAI_BASE_URL (answers are canned)"
fi

chat="$work/rome.jsonl"
run() { echo; printf '$'; printf ' %q' "$@"; echo; "$@"; }

run respctl start "$chat" --instructions "You are a terse travel planner." "Plan a 3-day trip to Rome" --effort low --summary auto --stream
run respctl say "$chat" "Make day 2 cheaper" --effort low --summary auto --stream
echo "What should I pack?" > "$work/q.txt"
echo; echo "\$ respctl say $chat - --json < q.txt"
respctl say "$chat" - --json < "$work/q.txt"
run respctl lint "$chat"
run respctl show "$chat" --last 1
echo; echo "$chat has $(wc -l < "$chat") lines, one input item each:"
cut -c1-110 "$chat"

echo; echo "== the tool loop in shell (samples/weather.sh)"
(cd "$work" && "$here/weather.sh" weather.jsonl)
echo; echo "== the same with the built-in runner"
run respctl start "$work/runner.jsonl" --tools "$here/tools.json" --run-tool "get_weather=$here/get_weather.py" \
  "What is the weather in Oslo and Lima?"
run respctl show "$work/runner.jsonl" --pending --format json
