"""The one place where the archive's SQL depends on the database: time arithmetic
compiled per dialect (SQLite keeps naive UTC text, PostgreSQL timestamps) and upserts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Connection, DateTime, Float, Select, Table
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement


class seconds_between(FunctionElement[float]):
    """``end - start`` in seconds."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


class epoch_seconds(FunctionElement[int]):
    """Whole seconds since 1970-01-01 UTC of a timestamp column."""

    type = BigInteger()
    inherit_cache = True
    name = "epoch_seconds"


@compiles(seconds_between)
def _seconds_default(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)}))"


# julianday() is a float of days: rounded to the millisecond, equal spans compare equal
@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"ROUND((julianday({compiler.process(end, **kw)}) - "
        f"julianday({compiler.process(start, **kw)})) * 86400.0, 3)"
    )


@compiles(seconds_between, "mssql")
def _seconds_mssql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"DATEDIFF(second, {compiler.process(start, **kw)}, {compiler.process(end, **kw)})"


@compiles(epoch_seconds)
def _epoch_default(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    (ts,) = list(element.clauses)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(ts, **kw)})) AS BIGINT)"


# naive UTC text: strftime('%s') reads it as UTC
@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    (ts,) = list(element.clauses)
    return f"CAST(strftime('%s', {compiler.process(ts, **kw)}) AS INTEGER)"


Merge = Callable[[Table, Any], dict[str, ColumnElement[Any]]]


def upsert(
    connection: Connection,
    table: Table,
    rows: list[dict[str, Any]] | tuple[list[str], Select[Any]],
    key: list[str],
    merge: Merge,
) -> None:
    """Insert ``rows`` (dictionaries, or the columns a SELECT fills); a row whose ``key``
    columns exist already updates it instead, with the SET clause ``merge(table,
    excluded)`` (SQLite and PostgreSQL: ON CONFLICT)."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        statement: Any = sqlite_insert(table)
    elif dialect == "postgresql":
        statement = postgresql_insert(table)
    else:
        raise NotImplementedError(f"no upsert for {dialect} (SQLite and PostgreSQL only)")
    if isinstance(rows, tuple):
        statement = statement.from_select(*rows)
    statement = statement.on_conflict_do_update(
        index_elements=key, set_=merge(table, statement.excluded)
    )
    if isinstance(rows, tuple):
        connection.execute(statement)
    else:
        connection.execute(statement, rows)


class timestamp_of_epoch(FunctionElement[Any]):
    """The timestamp of whole seconds since 1970-01-01 UTC, stored as the archive stores
    timestamps (SQLite: the text SQLAlchemy writes, microseconds included)."""

    type = DateTime(timezone=True)
    inherit_cache = True
    name = "timestamp_of_epoch"


@compiles(timestamp_of_epoch)
def _timestamp_default(element: timestamp_of_epoch, compiler: SQLCompiler, **kw: Any) -> str:
    (seconds,) = list(element.clauses)
    return f"to_timestamp({compiler.process(seconds, **kw)})"


@compiles(timestamp_of_epoch, "sqlite")
def _timestamp_sqlite(element: timestamp_of_epoch, compiler: SQLCompiler, **kw: Any) -> str:
    (seconds,) = list(element.clauses)
    return f"strftime('%Y-%m-%d %H:%M:%S.000000', {compiler.process(seconds, **kw)}, 'unixepoch')"
