"""``evsuper users``: the accounts of a project, from the command line.

Whoever runs it owns the project folder and can read its archive anyway, so it acts as
that OS user with the ``admin`` role (origin ``cli``), and every change is audited.
Passwords are prompted for (or read from stdin when it is not a terminal), never taken
from the command line.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.project.loader import load_project
from evsuper.users.permissions import Actor, Origin, Role
from evsuper.users.store import (
    UserError,
    UserStore,
    check_password,
    create_initial_users,
    hash_password,
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = sub.add_parser(
        "users",
        help="list, add, disable users of a project; change their password or role",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    users.add_argument(
        "-p",
        "--project",
        type=Path,
        default=Path("."),
        metavar="PROJECT_DIR",
        help="folder with project.toml (default: the current folder)",
    )
    actions = users.add_subparsers(title="actions", required=True, metavar="ACTION")
    roles = [r.value for r in Role]

    listing = actions.add_parser("list", help="every user with role, state and last login")
    listing.set_defaults(action_handler=_list)
    add = actions.add_parser("add", help="create a user (prompts for the password)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", choices=roles, required=True)
    add.set_defaults(action_handler=_add)
    for name, help_text, handler in (
        ("disable", "forbid a user to log in (history kept)", _disable),
        ("enable", "allow a disabled user to log in again", _enable),
        ("passwd", "set a user's password (prompts for it)", _passwd),
    ):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("name", metavar="NAME")
        action.set_defaults(action_handler=handler)
    role = actions.add_parser("role", help="give a user another role")
    role.add_argument("name", metavar="NAME")
    role.add_argument("role", choices=roles, metavar="ROLE", help=", ".join(roles))
    role.set_defaults(action_handler=_role)
    hash_ = actions.add_parser(
        "hash", help="print an argon2 hash for a project's [[initial_users]] (prompts)"
    )
    hash_.set_defaults(action_handler=_hash)
    users.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        if args.action_handler is _hash:  # needs no project
            return _hash(args)
        store = open_store(args.project)
        actor = Actor(getpass.getuser(), Role.ADMIN, Origin.CLI)
        return int(args.action_handler(args, store, actor))
    except UserError as exc:
        print(f"evsuper users: {exc}", file=sys.stderr)
        return 2


def open_store(project_dir: Path) -> UserStore:
    """The project's users, its archive brought to the current schema first."""
    project = load_project(project_dir)
    engine = create_archive_engine(project.archive_url())
    with engine.begin() as connection:
        upgrade_to_head(connection)
    store = UserStore(engine)
    create_initial_users(project, store)
    return store


def prompt_password(label: str) -> str:
    """Ask twice on a terminal; else read one line from stdin. Raises UserError."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass(f"password for {label}: ")
    if getpass.getpass("again: ") != password:
        raise UserError("the passwords differ")
    return password


def _list(args: argparse.Namespace, store: UserStore, actor: Actor) -> int:
    users = store.list()
    if not users:
        print("no users; create an administrator: evsuper users add NAME --role admin")
        return 0
    print(f"{'NAME':<20} {'ROLE':<12} {'STATE':<9} LAST LOGIN (UTC)")
    for user in users:
        state = "disabled" if user.disabled else "enabled"
        last = user.last_login.strftime("%Y-%m-%d %H:%M") if user.last_login else "never"
        print(f"{user.name:<20} {user.role.value:<12} {state:<9} {last}")
    return 0


def _add(args: argparse.Namespace, store: UserStore, actor: Actor) -> int:
    password = prompt_password(args.name)
    store.add(args.name, Role(args.role), password, by=actor)
    print(f"added {args.name} ({args.role})")
    return 0


def _disable(args: argparse.Namespace, store: UserStore, actor: Actor) -> int:
    store.set_disabled(args.name, True, by=actor)
    print(f"disabled {args.name}")
    return 0


def _enable(args: argparse.Namespace, store: UserStore, actor: Actor) -> int:
    store.set_disabled(args.name, False, by=actor)
    print(f"enabled {args.name}")
    return 0


def _passwd(args: argparse.Namespace, store: UserStore, actor: Actor) -> int:
    store.set_password(args.name, prompt_password(args.name), by=actor)
    print(f"password of {args.name} changed")
    return 0


def _role(args: argparse.Namespace, store: UserStore, actor: Actor) -> int:
    store.set_role(args.name, Role(args.role), by=actor)
    print(f"{args.name} is now {args.role}")
    return 0


def _hash(args: argparse.Namespace) -> int:
    password = prompt_password("the initial user")
    check_password(password)
    print(hash_password(password))
    return 0
