"""The archive's spool: rows that could not be written while the database was unreachable,
kept in a local file (JSON lines) until it is back, then written in their order.

One file per archive. Appending is flushed and fsynced, so a crash during an outage keeps
what was spooled; the next start writes it. Replay commits chunk by chunk and a failure
halfway keeps only the rows not yet committed; a crash between a commit and the file's
update would write that chunk twice (the window is one commit).
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
        # counted once at start (what a crash or an overload left), then kept in memory
        self.rows = _count_lines(file) if file.exists() else 0

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

    def replay(self, write: Callable[[list[Row]], None]) -> int:
        """Write every spooled row, chunk by chunk, each chunk with ``write`` (a database
        transaction of its own); returns how many. Raises what ``write`` raises."""
        if not self.pending:
            return 0
        written = 0
        with self.file.open("rb") as source:
            while chunk := _read_chunk(source, CHUNK_ROWS):
                try:
                    write(chunk)
                except Exception:
                    self._keep(chunk, source)
                    raise
                written += len(chunk)
                self.rows -= len(chunk)
        self.file.unlink()
        self.rows = 0
        return written

    def _keep(self, unwritten: list[Row], source: IO[bytes]) -> None:
        """Rewrite the file with ``unwritten`` and what follows it in ``source``."""
        rest = self.file.with_suffix(".rest")
        with rest.open("wb") as out:
            out.writelines(_line(table, row).encode("utf-8") for table, row in unwritten)
            out.write(source.read())
            out.flush()
            os.fsync(out.fileno())
        rest.replace(self.file)


def _count_lines(file: Path) -> int:
    with file.open("rb") as source:
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
