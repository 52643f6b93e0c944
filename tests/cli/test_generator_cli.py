"""`evsuper new | add-bollards | import-library | check`: output and exit codes."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from evsuper.cli import main
from evsuper.project.loader import load_project


def test_new_from_a_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "nord"
    args = ["new", str(site), "--template", "public-ac", "--bollards", "50", "--per-area", "25"]
    assert main([*args, "--site", "Parking Nord", "--power-kw", "11"]) == 0
    out = capsys.readouterr().out
    assert "50 bollards in 2 areas" in out
    passwords = [line.rsplit(" ", 1)[1] for line in out.splitlines() if "password " in line]
    assert len(passwords) == 2  # admin and operator, printed once
    text = (site / "project.toml").read_text()
    assert not any(p in text for p in passwords)
    project = load_project(site)
    assert project.sites[0].name == "Parking Nord"
    assert {c.max_power_kw for c in project.chargers} == {11.0}

    assert main([*args]) == 2  # the project exists
    assert "already exists" in capsys.readouterr().err


def test_new_with_asked_passwords(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("admin-password\nfacility-pass\n"))
    site = tmp_path / "office"
    args = ["new", str(site), "--template", "office", "--bollards", "5", "--ask-passwords"]
    assert main(args) == 0
    assert [u.name for u in load_project(site).initial_users] == ["admin", "facility"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--protocol", "ocpp201"], "only 'ocpp16'"),
        (["--id-pattern", "CP"], "duplicate ids"),
        (["--type", "dc999"], "no bollard type"),
    ],
)
def test_new_refuses_bad_parameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    args = ["new", str(tmp_path / "d"), "--template", "depot-dc", "--bollards", "3", *extra]
    assert main(args) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "d" / "project.toml").exists()


def test_unknown_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", str(tmp_path / "x"), "--template", "castle", "--bollards", "3"]) == 2
    assert "no template 'castle'" in capsys.readouterr().err


def test_add_bollards_and_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = str(tmp_path / "p")
    assert main(["new", site, "--bollards", "4"]) == 0
    add = ["add-bollards", site, "--count", "2", "--template", "minimal"]
    assert main([*add, "--area", "AREA"]) == 0
    assert "CP-005 to CP-006" in capsys.readouterr().out
    assert main([*add, "--area", "NOWHERE"]) == 2
    assert "unknown area 'NOWHERE'" in capsys.readouterr().err

    assert main(["check", site]) == 0
    assert "no problem found" in capsys.readouterr().out
    file = tmp_path / "p" / "project.toml"
    file.write_text(file.read_text().replace("connectors = 2", "connectors = 0"))
    assert main(["check", site]) == 1
    captured = capsys.readouterr()
    assert captured.out.count("connectors: must be between 1 and 16") == 6
    assert "6 problems" in captured.err


def test_import_library(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site, other = tmp_path / "site", tmp_path / "other"
    assert main(["new", str(site), "--bollards", "1"]) == 0
    (other / "library" / "templates").mkdir(parents=True)
    (other / "library" / "templates" / "t.toml").write_text("x = 1\n")
    (site / "library" / "templates").mkdir(parents=True)
    (site / "library" / "templates" / "t.toml").write_text("x = 0\n")

    assert main(["import-library", str(site), "--from", str(other)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["import-library", str(site), "--from", str(other), "--force"]) == 0
    assert "library/templates/t.toml" in capsys.readouterr().out
    assert main(["import-library", str(site), "--from", str(tmp_path / "none")]) == 2


def test_new_does_not_load_the_archive_and_pdf_commands(tmp_path: Path) -> None:
    """`evsuper new` starts fast: `users` and `report` load only for themselves."""
    code = (
        "import sys; from evsuper.cli import main; "
        f"main(['new', {str(tmp_path / 'p')!r}, '--bollards', '2']); "
        "print(sorted(m for m in sys.modules if m in "
        "('evsuper.users.cli', 'evsuper.reports.cli')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"


def test_help_still_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(command in out for command in ("users", "report", "new", "history"))
