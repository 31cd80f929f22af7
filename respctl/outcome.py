"""What a turn did, in one word: its status. Set by respctl.turn, printed by respctl.output, which loads
with lint and show too: so a module of its own, that costs them nothing (no dataclass, no turn code)."""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """A turn's `status`, as --json prints it."""

    COMPLETED = "completed"  # sent, and the answer is complete
    INCOMPLETE = "incomplete"  # sent, and the answer was cut short; its complete items were kept
    RECORDED = "recorded"  # the new items were written and nothing was sent (--no-send, calls still waiting)
    DRY_RUN = "dry-run"  # nothing was sent nor written (--dry-run)
