"""Log in (or switch user), and create the first administrator of a project without users.

The dialog asks the ``Session``; the password check runs off the GUI thread and the
dialog stays responsive. A refused login says why (wrong password, throttled) and keeps
the user name; the password field is cleared.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from evsuper.hmi.session import Session
from evsuper.hmi.theme import Emphasis, role_label, set_emphasis
from evsuper.users.store import MIN_PASSWORD_LENGTH, LoginResult


class LoginDialog(QDialog):
    """``first_admin``: the project has no user; this creates its administrator."""

    def __init__(
        self, session: Session, *, first_admin: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("firstAdminDialog" if first_admin else "loginDialog")
        self.setWindowTitle(
            "evsuper — " + ("create the administrator" if first_admin else "log in")
        )
        self.setMinimumWidth(380)
        self._session = session
        self._first_admin = first_admin

        self.user = QLineEdit()
        self.user.setObjectName("loginUser")
        self.user.setMaxLength(32)
        self.password = QLineEdit()
        self.password.setObjectName("loginPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.again = QLineEdit()
        self.again.setObjectName("loginPasswordAgain")
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = role_label("value")
        self.message.setObjectName("loginMessage")
        self.message.setWordWrap(True)

        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(6)
        form.addRow(role_label("caption", "User"), self.user)
        form.addRow(role_label("caption", "Password"), self.password)
        if first_admin:
            form.addRow(role_label("caption", "Again"), self.again)
        else:
            self.again.hide()

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.submit = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.submit.setObjectName("loginSubmit")
        self.submit.setText("Create and log in" if first_admin else "Log in")
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)
        current = session.actor
        if first_admin:
            heading = "No user yet"
            subtitle = (
                "Create the administrator of this project; an administrator adds the other "
                f"users. Passwords have at least {MIN_PASSWORD_LENGTH} characters."
            )
        elif session.logged_in:
            heading = "Switch user"
            subtitle = f"Logged in: {current.user} ({current.role.value})."
        else:
            heading = "Log in"
            subtitle = "Until someone logs in, this workstation only shows (viewer)."
        layout.addWidget(role_label("title", heading))
        explanation = role_label("subtitle", subtitle)
        explanation.setWordWrap(True)
        layout.addWidget(explanation)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

        self.user.textChanged.connect(self._update)
        self.password.textChanged.connect(self._update)
        self.again.textChanged.connect(self._update)
        session.loginFinished.connect(self._finished)
        self._update()

    def _update(self) -> None:
        filled = bool(self.user.text().strip()) and bool(self.password.text())
        if self._first_admin:
            filled = filled and bool(self.again.text())
        self.submit.setEnabled(filled and self.user.isEnabled())

    def _submit(self) -> None:
        name = self.user.text().strip()
        password = self.password.text()
        if self._first_admin and password != self.again.text():
            self._fail("The two passwords differ")
            return
        self._busy(True)
        self.message.setText("Checking…")
        set_emphasis(self.message, Emphasis.NORMAL)
        if self._first_admin:
            self._session.request_first_admin(name, password)
        else:
            self._session.request_login(name, password)

    def _finished(self, result: LoginResult) -> None:
        if not self.isVisible():
            return
        self._busy(False)
        if result.user is not None:
            self.password.clear()
            self.again.clear()
            self.accept()
            return
        self._fail(result.message)

    def _fail(self, message: str) -> None:
        self.message.setText(message)
        set_emphasis(self.message, Emphasis.NOTABLE)
        self.adjustSize()  # a wrapped message needs more height than the empty line had
        self.password.clear()
        self.again.clear()
        self.password.setFocus()

    def _busy(self, busy: bool) -> None:
        for field in (self.user, self.password, self.again):
            field.setEnabled(not busy)
        self._update()
        if busy:
            self.submit.setEnabled(False)
