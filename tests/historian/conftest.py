"""A started archive on SQLite or PostgreSQL (``archive_url`` in tests/databases.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from evsuper.core.bus import TagBus
from evsuper.historian.archive import Archive


@pytest.fixture
async def archive(archive_url: str) -> AsyncIterator[Archive]:
    archive = Archive(archive_url, TagBus())
    await archive.start()
    yield archive
    await archive.stop()
