"""OpenAI's reference Responses server, gpt_oss.responses_api, driven by a scripted token function.

Runs in the interop venv (Python 3.12+, PyPI gpt-oss==0.0.9); no weights. The server is the real
one: its FastAPI app, its pydantic models, its harmony parser and its event stream. Only the
next-token function is ours: it reads the prompt the server built and answers, in harmony tokens,

    a tool output last          -> analysis "Got the tool result.", final "Tool said: <output>"
    a question about weather,
      with a function tool      -> analysis "Need to call <tool>.", a call {"city": "<Word>"}
    anything else               -> analysis "User said: <text>", final "Echo: <text>"

    python interop/gpt_oss_server.py PORT        (TIKTOKEN_ENCODINGS_BASE: the folder of o200k_base.tiktoken)
"""

from __future__ import annotations

import json
import re
import sys

import uvicorn
from gpt_oss.responses_api.api_server import create_api_server
from openai_harmony import HarmonyEncodingName, load_harmony_encoding

encoding = load_harmony_encoding(HarmonyEncodingName.HARMONY_GPT_OSS)
RETURN = encoding.encode("<|return|>", allowed_special="all")[0]
queue: list[int] = []


ANALYSIS = "<|channel|>analysis<|message|>{}<|end|><|start|>assistant"
FINAL = "<|channel|>final<|message|>{}<|return|>"
CALL = "<|channel|>commentary to=functions.{} <|constrain|>json<|message|>{}<|call|>"


def reply(prompt: str) -> str:
    """The completion, in harmony text, for the prompt the server rendered."""
    messages = prompt.split("<|start|>")
    last = messages[-2] if len(messages) > 1 else ""  # the last message before "<|start|>assistant"
    body = last.split("<|message|>", 1)[-1].split("<|end|>", 1)[0]
    if last.startswith("functions."):
        return ANALYSIS.format("Got the tool result.") + FINAL.format(f"Tool said: {body}")
    tools = re.findall(r"type (\w+) = ", prompt)
    if tools and "weather" in body.lower():
        city = next((w.strip("?!.,").removesuffix("'s") for w in body.split()[1:] if w[:1].isupper()), "Paris")
        return ANALYSIS.format(f"Need to call {tools[0]}.") + CALL.format(tools[0], json.dumps({"city": city}))
    return ANALYSIS.format(f"User said: {body}") + FINAL.format(f"Echo: {body}")


def infer_next_token(tokens: list[int], temperature: float = 0.0, new_request: bool = False) -> int:
    if new_request:
        queue[:] = encoding.encode(reply(encoding.decode(tokens)), allowed_special="all")
    return queue.pop(0) if queue else RETURN


if __name__ == "__main__":
    uvicorn.run(
        create_api_server(infer_next_token, encoding), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning"
    )
