from __future__ import annotations

import errno

from evsuper.hmi.dialogs.startup import startup_error_text
from evsuper.project.model import Project


def test_port_in_use_names_address_and_where_to_change_it(project: Project) -> None:
    error = OSError(errno.EADDRINUSE, "address already in use")
    text = startup_error_text(project, error)
    assert "127.0.0.1:9000" in text
    assert "already uses this port" in text
    assert str(project.file) in text


def test_other_failures_are_reported_with_their_message(project: Project) -> None:
    text = startup_error_text(project, RuntimeError("archive schema is newer than this version"))
    assert "archive schema is newer than this version" in text
    assert project.name in text
