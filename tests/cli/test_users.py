"""`evsuper users`: accounts of a project from the command line, audited, no password in argv."""

from __future__ import annotations

import dataclasses
import getpass
import io
import sys
from pathlib import Path

import pytest

from evsuper.cli import main
from evsuper.project.loader import load_project
from evsuper.project.model import InitialUser
from evsuper.project.new import write_new_project
from evsuper.users.audit import AuditFilter, AuditKind, query_audit
from evsuper.users.cli import open_store
from evsuper.users.permissions import Actor, Origin, Role
from evsuper.users.store import create_initial_users, hash_password


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    write_new_project(tmp_path / "site", bollards=1, badges=1)
    return tmp_path / "site"


def users(project_dir: Path, *args: str, stdin: str = "", monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))  # not a TTY: one line is read
    return main(["users", "-p", str(project_dir), *args])


def test_the_whole_life_of_an_account(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert users(project_dir, "list", monkeypatch=monkeypatch) == 0
    assert "no users" in capsys.readouterr().out
    assert (
        users(
            project_dir,
            "add",
            "ada",
            "--role",
            "admin",
            stdin="admin pass\n",
            monkeypatch=monkeypatch,
        )
        == 0
    )
    assert (
        users(
            project_dir,
            "add",
            "olivia",
            "--role",
            "operator",
            stdin="operator pw\n",
            monkeypatch=monkeypatch,
        )
        == 0
    )
    assert users(project_dir, "role", "olivia", "maintenance", monkeypatch=monkeypatch) == 0
    assert (
        users(project_dir, "passwd", "olivia", stdin="new password\n", monkeypatch=monkeypatch) == 0
    )
    assert users(project_dir, "disable", "olivia", monkeypatch=monkeypatch) == 0
    capsys.readouterr()
    assert users(project_dir, "list", monkeypatch=monkeypatch) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[1].split()[:3] == ["ada", "admin", "enabled"]
    assert listing[2].split()[:3] == ["olivia", "maintenance", "disabled"]

    store = open_store(project_dir)
    assert store.authenticate("olivia", "new password", Origin.HMI) is None  # disabled
    assert users(project_dir, "enable", "olivia", monkeypatch=monkeypatch) == 0
    olivia = store.authenticate("olivia", "new password", Origin.HMI)
    assert olivia is not None and olivia.role is Role.MAINTENANCE
    audited = query_audit(store.engine, AuditFilter(kinds=frozenset({AuditKind.USER_ADMIN})))
    assert [(e.action, e.target, e.actor.user, e.actor.origin) for e in reversed(audited)][1:] == [
        ("add-user", "olivia", getpass.getuser(), Origin.CLI),
        ("set-role", "olivia", getpass.getuser(), Origin.CLI),
        ("set-password", "olivia", getpass.getuser(), Origin.CLI),
        ("disable-user", "olivia", getpass.getuser(), Origin.CLI),
        ("enable-user", "olivia", getpass.getuser(), Origin.CLI),
    ]
    store.engine.dispose()


def test_refusals_are_clear(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        users(
            project_dir, "add", "ada", "--role", "admin", stdin="short\n", monkeypatch=monkeypatch
        )
        == 2
    )
    assert "at least 8 characters" in capsys.readouterr().err
    assert users(project_dir, "disable", "nobody-here", monkeypatch=monkeypatch) == 2
    assert "no user 'nobody-here'" in capsys.readouterr().err
    assert (
        users(
            project_dir,
            "add",
            "ada",
            "--role",
            "admin",
            stdin="long enough\n",
            monkeypatch=monkeypatch,
        )
        == 0
    )
    assert users(project_dir, "disable", "ada", monkeypatch=monkeypatch) == 2
    assert "no active administrator" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: there is no --password option
        main(["users", "-p", str(project_dir), "add", "bob", "--role", "viewer", "--password", "x"])


def test_hash_prints_an_argon2_hash_for_initial_users(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("operator-demo\n"))
    assert main(["users", "hash"]) == 0
    assert capsys.readouterr().out.startswith("$argon2id$")


def test_initial_users_are_created_once_when_the_archive_has_none(project_dir: Path) -> None:
    project = dataclasses.replace(
        load_project(project_dir),
        initial_users=(InitialUser("olivia", Role.OPERATOR, hash_password("operator-demo")),),
    )
    store = open_store(project_dir)
    create_initial_users(project, store)
    olivia = store.authenticate("olivia", "operator-demo", Origin.HMI)
    assert olivia is not None and olivia.role is Role.OPERATOR
    store.set_disabled("olivia", True, by=Actor("root", Role.ADMIN, Origin.CLI))
    create_initial_users(project, store)  # users exist: nothing is re-created or re-enabled
    assert [(u.name, u.disabled) for u in store.list()] == [("olivia", True)]
    store.engine.dispose()


def test_the_demo_project_has_one_account_per_role() -> None:
    demo = load_project(Path(__file__).resolve().parents[2] / "projects" / "demo")
    assert {u.role for u in demo.initial_users} == set(Role)
