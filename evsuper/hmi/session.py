"""Who works at this workstation now, and the door every operator command goes through.

Nobody logged in means ``viewer``: the HMI shows everything and changes nothing. A login
lasts until logout, a switch of user, or ``idle_logout_s`` without keyboard or mouse input.
Password checks (argon2, tens of milliseconds) and audit writes run on a worker thread;
their outcome comes back to the GUI thread through a queued signal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from evsuper.engine.commands import Command, CommandResult, Outcome
from evsuper.hmi.bridge import CommandSender, ResultCallback
from evsuper.hmi.worker import Worker
from evsuper.users.permissions import NOBODY, Actor, Origin, Permission
from evsuper.users.store import Authenticator, LoginResult, UserError

log = logging.getLogger(__name__)

# What counts as someone at the workstation.
_INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)

# Asks the operator a yes/no question before a dangerous command; True: go ahead.
Confirm = Callable[[str], bool]


class Session(QObject):
    changed = Signal(object)  # the new Actor
    loginFinished = Signal(object)  # LoginResult, for the login dialog

    def __init__(
        self,
        authenticator: Authenticator | None,
        *,
        idle_logout_s: float = 0.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._authenticator = authenticator
        self._actor = NOBODY
        self._worker = Worker("evsuper-login", self)
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.timeout.connect(lambda: self.logout("idle"))
        self.idle_logout_s = idle_logout_s
        app = QApplication.instance()
        if app is not None and idle_logout_s > 0:
            app.installEventFilter(self)

    @property
    def actor(self) -> Actor:
        return self._actor

    @property
    def can_log_in(self) -> bool:
        return self._authenticator is not None

    @property
    def logged_in(self) -> bool:
        return self._actor is not NOBODY

    def may(self, permission: Permission) -> bool:
        return self._actor.may(permission)

    # ---- logging in and out

    def request_login(self, name: str, password: str) -> None:
        """Check the password off the GUI thread; ``loginFinished`` tells how it went."""
        authenticator = self._authenticator
        if authenticator is None:
            self.loginFinished.emit(LoginResult(None, "No user database: login unavailable"))
            return
        self._run(lambda: authenticator.login(name, password, Origin.HMI), self._logged_in)

    def request_first_admin(self, name: str, password: str) -> None:
        """Create the project's first account (an administrator) and log it in."""
        authenticator = self._authenticator
        if authenticator is None:
            self.loginFinished.emit(LoginResult(None, "No user database"))
            return

        def create() -> LoginResult:
            try:
                authenticator.store.add_first_admin(name, password)
            except UserError as exc:
                return LoginResult(None, str(exc))
            return authenticator.login(name, password, Origin.HMI)

        self._run(create, self._logged_in)

    def needs_first_admin(self) -> bool:
        """True when the project has no user at all (blocking: a quick count)."""
        return self._authenticator is not None and self._authenticator.store.count() == 0

    def logout(self, reason: str = "logout") -> None:
        """Back to ``viewer``; audited with ``reason`` (logout, idle, switch user)."""
        actor = self._actor
        if actor is NOBODY:
            return
        self._idle.stop()
        self._set_actor(NOBODY)
        authenticator = self._authenticator
        if authenticator is not None:
            self._run(lambda: authenticator.logout(actor, reason), lambda _: None)
        log.info("%s logged out (%s)", actor.user, reason)

    def close(self) -> None:
        """Log out and finish pending audit writes (on application exit)."""
        self.logout("application closed")
        self._worker.close()

    def _logged_in(self, result: LoginResult) -> None:
        if result.user is not None:
            if self.logged_in and self._actor.user != result.user.name:
                self.logout("switch user")
            self._set_actor(result.user.actor(Origin.HMI))
            if self.idle_logout_s > 0:
                self._idle.start(int(self.idle_logout_s * 1000))
            log.info("%s logged in as %s", result.user.name, result.user.role.value)
        self.loginFinished.emit(result)

    def _set_actor(self, actor: Actor) -> None:
        self._actor = actor
        self.changed.emit(actor)

    def _run(self, work: Callable[[], Any], then: Callable[[Any], None]) -> None:
        def failed(exc: Exception) -> None:  # a database failure must reach the operator
            self.loginFinished.emit(LoginResult(None, f"Login service unavailable: {exc}"))

        self._worker.run(work, then, failed)

    # ---- idle logout

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._idle.isActive() and event.type() in _INPUT_EVENTS:
            self._idle.start()
        return False

    # ---- commands

    def command_sender(self, send: CommandSender, confirm: Confirm) -> CommandSender:
        """``send`` with the current user as the actor of every command, and the
        confirmation of dangerous commands asked first (declined: never sent)."""

        def send_as_user(command: Command, callback: ResultCallback) -> None:
            command = replace(command, actor=self._actor)
            question = command.confirmation()
            if question is not None and not command.confirmed:
                if not self._actor.may(command.permission):
                    send(command, callback)  # refused and audited by the router: no question
                    return
                if not confirm(question):
                    callback(CommandResult(Outcome.DENIED, "Cancelled", "cancelled by the user"))
                    return
                command = replace(command, confirmed=True)
            send(command, callback)

        return send_as_user
