"""Write tiktoken's o200k_base.tiktoken from the ranks the npm package js-tiktoken ships.

gpt-oss's tokenizer (openai_harmony) downloads o200k_base.tiktoken from
openaipublic.blob.core.windows.net at start-up unless TIKTOKEN_ENCODINGS_BASE names a folder
holding it. js-tiktoken carries the same ranks in its own compact form:

    {"pat_str": ..., "special_tokens": {...}, "bpe_ranks": "<tag> <offset> <b64> <b64> ...\\n..."}

one line per run of consecutive ranks (the i-th token of a line has rank offset + i). tiktoken's
file is one `<b64> <rank>` line per token, in rank order; the result is checked against the
SHA-256 that tiktoken and openai_harmony expect.

    python interop/ranks.py o200k_base.js OUT_DIR
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

#: tiktoken's and openai_harmony's expected hash of o200k_base.tiktoken.
O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"


def convert(js_module: str) -> bytes:
    start = js_module.index("{")
    ranks = json.loads(js_module[start : js_module.rindex("}") + 1])
    pairs: list[tuple[int, str]] = []
    for line in ranks["bpe_ranks"].split("\n"):
        if not line:
            continue
        _tag, offset, *tokens = line.split(" ")
        pairs += [(int(offset) + i, token) for i, token in enumerate(tokens)]
    pairs.sort()
    return "".join(f"{token} {rank}\n" for rank, token in pairs).encode()


def main(argv: list[str]) -> int:
    source, out_dir = Path(argv[0]), Path(argv[1])
    data = convert(source.read_text(encoding="utf-8"))
    digest = hashlib.sha256(data).hexdigest()
    if digest != O200K_SHA256:
        print(f"interop: converted ranks hash {digest}, expected {O200K_SHA256}", file=sys.stderr)
        return 1
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "o200k_base.tiktoken").write_bytes(data)
    print(f"interop: wrote {out_dir / 'o200k_base.tiktoken'} ({len(data):,} bytes, sha256 matches)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
