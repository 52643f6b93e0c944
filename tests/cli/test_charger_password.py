"""`evsuper charger-password`: the hash lands in the charger's entry, nothing else moves."""

from __future__ import annotations

import getpass
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from evsuper.cli import main
from evsuper.drivers.ocpp.security import verify_password
from evsuper.project.loader import load_project
from evsuper.project.new import write_new_project

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "sixteen chars ok"
HASH_LINE = re.compile(r'^password_hash = "(\$argon2id\$[^"]+)"$', re.MULTILINE)


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    write_new_project(tmp_path / "site", bollards=3, badges=1)
    return tmp_path / "site"


def set_password(
    project_dir: Path, charger_id: str, stdin: str, monkeypatch: pytest.MonkeyPatch
) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))  # not a TTY: one line is read
    return main(["charger-password", str(project_dir), charger_id])


def test_hash_is_added_after_the_id_line_and_nothing_else_changes(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    file = project_dir / "project.toml"
    before = file.read_text()
    assert set_password(project_dir, "CP-002", PASSWORD + "\n", monkeypatch) == 0
    after = file.read_text()
    (password_hash,) = HASH_LINE.findall(after)
    assert verify_password(password_hash, PASSWORD)
    expected = before.replace(
        'id = "CP-002"\n', f'id = "CP-002"\npassword_hash = "{password_hash}"\n', 1
    )
    assert after == expected
    assert PASSWORD not in after + capsys.readouterr().out
    assert load_project(project_dir).charger("CP-002").password_hash == password_hash  # type: ignore[union-attr]


def test_a_new_password_replaces_the_hash_line_in_place(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = project_dir / "project.toml"
    file.write_bytes(file.read_bytes().replace(b"\n", b"\r\n"))  # CRLF kept as it is
    assert set_password(project_dir, "CP-001", PASSWORD + "\n", monkeypatch) == 0
    assert set_password(project_dir, "CP-003", PASSWORD + "\n", monkeypatch) == 0
    first = file.read_bytes()
    (old_hash, cp3_hash) = HASH_LINE.findall(first.decode().replace("\r\n", "\n"))
    new_password = "a different long password"
    assert set_password(project_dir, "CP-001", new_password + "\n", monkeypatch) == 0
    second = file.read_bytes()
    (new_hash, cp3_again) = HASH_LINE.findall(second.decode().replace("\r\n", "\n"))
    assert verify_password(new_hash, new_password) and cp3_again == cp3_hash
    assert second == first.replace(old_hash.encode(), new_hash.encode())
    assert b"\n" not in second.replace(b"\r\n", b"")


@pytest.mark.parametrize("password", ["x" * 15, "x" * 41, ""])
def test_short_or_long_passwords_are_refused(
    project_dir: Path,
    password: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = (project_dir / "project.toml").read_text()
    assert set_password(project_dir, "CP-001", password + "\n", monkeypatch) == 2
    assert "16 to 40 characters" in capsys.readouterr().err
    assert (project_dir / "project.toml").read_text() == before


def test_unknown_charger_is_an_error(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (project_dir / "project.toml").read_text()
    assert set_password(project_dir, "CP-404", PASSWORD + "\n", monkeypatch) == 2
    assert "no [[chargers]] entry with id = 'CP-404'" in capsys.readouterr().err
    assert (project_dir / "project.toml").read_text() == before


def test_as_a_process_reading_a_piped_password(project_dir: Path) -> None:
    """The password comes through stdin, never the command line; --help lists the command."""
    done = subprocess.run(
        [sys.executable, "-m", "evsuper", "charger-password", str(project_dir), "CP-001"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    (password_hash,) = HASH_LINE.findall((project_dir / "project.toml").read_text())
    assert verify_password(password_hash, PASSWORD)
    usage = subprocess.run(
        [sys.executable, "-m", "evsuper", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert "charger-password" in usage.stdout


def test_on_a_terminal_the_password_is_asked_twice(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (project_dir / "project.toml").read_text()
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    answers = iter([PASSWORD, PASSWORD + "?"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt: next(answers))
    assert main(["charger-password", str(project_dir), "CP-001"]) == 2
    assert "the passwords differ" in capsys.readouterr().err
    assert (project_dir / "project.toml").read_text() == before
    answers = iter([PASSWORD, PASSWORD])
    assert main(["charger-password", str(project_dir), "CP-001"]) == 0
    (password_hash,) = HASH_LINE.findall((project_dir / "project.toml").read_text())
    assert verify_password(password_hash, PASSWORD)
