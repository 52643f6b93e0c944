"""``run_hmi``: the desktop application around an engine running on its own thread."""

from __future__ import annotations

import functools
import logging
import signal
import sys
from datetime import datetime

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from evsuper.alarms.journal import query_journal
from evsuper.engine.runtime import Engine, EngineThread
from evsuper.historian.energy import dashboard
from evsuper.historian.samples import available_pens, series
from evsuper.historian.transactions import TransactionReader
from evsuper.hmi.bridge import EngineBridge
from evsuper.hmi.collector import GuiThreadCollector
from evsuper.hmi.compat import BROKEN_BINDING_TEXT, binding_leaks_none
from evsuper.hmi.dialogs.startup import show_startup_error
from evsuper.hmi.main_window import ArchiveReaders, MainWindow
from evsuper.hmi.session import Session
from evsuper.hmi.theme import apply_theme
from evsuper.hmi.views.trends import TrendLoader
from evsuper.project.history import ProjectHistory
from evsuper.project.model import Project
from evsuper.reports.make import write_report
from evsuper.users.audit import query_audit

log = logging.getLogger(__name__)


def run_hmi(project: Project, *, start_as_viewer: bool | None = None) -> int:
    """Run the HMI until its window closes; returns the process exit code.

    ``start_as_viewer`` overrides the project's ``[hmi] start_as_viewer`` (a wall screen).
    """
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("evsuper")
    apply_theme(app)
    GuiThreadCollector(app)  # no garbage collection in the engine and worker threads
    _quit_on_signals(app)
    if binding_leaks_none():
        log.error("unusable Qt binding: %s", BROKEN_BINDING_TEXT)
        QMessageBox.critical(None, "evsuper — cannot start", BROKEN_BINDING_TEXT)
        return 2
    try:
        engine_thread = EngineThread(Engine(project))
        engine_thread.start()
    except Exception as exc:
        log.exception("engine failed to start")
        show_startup_error(project, exc)
        return 1

    engine = engine_thread.engine
    connectors = {c.id: c.connectors for c in project.chargers}
    places = project.places()
    groups = {b.id_tag: b.parent_id_tag for b in project.badges if b.parent_id_tag}
    bridge = EngineBridge(engine_thread)
    session = Session(engine.authenticator, idle_logout_s=project.hmi.idle_logout_min * 60)
    window = MainWindow(
        project,
        bridge.execute,
        read=bridge.fetch,
        session=session,
        archive=ArchiveReaders(
            audit=functools.partial(query_audit, engine.archive.engine),
            journal=functools.partial(query_journal, engine.archive.engine),
            transactions=TransactionReader(engine.archive.engine),
            trends=TrendLoader(
                pens=functools.partial(available_pens, engine.archive.engine),
                series=functools.partial(series, engine.archive.engine),
            ),
            dashboard=lambda: dashboard(
                engine.archive.engine, connectors, datetime.now().astimezone(), places, groups
            ),
            reports=lambda request, path: write_report(
                path, engine.archive.engine, project, request
            ),
            history=ProjectHistory(project.directory),
        ),
        submit=engine_thread.submit,
    )
    bridge.tagsChanged.connect(window.apply_tags)
    window.show()
    viewer_first = project.hmi.start_as_viewer if start_as_viewer is None else start_as_viewer
    if not viewer_first or session.needs_first_admin():
        window.show_login()
    try:
        return app.exec()
    finally:
        session.close()
        bridge.close()
        engine_thread.stop()


def _quit_on_signals(app: QApplication) -> None:
    """Ctrl-C or SIGTERM closes the window the normal way (engine stopped, archive flushed)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        # queued: a signal during start-up ends the event loop as soon as it runs
        signal.signal(sig, lambda *_: QTimer.singleShot(0, app.quit))
    # Python handles signals only when it runs; a periodic no-op gives it the chance.
    wake = QTimer(app)
    wake.timeout.connect(lambda: None)
    wake.start(250)
