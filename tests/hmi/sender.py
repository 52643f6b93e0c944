"""A ``CommandSender`` for widget tests: records the commands, the test answers them."""

from __future__ import annotations

from collections.abc import Callable

from evsuper.engine.commands import Command, CommandResult

Callback = Callable[[CommandResult], None]


class Sender:
    """Records what a widget sends; the test answers through the callbacks."""

    def __init__(self) -> None:
        self.sent: list[tuple[Command, Callback]] = []

    def __call__(self, command: Command, callback: Callback) -> None:
        self.sent.append((command, callback))

    @property
    def last(self) -> Command:
        return self.sent[-1][0]

    def answer(self, result: CommandResult, index: int = -1) -> None:
        self.sent[index][1](result)
