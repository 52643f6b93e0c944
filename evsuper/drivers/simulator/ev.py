"""The simulated connector and the car plugged into it: state and arithmetic, no I/O, no clock.

The caller owns time and tells the model how many seconds passed (``advance``). The meter
integrates the real power over real time, so that power and energy in the archive agree;
the battery fills ``SimulatorSettings.time_scale`` times faster, so that a demo shows whole
sessions, taper included, within minutes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from evsuper.core.domain import ConnectorStatus
from evsuper.project.model import SimulatorSettings

NOMINAL_VOLTAGE_V = 230.0
PHASES = 3
TAPER_START_SOC = 80.0  # % from which the battery accepts less than full power
TAPER_END_SHARE = 0.1  # share of full power still accepted at 100 %
VOLTAGE_JITTER_V = 3.0

# (OCPP errorCode, vendorErrorCode, info)
FAULTS: tuple[tuple[str, str, str], ...] = (
    ("GroundFailure", "GF-01", "residual current detected"),
    ("OverCurrentFailure", "OC-02", "over-current on the vehicle side"),
    ("HighTemperature", "HT-03", "connector temperature too high"),
)


def battery_power_w(soc: float, max_power_w: float) -> float:
    """Power a battery accepts at ``soc`` %: all of ``max_power_w`` up to 80 %, then a
    linear taper down to ``TAPER_END_SHARE`` of it at 100 %."""
    if soc <= TAPER_START_SOC:
        return max_power_w
    share = (min(soc, 100.0) - TAPER_START_SOC) / (100.0 - TAPER_START_SOC)
    return max_power_w * (1.0 - (1.0 - TAPER_END_SHARE) * share)


@dataclass(slots=True)
class Car:
    capacity_wh: float
    soc: float  # %
    target_soc: float  # % at which the car stops drawing power
    stay_s: float  # how long the driver means to stay plugged in
    linger_s: float  # how long the car stays once it is full
    fault_after_s: float | None  # plugged-in time after which the connector faults, if it does
    full_for_s: float = 0.0

    @property
    def full(self) -> bool:
        return self.soc >= self.target_soc


@dataclass(frozen=True, slots=True)
class Fault:
    error_code: str  # OCPP ChargePointErrorCode
    vendor_error_code: str
    info: str
    duration_s: float


@dataclass(frozen=True, slots=True)
class MeterSample:
    energy_wh: int  # the cumulative import register
    power_w: float
    current_a: tuple[float, float, float]  # per phase
    voltage_v: tuple[float, float, float]  # per phase, to neutral
    soc: float | None  # None when no car is plugged in


class ConnectorModel:
    """One connector: its energy register, availability, fault and the car plugged in.

    Life cycle: ``plug_in`` (Preparing) → ``start_charging`` (Charging / SuspendedEV /
    SuspendedEVSE as power allows) → ``stop_charging`` (Finishing) → ``unplug`` (Available);
    or ``break_down`` (Faulted) from any state with a car, then ``recover``. A free
    connector may be held by ``reserve`` (Reserved) until ``unreserve``.
    """

    def __init__(
        self,
        max_power_w: float,
        settings: SimulatorSettings,
        rng: random.Random,
        *,
        energy_wh: float = 0.0,
    ) -> None:
        self.max_power_w = max_power_w
        self.settings = settings
        self.rng = rng
        # Measurement noise has a generator of its own: how often the meter is read must
        # not change the cars that a seeded run draws.
        self._noise = random.Random(rng.getrandbits(64))
        self.energy_wh = energy_wh
        self.status = ConnectorStatus.AVAILABLE
        self.operative = True  # wanted availability; applied once no car is plugged in
        self.limit_w: float | None = None  # set by the central system's charging profiles
        self.car: Car | None = None
        self.fault: Fault | None = None
        self.plugged_s = 0.0
        self.charging = False

    # ---- queries ----

    @property
    def is_free(self) -> bool:
        """Ready for the next car."""
        return self.status is ConnectorStatus.AVAILABLE

    @property
    def meter_wh(self) -> int:
        """The register as a meter shows it: whole Wh, never rounded up."""
        return int(self.energy_wh)

    @property
    def power_w(self) -> float:
        """What flows now: the battery's acceptance, capped by connector and limit."""
        car = self.car
        if not self.charging or car is None or car.full:
            return 0.0
        power = battery_power_w(car.soc, self.max_power_w)
        if self.limit_w is not None:
            power = min(power, max(self.limit_w, 0.0))
        return power

    def wants_to_leave(self) -> bool:
        """The driver's stay is over, or the car has been full for long enough."""
        car = self.car
        return car is not None and (self.plugged_s >= car.stay_s or car.full_for_s >= car.linger_s)

    def fault_due(self) -> bool:
        car = self.car
        return (
            car is not None
            and car.fault_after_s is not None
            and self.plugged_s >= car.fault_after_s
        )

    def sample(self) -> MeterSample:
        power = self.power_w
        voltages = tuple(
            NOMINAL_VOLTAGE_V + self._noise.uniform(-VOLTAGE_JITTER_V, VOLTAGE_JITTER_V)
            for _ in range(PHASES)
        )
        currents = tuple(power / PHASES / v for v in voltages)
        return MeterSample(
            energy_wh=self.meter_wh,
            power_w=power,
            current_a=(currents[0], currents[1], currents[2]),
            voltage_v=(voltages[0], voltages[1], voltages[2]),
            soc=None if self.car is None else self.car.soc,
        )

    # ---- random draws ----

    def idle_s(self) -> float:
        """Time until the next car arrives at a free connector (Poisson arrivals)."""
        mean = self.settings.mean_idle_s
        return self.rng.expovariate(1.0 / mean) if mean > 0 else 0.0

    def pick_id_tag(self, badges: Sequence[str]) -> str:
        """The badge a driver presents: one of the site's, or an unknown card."""
        return self.rng.choice(badges) if badges else f"SIM-{self.rng.getrandbits(32):08X}"

    def leave_reason(self) -> str:
        """How a driver ends a session: badge at the charger, or simply unplugging."""
        return "Local" if self.rng.random() < 0.5 else "EVDisconnected"

    def new_car(self) -> Car:
        """A random car: 40 to 100 kWh, arriving at 10 to 60 %, wanting 80 to 100 %."""
        s, rng = self.settings, self.rng
        stay = rng.gammavariate(4.0, s.mean_session_s / 4.0) if s.mean_session_s > 0 else 0.0
        faulty = rng.random() < s.fault_probability
        return Car(
            capacity_wh=rng.uniform(40_000.0, 100_000.0),
            soc=rng.uniform(10.0, 60.0),
            target_soc=rng.uniform(80.0, 100.0),
            stay_s=stay,
            linger_s=rng.uniform(0.1, 0.3) * s.mean_session_s,
            fault_after_s=rng.uniform(0.1, 0.9) * stay if faulty else None,
        )

    # ---- transitions ----

    def plug_in(self, car: Car | None = None) -> Car:
        """Plug ``car`` in (a ``new_car()`` if None): Preparing."""
        if not self.is_free:
            raise RuntimeError(f"cannot plug a car into a connector that is {self.status}")
        self.car = self.new_car() if car is None else car
        self.plugged_s = 0.0
        self.status = ConnectorStatus.PREPARING
        return self.car

    def start_charging(self) -> None:
        if self.status is not ConnectorStatus.PREPARING:
            raise RuntimeError(f"cannot start charging from {self.status}")
        self.charging = True
        self._update_charging_status()

    def advance(self, dt_s: float) -> None:
        """Let ``dt_s`` real seconds pass: integrate energy and state of charge."""
        car = self.car
        if car is None or dt_s <= 0:
            return
        self.plugged_s += dt_s
        if car.full:
            car.full_for_s += dt_s
        power = self.power_w
        if power > 0:
            scale = self.settings.time_scale
            metered_wh = power * dt_s / 3600.0
            room_wh = (car.target_soc - car.soc) / 100.0 * car.capacity_wh
            if metered_wh * scale >= room_wh:  # full within this step: meter only what fitted
                metered_wh = room_wh / scale
                car.soc = car.target_soc
            else:
                car.soc += metered_wh * scale / car.capacity_wh * 100.0
            self.energy_wh += metered_wh
        if self.charging:
            self._update_charging_status()

    def set_limit(self, limit_w: float | None) -> None:
        self.limit_w = limit_w
        if self.charging:
            self._update_charging_status()

    def stop_charging(self) -> None:
        if self.car is None:
            raise RuntimeError("no car to stop charging")
        self.charging = False
        self.status = ConnectorStatus.FINISHING

    def unplug(self) -> None:
        self.car = None
        self.charging = False
        self.status = self._idle_status()

    def break_down(self) -> Fault:
        """The connector faults: any car leaves, the fault lasts about ``fault_duration_s``."""
        code, vendor_code, info = self.rng.choice(FAULTS)
        self.fault = Fault(
            code, vendor_code, info, self.settings.fault_duration_s * self.rng.uniform(0.5, 1.5)
        )
        self.car = None
        self.charging = False
        self.status = ConnectorStatus.FAULTED
        return self.fault

    def recover(self) -> None:
        self.fault = None
        self.status = self._idle_status()

    def reserve(self) -> None:
        """Hold the free connector for one driver: Reserved."""
        if not self.is_free:
            raise RuntimeError(f"cannot reserve a connector that is {self.status}")
        self.status = ConnectorStatus.RESERVED

    def unreserve(self) -> None:
        """The reservation ended (used, cancelled or expired): back to the idle status."""
        if self.status is ConnectorStatus.RESERVED:
            self.status = self._idle_status()

    def set_operative(self, operative: bool) -> bool:
        """Change availability; False when it is scheduled until the car has left."""
        self.operative = operative
        if self.car is None and self.fault is None:
            self.status = self._idle_status()
            return True
        return operative or self.car is None

    def _idle_status(self) -> ConnectorStatus:
        return ConnectorStatus.AVAILABLE if self.operative else ConnectorStatus.UNAVAILABLE

    def _update_charging_status(self) -> None:
        car = self.car
        if self.power_w > 0:
            self.status = ConnectorStatus.CHARGING
        elif car is not None and car.full:
            self.status = ConnectorStatus.SUSPENDED_EV
        else:
            self.status = ConnectorStatus.SUSPENDED_EVSE
