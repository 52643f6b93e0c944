"""``evsuper report``: PDF reports of a project from its archive, headless (no engine needs
to run). Dates are local to ``--tz`` (default: the project's ``[notifications] timezone``,
else the machine's zone).

  evsuper report daily   PROJECT_DIR --date 2026-11-21            --out day.pdf
  evsuper report monthly PROJECT_DIR --month 2026-11               --out billing.pdf
  evsuper report alarms  PROJECT_DIR --from 2026-11-01 --to 2026-11-21 --out alarms.pdf

``--to`` is inclusive (the whole day). Exit code 2 on a bad project, date or output file.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfoNotFoundError

from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.project.loader import load_project


class ReportError(Exception):
    """A bad argument, said in one line."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser(
        "report",
        help="write a PDF report: daily energy, monthly billing, alarm KPIs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kinds = report.add_subparsers(title="reports", required=True, metavar="REPORT")
    daily = kinds.add_parser("daily", help="energy per site and bollard, load curve")
    daily.add_argument("--date", required=True, metavar="YYYY-MM-DD")
    monthly = kinds.add_parser("monthly", help="billing per badge, every session")
    monthly.add_argument("--month", required=True, metavar="YYYY-MM")
    alarms = kinds.add_parser("alarms", help="alarm KPIs against ISA-18.2 / EEMUA 191")
    alarms.add_argument("--from", dest="first", required=True, metavar="YYYY-MM-DD")
    alarms.add_argument("--to", dest="last", required=True, metavar="YYYY-MM-DD")
    alarms.add_argument(
        "--positions", type=int, default=1, help="operator positions sharing the alarm load"
    )
    for kind, name in ((daily, "daily"), (monthly, "monthly"), (alarms, "alarms")):
        kind.add_argument(
            "project", type=Path, metavar="PROJECT_DIR", help="folder with project.toml"
        )
        kind.add_argument("--out", type=Path, required=True, metavar="FILE.pdf")
        kind.add_argument("--tz", default=None, metavar="ZONE", help="IANA zone, e.g. Europe/Paris")
        kind.set_defaults(handler=run, report=name)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except ReportError as exc:
        print(f"evsuper report: {exc}", file=sys.stderr)
        return 2


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text) if len(text) == 10 else _bad(text, option)
    except ValueError:
        return _bad(text, option)


def _bad(text: str, option: str) -> date:
    raise ReportError(f"{option} {text!r} is not a date like 2026-11-21")


def _check_out(out: Path) -> None:
    folder = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise ReportError(f"--out {out} is a folder; give a file name")
    if not folder.is_dir():
        raise ReportError(f"--out {out}: no folder {folder}")
    if not os.access(folder, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise ReportError(f"--out {out}: not writable")


def _run(args: argparse.Namespace) -> int:
    from evsuper.reports import pdf
    from evsuper.reports.make import ReportKind, ReportRequest, write_report

    # arguments first, so a bad one costs nothing (and creates no archive)
    if args.report == "daily":
        day = _day(args.date, "--date")
    elif args.report == "monthly":
        try:
            month = datetime.strptime(args.month, "%Y-%m")
            if len(args.month) != 7:
                raise ValueError(args.month)
        except ValueError:
            raise ReportError(f"--month {args.month!r} is not a month like 2026-11") from None
    else:
        first, last = _day(args.first, "--from"), _day(args.last, "--to")
        if last < first:
            raise ReportError(f"--to {last} is before --from {first}")
        if args.positions < 1:
            raise ReportError("--positions must be at least 1")
    _check_out(args.out)
    project = load_project(args.project)
    zone_name = args.tz if args.tz is not None else project.notifications.timezone
    try:
        pdf.zone_of(zone_name)  # checked before the archive is touched
    except (ZoneInfoNotFoundError, ValueError):
        raise ReportError(f"unknown time zone {zone_name!r}") from None

    engine = create_archive_engine(project.archive_url())
    try:
        with engine.begin() as connection:
            upgrade_to_head(connection)
        if args.report == "daily":
            request = ReportRequest(ReportKind.DAILY, day)
        elif args.report == "monthly":
            request = ReportRequest(ReportKind.MONTHLY, month.date())
        else:
            request = ReportRequest(ReportKind.ALARMS, first, last, args.positions)
        try:
            summary = write_report(args.out, engine, project, request, zone_name)
        except OSError as exc:
            raise ReportError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    finally:
        engine.dispose()
    print(f"wrote {args.out} ({summary})")
    return 0
