"""Tariffs and session costs: exact Decimal answers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from evsuper.core.tariffs import Pricing, session_cost
from evsuper.project.model import TariffPeriod, TariffSetting

PARIS = ZoneInfo("Europe/Paris")
NIGHT = TariffSetting(
    "Night",
    energy_price_per_kwh=Decimal("0.40"),
    periods=(TariffPeriod("22:00-06:00", Decimal("0.20")),),
)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_fee_time_and_energy_rounded_once_at_the_end() -> None:
    tariff = TariffSetting(
        "Flat",
        session_fee=Decimal("0.10"),
        energy_price_per_kwh=Decimal("0.333"),
        time_price_per_hour=Decimal("1.20"),
    )
    # 5.005 kWh * 0.333 = 1.666665; 1 h 15 min * 1.20 = 1.50; + 0.10 = 3.266665
    cost = session_cost(tariff, utc(2027, 1, 15, 8), utc(2027, 1, 15, 9, 15), 1000, 6005)
    assert cost == Decimal("3.27")


def test_energy_split_along_the_register_across_a_boundary_and_midnight() -> None:
    # local 21:00 → 01:00 (UTC+1); night prices from 22:00 local (21:00 UTC)
    register = [
        (utc(2027, 1, 15, 20, 30), 3000.0),  # 2 kWh before: 0.80
        (utc(2027, 1, 15, 21, 30), 9000.0),  # 6 kWh, half before 22:00: 1.20 + 0.60
        (utc(2027, 1, 15, 23, 30), 15000.0),  # 6 kWh across midnight: 1.20
    ]  # then 1 kWh to the stop: 0.20
    start, stop = utc(2027, 1, 15, 20), utc(2027, 1, 16, 0)
    cost = session_cost(NIGHT, start, stop, 1000, 16000, register, PARIS)
    assert cost == Decimal("4.00")


def test_without_samples_the_energy_is_prorated_by_time() -> None:
    # 15 kWh over 4 h: 1 h of day (3.75 kWh * 0.40) and 3 h of night (11.25 kWh * 0.20)
    start, stop = utc(2027, 1, 15, 20), utc(2027, 1, 16, 0)
    assert session_cost(NIGHT, start, stop, 1000, 16000, (), PARIS) == Decimal("3.75")


def test_a_register_going_backwards_is_ignored() -> None:
    start, stop = utc(2027, 1, 15, 20), utc(2027, 1, 16, 0)
    register = [(utc(2027, 1, 15, 21), 500.0)]  # below the meter start: not trusted
    assert session_cost(NIGHT, start, stop, 1000, 16000, register, PARIS) == Decimal("3.75")


def test_spring_forward_night_is_one_hour_shorter() -> None:
    # 2027-03-28, Paris: 02:00 CET → 03:00 CEST. 23:00 CET → 07:00 CEST is 7 real hours,
    # 6 of them at night (until 06:00 CEST = 04:00 UTC): 12 kWh * 0.20 + 2 kWh * 0.40
    tariff = TariffSetting(
        "Night",
        energy_price_per_kwh=Decimal("0.40"),
        time_price_per_hour=Decimal("0.10"),
        periods=NIGHT.periods,
    )
    start, stop = utc(2027, 3, 27, 22), utc(2027, 3, 28, 5)
    assert session_cost(tariff, start, stop, 0, 14000, (), PARIS) == Decimal("3.90")


def test_fall_back_night_is_one_hour_longer() -> None:
    # 2027-10-31, Paris: 03:00 CEST → 02:00 CET. 23:00 CEST → 07:00 CET is 9 real hours,
    # 8 at night (until 06:00 CET = 05:00 UTC): 16 kWh * 0.20 + 2 kWh * 0.40
    start, stop = utc(2027, 10, 30, 21), utc(2027, 10, 31, 6)
    assert session_cost(NIGHT, start, stop, 0, 18000, (), PARIS) == Decimal("4.00")


def test_the_badge_group_decides_else_the_default_else_no_cost() -> None:
    fleet = TariffSetting("Fleet", energy_price_per_kwh=Decimal("0.25"), groups=("FLEET",))
    public = TariffSetting("Public", energy_price_per_kwh=Decimal("0.50"), default=True)
    pricing = Pricing((fleet, public), {"CAR-1": "FLEET", "GUEST": "OTHER"}, UTC)
    start, stop = utc(2027, 1, 15, 8), utc(2027, 1, 15, 9)
    assert pricing.tariff_for("CAR-1") is fleet
    assert pricing.tariff_for("GUEST") is public
    assert pricing.tariff_for("UNKNOWN") is public
    assert Pricing((fleet,), {"CAR-1": "FLEET"}).tariff_for("GUEST") is None
    assert session_cost(fleet, start, stop, 0, 10000) == Decimal("2.50")
