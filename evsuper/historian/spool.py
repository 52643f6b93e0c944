"""The archive's spool: rows that could not be written yet (the database unreachable, or
slower than the site), kept in a local file (JSON lines) and later written in their order.

One file per archive. Appending is flushed and fsynced, so a crash keeps what was
spooled; the next start writes it. Replay commits chunk by chunk and records, after each
commit, how far it got (``<file>.done``: a byte offset, fsynced), so a failure or a crash
halfway writes only what is left; a crash between a commit and that record would write
that chunk twice (the window is one commit). Once everything is written both files go.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Table, insert

from evsuper.historian import schema

CHUNK_ROWS = 5000
_TIME = "$ts"  # marks a datetime in the JSON form of a row

Row = tuple[Table, dict[str, Any]]


class Spool:
    def __init__(self, file: Path) -> None:
        self.file = file
        self._done_file = file.with_name(file.name + ".done")
        self._done = _read_offset(self._done_file)
        # counted once at start (what a crash or an overload left), then kept in memory
        self.rows = _count_lines(file, self._done) if file.exists() else 0

    @property
    def pending(self) -> bool:
        return self.rows > 0

    def append(self, rows: Iterable[Row]) -> int:
        """Add rows at the end; returns how many."""
        lines = [_line(table, row) for table, row in rows]
        if not lines:
            return 0
        self.file.parent.mkdir(parents=True, exist_ok=True)
        with self.file.open("a", encoding="utf-8") as out:
            out.writelines(lines)
            out.flush()
            os.fsync(out.fileno())
        self.rows += len(lines)
        return len(lines)

    def replay(self, write: Callable[[list[Row]], None], limit: int | None = None) -> int:
        """Write the spooled rows in order, a chunk at a time, each chunk with ``write`` (a
        database transaction of its own), at most ``limit`` rows (None: all); returns how
        many. Raises what ``write`` raises, what was written before staying written."""
        if not self.pending:
            return 0
        written = 0
        with self.file.open("rb") as source:
            source.seek(self._done)
            while limit is None or written < limit:
                size = CHUNK_ROWS if limit is None else min(CHUNK_ROWS, limit - written)
                chunk = _read_chunk(source, size)
                if not chunk:
                    break
                write(chunk)
                written += len(chunk)
                self.rows -= len(chunk)
                self._done = source.tell()
                _write_offset(self._done_file, self._done)
            finished = not source.read(1)
        if finished:
            self.file.unlink()
            self._done_file.unlink(missing_ok=True)
            self._done = self.rows = 0
        return written


def _read_offset(file: Path) -> int:
    try:
        return int(file.read_text(encoding="ascii"))
    except (FileNotFoundError, ValueError):
        return 0


def _write_offset(file: Path, offset: int) -> None:
    temporary = file.with_name(file.name + ".tmp")
    with temporary.open("w", encoding="ascii") as out:
        out.write(str(offset))
        out.flush()
        os.fsync(out.fileno())
    temporary.replace(file)


def _count_lines(file: Path, offset: int) -> int:
    with file.open("rb") as source:
        source.seek(offset)
        return sum(1 for line in source if line.strip())


def _line(table: Table, row: dict[str, Any]) -> str:
    encoded = {k: {_TIME: v.isoformat()} if isinstance(v, datetime) else v for k, v in row.items()}
    return json.dumps({"table": table.name, "row": encoded}) + "\n"


def _read_chunk(source: IO[bytes], size: int) -> list[Row]:
    chunk: list[Row] = []
    while len(chunk) < size and (line := source.readline()):
        if line.strip():
            item = json.loads(line)
            row = {
                k: datetime.fromisoformat(v[_TIME]) if isinstance(v, dict) and _TIME in v else v
                for k, v in item["row"].items()
            }
            chunk.append((schema.metadata.tables[item["table"]], row))
    return chunk


def insert_rows(connection: Connection, rows: list[Row]) -> None:
    """Rows in order; consecutive rows of a table as one executemany."""
    run: list[dict[str, Any]] = []
    table: Table | None = None
    for row_table, row in rows:
        if row_table is not table and run:
            connection.execute(insert(table), run)  # type: ignore[arg-type]
            run = []
        table = row_table
        run.append(row)
    if run:
        connection.execute(insert(table), run)  # type: ignore[arg-type]
