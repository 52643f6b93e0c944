"""The command target that restores a version of the project history (off the loop)."""

from __future__ import annotations

import asyncio

from evsuper.engine.commands import Command, CommandResult, Outcome, RestoreProjectVersion
from evsuper.project.history import HistoryError, ProjectHistory


class ProjectHistoryTarget:
    """Executes ``RestoreProjectVersion``: file work runs on a worker thread."""

    def __init__(self, history: ProjectHistory) -> None:
        self.history = history

    def accepts(self, command: Command) -> bool:
        return isinstance(command, RestoreProjectVersion)

    async def execute(self, command: Command) -> CommandResult:
        assert isinstance(command, RestoreProjectVersion)
        try:
            version = await asyncio.to_thread(
                self.history.restore, command.version, command.actor.user
            )
        except HistoryError as exc:
            return CommandResult(Outcome.ERROR, "UnknownVersion", str(exc))
        return CommandResult(
            Outcome.ACCEPTED,
            "Restored",
            f"version {command.version} restored as version {version.number}; "
            "it applies at the next start of evsuper",
            payload=version,
        )
