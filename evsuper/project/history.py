"""Project history: every save of the project's files is a version (who, when, what).

Git-free and inside the project folder, under ``.evsuper/history/``:

- ``blobs/<sha256>``: each file content once, named by its hash (unchanged files cost
  nothing);
- ``versions/<number>.json``: one record per version: number, UTC time, author, summary
  and ``{file: hash}``;
- ``lock``: held while a version is written, so two processes never interleave.

Tracked files: every ``*.toml`` at the top of the project folder and the ``plan/``
folder (ground-plan images); never ``.evsuper/``, the archive or ``reports/``.
``save_project_files`` is the one way evsuper writes them. When the project folder is the
top of a git work tree (and git is installed), each version is also a git commit.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from evsuper.core.timeutil import from_wire, to_wire, utcnow

log = logging.getLogger(__name__)

HISTORY_DIR = Path(".evsuper") / "history"
PLAN_DIR = "plan"
SYSTEM_AUTHOR = "evsuper"  # the author of version 1, the files found when history began


@dataclass(frozen=True, slots=True)
class Version:
    number: int
    time: datetime  # aware UTC
    author: str
    summary: str
    files: Mapping[str, str]  # project-relative POSIX path → sha256 of its content


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file that differs between two versions; ``diff`` is None for a binary file."""

    name: str
    change: str  # "added", "removed" or "changed"
    diff: str | None


class HistoryError(ValueError):
    """An unknown version, or a file evsuper does not keep in a project."""


def is_tracked(name: str) -> bool:
    """Whether ``name`` (project-relative, POSIX) is a project file kept in the history."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return False
    if len(path.parts) == 1:
        return path.suffix == ".toml" and not name.startswith(".")
    return path.parts[0] == PLAN_DIR and not any(p.startswith(".") for p in path.parts)


class ProjectHistory:
    """The history of the project in ``directory``; every method may block on the disk."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._root = directory / HISTORY_DIR

    def versions(self) -> list[Version]:
        """Every version, oldest first (the current files become version 1 if none yet)."""
        with self._locked():
            self._begin()
            return self._versions()

    def snapshot(self, number: int) -> dict[str, bytes]:
        """The files of version ``number``."""
        with self._locked():
            self._begin()
            return self._snapshot(self._version(number))

    def diff(self, a: int, b: int) -> list[FileChange]:
        """What changed from version ``a`` to ``b``: a unified diff per changed text file."""
        with self._locked():
            self._begin()
            old, new = self._version(a), self._version(b)
            old_files, new_files = self._snapshot(old), self._snapshot(new)
        changes = []
        for name in sorted(old_files.keys() | new_files.keys()):
            if old.files.get(name) == new.files.get(name):
                continue
            change = "added" if name not in old.files else "removed"
            if name in old.files and name in new.files:
                change = "changed"
            before, after = old_files.get(name, b""), new_files.get(name, b"")
            changes.append(FileChange(name, change, _unified(name, a, b, before, after)))
        return changes

    def save(self, files: Mapping[str, bytes | str], author: str, summary: str) -> Version:
        """Write ``files`` atomically and record the version (see ``save_project_files``)."""
        contents = {name: _as_bytes(data) for name, data in files.items()}
        for name in contents:
            if not is_tracked(name):
                raise HistoryError(f"{name!r} is not a project file kept in the history")
        with self._locked():
            self._begin()
            for name, data in contents.items():
                write_atomic(self.directory / name, data)
            return self._record(author, summary)

    def update(self, name: str, change: Callable[[str], str], author: str, summary: str) -> Version:
        """Read the text file ``name``, write ``change(text)`` and record the version, all
        under the lock: two writers changing one file never lose each other's change."""
        if not is_tracked(name):
            raise HistoryError(f"{name!r} is not a project file kept in the history")
        with self._locked():
            self._begin()
            with (self.directory / name).open(encoding="utf-8", newline="") as f:
                text = f.read()
            write_atomic(self.directory / name, change(text).encode("utf-8"))
            return self._record(author, summary)

    def restore(self, number: int, author: str) -> Version:
        """Bring back the files of version ``number`` (files it did not have are removed)
        and record that as a new version, "restored version N"."""
        with self._locked():
            self._begin()
            old = self._snapshot(self._version(number))
            for name in self._current().keys() - old.keys():
                (self.directory / name).unlink()
            for name, data in old.items():
                write_atomic(self.directory / name, data)
            return self._record(author, f"restored version {number}")

    # -- under the lock ------------------------------------------------------------------

    def _begin(self) -> None:
        """Record the files found as version 1, "initial", on a project without history."""
        if not self._versions() and self._current():
            self._record(SYSTEM_AUTHOR, "initial")

    def _versions(self) -> list[Version]:
        folder = self._root / "versions"
        if not folder.is_dir():
            return []
        return sorted(
            (_read_version(file) for file in folder.glob("*.json")), key=lambda v: v.number
        )

    def _version(self, number: int) -> Version:
        file = self._root / "versions" / f"{number:06d}.json"
        if not file.is_file():
            raise HistoryError(f"the project has no version {number}")
        return _read_version(file)

    def _snapshot(self, version: Version) -> dict[str, bytes]:
        return {n: (self._root / "blobs" / h).read_bytes() for n, h in version.files.items()}

    def _current(self) -> dict[str, bytes]:
        """The tracked files as they are on disk now."""
        candidates = [*self.directory.glob("*.toml"), *(self.directory / PLAN_DIR).rglob("*")]
        found = {}
        for path in candidates:
            name = path.relative_to(self.directory).as_posix()
            if path.is_file() and is_tracked(name):
                found[name] = path.read_bytes()
        return found

    def _record(self, author: str, summary: str) -> Version:
        """Record the current files as a new version, unless they equal the latest one."""
        files = {}
        for name, data in sorted(self._current().items()):
            digest = hashlib.sha256(data).hexdigest()
            blob = self._root / "blobs" / digest
            if not blob.exists():
                write_atomic(blob, data)
            files[name] = digest
        versions = self._versions()
        if versions and versions[-1].files == files:
            return versions[-1]
        gone = sorted(versions[-1].files.keys() - files.keys()) if versions else []
        number = versions[-1].number + 1 if versions else 1
        now = utcnow()
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # as stored
        version = Version(number, now, author, summary, files)
        record = {
            "number": version.number,
            "time": to_wire(version.time),
            "author": author,
            "summary": summary,
            "files": files,
        }
        text = json.dumps(record, indent=1, ensure_ascii=False) + "\n"
        write_atomic(self._root / "versions" / f"{version.number:06d}.json", text.encode())
        _git_commit(self.directory, sorted(files), gone, author, f"{summary} (version {number})")
        return version

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Exclusive across processes and threads (one open file description each)."""
        self._root.mkdir(parents=True, exist_ok=True)
        with (self._root / "lock").open("a+b") as lock:
            if sys.platform == "win32":
                import msvcrt

                lock.seek(0)
                while True:
                    with contextlib.suppress(OSError):  # LK_LOCK gives up after 10 s
                        msvcrt.locking(lock.fileno(), msvcrt.LK_LOCK, 1)
                        break
                try:
                    yield
                finally:
                    lock.seek(0)
                    msvcrt.locking(lock.fileno(), msvcrt.LK_UNLCK, 1)
            else:
                import fcntl

                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)


def save_project_files(
    directory: Path, files: Mapping[str, bytes | str], author: str, summary: str
) -> Version:
    """THE way evsuper writes project files: each one atomically (temporary file, fsync,
    rename), then the project's files recorded as a version by ``author``.

    ``files`` maps project-relative POSIX paths to contents (``str`` is written as UTF-8);
    other files stay as they are. Saving unchanged files records no new version: the
    latest one is returned.
    """
    return ProjectHistory(directory).save(files, author, summary)


def _git_commit(
    directory: Path, present: list[str], gone: list[str], author: str, message: str
) -> None:
    """Commit a version in git as well, when git is installed and the project folder is
    the top of a git work tree (a project inside another repository is left alone).
    Failures are logged, never raised: the history above is the one evsuper reads."""
    git = shutil.which("git")
    if git is None or not (directory / ".git").exists():
        return
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": author,
        "GIT_AUTHOR_EMAIL": f"{author}@evsuper.invalid",
        "GIT_COMMITTER_NAME": SYSTEM_AUTHOR,
        "GIT_COMMITTER_EMAIL": f"{SYSTEM_AUTHOR}@evsuper.invalid",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [git, "-C", str(directory), *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=30)

    try:
        steps = [("add", "--", *present)] if present else []
        steps += [("rm", "--cached", "--quiet", "--ignore-unmatch", "--", *gone)] if gone else []
        for step in steps:
            if (done := run(*step)).returncode != 0:
                log.warning("git %s in %s: %s", step[0], directory, done.stderr.strip())
                return
        if run("diff", "--cached", "--quiet").returncode == 0:
            return  # git has these contents already
        done = run("commit", "--quiet", "--no-verify", "-m", message)
        if done.returncode != 0:
            log.warning("git commit in %s: %s", directory, done.stderr.strip())
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("git in %s: %s", directory, exc)


def _read_version(file: Path) -> Version:
    record = json.loads(file.read_text(encoding="utf-8"))
    return Version(
        number=int(record["number"]),
        time=from_wire(record["time"]),
        author=str(record["author"]),
        summary=str(record["summary"]),
        files={str(k): str(v) for k, v in record["files"].items()},
    )


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def _unified(name: str, a: int, b: int, before: bytes, after: bytes) -> str | None:
    """The unified diff of a text file, None when either side is not UTF-8 text."""
    try:
        old, new = before.decode("utf-8"), after.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\0" in old or "\0" in new:
        return None
    lines = difflib.unified_diff(
        old.splitlines(),
        new.splitlines(),
        f"{name} (version {a})",
        f"{name} (version {b})",
        lineterm="",
    )
    return "\n".join(lines)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step: a reader sees the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            shutil.copymode(path, temporary)
        else:
            os.chmod(temporary, 0o666 & ~_UMASK)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    if sys.platform != "win32":  # make the rename itself durable
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # new files get the usual mode; read once, umask is process-wide
