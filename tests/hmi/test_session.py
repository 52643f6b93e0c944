"""Login, logout, idle logout, confirmation and the actor of commands, on a real archive."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from evsuper.engine.commands import (
    CommandResult,
    Outcome,
    RemoteStop,
    Reset,
    ResetKind,
    UnlockConnector,
)
from evsuper.hmi.dialogs.login import LoginDialog
from evsuper.hmi.session import Session
from evsuper.users.audit import AuditFilter, AuditKind, query_audit
from evsuper.users.permissions import NOBODY, Actor, Origin, Role
from evsuper.users.store import Authenticator, LoginThrottle, UserStore
from hmi.sender import Sender

ROOT = Actor("root", Role.ADMIN, Origin.CLI)
PASSWORD = "operator-demo"


@pytest.fixture
def session(qapp: QApplication, user_store: UserStore) -> Iterator[Session]:
    user_store.add("olivia", Role.OPERATOR, PASSWORD, by=ROOT)
    user_store.add("max", Role.MAINTENANCE, "maintenance-demo", by=ROOT)
    session = Session(Authenticator(user_store), idle_logout_s=0.5)
    yield session
    session.close()
    qapp.removeEventFilter(session)


def log_in(qtbot: Any, session: Session, name: str, password: str) -> None:
    with qtbot.waitSignal(session.loginFinished, timeout=5000):
        session.request_login(name, password)


def test_nobody_logged_in_is_a_viewer(session: Session) -> None:
    assert session.actor is NOBODY and not session.logged_in
    assert session.actor.role is Role.VIEWER


def test_login_logout_and_switch_user_are_audited(
    qtbot: Any, session: Session, user_store: UserStore
) -> None:
    changes: list[Actor] = []
    session.changed.connect(changes.append)
    log_in(qtbot, session, "olivia", PASSWORD)
    assert session.actor == Actor("olivia", Role.OPERATOR, Origin.HMI)
    log_in(qtbot, session, "max", "maintenance-demo")  # switch user
    assert session.actor.user == "max"
    session.logout()
    assert session.actor is NOBODY
    assert [a.user for a in changes] == ["olivia", "nobody", "max", "nobody"]

    def audited() -> list[tuple[AuditKind, str, str]]:
        entries = query_audit(
            user_store.engine, AuditFilter(kinds=frozenset(AuditKind) - {AuditKind.USER_ADMIN})
        )
        return [(e.kind, e.actor.user, e.detail) for e in reversed(entries)]

    expected = [
        (AuditKind.LOGIN, "olivia", ""),
        (AuditKind.LOGIN, "max", ""),  # checked first; then olivia's session ends
        (AuditKind.LOGOUT, "olivia", "switch user"),
        (AuditKind.LOGOUT, "max", "logout"),
    ]
    qtbot.waitUntil(lambda: audited() == expected, timeout=5000)


def test_a_wrong_password_keeps_the_viewer(qtbot: Any, session: Session) -> None:
    results: list[Any] = []
    session.loginFinished.connect(results.append)
    log_in(qtbot, session, "olivia", "not the password")
    assert session.actor is NOBODY
    assert results[0].user is None and "Wrong user name or password" in results[0].message


def test_idle_logout_returns_to_viewer_and_input_postpones_it(
    qtbot: Any, session: Session, qapp: QApplication
) -> None:
    log_in(qtbot, session, "olivia", PASSWORD)
    target = QWidget()
    qtbot.addWidget(target)
    # Someone keeps moving the mouse for longer than the idle time: still logged in.
    deadline_moves = 8
    for _ in range(deadline_moves):
        qtbot.wait(100)  # the input itself, spread over 0.8 s (> idle_logout_s = 0.5)
        move = QMouseEvent(
            QEvent.Type.MouseMove,
            QPointF(5, 5),
            QPointF(5, 5),
            Qt.MouseButton.NoButton,
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
        )
        qapp.sendEvent(target, move)
    assert session.actor.user == "olivia"
    with qtbot.waitSignal(session.changed, timeout=3000) as changed:
        pass  # then nobody touches anything
    assert changed.args == [NOBODY]


def test_commands_carry_the_user_and_dangerous_ones_need_a_yes(
    qtbot: Any, session: Session
) -> None:
    sender = Sender()
    questions: list[str] = []
    answers = [False, True]

    def confirm(question: str) -> bool:
        questions.append(question)
        return answers.pop(0)

    send = session.command_sender(sender, confirm)
    log_in(qtbot, session, "max", "maintenance-demo")
    results: list[CommandResult] = []

    send(RemoteStop(charger_id="CP-001", transaction_id=7), results.append)
    assert sender.last.actor.user == "max" and not questions

    send(Reset(charger_id="CP-001", kind=ResetKind.HARD), results.append)  # declined
    assert len(sender.sent) == 1
    assert results[-1] == CommandResult(Outcome.DENIED, "Cancelled", "cancelled by the user")
    assert "Hard reset CP-001" in questions[0]

    send(UnlockConnector(charger_id="CP-001", connector_id=2), results.append)  # accepted
    unlock = sender.last
    assert isinstance(unlock, UnlockConnector) and unlock.confirmed and unlock.actor.user == "max"

    session.logout()
    send(Reset(charger_id="CP-001", kind=ResetKind.HARD), results.append)
    assert sender.last.actor is NOBODY  # a viewer is not asked: the router refuses it
    assert len(questions) == 2


def test_login_dialog_reports_failures_and_throttling(
    qtbot: Any, qapp: QApplication, user_store: UserStore
) -> None:
    user_store.add("olivia", Role.OPERATOR, PASSWORD, by=ROOT)
    throttle = LoginThrottle(free_attempts=1, base_delay_s=60.0)
    session = Session(Authenticator(user_store, throttle))
    dialog = LoginDialog(session)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.submit.isEnabled()
    qtbot.keyClicks(dialog.user, "olivia")
    qtbot.keyClicks(dialog.password, "wrong password")
    qtbot.mouseClick(dialog.submit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Wrong user name" in dialog.message.text(), timeout=5000)
    assert dialog.password.text() == "" and dialog.user.text() == "olivia"

    qtbot.keyClicks(dialog.password, PASSWORD)  # the right one, but too soon
    qtbot.mouseClick(dialog.submit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Too many failed attempts" in dialog.message.text(), timeout=5000)
    assert session.actor is NOBODY and dialog.isVisible()
    session.close()


def test_first_start_creates_the_administrator(
    qtbot: Any, qapp: QApplication, user_store: UserStore
) -> None:
    session = Session(Authenticator(user_store))
    assert session.needs_first_admin()
    dialog = LoginDialog(session, first_admin=True)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.user, "ada")
    qtbot.keyClicks(dialog.password, "first admin pw")
    qtbot.keyClicks(dialog.again, "first admin pw")
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        qtbot.mouseClick(dialog.submit, Qt.MouseButton.LeftButton)
    assert session.actor == Actor("ada", Role.ADMIN, Origin.HMI)
    assert not session.needs_first_admin()
    user = user_store.get("ada")
    assert user is not None and user.role is Role.ADMIN
    session.close()
