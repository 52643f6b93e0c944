"""The command target that keeps the charging profile library and saves it (file work
off the loop)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from evsuper.engine.commands import Command, CommandResult, Outcome, SaveProfileLibrary
from evsuper.project.loader import ProjectError
from evsuper.project.profile_library import (
    PROFILE_LIBRARY_FILE,
    ProfileLibrary,
    library_text,
    load_profile_library,
    parse_profile_library,
    save_profile_library,
)

log = logging.getLogger(__name__)


class ProfileLibraryTarget:
    """Holds the library as last loaded or saved (``library``; reads from the HMI take it
    from here, not from the disk) and executes ``SaveProfileLibrary``.

    A library file that does not load leaves the library empty with ``problem`` saying
    why; the engine runs on, and the next save (a new version) replaces the file.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.problem = ""
        try:
            self.library = load_profile_library(directory)
        except ProjectError as exc:
            log.warning("profile library not loaded: %s", exc)
            self.library = ProfileLibrary()
            self.problem = str(exc)

    def accepts(self, command: Command) -> bool:
        return isinstance(command, SaveProfileLibrary)

    async def execute(self, command: Command) -> CommandResult:
        assert isinstance(command, SaveProfileLibrary)
        file = self.directory / PROFILE_LIBRARY_FILE
        try:  # never write a file that would not load
            parse_profile_library(library_text(command.library), file)
        except ProjectError as exc:
            return CommandResult(Outcome.ERROR, "InvalidLibrary", exc.message)
        try:
            version = await asyncio.to_thread(
                save_profile_library,
                self.directory,
                command.library,
                command.actor.user,
                command.summary,
            )
        except OSError as exc:
            return CommandResult(Outcome.ERROR, "WriteFailed", str(exc))
        self.library = command.library
        self.problem = ""
        return CommandResult(
            Outcome.ACCEPTED,
            "Saved",
            f"{PROFILE_LIBRARY_FILE} saved as version {version.number}",
            version,
        )
