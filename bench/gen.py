"""Realistic conversation files for benchmarks: turns of reasoning (2-17 KB of encrypted content,
summaries), assistant messages with phase, function calls and their outputs, shaped like the
recordings in tests/fixtures/recordings."""

from __future__ import annotations

import base64
import random
import sys
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def _blob(rng: random.Random, item_id: str, size: int, model: str | None) -> str:
    """Encrypted content of `size` characters; sealed for the loopback API when a model is given."""
    if model:
        from fakeapi import DEFAULT_SECRET, seal

        return seal(DEFAULT_SECRET, item_id, model, size)
    # A Fernet token's envelope, as api.openai.com sends: 0x80, a timestamp, then 16-byte blocks; 57 + 16k bytes.
    blocks = max(1, (size * 3 // 4 - 57) // 16)
    return base64.urlsafe_b64encode(b"\x80\x00\x00\x00\x00" + rng.randbytes(52 + 16 * blocks)).decode()


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def turns(n_items: int, seed: int = 7, model: str | None = None):
    """Yield about n_items input items, grouped in turns (`model`: seal reasoning for the loopback API)."""
    rng = random.Random(seed)
    conv = _hex(rng, 16)
    yield {
        "type": "message",
        "role": "developer",
        "content": [{"type": "input_text", "text": "You are a careful assistant."}],
    }
    count, t = 1, 0
    while count < n_items:
        t += 1
        yield {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": f"Question {t}: what is the weather in city {t}?"}],
        }
        count += 1
        suffix = _hex(rng, 16)
        size = rng.randint(2_000, 17_000)
        rs_id = f"rs_{conv}{t:08x}{suffix}"
        yield {
            "id": rs_id,
            "type": "reasoning",
            "encrypted_content": _blob(rng, rs_id, size, model),
            "summary": [
                {
                    "type": "summary_text",
                    "text": f"**Checking the weather**\n\nThe user asks about city {t}; I will call the tool.",
                }
            ],
        }
        count += 1
        if t % 2:
            call_id = f"call_{_hex(rng, 24)}"
            yield {
                "id": f"fc_{conv}{t:08x}{suffix}",
                "type": "function_call",
                "status": "completed",
                "arguments": orjson.dumps({"city": f"City {t}"}).decode(),
                "call_id": call_id,
                "name": "get_weather",
            }
            yield {
                "type": "function_call_output",
                "call_id": call_id,
                "output": orjson.dumps({"temp_c": 10 + t % 20, "sky": "cloudy"}).decode(),
            }
            count += 2
        yield {
            "id": f"msg_{conv}{t:08x}{suffix}",
            "type": "message",
            "status": "completed",
            "content": [
                {
                    "type": "output_text",
                    "annotations": [],
                    "logprobs": [],
                    "text": f"In city {t} it is cloudy and {10 + t % 20} °C. " * 3,
                }
            ],
            "phase": "final_answer",
            "role": "assistant",
        }
        count += 1


def write_conversation(path: Path, n_items: int, seed: int = 7, model: str | None = None) -> Path:
    with open(path, "wb") as out:
        for item in turns(n_items, seed, model):
            out.write(orjson.dumps(item) + b"\n")
    return path


if __name__ == "__main__":
    import sys

    write_conversation(Path(sys.argv[1]), int(sys.argv[2]))
