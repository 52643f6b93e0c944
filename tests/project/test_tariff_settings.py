"""``[[tariffs]]`` in project.toml: exact amounts, and errors naming file, line and field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from evsuper.project.loader import ProjectError, parse_project
from evsuper.project.model import TariffPeriod

HEAD = """\
format_version = 1
name = "Tariff site"

[[badges]]
id_tag = "CAR-1"
parent_id_tag = "FLEET"
"""

TARIFFS = """
[[tariffs]]
name = "Fleet"
currency = "CHF"
energy_price_per_kwh = 0.1
groups = ["FLEET"]

[[tariffs]]
name = "Public"
session_fee = "0.50"
energy_price_per_kwh = 0.35
time_price_per_hour = 1
default = true
periods = [{ hours = "22:00-06:00", energy_price_per_kwh = 0.22 }]
"""


def load(text: str) -> object:
    return parse_project(text, Path("/site/project.toml"))


def error(text: str) -> ProjectError:
    with pytest.raises(ProjectError) as info:
        load(text)
    return info.value


def test_tariffs_load_with_exact_amounts() -> None:
    project = parse_project(HEAD + TARIFFS, Path("/site/project.toml"))
    fleet, public = project.tariffs
    assert (fleet.currency, fleet.energy_price_per_kwh, fleet.groups) == (
        "CHF",
        Decimal("0.1"),
        ("FLEET",),
    )
    assert public.session_fee == Decimal("0.50")
    assert public.energy_price_per_kwh == Decimal("0.35")  # as written, not a binary float
    assert public.time_price_per_hour == Decimal(1)
    assert public.periods == (TariffPeriod("22:00-06:00", Decimal("0.22")),)
    assert public.default and not fleet.default


@pytest.mark.parametrize(
    ("change", "line", "field", "message"),
    [
        (('currency = "CHF"', 'currency = "chf"'), 10, "tariffs[0].currency", "ISO 4217"),
        (("= 0.1\n", '= "cheap"\n'), 11, "tariffs[0].energy_price_per_kwh", "a number"),
        (("= 0.1\n", "= -0.1\n"), 11, "tariffs[0].energy_price_per_kwh", "0 or more"),
        (('["FLEET"]', '["FLEET", "NOPE"]'), 12, "tariffs[0].groups[1]", "no badge has"),
        (('"22:00-06:00"', '"22:00-25:00"'), 20, "tariffs[1].periods[0].hours", "time of day"),
        (('name = "Public"', 'name = "Fleet"'), 15, "tariffs[1].name", "duplicate tariff"),
        (('groups = ["FLEET"]', "default = true"), 19, "tariffs[1].default", "only one"),
        (('groups = ["FLEET"]\n', ""), 8, "tariffs[0].groups", "needs groups"),
    ],
)
def test_tariff_errors_name_the_line_and_field(
    change: tuple[str, str], line: int, field: str, message: str
) -> None:
    text = HEAD + TARIFFS.replace(*change)
    exc = error(text)
    assert (exc.line, exc.field) == (line, field)
    assert message in exc.message


def test_overlapping_periods_are_refused() -> None:
    periods = 'periods = [{ hours = "22:00-06:00", energy_price_per_kwh = 0.22 }]'
    two = periods.replace("}]", '}, { hours = "05:00-07:00", energy_price_per_kwh = 0.3 }]')
    exc = error(HEAD + TARIFFS.replace(periods, two))
    assert (exc.field, exc.message) == ("tariffs[1].periods[1].hours", "overlaps another period")
