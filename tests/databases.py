"""The archive databases the tests run against: a SQLite file, and a real PostgreSQL
server started once per test session from the ``pgserver`` wheel (its own binaries; no
root, no system package), reached over its Unix socket only. Each test gets a database
of its own, dropped afterwards."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="evsuper-xdg-"))  # for pgserver

import pgserver
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

BACKENDS = ("sqlite", "postgresql")
_names = itertools.count(1)


class PostgresServer:
    """A running server; ``database()`` makes a fresh database and gives its URL."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._server = pgserver.get_server(str(directory), cleanup_mode="stop")
        self.admin_url = _psycopg(self._server.get_uri())

    def database(self) -> str:
        name = f"evsuper_test_{next(_names)}"
        self._admin(f'CREATE DATABASE "{name}"')
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server (an outage); ``start()`` brings it back with its data."""
        self._server.cleanup()

    def start(self) -> None:
        self._server = pgserver.get_server(str(self.directory), cleanup_mode="stop")

    def _admin(self, statement: str) -> None:
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()


def _psycopg(uri: str) -> URL:
    return make_url(uri).set(drivername="postgresql+psycopg")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    # Not under pytest's basetemp: another pytest session starting meanwhile may prune it.
    directory = Path(tempfile.mkdtemp(prefix="evsuper-postgres-"))
    server = PostgresServer(directory)
    yield server
    server.stop()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def archive_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty archive database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.sqlite'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.database()
    yield url
    server.drop(url)
