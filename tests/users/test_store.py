"""Users in a real archive (SQLite and PostgreSQL): argon2 hashes, roles, audit rows,
throttled logins, an audit trail the database itself keeps append-only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.users.audit import AuditFilter, AuditKind, query_audit
from evsuper.users.permissions import Actor, Origin, Role
from evsuper.users.store import Authenticator, LoginThrottle, UserError, UserStore

ROOT = Actor("root", Role.ADMIN, Origin.CLI)
PASSWORD = "correct horse"


@pytest.fixture
def database(archive_url: str) -> Iterator[Engine]:
    engine = create_archive_engine(archive_url)
    with engine.begin() as connection:
        upgrade_to_head(connection)
    yield engine
    engine.dispose()


@pytest.fixture
def store(database: Engine) -> UserStore:
    return UserStore(database)


def test_passwords_are_stored_as_argon2_hashes_only(store: UserStore, database: Engine) -> None:
    store.add("alice", Role.OPERATOR, PASSWORD, by=ROOT)
    with database.connect() as db:
        stored = db.execute(text("SELECT password_hash FROM users WHERE name = 'alice'")).scalar()
        everything = "".join(str(row) for row in db.execute(text("SELECT * FROM audit_log")))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert PASSWORD not in everything
    user = store.authenticate("alice", PASSWORD, Origin.HMI)
    assert user is not None and user.role is Role.OPERATOR and user.last_login is not None
    assert store.authenticate("alice", "wrong password", Origin.HMI) is None


def test_user_changes_are_checked_and_audited(store: UserStore) -> None:
    store.add("admin", Role.ADMIN, PASSWORD, by=ROOT)
    store.add("bob", Role.VIEWER, PASSWORD, by=ROOT)
    with pytest.raises(UserError, match="already exists"):
        store.add("bob", Role.VIEWER, PASSWORD, by=ROOT)
    with pytest.raises(UserError, match="at least 8"):
        store.add("carol", Role.VIEWER, "short", by=ROOT)
    with pytest.raises(UserError, match="invalid user name"):
        store.add("bad name", Role.VIEWER, PASSWORD, by=ROOT)
    bob = Actor("bob", Role.VIEWER)
    with pytest.raises(UserError, match="may not manage users"):
        store.set_role("bob", Role.ADMIN, by=bob)
    store.set_password("bob", "another password", by=bob)  # one's own password: allowed
    store.set_role("bob", Role.MAINTENANCE, by=ROOT)
    store.set_disabled("bob", True, by=ROOT)
    assert store.authenticate("bob", "another password", Origin.HMI) is None  # disabled
    with pytest.raises(UserError, match="no active administrator"):
        store.set_disabled("admin", True, by=ROOT)
    with pytest.raises(UserError, match="no active administrator"):
        store.set_role("admin", Role.OPERATOR, by=ROOT)
    assert store.get("admin") is not None and store.get("admin").role is Role.ADMIN  # type: ignore[union-attr]

    entries = query_audit(store.engine, AuditFilter(target="bob"))
    assert [(e.kind, e.action, e.actor.user, dict(e.parameters)) for e in reversed(entries)] == [
        (AuditKind.USER_ADMIN, "add-user", "root", {"role": "viewer"}),
        (AuditKind.USER_ADMIN, "set-password", "bob", {}),
        (AuditKind.USER_ADMIN, "set-role", "root", {"role": "maintenance"}),
        (AuditKind.USER_ADMIN, "disable-user", "root", {}),
        (AuditKind.LOGIN_FAILED, "login", "bob", {}),
    ]
    assert entries[0].detail == "disabled account"


def test_the_audit_trail_refuses_updates_and_deletes(store: UserStore, database: Engine) -> None:
    store.add("alice", Role.OPERATOR, PASSWORD, by=ROOT)
    for statement in ("UPDATE audit_log SET result = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), database.begin() as db:
            db.execute(text(statement))
    with database.connect() as db:
        assert db.execute(text("SELECT count(*) FROM audit_log")).scalar() == 1


def test_failed_logins_are_throttled_and_a_success_clears_them(store: UserStore) -> None:
    store.add("alice", Role.OPERATOR, PASSWORD, by=ROOT)
    now = [1000.0]
    throttle = LoginThrottle(free_attempts=3, base_delay_s=2.0, clock=lambda: now[0])
    auth = Authenticator(store, throttle)
    for _ in range(2):
        assert auth.login("alice", "nope nope").retry_after_s == 0
    third = auth.login("alice", "nope nope")
    assert third.user is None and third.retry_after_s == 2.0
    refused = auth.login("alice", PASSWORD)  # even the right password waits
    assert refused.user is None and "try again in 2 s" in refused.message
    now[0] += 2.0
    fourth = auth.login("Alice", "nope nope")  # the name's case does not reset the count
    assert fourth.retry_after_s == 4.0
    now[0] += 4.0
    ok = auth.login("alice", PASSWORD)
    assert ok.user is not None and ok.user.name == "alice"
    assert auth.login("alice", "nope nope").retry_after_s == 0  # count cleared by success

    kinds = [e.result for e in query_audit(store.engine, AuditFilter(target="alice"))]
    assert kinds.count("Throttled") == 1 and kinds.count("Accepted") >= 2


def test_audit_queries_filter_by_user_kind_time_and_text(store: UserStore) -> None:
    store.add("alice", Role.OPERATOR, PASSWORD, by=ROOT)
    auth = Authenticator(store)
    user = auth.login("alice", PASSWORD).user
    assert user is not None
    auth.logout(user.actor(), "idle")
    everything = query_audit(store.engine, AuditFilter())
    assert [e.kind for e in everything] == [
        AuditKind.LOGOUT,
        AuditKind.LOGIN,
        AuditKind.USER_ADMIN,
    ]
    assert [e.kind for e in query_audit(store.engine, AuditFilter(user="alice"))] == [
        AuditKind.LOGOUT,
        AuditKind.LOGIN,
    ]
    kinds = frozenset({AuditKind.LOGIN})
    assert len(query_audit(store.engine, AuditFilter(kinds=kinds))) == 1
    assert len(query_audit(store.engine, AuditFilter(text="idle"))) == 1
    login_time = everything[1].ts
    assert len(query_audit(store.engine, AuditFilter(since=login_time))) == 2
    assert len(query_audit(store.engine, AuditFilter(until=login_time))) == 1
