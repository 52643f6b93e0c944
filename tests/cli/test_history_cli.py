"""`evsuper history DIR list | diff A B | restore N`."""

from __future__ import annotations

import getpass
import io
import sys
from pathlib import Path

import pytest

from evsuper.cli import main
from evsuper.project.history import ProjectHistory, save_project_files
from evsuper.project.new import write_new_project


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "site"
    write_new_project(directory, bollards=2, badges=1)
    original = (directory / "project.toml").read_text()
    edited = original.replace('id = "CP-002"', 'id = "CP-200"')
    save_project_files(directory, {"project.toml": edited}, "alice", "CP-002 renamed")
    return directory


def test_list(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", str(project_dir), "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["1", "2"]
    assert lines[0].endswith("  evsuper  initial")
    assert lines[1].endswith("  alice  CP-002 renamed")


def test_diff(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", str(project_dir), "diff", "1", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("--- project.toml (version 1)\n+++ project.toml (version 2)\n@@")
    assert '\n-id = "CP-002"\n+id = "CP-200"\n' in out
    assert main(["history", str(project_dir), "diff", "2", "2"]) == 0
    assert capsys.readouterr().out == "no difference between versions 2 and 2\n"


def test_restore_with_yes_acts_as_the_os_user(
    project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", str(project_dir), "restore", "1", "--yes"]) == 0
    assert "restored version 1 as version 3" in capsys.readouterr().out
    latest = ProjectHistory(project_dir).versions()[-1]
    assert (latest.author, latest.summary) == (getpass.getuser(), "restored version 1")
    assert 'id = "CP-002"' in (project_dir / "project.toml").read_text()


def test_restore_asks_first(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO())  # not a terminal: nobody to ask
    assert main(["history", str(project_dir), "restore", "1"]) == 1
    assert "confirm with --yes" in capsys.readouterr().err

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda question: "y")
    assert main(["history", str(project_dir), "restore", "1"]) == 0
    assert len(ProjectHistory(project_dir).versions()) == 3


def test_bad_folder_or_version(
    project_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", str(tmp_path / "nothing"), "list"]) == 2
    assert "no project.toml" in capsys.readouterr().err
    assert main(["history", str(project_dir), "restore", "9", "--yes"]) == 2
    assert "no version 9" in capsys.readouterr().err
