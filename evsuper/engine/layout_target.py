"""The command target that saves the ground-plan layout (file work off the loop)."""

from __future__ import annotations

import asyncio

from evsuper.engine.commands import Command, CommandResult, Outcome, SaveLayout
from evsuper.project.layout import LAYOUT_FILE, layout_text, parse_layout, save_layout
from evsuper.project.loader import ProjectError
from evsuper.project.model import Project


class LayoutTarget:
    """Executes ``SaveLayout``: checks the layout against the project, then writes it as a
    version of the project history on a worker thread."""

    def __init__(self, project: Project) -> None:
        self.project = project

    def accepts(self, command: Command) -> bool:
        return isinstance(command, SaveLayout)

    async def execute(self, command: Command) -> CommandResult:
        assert isinstance(command, SaveLayout)
        file = self.project.directory / LAYOUT_FILE
        try:  # never write a file that would not load
            parse_layout(layout_text(command.layout), file, self.project)
        except ProjectError as exc:
            return CommandResult(Outcome.ERROR, "InvalidLayout", exc.message)
        try:
            version = await asyncio.to_thread(
                save_layout,
                self.project.directory,
                command.layout,
                command.actor.user,
                command.summary,
            )
        except OSError as exc:
            return CommandResult(Outcome.ERROR, "WriteFailed", str(exc))
        return CommandResult(
            Outcome.ACCEPTED, "Saved", f"{LAYOUT_FILE} saved as version {version.number}", version
        )
