"""Project history: versions with who / when / what, content-addressed, diff, restore, lock."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import subprocess
import threading
from datetime import UTC
from pathlib import Path

import pytest

from evsuper.project.history import (
    HISTORY_DIR,
    HistoryError,
    ProjectHistory,
    is_tracked,
    save_project_files,
)
from evsuper.project.model import ChargerConfig
from evsuper.project.new import write_new_project
from evsuper.project.registry import append_charger, set_password_hash


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    write_new_project(tmp_path / "site", bollards=2, badges=1)
    return tmp_path / "site"


def blobs(directory: Path) -> list[Path]:
    return list((directory / HISTORY_DIR / "blobs").iterdir())


def test_the_first_call_records_the_files_found_as_version_1(project_dir: Path) -> None:
    (project_dir / "archive.sqlite").write_bytes(b"not tracked")
    (project_dir / "reports").mkdir()
    (project_dir / "reports" / "day.toml").write_text("x = 1\n")
    (project_dir / "plan").mkdir()
    (project_dir / "plan" / "ground.png").write_bytes(b"\x89PNG\0")

    [first] = ProjectHistory(project_dir).versions()

    assert (first.number, first.author, first.summary) == (1, "evsuper", "initial")
    assert first.time.tzinfo is UTC
    assert sorted(first.files) == ["plan/ground.png", "project.toml"]


def test_every_save_is_a_version_with_author_and_summary(project_dir: Path) -> None:
    text = (project_dir / "project.toml").read_text()
    save_project_files(project_dir, {"project.toml": text + "# one\n"}, "alice", "first edit")
    version = save_project_files(
        project_dir, {"layout.toml": b"[grid]\nstep = 10\n"}, "bob", "layout added"
    )

    versions = ProjectHistory(project_dir).versions()
    assert [(v.number, v.author, v.summary) for v in versions] == [
        (1, "evsuper", "initial"),
        (2, "alice", "first edit"),
        (3, "bob", "layout added"),
    ]
    assert version == versions[-1]
    assert sorted(version.files) == ["layout.toml", "project.toml"]
    assert (project_dir / "layout.toml").read_bytes() == b"[grid]\nstep = 10\n"
    record = json.loads((project_dir / HISTORY_DIR / "versions" / "000003.json").read_text())
    assert record["author"] == "bob" and record["time"].endswith("Z")


def test_unchanged_files_are_stored_once(project_dir: Path) -> None:
    history = ProjectHistory(project_dir)
    history.versions()
    assert len(blobs(project_dir)) == 1
    save_project_files(project_dir, {"layout.toml": "a = 1\n"}, "alice", "layout")
    save_project_files(project_dir, {"layout.toml": "a = 2\n"}, "alice", "layout again")
    save_project_files(project_dir, {"layout.toml": "a = 1\n"}, "alice", "layout back")

    versions = history.versions()
    assert len(versions) == 4
    assert len({v.files["project.toml"] for v in versions}) == 1
    assert len(blobs(project_dir)) == 3  # project.toml, a = 1, a = 2


def test_saving_identical_files_records_no_version(project_dir: Path) -> None:
    text = (project_dir / "project.toml").read_text()
    version = save_project_files(project_dir, {"project.toml": text}, "alice", "nothing")
    assert (version.number, version.summary) == (1, "initial")


def test_only_project_files_are_written(project_dir: Path) -> None:
    for name in ("archive.sqlite", "reports/x.toml", ".evsuper/x.toml", "../x.toml", "a/b.toml"):
        assert not is_tracked(name)
        with pytest.raises(HistoryError):
            save_project_files(project_dir, {name: "x"}, "alice", "bad")
    assert is_tracked("layout.toml") and is_tracked("plan/level-1/ground.svg")


def test_diff_is_a_unified_diff_per_changed_file(project_dir: Path) -> None:
    text = (project_dir / "project.toml").read_text()
    changed = text.replace('id = "CP-002"', 'id = "CP-900"')
    save_project_files(
        project_dir,
        {"project.toml": changed, "plan/ground.png": b"\x89PNG\0\1", "layout.toml": "a = 1\n"},
        "alice",
        "renamed",
    )

    changes = {c.name: c for c in ProjectHistory(project_dir).diff(1, 2)}

    assert sorted(changes) == ["layout.toml", "plan/ground.png", "project.toml"]
    assert changes["plan/ground.png"].change == "added"
    assert changes["plan/ground.png"].diff is None  # binary: reported, not shown
    assert changes["layout.toml"].diff == (
        "--- layout.toml (version 1)\n+++ layout.toml (version 2)\n@@ -0,0 +1 @@\n+a = 1"
    )
    diff = changes["project.toml"].diff
    assert changes["project.toml"].change == "changed" and diff is not None
    assert diff.startswith("--- project.toml (version 1)\n+++ project.toml (version 2)\n@@ ")
    assert '\n-id = "CP-002"\n+id = "CP-900"\n' in diff
    assert [c.change for c in ProjectHistory(project_dir).diff(2, 1)] == [
        "removed",
        "removed",
        "changed",
    ]
    with pytest.raises(HistoryError, match="no version 9"):
        ProjectHistory(project_dir).diff(1, 9)


def test_restore_brings_the_files_back_as_a_new_version(project_dir: Path) -> None:
    original = (project_dir / "project.toml").read_bytes()
    save_project_files(
        project_dir,
        {"project.toml": original + b"# edited\n", "plan/ground.png": b"\x89PNG\0"},
        "alice",
        "edited",
    )
    history = ProjectHistory(project_dir)

    version = history.restore(1, "bob")

    assert (version.number, version.author, version.summary) == (3, "bob", "restored version 1")
    assert (project_dir / "project.toml").read_bytes() == original
    assert not (project_dir / "plan" / "ground.png").exists()  # version 1 had no plan
    assert history.snapshot(3) == history.snapshot(1)
    assert history.snapshot(2)["plan/ground.png"] == b"\x89PNG\0"
    assert not list(project_dir.glob(".*.tmp"))


def test_registry_writes_are_versions(project_dir: Path) -> None:
    append_charger(project_dir, ChargerConfig("CP-NEW"))
    set_password_hash(project_dir, "CP-001", "$argon2id$hash", author="carol")

    versions = ProjectHistory(project_dir).versions()
    assert [(v.author, v.summary) for v in versions] == [
        ("evsuper", "initial"),
        ("evsuper", "charger CP-NEW registered"),
        ("carol", "password of charger CP-001 set"),
    ]
    text = (project_dir / "project.toml").read_text()
    assert 'id = "CP-NEW"' in text and 'password_hash = "$argon2id$hash"' in text


def test_concurrent_registrations_lose_no_charger(project_dir: Path) -> None:
    start = threading.Barrier(2)

    def register(prefix: str) -> None:
        start.wait()
        for n in range(10):
            append_charger(project_dir, ChargerConfig(f"{prefix}-{n}"))

    threads = [threading.Thread(target=register, args=(p,)) for p in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    text = (project_dir / "project.toml").read_text()
    assert all(f'id = "{p}-{n}"' in text for p in "AB" for n in range(10))
    assert len(ProjectHistory(project_dir).versions()) == 21  # initial + one per charger


def _save_many(directory: Path, writer: str, count: int) -> None:
    for n in range(count):
        save_project_files(directory, {f"{writer}.toml": f"n = {n}\n"}, writer, f"{writer} {n}")


def _check_interleaving(directory: Path, writers: list[str], count: int) -> None:
    versions = ProjectHistory(directory).versions()
    assert [v.number for v in versions] == list(range(1, 2 + len(writers) * count))
    for writer in writers:  # each version holds the writer's file as that save wrote it
        own = [v for v in versions if v.author == writer]
        assert [v.summary for v in own] == [f"{writer} {n}" for n in range(count)]
        snapshots = [ProjectHistory(directory).snapshot(v.number) for v in own]
        assert [s[f"{writer}.toml"] for s in snapshots] == [
            f"n = {n}\n".encode() for n in range(count)
        ]


def test_the_lock_keeps_two_threads_from_interleaving(project_dir: Path) -> None:
    ProjectHistory(project_dir).versions()
    threads = [
        threading.Thread(target=_save_many, args=(project_dir, w, 15)) for w in ("one", "two")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _check_interleaving(project_dir, ["one", "two"], 15)


def test_the_lock_keeps_two_processes_from_interleaving(project_dir: Path) -> None:
    ProjectHistory(project_dir).versions()
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_save_many, args=(project_dir, w, 10)) for w in ("left", "right")
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    _check_interleaving(project_dir, ["left", "right"], 10)


def _git(directory: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(directory), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_project_that_is_a_git_repository_gets_a_commit_per_version(
    project_dir: Path,
) -> None:
    _git(project_dir, "init", "--quiet")
    (project_dir / "archive.sqlite").write_bytes(b"not a project file")
    history = ProjectHistory(project_dir)
    history.versions()  # version 1, "initial"
    save_project_files(project_dir, {"plan/ground.png": b"\x89PNG\0"}, "alice", "plan added")
    history.restore(1, "bob")

    assert _git(project_dir, "log", "--format=%an|%s").splitlines() == [
        "bob|restored version 1 (version 3)",
        "alice|plan added (version 2)",
        "evsuper|initial (version 1)",
    ]
    changes = [
        _git(project_dir, "show", "--format=", "--name-status", c) for c in ("HEAD", "HEAD~1")
    ]
    assert changes == ["D\tplan/ground.png\n", "A\tplan/ground.png\n"]
    assert _git(project_dir, "ls-files").split() == ["project.toml"]  # never the archive


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_project_inside_another_repository_is_left_alone(tmp_path: Path) -> None:
    _git(tmp_path, "init", "--quiet")
    write_new_project(tmp_path / "inside", bollards=1)
    save_project_files(tmp_path / "inside", {"x.toml": "x = 1\n"}, "alice", "x")
    assert _git(tmp_path, "status", "--porcelain").strip().startswith("??")
    assert subprocess.run(["git", "-C", str(tmp_path), "log"], capture_output=True).returncode
