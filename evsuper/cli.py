"""Command line: ``evsuper run | serve | new | add-bollards | import-library | check | call |
charger-password | users | report | history``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import importlib
import json
import logging
import signal
import sys
import tomllib
from pathlib import Path

from evsuper.project.loader import ProjectError, load_project
from evsuper.project.model import Project

DEFAULT_PROJECT = Path("projects/demo")
# Commands whose modules are slow to import (the archive, PDF): loaded only when named (or
# for help), so that `evsuper new` and the like start fast.
_HEAVY = {"users": "evsuper.users.cli", "report": "evsuper.reports.cli"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser(next((a for a in argv if not a.startswith("-")), None))
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    try:
        return int(args.handler(args))
    except ProjectError as exc:
        print(f"evsuper: bad project: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line; ``command``: the one asked for (None: unknown, load them all)."""
    parser = argparse.ArgumentParser(
        prog="evsuper", description="Supervision of EV charging sites (OCPP central system + HMI)."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="open the HMI on a project (default: projects/demo)")
    run.add_argument(
        "project",
        nargs="?",
        type=Path,
        default=DEFAULT_PROJECT,
        metavar="PROJECT_DIR",
        help="folder with project.toml (default: projects/demo)",
    )
    run.add_argument(
        "--viewer",
        action="store_true",
        help="open on the site without a login, as viewer (control-room wall screen)",
    )
    run.add_argument(
        "--new",
        type=Path,
        metavar="NEW_DIR",
        help="create a project in NEW_DIR with the project wizard, then open it",
    )
    run.add_argument(
        "--add-bollards",
        action="store_true",
        help="add bollards to PROJECT_DIR with the project wizard before opening it",
    )
    run.set_defaults(handler=_run)

    serve = sub.add_parser(
        "serve", help="run the engine headless (no Qt): OCPP central system, archive, simulator"
    )
    serve.add_argument("project", type=Path, metavar="PROJECT_DIR", help="folder with project.toml")
    serve.add_argument("--ocpp-host", help="listen address (default: the project's)")
    serve.add_argument("--ocpp-port", type=int, help="listen port (default: the project's)")
    serve.add_argument(
        "--no-simulator", action="store_true", help="do not start the simulated bollards"
    )
    serve.set_defaults(handler=_serve)

    call_ = sub.add_parser(
        "call",
        help="send an OCPP message to a charger through a running engine; prints the answer",
        description=(
            "Send any OCPP 1.6 message a central system may send to a charger connected to "
            "the running engine (evsuper serve or run) of PROJECT_DIR, and print the charger's "
            "answer as JSON. Exit code 0 when the charger answered, 1 otherwise."
        ),
    )
    call_.add_argument("project", type=Path, metavar="PROJECT_DIR", help="folder with project.toml")
    call_.add_argument("charger_id", metavar="CHARGER_ID")
    call_.add_argument(
        "action", metavar="ACTION", help="e.g. Reset, GetConfiguration, TriggerMessage"
    )
    call_.add_argument(
        "payload", nargs="?", default="{}", metavar="PAYLOAD", help="JSON, as on the wire"
    )
    call_.add_argument(
        "--yes",
        action="store_true",
        help="confirm a dangerous action (Reset, UnlockConnector, UpdateFirmware, ...) "
        "without being asked",
    )
    call_.set_defaults(handler=_call)

    password = sub.add_parser(
        "charger-password",
        help="set a charger's HTTP Basic auth password (security profiles 1, 2); prompts for it",
        description="Prompt for the charger's password (16 to 40 characters; read from stdin "
        "when it is not a terminal) and store its argon2 hash as that charger's password_hash "
        "in project.toml. The password itself is never stored.",
    )
    password.add_argument(
        "project", type=Path, metavar="PROJECT_DIR", help="folder with project.toml"
    )
    password.add_argument("charger_id", metavar="CHARGER_ID", help="charge point id")
    password.set_defaults(handler=_charger_password)

    for name, module in _HEAVY.items():
        if command in (None, name):
            importlib.import_module(module).add_parser(sub)
        else:  # a stand-in: the parser knows the name, the module stays unloaded
            sub.add_parser(name)

    from evsuper.project import history_cli

    history_cli.add_parser(sub)

    from evsuper.project import generator_cli

    generator_cli.add_parser(sub)
    return parser


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    # the ocpp library logs every frame at INFO, asyncua each node of its standard address
    # space and each endpoint it finds; keep that for --verbose
    for noisy in ("ocpp", "ocpp.frames", "websockets", "alembic", "asyncua"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)


def _run(args: argparse.Namespace) -> int:
    from evsuper.hmi.display import display_problem  # no Qt imported yet

    problem = display_problem(args.project)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    if args.new is not None or args.add_bollards:
        from evsuper.hmi.dialogs.project_wizard import run_wizard

        folder = args.new if args.new is not None else args.project
        args.project = run_wizard(folder, adding=args.new is None)
        if args.project is None:
            return 1  # cancelled
    project = load_project(args.project)
    from evsuper.hmi.app import run_hmi

    return run_hmi(project, start_as_viewer=True if args.viewer else None)


def _serve(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    asyncio.run(serve(project, args.ocpp_host, args.ocpp_port, not args.no_simulator))
    return 0


async def serve(project: Project, host: str | None, port: int | None, simulator: bool) -> None:
    """Run the engine until SIGINT/SIGTERM, then stop it cleanly (archive flushed)."""
    from evsuper.engine.runtime import Engine

    engine = Engine(
        project,
        run_simulator=simulator and project.simulator.enabled,
        ocpp_host=host,
        ocpp_port=port,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await engine.start()
    try:
        await stop.wait()
    finally:
        logging.getLogger("evsuper").info("stopping: flushing the archive")
        await engine.stop()


def _charger_password(args: argparse.Namespace) -> int:
    from evsuper.drivers.ocpp.security import hash_password, password_problem
    from evsuper.project.registry import set_password_hash
    from evsuper.users.cli import prompt_password
    from evsuper.users.store import UserError

    try:
        password = prompt_password(args.charger_id)
    except UserError as exc:
        print(f"evsuper charger-password: {exc}", file=sys.stderr)
        return 2
    problem = password_problem(password)
    if problem is not None:
        print(f"evsuper charger-password: {problem}", file=sys.stderr)
        return 2
    try:
        set_password_hash(
            args.project, args.charger_id, hash_password(password), author=getpass.getuser()
        )
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) else exc
        print(f"evsuper charger-password: {message}", file=sys.stderr)
        return 2
    print(f"password hash of {args.charger_id} written to {args.project / 'project.toml'}")
    return 0


def _call(args: argparse.Namespace) -> int:
    from evsuper.engine.commands import DANGEROUS_ACTIONS
    from evsuper.engine.control_client import ControlError, send_call

    try:
        payload = json.loads(args.payload)
        if not isinstance(payload, dict):
            raise ValueError("the payload must be a JSON object")
    except ValueError as exc:
        print(f"evsuper call: bad payload: {exc}", file=sys.stderr)
        return 2
    confirmed = args.yes
    if not confirmed and args.action in DANGEROUS_ACTIONS and sys.stdin.isatty():
        question = f"Send {args.action} to {args.charger_id} as it is, unchecked? [y/N] "
        confirmed = input(question).strip().lower() in ("y", "yes")
    try:
        answer = send_call(args.project, args.charger_id, args.action, payload, confirmed=confirmed)
    except ControlError as exc:
        print(f"evsuper call: {exc}", file=sys.stderr)
        return 2
    if answer["outcome"] in ("Accepted", "Rejected"):  # the charger answered
        print(json.dumps(answer["payload"], indent=2))
        return 0
    detail = f": {answer['detail']}" if answer["detail"] else ""
    print(f"evsuper call: {answer['outcome']} ({answer['status']}){detail}", file=sys.stderr)
    return 1
