"""Fixtures of the Modbus driver tests: a recorder of published samples."""

from __future__ import annotations

import pytest
from modbus_support import Recorder


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
