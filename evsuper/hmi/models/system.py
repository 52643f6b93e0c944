"""Engine-wide values: the archive's state and backlog (status bar), the file endpoint's URL."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QObject, Signal

from evsuper.core.domain import ArchiveState
from evsuper.core.tags import Sample, SystemTag, TagPath, system_tag

_STATE = system_tag(SystemTag.ARCHIVE_STATE)
_BACKLOG = system_tag(SystemTag.ARCHIVE_BACKLOG)
_FILES_URL = system_tag(SystemTag.FILES_URL)


class SystemStatus(QObject):
    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.archive_state: ArchiveState | None = None  # None until the archive reports
        self.archive_backlog = 0
        self.files_url: str | None = None  # base URL of the engine's file endpoint

    def apply(self, changes: Mapping[TagPath, Sample]) -> None:
        if (sample := changes.get(_FILES_URL)) is not None:
            self.files_url = sample.value
        state, backlog = self.archive_state, self.archive_backlog
        if (sample := changes.get(_STATE)) is not None:
            try:
                state = ArchiveState(sample.value)
            except ValueError:
                state = None
        if (sample := changes.get(_BACKLOG)) is not None:
            backlog = int(sample.value or 0)
        if (state, backlog) != (self.archive_state, self.archive_backlog):
            self.archive_state, self.archive_backlog = state, backlog
            self.changed.emit()
