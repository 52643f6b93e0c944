"""The result line of a panel: the last command sent, then its answer."""

from __future__ import annotations

from typing import Any

from evsuper.engine.commands import CommandResult, Outcome
from evsuper.hmi.widgets.command_result import CommandResultLine


def test_a_late_answer_does_not_hide_the_command_sent_after_it(qtbot: Any) -> None:
    line = CommandResultLine("No command sent yet.")
    qtbot.addWidget(line)
    assert line.text() == "No command sent yet."
    first = line.track("Reset CP-001")
    assert line.text().endswith("Reset CP-001: sent, waiting for the answer…")
    second = line.track("Unlock CP-001 · 1")
    first(CommandResult(Outcome.REJECTED, "Rejected", "busy"))
    assert line.text().endswith("Unlock CP-001 · 1: sent, waiting for the answer…")
    second(CommandResult(Outcome.ACCEPTED, "Unlocked"))
    assert line.text().endswith("Unlock CP-001 · 1: Accepted (Unlocked)")
