"""Users in the archive database: argon2 password hashes, roles, logins and their throttle.

Every change and every login attempt writes its audit row in the same database
transaction as the change itself. Passwords are never stored, logged or audited.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, RowMapping, func, insert, select, update

from evsuper.core.timeutil import utcnow
from evsuper.historian import schema
from evsuper.project.model import Project
from evsuper.users.audit import AuditEntry, AuditKind, write_entry
from evsuper.users.permissions import ENGINE, Actor, Origin, Permission, Role

log = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()


class UserError(ValueError):
    """A refused user change, with a message for the person who asked."""


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    disabled: bool
    created: datetime
    last_login: datetime | None

    def actor(self, origin: Origin = Origin.HMI) -> Actor:
        return Actor(self.name, self.role, origin)


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


def check_name(name: str) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise UserError(f"invalid user name {name!r}: 1 to 32 letters, digits, '.', '_' or '-'")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


class UserStore:
    """Users of one project's archive; safe to use from any thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def list(self) -> list[User]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(schema.users).order_by(schema.users.c.name))
            return [_user(row) for row in rows.mappings()]

    def get(self, name: str) -> User | None:
        with self.engine.connect() as connection:
            return _find(connection, name)

    def count(self) -> int:
        with self.engine.connect() as connection:
            return _count(connection)

    def add(self, name: str, role: Role, password: str, *, by: Actor) -> User:
        _require_admin(by)
        check_name(name)
        password_hash = hash_password(password)
        return self.add_hashed(name, role, password_hash, by=by)

    def add_first_admin(self, name: str, password: str) -> User:
        """The project's first account, an administrator who creates itself; refused as
        soon as any user exists (then only an administrator adds users)."""
        actor = Actor(name, Role.ADMIN, Origin.HMI)
        check_name(name)
        return self.add_hashed(name, Role.ADMIN, hash_password(password), by=actor, first=True)

    def add_hashed(
        self, name: str, role: Role, password_hash: str, *, by: Actor, first: bool = False
    ) -> User:
        """Add a user whose password hash was made elsewhere (a project's initial users).

        ``first``: only while there is no user at all (checked in the same transaction).
        """
        _require_admin(by)
        with self.engine.begin() as connection:
            if first and _count(connection):
                raise UserError("there are users already: ask an administrator to add you")
            if _find(connection, name) is not None:
                raise UserError(f"user {name!r} already exists")
            user = User(name, role, disabled=False, created=utcnow(), last_login=None)
            connection.execute(
                insert(schema.users),
                {
                    "name": name,
                    "role": role.value,
                    "password_hash": password_hash,
                    "disabled": False,
                    "created": user.created,
                },
            )
            _audit(connection, by, "add-user", name, {"role": role.value})
        return user

    def set_password(self, name: str, password: str, *, by: Actor) -> None:
        if by.user != name:
            _require_admin(by)
        password_hash = hash_password(password)
        self._change(name, "set-password", by, {}, password_hash=password_hash)

    def set_role(self, name: str, role: Role, *, by: Actor) -> None:
        _require_admin(by)
        self._change(name, "set-role", by, {"role": role.value}, role=role.value)

    def set_disabled(self, name: str, disabled: bool, *, by: Actor) -> None:
        _require_admin(by)
        action = "disable-user" if disabled else "enable-user"
        self._change(name, action, by, {}, disabled=disabled)

    def _change(
        self, name: str, action: str, by: Actor, parameters: dict[str, str], **values: object
    ) -> None:
        with self.engine.begin() as connection:
            if _find(connection, name) is None:
                raise UserError(f"no user {name!r}")
            admins_before = _active_admins(connection)
            connection.execute(
                update(schema.users).where(schema.users.c.name == name).values(**values)
            )
            if admins_before and not _active_admins(connection):
                raise UserError("refused: the project would have no active administrator left")
            _audit(connection, by, action, name, parameters)

    def record(self, entry: AuditEntry) -> None:
        """Write one audit row now, in its own transaction."""
        with self.engine.begin() as connection:
            write_entry(connection, entry)

    def authenticate(self, name: str, password: str, origin: Origin) -> User | None:
        """The user when ``password`` is theirs and the account is enabled; audited."""
        with self.engine.begin() as connection:
            row = (
                connection.execute(select(schema.users).where(schema.users.c.name == name))
                .mappings()
                .first()
            )
            valid = row is not None and _verify(row["password_hash"], password)
            if row is None or not valid or row["disabled"]:
                reason = "disabled account" if valid else "wrong user name or password"
                role = Role(row["role"]) if row is not None else Role.VIEWER
                entry = AuditEntry(
                    actor=Actor(name[:64], role, origin),
                    kind=AuditKind.LOGIN_FAILED,
                    action="login",
                    target=name[:64],
                    result="Denied",
                    detail=reason,
                )
                write_entry(connection, entry)
                return None
            now = utcnow()
            values: dict[str, object] = {"last_login": now}
            if _hasher.check_needs_rehash(row["password_hash"]):
                values["password_hash"] = _hasher.hash(password)
            connection.execute(
                update(schema.users).where(schema.users.c.name == name).values(**values)
            )
            user = _user({**row, "last_login": now})
            write_entry(
                connection,
                AuditEntry(
                    actor=user.actor(origin),
                    kind=AuditKind.LOGIN,
                    action="login",
                    target=name,
                    result="Accepted",
                ),
            )
            return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _require_admin(by: Actor) -> None:
    if not by.may(Permission.MANAGE_USERS):
        raise UserError(f"{by.user} ({by.role.value}) may not manage users")


def _find(connection: Connection, name: str) -> User | None:
    row = (
        connection.execute(select(schema.users).where(schema.users.c.name == name))
        .mappings()
        .first()
    )
    return None if row is None else _user(row)


def _count(connection: Connection) -> int:
    count: int = connection.execute(select(func.count()).select_from(schema.users)).scalar_one()
    return count


def _active_admins(connection: Connection) -> int:
    u = schema.users
    query = select(func.count()).where(u.c.role == Role.ADMIN.value, u.c.disabled.is_(False))
    count: int = connection.execute(query).scalar_one()
    return count


def _audit(
    connection: Connection, by: Actor, action: str, target: str, parameters: dict[str, str]
) -> None:
    entry = AuditEntry(
        actor=by,
        kind=AuditKind.USER_ADMIN,
        action=action,
        target=target,
        parameters=parameters,
        result="Accepted",
    )
    write_entry(connection, entry)


def _user(values: Mapping[str, Any] | RowMapping) -> User:
    return User(
        name=values["name"],
        role=Role(values["role"]),
        disabled=bool(values["disabled"]),
        created=values["created"],
        last_login=values["last_login"],
    )


class LoginThrottle:
    """Slows down password guessing: after ``free_attempts`` failures for a user name, each
    further attempt must wait ``base_delay_s`` doubled per failure, up to ``max_delay_s``.
    A success clears the count. Kept in memory: a restart does not help an attacker much,
    since argon2 already costs each guess tens of milliseconds."""

    def __init__(
        self,
        *,
        free_attempts: int = 3,
        base_delay_s: float = 2.0,
        max_delay_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free_attempts = free_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, float]] = {}  # name → (count, next allowed)

    def wait_s(self, name: str) -> float:
        """Seconds before ``name`` may try again (0: now)."""
        with self._lock:
            _, allowed_at = self._failures.get(name.casefold(), (0, 0.0))
        return max(0.0, allowed_at - self._clock())

    def failed(self, name: str) -> None:
        key = name.casefold()
        with self._lock:
            count = self._failures.get(key, (0, 0.0))[0] + 1
            excess = count - self.free_attempts
            delay = 0.0 if excess < 0 else min(self.max_delay_s, self.base_delay_s * 2**excess)
            self._failures[key] = (count, self._clock() + delay)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(name.casefold(), None)


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User | None
    message: str  # for the login dialog: why it failed, or whom it logged in
    retry_after_s: float = 0.0


class Authenticator:
    """Logins of one engine: the store's check behind the throttle."""

    def __init__(self, store: UserStore, throttle: LoginThrottle | None = None) -> None:
        self.store = store
        self.throttle = throttle or LoginThrottle()

    def login(self, name: str, password: str, origin: Origin = Origin.HMI) -> LoginResult:
        """Blocking (argon2 takes tens of milliseconds): call it off the GUI and engine loop."""
        wait = self.throttle.wait_s(name)
        if wait > 0:
            message = f"Too many failed attempts: try again in {wait:.0f} s"
            self.store.record(
                AuditEntry(
                    actor=Actor(name[:64], Role.VIEWER, origin),
                    kind=AuditKind.LOGIN_FAILED,
                    action="login",
                    target=name[:64],
                    result="Throttled",
                    detail=message,
                )
            )
            return LoginResult(None, message, wait)
        user = self.store.authenticate(name, password, origin)
        if user is None:
            self.throttle.failed(name)
            return LoginResult(
                None, "Wrong user name or password, or account disabled", self.throttle.wait_s(name)
            )
        self.throttle.succeeded(name)
        return LoginResult(user, f"Logged in as {user.name} ({user.role.value})")

    def logout(self, actor: Actor, reason: str = "") -> None:
        self.store.record(
            AuditEntry(
                actor=actor,
                kind=AuditKind.LOGOUT,
                action="logout",
                target=actor.user,
                result="Accepted",
                detail=reason,
            )
        )


def create_initial_users(project: Project, users: UserStore) -> None:
    """A project whose archive has no user gets the project's initial accounts."""
    if users.count() > 0:
        return
    for initial in project.initial_users:
        users.add_hashed(initial.name, initial.role, initial.password_hash, by=ENGINE)
    if project.initial_users:
        log.info("created the project's %d initial user accounts", len(project.initial_users))
    else:
        log.warning(
            "no user account yet: the HMI asks for an administrator at its first start, or "
            "create one with: evsuper users -p %s add NAME --role admin",
            project.directory,
        )
