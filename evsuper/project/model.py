"""The typed project model: what a project folder's ``project.toml`` describes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time
from decimal import Decimal
from enum import IntEnum, StrEnum
from pathlib import Path

from evsuper.alarms.model import Category, ConditionKind, Priority, Transition
from evsuper.charging.allocator import Objective
from evsuper.charging.profiles import ChargingProfilePurpose
from evsuper.charging.status import ChargingMode
from evsuper.drivers.base import DeviceSettings
from evsuper.users.permissions import Role

FORMAT_VERSION = 2  # evsuper/project/migrations.py brings older files up to it


class UnknownChargerPolicy(StrEnum):
    REJECT = "reject"  # BootNotification answered Rejected
    PENDING = "pending"  # answered Pending until an operator accepts the charger
    ACCEPT = "accept"  # registered on first boot


class SecurityProfile(IntEnum):
    """OCPP 1.6 Security Whitepaper profiles this central system offers."""

    NONE = 0  # no authentication of charge points
    # HTTP Basic authentication against each charger's password_hash; a charger without
    # one (not in the project) is refused with 401 whatever ``unknown_chargers`` says.
    BASIC_AUTH = 1
    # TLS (wss://) with the server certificate [ocpp] tls_certificate, plus profile 1.
    TLS_BASIC_AUTH = 2
    # TLS with client certificates signed by [ocpp] tls_client_ca, whose subject CN must be
    # the charge point id of the path; no Basic auth.
    TLS_CLIENT_CERT = 3

    @property
    def tls(self) -> bool:
        """The listener speaks TLS (wss://)."""
        return self >= SecurityProfile.TLS_BASIC_AUTH

    @property
    def basic_auth(self) -> bool:
        """Charge points authenticate with HTTP Basic auth."""
        return self in (SecurityProfile.BASIC_AUTH, SecurityProfile.TLS_BASIC_AUTH)


class AuthorizationMode(StrEnum):
    BADGES = "badges"  # only idTags of the project's badge table
    OPEN = "open"  # any idTag


@dataclass(frozen=True, slots=True)
class OcppSettings:
    host: str = "127.0.0.1"
    port: int = 9000
    # HTTP file endpoint (firmware downloads, diagnostics uploads); 0 = any free port
    file_port: int = 0
    path_prefix: str = "ocpp"
    heartbeat_interval_s: int = 60
    # A charger is declared offline after this many heartbeat intervals of silence.
    offline_after_heartbeats: float = 2.0
    # WebSocket ping: a dead TCP peer is detected within ping_interval_s + ping_timeout_s.
    ping_interval_s: float = 20.0
    ping_timeout_s: float = 20.0
    response_timeout_s: float = 30.0
    unknown_chargers: UnknownChargerPolicy = UnknownChargerPolicy.REJECT
    authorization: AuthorizationMode = AuthorizationMode.BADGES
    # Version of the badge table as a local authorization list: raise it when badges change.
    local_list_version: int = 1
    security_profile: SecurityProfile = SecurityProfile.NONE
    # Profiles 2 and 3, paths relative to the project folder: the server certificate chain
    # and its private key (PEM); profile 3 also the CA (PEM) that signs charger certificates.
    tls_certificate: str | None = None
    tls_private_key: str | None = None
    tls_client_ca: str | None = None


class OpcUaSecurity(StrEnum):
    """Security policy and mode of one endpoint of the OPC UA server."""

    NONE = "None"  # no signing, no encryption
    BASIC256SHA256_SIGN = "Basic256Sha256_Sign"
    BASIC256SHA256_SIGN_AND_ENCRYPT = "Basic256Sha256_SignAndEncrypt"


@dataclass(frozen=True, slots=True)
class OpcUaServerSettings:
    """``[opcua_server]``: evsuper as an OPC UA server for a BMS or another SCADA
    (evsuper/engine/opcua_server.py, docs/opcua_server.md)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 4840  # 0: any free port (tests)
    path: str = "evsuper"  # opc.tcp://host:port/<path>
    security: tuple[OpcUaSecurity, ...] = (OpcUaSecurity.BASIC256SHA256_SIGN_AND_ENCRYPT,)
    # Paths relative to the project folder: the server's certificate (DER or PEM) and its
    # private key (PEM). Left out: a self-signed pair made in .evsuper/opcua/ at first start.
    certificate: str | None = None
    private_key: str | None = None
    # A folder (relative to the project) of client application certificates, or of the CAs
    # signing them (DER or PEM): set, only those clients may open a signed or encrypted
    # session; left out, any client certificate is accepted (users still log in).
    trusted_clients: str | None = None
    # Sessions without user name may read and subscribe, never write.
    allow_anonymous: bool = False
    namespace_uri: str = "urn:evsuper:site"

    @property
    def user_logins(self) -> bool:
        """User names and passwords are offered: never sent in clear (no None endpoint, or
        a SignAndEncrypt one whose policy encrypts them on the None endpoint too)."""
        return (
            OpcUaSecurity.NONE not in self.security
            or OpcUaSecurity.BASIC256SHA256_SIGN_AND_ENCRYPT in self.security
        )


@dataclass(frozen=True, slots=True)
class Place:
    """A site (``site`` empty) or an area of site ``site``, and its chargers."""

    name: str
    chargers: tuple[str, ...]
    site: str = ""


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """``[[sites]]``: one supervised site (a project may hold several)."""

    id: str
    name: str = ""
    plan: str = ""  # ground-plan image (PNG or SVG), relative to the project folder
    limit_kw: float | None = None  # the site's connection limit; shown against its power
    # smart charging (docs/smart_charging.md, "Charging service")
    limit_a: float | None = None  # per phase
    charging_mode: ChargingMode = ChargingMode.AUTO
    objective: Objective = Objective.FAIR
    limit_tag: str = ""  # a bus tag giving the limit in kW now (DSO signal, PV surplus, ...)
    base_load_tag: str = ""  # non-EV load in kW, subtracted from the limit
    # time-of-day limits (local time, [notifications] timezone); limit_tag overrides them
    limit_schedule: tuple[LimitScheduleEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class LimitScheduleEntry:
    """From ``start`` (local time of day, "07:00") until the next entry, these limits."""

    start: str
    limit_kw: float | None = None
    limit_a: float | None = None


@dataclass(frozen=True, slots=True)
class GroupConfig:
    """``[[groups]]``: a node of a site's electrical tree (board, feeder, ...)."""

    id: str
    site: str
    parent: str = ""  # the group it hangs from; empty: the site's connection
    name: str = ""
    label: str = "feeder"  # its kind, in the allocator's reasons ("limited by feeder F2")
    limit_kw: float | None = None
    limit_a: float | None = None  # per phase
    areas: tuple[
        str, ...
    ] = ()  # the chargers of these areas hang from it (unless they name a group)


@dataclass(frozen=True, slots=True)
class AreaConfig:
    """``[[areas]]``: a part of a site (a parking level, a row, a depot bay)."""

    id: str
    site: str
    name: str = ""


class ChargerKind(StrEnum):
    AC = "ac"
    DC = "dc"


class ChargerProtocol(StrEnum):
    OCPP = "ocpp"  # limits sent as OCPP charging profiles
    MODBUS = "modbus"  # limits written to the tag <charger>/C<n>/current_limit_a


class PhaseRotation(StrEnum):
    """The site phase a charger's L1 is wired to."""

    L1 = "L1"
    L2 = "L2"
    L3 = "L3"


@dataclass(frozen=True, slots=True)
class ChargerConfig:
    id: str
    area: str = ""  # the [[areas]] id it stands in; left out: the first area
    label: str = ""  # shown instead of the id when set
    kind: ChargerKind = ChargerKind.AC
    connectors: int = 2
    max_power_kw: float = 22.0  # per connector
    vendor: str = "Simulated"
    model: str = "SIM-AC22"
    # argon2 hash of the charger's Basic auth password (``evsuper charger-password``)
    password_hash: str | None = field(default=None, repr=False)
    # For known non-compliant models: schema violations are logged and recorded as anomalies,
    # and the request is handled anyway when its handler can make sense of it.
    relaxed_validation: bool = False
    protocol: ChargerProtocol = ChargerProtocol.OCPP
    device: str = ""  # protocol modbus: the name of its [[devices]] entry (evsuper.drivers)
    # smart charging: where it hangs in the electrical tree and what its connectors take
    group: str = ""  # a [[groups]] id of its site; empty: directly under the site
    phases: int = 3  # 1 or 3
    min_current_a: float = 6.0  # per phase (AC); below it a session is paused
    max_current_a: float = 32.0  # per phase (AC); DC is bounded by max_power_kw
    phase_rotation: PhaseRotation = PhaseRotation.L1


class BadgeStatus(StrEnum):
    """OCPP 1.6 AuthorizationStatus a badge is given (ConcurrentTx is decided at run time)."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"


ID_TAG_MAX_LENGTH = 20  # OCPP 1.6 IdToken: CiString20Type


@dataclass(frozen=True, slots=True)
class Badge:
    id_tag: str
    name: str = ""
    status: BadgeStatus = BadgeStatus.ACCEPTED
    expiry: datetime | None = None  # aware; from then on the badge counts as Expired
    parent_id_tag: str | None = None


@dataclass(frozen=True, slots=True)
class SimulatorSettings:
    """Behaviour of the simulated bollards (``evsuper.drivers.simulator``)."""

    enabled: bool = True
    # true: cars arrive and leave on their own; false: sessions start only by RemoteStart
    autonomous: bool = True
    seed: int | None = None  # fixed seed for reproducible runs (tests, benchmarks)
    meter_interval_s: float = 5.0
    time_scale: float = 20.0  # how much faster than real time batteries fill
    mean_idle_s: float = 30.0  # mean time a free connector waits for the next car
    mean_session_s: float = 120.0  # mean time a car stays plugged in (simulated seconds)
    fault_probability: float = 0.02  # chance that a session ends with a connector fault
    fault_duration_s: float = 20.0
    # Basic auth password of the simulated bollards under security profile 1: plain text,
    # for simulated bollards only (real chargers hold their own; the project holds hashes).
    password: str | None = field(default=None, repr=False)
    # Security profiles 2 and 3, for simulated bollards only, paths relative to the project
    # folder: the CA (PEM) the bollards trust for the server certificate (default: the
    # system's), and for profile 3 a folder with ``<charger id>.pem`` (certificate chain)
    # and ``<charger id>.key`` (private key) per bollard.
    tls_ca: str | None = None
    tls_client_dir: str | None = None


@dataclass(frozen=True, slots=True)
class SmartChargingSettings:
    """``[smart_charging]``: the charging service (evsuper/charging/service.py)."""

    enabled: bool = False
    period_s: float = 10.0  # the allocator runs at least this often (and on events)
    debounce_s: float = 0.5  # events within this are handled by one allocation
    hysteresis_a: float = 1.0  # a setpoint is re-sent only when it moves more than this
    meter_threshold_kw: float = 1.0  # a power change beyond this triggers an allocation
    settle_s: float = 5.0  # a meter value this long after a profile shows the vehicle's demand
    stack_level: int = 20  # of the allocator's profiles; the fail-safe uses the one below
    profile_purpose: ChargingProfilePurpose = ChargingProfilePurpose.TX
    # each charger gets a ChargePointMaxProfile of its share of the site limit on connection
    failsafe: bool = True
    stagger_s: float = 2.0  # between two sessions (re)started from 0 A
    comm_loss_at_max: bool = True  # an offline charger counts at its maximum
    # a session paused this long while others charge takes the turn of the longest charging
    restart_after_s: float = 900.0


@dataclass(frozen=True, slots=True)
class UsageProfile:
    """``[[usage_profiles]]``: what sessions of a badge group get (its parent idTag)."""

    group: str
    name: str = ""
    priority: int = 0  # higher first (objective "priority")
    max_current_a: float | None = None  # per phase
    # a typical session (charging/needs.py): energy to deliver within stay_h of its start
    energy_kwh: float | None = None
    stay_h: float | None = None


@dataclass(frozen=True, slots=True)
class HmiSettings:
    """How the HMI of this project behaves at a workstation."""

    # true: open on the site as ``viewer`` without a login (control-room wall screen);
    # false: ask for a login first. ``evsuper run --viewer`` forces true on one workstation.
    start_as_viewer: bool = False
    # back to ``viewer`` after this long without keyboard or mouse input; 0: never
    idle_logout_min: float = 15.0


@dataclass(frozen=True, slots=True)
class InitialUser:
    """An account created when the project starts with no user in its archive."""

    name: str
    role: Role
    password_hash: str = field(repr=False)  # argon2, made by ``evsuper users hash``


@dataclass(frozen=True, slots=True)
class AlarmSetting:
    """``[[alarms]]``: changes a default alarm by ``id`` (only the fields given), or adds one
    (then ``condition``, ``priority``, ``category`` and ``message`` are required; limit
    alarms also ``tag`` and ``limit``). See evsuper/alarms/defaults.py for the defaults."""

    id: str
    condition: ConditionKind | None = None
    priority: Priority | None = None
    category: Category | None = None
    message: str | None = None
    on_delay_s: float | None = None
    off_delay_s: float | None = None
    deadband: float | None = None
    ack_required: bool | None = None
    latching: bool | None = None
    tag: str | None = None
    limit: float | None = None
    enabled: bool | None = None


@dataclass(frozen=True, slots=True)
class RecordingRule:
    """When a value is stored: on a move beyond the deadband, and at least every
    ``max_interval_s``. In ``[[archive.recording]]`` ``match`` is a glob over OCPP measurand
    names (meter samples; without a matching rule every sample is stored); in
    ``[[archive.tags]]`` a glob over tag paths (only matching tags are historised)."""

    match: str = "*"
    deadband: float = 0.0  # in the value's display unit (kW, kWh, %, ...)
    max_interval_s: float = 900.0


@dataclass(frozen=True, slots=True)
class ArchiveSettings:
    url: str = "sqlite:///archive.sqlite"
    # table → days its rows are kept (evsuper/historian/retention.py); absent: forever
    retention_days: dict[str, int] = field(default_factory=dict)
    recording: tuple[RecordingRule, ...] = ()  # meter samples, by measurand
    tags: tuple[RecordingRule, ...] = ()  # historised tags, by tag path


class NotificationChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class SmtpSecurity(StrEnum):
    STARTTLS = "starttls"  # plain connection upgraded with STARTTLS (port 587)
    TLS = "tls"  # implicit TLS from the first byte (port 465)
    NONE = "none"  # no encryption (a relay on a trusted network, port 25)

    @property
    def default_port(self) -> int:
        return {"starttls": 587, "tls": 465, "none": 25}[self.value]


class HttpMethod(StrEnum):
    GET = "GET"
    POST = "POST"


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """``[notifications.smtp]``: the mail server notifications are sent through."""

    host: str = ""
    port: int = 0  # 0: the usual port of ``security`` (587, 465 or 25)
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: str = ""  # empty: no login
    # The NAME of the environment variable holding the password (never the password here).
    password_env: str = ""
    sender: str = ""  # From: address
    timeout_s: float = 30.0
    # PEM file of the CA to trust for the server's certificate (relative to the project
    # folder); default: the system's trusted CAs.
    ca_file: str | None = None

    @property
    def effective_port(self) -> int:
        return self.port or self.security.default_port


@dataclass(frozen=True, slots=True)
class SmsSettings:
    """``[notifications.sms]``: an HTTP SMS gateway. ``{to}`` and ``{text}`` (and ``{token}``,
    the value of the environment variable named by ``token_env``) are replaced URL-encoded in
    ``url_template``, JSON-escaped in ``body_template`` (POST), as they are in header values."""

    url_template: str = ""
    method: HttpMethod = HttpMethod.GET
    body_template: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    token_env: str = ""  # the NAME of the environment variable holding an API token
    timeout_s: float = 15.0


@dataclass(frozen=True, slots=True)
class Recipient:
    name: str
    email: str = ""
    phone: str = ""  # as the gateway expects it, e.g. "+41791234567"


@dataclass(frozen=True, slots=True)
class NotificationRule:
    """Which alarms go to whom. Empty ``priorities`` / ``categories`` / ``chargers``: all."""

    name: str
    recipients: tuple[str, ...]  # Recipient names
    priorities: tuple[Priority, ...] = ()
    categories: tuple[Category, ...] = ()
    chargers: tuple[str, ...] = ()  # fnmatch patterns on the charger id ("CP-0*")
    channels: tuple[NotificationChannel, ...] = (NotificationChannel.EMAIL,)
    on: tuple[Transition, ...] = (Transition.ACTIVATED,)  # transitions that notify
    # "22:00-06:00", local time: during them only priorities <= quiet_max_priority are sent
    quiet_hours: str = ""
    quiet_max_priority: Priority = Priority.CRITICAL
    # Still unacknowledged this many minutes after activation: notify ``escalate_to``
    escalate_after_min: float = 0.0
    escalate_to: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NotificationSettings:
    """``[notifications]``: e-mail and SMS notification of alarms (evsuper.alarms.notify)."""

    enabled: bool = False
    timezone: str = ""  # IANA name for quiet hours and local times; empty: the system's
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    sms: SmsSettings = field(default_factory=SmsSettings)
    recipients: tuple[Recipient, ...] = ()
    rules: tuple[NotificationRule, ...] = ()
    # a failed send is tried again after each of these delays, then given up
    retry_delays_s: tuple[float, ...] = (5.0, 30.0, 120.0)
    max_concurrent_sends: int = 4
    queue_limit: int = 1000  # notifications waiting beyond this are dropped (and logged)
    escalation_check_s: float = 5.0

    def recipient(self, name: str) -> Recipient | None:
        return next((r for r in self.recipients if r.name == name), None)


@dataclass(frozen=True, slots=True)
class ReportSettings:
    """``[reports]``: the daily energy report written (and mailed) every day
    (evsuper.reports.schedule). Local times in ``[notifications] timezone``."""

    daily_enabled: bool = False
    daily_at: str = "06:00"  # local time of day the report of the day before is written
    folder: str = "reports"  # relative to the project folder
    # mailed as a PDF attachment through [notifications.smtp]; empty: not mailed
    email_to: tuple[str, ...] = ()


def parse_time_of_day(text: str) -> time:
    """``"06:00"`` → 06:00. ValueError if bad."""
    hours, sep, minutes = text.strip().partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(f"{text.strip()!r} is not a time of day like 06:00")
    if not (0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59):
        raise ValueError(f"{text.strip()!r} is not a time of day (00:00 to 23:59)")
    return time(int(hours), int(minutes))


def parse_time_range(text: str) -> tuple[time, time]:
    """``"22:00-06:00"`` → (22:00, 06:00); a range may wrap midnight. ValueError if bad."""
    parts = text.split("-")
    if len(parts) != 2:
        raise ValueError(f"{text!r} is not a time range like 22:00-06:00")
    start, end = (parse_time_of_day(part) for part in parts)
    if start == end:
        raise ValueError(f"{text!r} is empty (start and end are the same)")
    return start, end


@dataclass(frozen=True, slots=True)
class TariffPeriod:
    """Local hours (``"22:00-06:00"``, may wrap midnight) with their own energy price."""

    hours: str
    energy_price_per_kwh: Decimal


@dataclass(frozen=True, slots=True)
class TariffSetting:
    """``[[tariffs]]``: what a charging session costs (evsuper/core/tariffs.py). It applies
    to the badges whose parent idTag is in ``groups``; the ``default`` one to all others."""

    name: str
    currency: str = "EUR"  # ISO 4217 code
    session_fee: Decimal = Decimal(0)
    energy_price_per_kwh: Decimal = Decimal(0)  # outside ``periods``
    time_price_per_hour: Decimal = Decimal(0)  # from start to stop of the session
    periods: tuple[TariffPeriod, ...] = ()
    groups: tuple[str, ...] = ()  # parent idTags of [[badges]]
    default: bool = False


def bind_devices(
    devices: tuple[DeviceSettings, ...], chargers: tuple[ChargerConfig, ...]
) -> tuple[DeviceSettings, ...]:
    """``devices`` as their drivers get them: a device a Modbus charger names carries that
    charger's id as option ``charger`` (its points become the charger's tags)."""
    bound = {c.device: c.id for c in chargers if c.protocol is ChargerProtocol.MODBUS}
    return tuple(
        replace(d, options={**d.options, "charger": bound[d.name]}) if d.name in bound else d
        for d in devices
    )


@dataclass(frozen=True, slots=True)
class Project:
    directory: Path
    name: str
    ocpp: OcppSettings = field(default_factory=OcppSettings)
    archive: ArchiveSettings = field(default_factory=ArchiveSettings)
    simulator: SimulatorSettings = field(default_factory=SimulatorSettings)
    hmi: HmiSettings = field(default_factory=HmiSettings)
    sites: tuple[SiteConfig, ...] = ()
    areas: tuple[AreaConfig, ...] = ()
    chargers: tuple[ChargerConfig, ...] = ()
    badges: tuple[Badge, ...] = ()
    initial_users: tuple[InitialUser, ...] = ()
    alarms: tuple[AlarmSetting, ...] = ()
    notifications: NotificationSettings = field(default_factory=NotificationSettings)
    tariffs: tuple[TariffSetting, ...] = ()
    reports: ReportSettings = field(default_factory=ReportSettings)
    groups: tuple[GroupConfig, ...] = ()
    smart_charging: SmartChargingSettings = field(default_factory=SmartChargingSettings)
    usage_profiles: tuple[UsageProfile, ...] = ()
    # [[devices]]: Modbus, OPC UA, sim:// ... sources of tags (evsuper/drivers, docs/drivers.md)
    devices: tuple[DeviceSettings, ...] = ()
    opcua_server: OpcUaServerSettings = field(default_factory=OpcUaServerSettings)
    format_version: int = FORMAT_VERSION

    @property
    def file(self) -> Path:
        return self.directory / "project.toml"

    def path(self, relative: str) -> Path:
        """A path setting resolved against the project folder."""
        return self.directory / relative

    def charger(self, charger_id: str) -> ChargerConfig | None:
        return next((c for c in self.chargers if c.id == charger_id), None)

    def area(self, area_id: str) -> AreaConfig | None:
        return next((a for a in self.areas if a.id == area_id), None)

    def site(self, site_id: str) -> SiteConfig | None:
        return next((s for s in self.sites if s.id == site_id), None)

    def driver_devices(self) -> tuple[DeviceSettings, ...]:
        """The devices as their drivers get them (see ``bind_devices``)."""
        return bind_devices(self.devices, self.chargers)

    def site_of(self, charger: ChargerConfig) -> SiteConfig | None:
        area = self.area(charger.area)
        return self.site(area.site) if area is not None else None

    def places(self) -> list[Place]:
        """Each site, then each of its areas, with the ids of the chargers they hold."""
        places: list[Place] = []
        for site in self.sites:
            areas = [a for a in self.areas if a.site == site.id]
            in_area = {a.id: tuple(c.id for c in self.chargers if c.area == a.id) for a in areas}
            site_chargers = tuple(c for a in areas for c in in_area[a.id])
            places.append(Place(site.name or site.id, site_chargers))
            places += [Place(a.name or a.id, in_area[a.id], site.id) for a in areas]
        return places

    def archive_url(self) -> str:
        """The archive URL with a relative SQLite path resolved against the project folder."""
        url = self.archive.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            relative = url[len(prefix) :]
            if relative and relative != ":memory:" and not Path(relative).is_absolute():
                return prefix + str((self.directory / relative).resolve())
        return url
