"""The spool file: rows written in order, a slice at a time, each once across failures
and restarts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from evsuper.historian import schema
from evsuper.historian.spool import CHUNK_ROWS, Row, Spool

T0 = datetime(2026, 11, 2, tzinfo=UTC)


def rows(n: int) -> list[Row]:
    row = {"ts": T0, "charger_id": "CP-1", "kind": "k"}
    return [(schema.anomalies, {**row, "detail": str(i)}) for i in range(n)]


def test_a_failed_replay_keeps_what_is_left_across_a_restart(tmp_path: Path) -> None:
    file = tmp_path / "spool.jsonl"
    Spool(file).append(rows(2 * CHUNK_ROWS + 10))
    written: list[str] = []

    def fail_on_the_second_chunk(chunk: list[Row]) -> None:
        if written:
            raise ConnectionError("the database went away again")
        written.extend(row["detail"] for _, row in chunk)

    spool = Spool(file)
    with pytest.raises(ConnectionError):
        spool.replay(fail_on_the_second_chunk)
    assert spool.rows == CHUNK_ROWS + 10
    again = Spool(file)  # a restart: what is left, from the file
    assert again.rows == CHUNK_ROWS + 10
    assert again.replay(lambda chunk: written.extend(r["detail"] for _, r in chunk)) == (
        CHUNK_ROWS + 10
    )
    assert written == [str(i) for i in range(2 * CHUNK_ROWS + 10)]  # in order, each once
    assert not file.exists() and not again.pending
    assert list(tmp_path.iterdir()) == []


def test_a_limited_replay_writes_a_slice_and_appends_go_on(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.jsonl")
    spool.append(rows(100))
    seen: list[str] = []
    assert spool.replay(lambda chunk: seen.extend(r["detail"] for _, r in chunk), limit=30) == 30
    spool.append(rows(5))
    assert spool.rows == 75
    spool.replay(lambda chunk: seen.extend(r["detail"] for _, r in chunk))
    assert seen == [str(i) for i in range(100)] + [str(i) for i in range(5)]
    assert not spool.pending
