"""The alarm journal on SQLite and PostgreSQL: rows round-trip, filters work in SQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from evsuper.alarms.journal import JournalFilter, query_journal, write_entries
from evsuper.alarms.model import AlarmState, Category, JournalEntry, Priority, Transition
from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def entry(minutes: int, transition: Transition, **fields: object) -> JournalEntry:
    values: dict[str, object] = {
        "ts": T0 + timedelta(minutes=minutes),
        "key": "connector-faulted:CP-001/C1/GroundFailure",
        "definition_id": "connector-faulted",
        "source": "CP-001/C1/GroundFailure",
        "charger_id": "CP-001",
        "priority": Priority.HIGH,
        "category": Category.CHARGER_FAULT,
        "transition": transition,
        "state": AlarmState.UNACKNOWLEDGED,
        "message": "CP-001 connector 1 faulted: GroundFailure",
    }
    values.update(fields)
    return JournalEntry(**values)  # type: ignore[arg-type]


@pytest.fixture
def engine(archive_url: str) -> Iterator[Engine]:
    engine = create_archive_engine(archive_url)
    with engine.begin() as connection:
        upgrade_to_head(connection)
        write_entries(
            connection,
            [
                entry(0, Transition.ACTIVATED),
                entry(
                    3,
                    Transition.ACKNOWLEDGED,
                    state=AlarmState.ACKNOWLEDGED,
                    user="max",
                    comment="Technician on site",
                ),
                entry(9, Transition.RETURNED, state=AlarmState.NORMAL),
                entry(
                    5,
                    Transition.ACTIVATED,
                    key="comm-lost:CP-002",
                    definition_id="comm-lost",
                    source="CP-002",
                    charger_id="CP-002",
                    priority=Priority.CRITICAL,
                    category=Category.COMMUNICATION,
                    message="Communication lost with CP-002",
                ),
            ],
        )
    yield engine
    engine.dispose()


def test_entries_round_trip_newest_first(engine: Engine) -> None:
    entries = query_journal(engine, JournalFilter())
    assert [(e.ts - T0, e.transition) for e in entries] == [
        (timedelta(minutes=9), Transition.RETURNED),
        (timedelta(minutes=5), Transition.ACTIVATED),
        (timedelta(minutes=3), Transition.ACKNOWLEDGED),
        (timedelta(minutes=0), Transition.ACTIVATED),
    ]
    acked = entries[2]
    assert (acked.state, acked.user, acked.comment) == (
        AlarmState.ACKNOWLEDGED,
        "max",
        "Technician on site",
    )
    assert acked.ts.tzinfo is not None and acked.priority is Priority.HIGH


def test_filters(engine: Engine) -> None:
    def keys(**where: object) -> list[str]:
        return [
            e.key.split(":")[0] + f"@{e.transition}"
            for e in query_journal(engine, JournalFilter(**where))
        ]  # type: ignore[arg-type]

    assert keys(charger_id="CP-002") == ["comm-lost@activated"]
    assert keys(priorities=frozenset({Priority.CRITICAL})) == ["comm-lost@activated"]
    assert keys(
        categories=frozenset({Category.CHARGER_FAULT}),
        transitions=frozenset({Transition.ACTIVATED}),
    ) == ["connector-faulted@activated"]
    assert keys(text="technician") == ["connector-faulted@acknowledged"]  # case-insensitive
    assert keys(since=T0 + timedelta(minutes=4), until=T0 + timedelta(minutes=9)) == [
        "comm-lost@activated"
    ]
    assert len(keys(limit=2)) == 2
