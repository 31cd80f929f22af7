"""respctl: one OpenAI Responses API conversation in one JSONL file."""

__version__ = "0.1.0"
