"""What the operator is told when the engine cannot start."""

from __future__ import annotations

import errno

from PySide6.QtWidgets import QMessageBox, QWidget

from evsuper.project.model import Project


def startup_error_text(project: Project, error: BaseException) -> str:
    """A sentence saying what failed and what to do, for the engine start ``error``."""
    ocpp = project.ocpp
    if isinstance(error, OSError) and error.errno == errno.EADDRINUSE:
        return (
            f"The OCPP server cannot listen on {ocpp.host}:{ocpp.port}: another program "
            "(perhaps another evsuper) already uses this port.\n\n"
            f"Stop that program, or choose another port under [ocpp] in {project.file}."
        )
    if isinstance(error, OSError) and error.errno == errno.EADDRNOTAVAIL:
        return (
            f"The OCPP server cannot listen on {ocpp.host}:{ocpp.port}: this computer has "
            f"no such address.\n\nCorrect the host under [ocpp] in {project.file}."
        )
    if isinstance(error, TimeoutError):
        return "The engine did not finish starting in time; see the log for what it waited on."
    return f"The engine of project {project.name!r} failed to start:\n\n{error}"


def show_startup_error(
    project: Project, error: BaseException, parent: QWidget | None = None
) -> None:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("evsuper — cannot start")
    box.setText(startup_error_text(project, error))
    box.setDetailedText(f"{type(error).__name__}: {error}")
    box.exec()
