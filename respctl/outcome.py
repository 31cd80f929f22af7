"""What a turn did: made by respctl.turn, printed by respctl.output (which must stay light: it loads
with lint and show, so this module imports nothing of the turn's)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from respctl.errors import ExitCode


class Status(str, Enum):
    """A turn's `status`, as --json prints it."""

    COMPLETED = "completed"  # sent, and the answer is complete
    INCOMPLETE = "incomplete"  # sent, and the answer was cut short; its complete items were kept
    RECORDED = "recorded"  # the new items were written and nothing was sent (--no-send, calls still waiting)
    DRY_RUN = "dry-run"  # nothing was sent nor written (--dry-run)


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
