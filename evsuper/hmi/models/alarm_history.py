"""The alarm journal as a read-only table: newest first, one row per transition.

A record, not live alarms: priorities read as number and name, in the calm grey of the
rest of the display (alarm colours belong to alarms that stand now).
"""

from __future__ import annotations

from evsuper.alarms.model import JournalEntry
from evsuper.hmi import formatting
from evsuper.hmi.models.record_table import RecordTableModel

COLUMNS = (
    "Time",
    "Priority",
    "Category",
    "Transition",
    "State after",
    "Source",
    "Message",
    "Value",
    "User",
    "Comment",
)
WIDTHS = (165, 80, 115, 150, 160, 170, 300, 60, 80, 140)
MESSAGE_COLUMN = 6  # takes the width left


def _cells(entry: JournalEntry) -> tuple[str, ...]:
    return (
        formatting.timestamp(entry.ts),
        f"{int(entry.priority)} {entry.priority.label}",
        entry.category.value,
        entry.transition.value,
        entry.state.value,
        entry.source,
        entry.message,
        entry.value,
        entry.user,
        entry.comment,
    )


class AlarmHistoryModel(RecordTableModel[JournalEntry]):
    def __init__(self) -> None:
        super().__init__(COLUMNS, _cells)
