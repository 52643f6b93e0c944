"""Fixtures of the HMI tests: offscreen Qt, a project built in code, tag batch builders."""

from __future__ import annotations

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication
from support import ADMIN

from evsuper.core.domain import CommState, ConnectorStatus, RegistrationStatus
from evsuper.core.tags import Sample, TagPath, charger_tag, connector_tag
from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.hmi.collector import GuiThreadCollector
from evsuper.hmi.compat import BROKEN_BINDING_TEXT, binding_leaks_none
from evsuper.hmi.session import Session
from evsuper.hmi.theme import apply_theme
from evsuper.project.model import Project
from evsuper.project.new import write_new_project
from evsuper.users.permissions import ENGINE, Role
from evsuper.users.store import Authenticator, UserStore
from hmi.sender import Sender


@pytest.fixture(scope="session")
def binding_ok(qapp: QApplication) -> bool:
    # Checked once: on a broken binding every check itself costs references to None.
    return not binding_leaks_none()


@pytest.fixture(autouse=True)
def _usable_binding(binding_ok: bool) -> None:
    if not binding_ok:
        pytest.fail(BROKEN_BINDING_TEXT, pytrace=False)


@pytest.fixture(scope="package", autouse=True)
def gui_thread_collector(qapp: QApplication) -> Iterator[None]:
    """As in the HMI: cyclic garbage (Qt objects in it) is collected on the GUI thread only,
    never in a worker or engine thread."""
    collector = GuiThreadCollector(qapp)
    yield
    collector.deleteLater()
    QApplication.processEvents()
    gc.enable()


@pytest.fixture(autouse=True)
def _windows_freed_at_teardown(qapp: QApplication) -> Iterator[None]:
    """Each test's windows are freed at its own teardown, after qtbot has closed them: left
    to the collector, they would be freed during a later test, which then fails on what a
    half-collected window raises (a pyqtgraph item asked its size, an event filter)."""
    yield
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


@pytest.fixture
def themed_app(qapp: QApplication) -> Iterator[QApplication]:
    apply_theme(qapp)
    yield qapp
    qapp.setStyleSheet("")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """Twelve two-connector bollards CP-001 … CP-012 with twenty badges."""
    return write_new_project(tmp_path / "Parking Nord", bollards=12)


class TagBatch:
    """Builds a ``{path: Sample}`` batch as the OCPP driver would publish it."""

    def __init__(self) -> None:
        self.samples: dict[TagPath, Sample] = {}

    def charger(self, charger_id: str, **values: Any) -> TagBatch:
        for name, value in values.items():
            self.samples[charger_tag(charger_id, name)] = Sample(value)
        return self

    def connector(self, charger_id: str, connector_id: int, **values: Any) -> TagBatch:
        for name, value in values.items():
            self.samples[connector_tag(charger_id, connector_id, name)] = Sample(value)
        return self

    def online(self, charger_id: str, connectors: int = 2) -> TagBatch:
        """A booted, accepted charger with idle connectors."""
        self.charger(
            charger_id,
            comm=CommState.ONLINE,
            registration=RegistrationStatus.ACCEPTED,
            vendor="Alfen",
            model="Eve Double",
            firmware="6.3.1",
            status=ConnectorStatus.AVAILABLE,
        )
        for n in range(1, connectors + 1):
            self.connector(
                charger_id,
                n,
                status=ConnectorStatus.AVAILABLE,
                error_code="NoError",
                power_kw=0.0,
                transaction_id=None,
            )
        return self

    def charging(
        self, charger_id: str, connector_id: int, transaction_id: int, power_kw: float
    ) -> TagBatch:
        return self.connector(
            charger_id,
            connector_id,
            status=ConnectorStatus.CHARGING,
            transaction_id=transaction_id,
            power_kw=power_kw,
            energy_kwh=4.2,
            soc=55.0,
            id_tag="BADGE-0001",
        )


@pytest.fixture
def batch() -> TagBatch:
    return TagBatch()


@pytest.fixture
def sender() -> Sender:
    return Sender()


TEST_PASSWORD = "test-password"


def log_in(qtbot: Any, session: Session, name: str, password: str = TEST_PASSWORD) -> Session:
    """Log ``name`` in for real (argon2 check on the session's worker thread)."""
    with qtbot.waitSignal(session.loginFinished, timeout=10000) as finished:
        session.request_login(name, password)
    assert finished.args[0].user is not None, finished.args[0].message
    return session


def admin_session(qtbot: Any, users: UserStore) -> Session:
    """A session logged in as ``test-admin``, created in ``users`` if needed."""
    if users.get(ADMIN.user) is None:
        users.add(ADMIN.user, Role.ADMIN, TEST_PASSWORD, by=ENGINE)
    return log_in(qtbot, Session(Authenticator(users)), ADMIN.user)


@pytest.fixture
def user_store(tmp_path: Path) -> Iterator[UserStore]:
    """Users of a real SQLite archive in tmp_path."""
    engine = create_archive_engine(f"sqlite:///{tmp_path / 'users.sqlite'}")
    with engine.begin() as connection:
        upgrade_to_head(connection)
    yield UserStore(engine)
    engine.dispose()


@pytest.fixture
def session(qtbot: Any, user_store: UserStore) -> Iterator[Session]:
    session = admin_session(qtbot, user_store)
    yield session
    session.close()
