"""The line that tells the operator what became of the last command sent from a panel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from evsuper.core.timeutil import utcnow
from evsuper.engine.commands import CommandResult, Outcome
from evsuper.hmi import formatting
from evsuper.hmi.theme import Emphasis, set_emphasis


@dataclass(frozen=True, slots=True)
class SentCommand:
    """A command sent to a charger: waiting (``result`` None) or answered."""

    action: str  # what the operator asked, in words ("Reset Soft", "Accept NEWCOMER")
    at: datetime  # when sent, then when answered
    result: CommandResult | None = None

    def answered(self, result: CommandResult) -> SentCommand:
        return SentCommand(self.action, utcnow(), result)


class CommandResultLine(QLabel):
    """``HH:MM:SS  action: outcome (status) — detail``; bold frame when not accepted."""

    def __init__(self, idle_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("commandResult")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._idle_text = idle_text
        self._latest: SentCommand | None = None  # the last command `track` was given
        self.show_sent(None)

    def track(self, action: str) -> Callable[[CommandResult], None]:
        """Show ``action`` as sent now; the callback returned shows its answer, unless a
        command tracked later has taken the line meanwhile."""
        sent = SentCommand(action, utcnow())
        self._latest = sent
        self.show_sent(sent)

        def answered(result: CommandResult) -> None:
            if self._latest is sent:
                self.show_sent(sent.answered(result))

        return answered

    def show_sent(self, sent: SentCommand | None) -> None:
        if sent is None:
            self._show(self._idle_text, Emphasis.NORMAL)
            return
        when = formatting.clock(sent.at)
        result = sent.result
        if result is None:
            self._show(f"{when}  {sent.action}: sent, waiting for the answer…", Emphasis.NORMAL)
            return
        line = f"{when}  {sent.action}: {result.outcome.value}"
        if result.status and result.status != result.outcome.value:
            line += f" ({result.status})"
        if result.detail:
            line += f" — {result.detail}"
        accepted = result.outcome is Outcome.ACCEPTED
        self._show(line, Emphasis.NORMAL if accepted else Emphasis.NOTABLE)

    def _show(self, text: str, emphasis: Emphasis) -> None:
        self.setText(text)
        set_emphasis(self, emphasis)
