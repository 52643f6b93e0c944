"""``evsuper new | add-bollards | import-library | check``: projects from templates.

  evsuper new DIR --template public-ac --bollards 50 --site "Parking Nord" --per-area 25
  evsuper new projects/demo --spec projects/specs/demo.toml --replace
  evsuper add-bollards DIR --count 10 --template public-ac --area LEVEL-2
  evsuper import-library DIR --from OTHER_PROJECT [--force]
  evsuper check DIR

Exit codes: 0 done (check: no problem), 1 check found problems, 2 the command could not be
done (bad parameters, unknown template or area, conflicting library files).
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from evsuper.project.generate import GeneratorError, NewUser, Params, create_project
from evsuper.project.model import AuthorizationMode, UnknownChargerPolicy
from evsuper.project.template import Template, available_templates, load_template
from evsuper.users.store import UserError

if TYPE_CHECKING:
    from evsuper.project.spec import SpecUser


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    known = ", ".join(available_templates())
    new = sub.add_parser(
        "new",
        help="write a project for N bollards from a template",
        description=f"Templates: {known}, and a project's own in library/templates/.",
    )
    new.add_argument("project", type=Path, metavar="PROJECT_DIR", help="folder to create")
    new.add_argument("--template", default="minimal", help="template name (default: minimal)")
    new.add_argument("--bollards", type=int, metavar="N", help="number of bollards")
    new.add_argument(
        "--spec",
        type=Path,
        metavar="FILE",
        help="generate the project a spec describes (several sites; docs/templates.md)",
    )
    new.add_argument(
        "--replace",
        action="store_true",
        help="with --spec: rewrite an existing project's files (a version of its history)",
    )
    new.add_argument("--site", help="site name (default: the folder name)")
    new.add_argument("--site-id", default="SITE", help="site id (default: SITE)")
    new.add_argument("--name", help="project name (default: the site name)")
    spread = new.add_mutually_exclusive_group()
    spread.add_argument("--areas", type=int, metavar="K", help="spread the bollards over K areas")
    spread.add_argument("--per-area", type=int, metavar="M", help="M bollards per area")
    _bollard_options(new)
    new.add_argument("--archive", metavar="URL", help="archive URL (sqlite:///file or PostgreSQL)")
    new.add_argument("--ocpp-port", type=int, help="OCPP listen port (default: 9000)")
    new.add_argument(
        "--unknown-chargers",
        choices=[p.value for p in UnknownChargerPolicy],
        help="what to do with a charger not in the project (default: the template's)",
    )
    new.add_argument(
        "--authorization",
        choices=[m.value for m in AuthorizationMode],
        help="badges: only the project's idTags; open: any idTag (default: the template's)",
    )
    new.add_argument("--badges", type=int, metavar="N", help="badges per badge group")
    new.add_argument(
        "--ask-passwords",
        action="store_true",
        help="ask for the initial users' passwords (default: generated and printed once)",
    )
    new.set_defaults(handler=_new)

    add = sub.add_parser("add-bollards", help="add N bollards from a template to an area")
    add.add_argument("project", type=Path, metavar="PROJECT_DIR", help="folder with project.toml")
    add.add_argument("--count", type=int, required=True, metavar="N", help="bollards to add")
    add.add_argument("--template", required=True, help="template name")
    add.add_argument("--area", required=True, help="the [[areas]] id they stand in")
    _bollard_options(add)
    add.set_defaults(handler=_add_bollards)

    library = sub.add_parser(
        "import-library", help="copy library/ (templates, symbols) from another project"
    )
    library.add_argument("project", type=Path, metavar="PROJECT_DIR", help="project to copy to")
    library.add_argument("--from", dest="source", type=Path, required=True, metavar="OTHER_PROJECT")
    library.add_argument("--force", action="store_true", help="replace files that differ")
    library.set_defaults(handler=_import_library)

    check = sub.add_parser(
        "check", help="validate a project: every problem with file, line and field"
    )
    check.add_argument("project", type=Path, metavar="PROJECT_DIR", help="folder with project.toml")
    check.set_defaults(handler=_check)


def _bollard_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--type", dest="bollard_type", help="bollard type of the template")
    parser.add_argument("--id-pattern", help="charge point ids, e.g. CP-{n:03d}")
    parser.add_argument("--connectors", type=int, metavar="K", help="connectors per bollard")
    parser.add_argument("--power-kw", type=float, metavar="X", help="power limit per connector")
    parser.add_argument("--protocol", help="only ocpp16 (OCPP 1.6J) today")


def _new(args: argparse.Namespace) -> int:
    if args.spec is not None:
        return _new_from_spec(args)
    if args.bollards is None or args.replace:
        print("evsuper new: give --bollards N (or --spec FILE [--replace])", file=sys.stderr)
        return 2
    try:
        template = load_template(args.template)
        site = args.site or args.project.resolve().name
        params = Params(
            bollards=args.bollards,
            site_name=site,
            site_id=args.site_id,
            project_name=args.name or "",
            areas=args.areas,
            per_area=args.per_area,
            id_pattern=args.id_pattern,
            bollard_type=args.bollard_type,
            connectors=args.connectors,
            power_kw=args.power_kw,
            protocol=args.protocol,
            archive_url=args.archive,
            port=args.ocpp_port,
            authorization=args.authorization,
            unknown_chargers=args.unknown_chargers,
            badges=args.badges,
            users=_users(template, args.ask_passwords),
        )
        project = create_project(args.project, template, params)
    except (FileExistsError, GeneratorError, UserError) as exc:
        print(f"evsuper new: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {project.file}: {len(project.chargers)} bollards in {len(project.areas)} areas "
        f"from template {template.name!r}"
    )
    return 0


def _new_from_spec(args: argparse.Namespace) -> int:
    from evsuper.project.loader import ProjectError
    from evsuper.project.spec import accounts, load_spec, write_spec_project

    given = [o for o in ("bollards", "site", "name", "areas", "per_area") if getattr(args, o)]
    if given or args.template != "minimal":
        print("evsuper new: --spec takes everything else from the spec", file=sys.stderr)
        return 2
    try:
        spec = load_spec(args.spec)
        users = _hashed(accounts(spec), args.ask_passwords)
        project = write_spec_project(
            spec, args.project, users, replace=args.replace, author=getpass.getuser()
        )
    except (OSError, ProjectError, GeneratorError, UserError) as exc:
        print(f"evsuper new: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {project.file}: {len(project.chargers)} bollards in {len(project.sites)} sites "
        f"from {args.spec}"
    )
    return 0


def _users(template: Template, ask: bool) -> tuple[NewUser, ...]:
    """The template's users with their passwords hashed."""
    return _hashed([NewUser(u.name, u.role, "") for u in template.users], ask)


def _hashed(users: Sequence[NewUser | SpecUser], ask: bool) -> tuple[NewUser, ...]:
    """``users`` with a password hash each: the one given, else a password asked for, or
    generated and printed here once (it is nowhere else), then hashed."""
    passwords: list[str] = []
    for user in users:
        if user.password_hash:
            continue
        if ask:
            from evsuper.users.cli import prompt_password

            passwords.append(prompt_password(user.name))
        else:
            passwords.append(secrets.token_urlsafe(12))
            print(f"initial user {user.name} ({user.role.value}): password {passwords[-1]}")
    if passwords and not ask:
        print("(these passwords are shown once: note them; project.toml keeps only hashes)")
    from evsuper.users.store import hash_password

    with ThreadPoolExecutor() as pool:  # argon2 releases the GIL: hash them side by side
        hashes = iter(pool.map(hash_password, passwords))
    return tuple(NewUser(u.name, u.role, u.password_hash or next(hashes)) for u in users)


def _add_bollards(args: argparse.Namespace) -> int:
    from evsuper.project.integrate import add_bollards

    try:
        template = load_template(args.template, args.project)
        params = Params(
            bollards=args.count,
            id_pattern=args.id_pattern,
            bollard_type=args.bollard_type,
            connectors=args.connectors,
            power_kw=args.power_kw,
            protocol=args.protocol,
        )
        ids = add_bollards(args.project, template, params, args.area, getpass.getuser())
    except GeneratorError as exc:
        print(f"evsuper add-bollards: {exc}", file=sys.stderr)
        return 2
    print(f"added {len(ids)} bollards to {args.area}: {ids[0]} to {ids[-1]}")
    return 0


def _import_library(args: argparse.Namespace) -> int:
    from evsuper.project.integrate import LibraryConflict, import_library

    try:
        copied = import_library(args.project, args.source, force=args.force)
    except (LibraryConflict, FileNotFoundError) as exc:
        print(f"evsuper import-library: {exc}", file=sys.stderr)
        return 2
    print(f"copied {len(copied)} files" + "".join(f"\n  {name}" for name in copied))
    return 0


def _check(args: argparse.Namespace) -> int:
    from evsuper.project.check import check_project

    problems = check_project(args.project)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problems", file=sys.stderr)
        return 1
    print(f"{args.project}: no problem found")
    return 0
