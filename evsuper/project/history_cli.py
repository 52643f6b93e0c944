"""``evsuper history``: the versions of a project's files, their differences, a restore.

  evsuper history PROJECT_DIR list
  evsuper history PROJECT_DIR diff 3 5
  evsuper history PROJECT_DIR restore 3 [--yes]

A restore writes the files of that version back as a new version by the OS user; a
running engine keeps its project until its next start. Exit code 2 on a bad project
folder or version, 1 when a restore is not confirmed.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from evsuper.project.history import FileChange, HistoryError, ProjectHistory, Version


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    history = sub.add_parser(
        "history",
        help="the project's versions: list, diff two, restore one",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    history.add_argument(
        "project", type=Path, metavar="PROJECT_DIR", help="folder with project.toml"
    )
    actions = history.add_subparsers(title="actions", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="every version: number, time, author, summary")
    listing.set_defaults(handler=run, action=_list)
    diff = actions.add_parser("diff", help="what changed from version A to version B")
    diff.add_argument("a", type=int, metavar="A")
    diff.add_argument("b", type=int, metavar="B")
    diff.set_defaults(handler=run, action=_diff)
    restore = actions.add_parser("restore", help="bring back the files of version N")
    restore.add_argument("version", type=int, metavar="N")
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    restore.set_defaults(handler=run, action=_restore)


def run(args: argparse.Namespace) -> int:
    if not (args.project / "project.toml").is_file():
        print(f"evsuper history: no project.toml in {args.project}", file=sys.stderr)
        return 2
    try:
        return int(args.action(args, ProjectHistory(args.project)))
    except (HistoryError, OSError) as exc:
        print(f"evsuper history: {exc}", file=sys.stderr)
        return 2


def _list(args: argparse.Namespace, history: ProjectHistory) -> int:
    for version in history.versions():
        print(describe(version))
    return 0


def _diff(args: argparse.Namespace, history: ProjectHistory) -> int:
    changes = history.diff(args.a, args.b)
    if not changes:
        print(f"no difference between versions {args.a} and {args.b}")
    for change in changes:
        print(_change_text(change))
    return 0


def _restore(args: argparse.Namespace, history: ProjectHistory) -> int:
    if not args.yes:
        question = (
            f"Restore the files of version {args.version} in {args.project}? "
            "The current files stay in the history. [y/N] "
        )
        if not sys.stdin.isatty() or input(question).strip().lower() not in ("y", "yes"):
            print("evsuper history: not restored (confirm with --yes)", file=sys.stderr)
            return 1
    version = history.restore(args.version, getpass.getuser())
    print(f"restored version {args.version} as version {version.number}")
    print("a running evsuper keeps its project until its next start")
    return 0


def describe(version: Version) -> str:
    """``  N  YYYY-MM-DD HH:MM:SS  author  summary``, local time."""
    when = version.time.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return f"{version.number:>4}  {when}  {version.author}  {version.summary}"


def _change_text(change: FileChange) -> str:
    if change.diff is None:
        return f"binary file {change.name} {change.change}"
    return change.diff if change.diff else f"{change.name} {change.change} (empty)"
