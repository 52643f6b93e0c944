"""The archive schema: the single definition of the tables (alembic migrations follow it).

Third-party readers: every timestamp is UTC; energies are Wh, powers W as sent by the
charger (``meter_samples.unit`` says which); see docs/archive.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

# BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite: autoincrement works on both.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the archive; use aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    }
)

chargers = Table(
    "chargers",
    metadata,
    Column("id", String(64), primary_key=True, comment="charge point id"),
    Column("vendor", String(64)),
    Column("model", String(64)),
    Column("serial", String(64)),
    Column("firmware", String(64)),
    Column("registration", String(16), comment="Accepted | Pending | Rejected"),
    Column("first_seen", UtcDateTime),
    Column("last_boot", UtcDateTime),
)

charger_events = Table(
    "charger_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ts", UtcDateTime, nullable=False),
    Column("charger_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False, comment="connected | booted | disconnected"),
    Column("detail", Text),
    Index(None, "charger_id", "ts"),
)

connector_status = Table(
    "connector_status",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ts", UtcDateTime, nullable=False),
    Column("charger_id", String(64), nullable=False),
    Column("connector_id", Integer, nullable=False, comment="0 = the charger as a whole"),
    Column("status", String(16), nullable=False),
    Column("error_code", String(32), nullable=False),
    Column("info", String(64)),
    Column("vendor_id", String(255)),
    Column("vendor_error_code", String(64)),
    Index(None, "charger_id", "connector_id", "ts"),
)

transactions = Table(
    "transactions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True, comment="OCPP transactionId"),
    Column("charger_id", String(64), nullable=False),
    Column("connector_id", Integer, nullable=False),
    Column("id_tag", String(20), nullable=False),
    Column("reservation_id", Integer),
    Column("start_ts", UtcDateTime, nullable=False),
    Column("meter_start_wh", BigInteger, nullable=False),
    Column("stop_ts", UtcDateTime),
    Column("meter_stop_wh", BigInteger),
    Column("energy_wh", BigInteger, comment="meter_stop_wh - meter_start_wh"),
    Column("soc_start", Float, comment="percent, first SoC sample of the session"),
    Column("soc_stop", Float, comment="percent, last SoC sample of the session"),
    Column("stop_reason", String(32)),
    Column("stop_id_tag", String(20)),
    Column(
        "cost",
        Numeric(12, 2),
        comment="in currency, at the stop; NULL: no tariff applied",
    ),
    Column("currency", String(3), comment="ISO 4217"),
    Column("tariff", String(48), comment="name of the tariff applied"),
    Index(None, "charger_id", "start_ts"),
    Index(None, "start_ts"),
)

meter_samples = Table(
    "meter_samples",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ts", UtcDateTime, nullable=False),
    Column("charger_id", String(64), nullable=False),
    Column("connector_id", Integer, nullable=False),
    Column("transaction_id", BigInteger),
    Column("measurand", String(48), nullable=False),
    Column("phase", String(8)),
    Column("unit", String(16), nullable=False),
    Column("context", String(32), nullable=False),
    Column("location", String(16), nullable=False),
    Column("value", Float, nullable=False),
    Index(None, "charger_id", "connector_id", "ts"),
    Index(None, "transaction_id"),
)


def _meter_aggregate(name: str, period: str) -> Table:
    return Table(
        name,
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("ts", UtcDateTime, nullable=False, comment=f"start of the {period}"),
        Column("charger_id", String(64), nullable=False),
        Column("connector_id", Integer, nullable=False),
        Column("measurand", String(48), nullable=False),
        Column("phase", String(8), nullable=False, comment="empty: no phase"),
        Column("unit", String(16), nullable=False, comment="display unit: kW, kWh, %, ..."),
        Column("samples", Integer, nullable=False, comment="raw samples aggregated"),
        Column("total", Float, nullable=False, comment="sum of the values (avg = total / samples)"),
        Column("low", Float, nullable=False),
        Column("high", Float, nullable=False),
        Column("first_ts", UtcDateTime, nullable=False),
        Column("first_value", Float, nullable=False),
        Column("last_ts", UtcDateTime, nullable=False),
        Column("last_value", Float, nullable=False),
        UniqueConstraint("charger_id", "connector_id", "measurand", "phase", "ts"),
        Index(None, "ts"),
    )


# 1-minute and 1-hour aggregates of meter_samples, in display units (see samples.py)
meter_minutes = _meter_aggregate("meter_minutes", "minute")
meter_hours = _meter_aggregate("meter_hours", "hour")

# how far each aggregate table has read meter_samples (by id, so late rows count too)
aggregate_progress = Table(
    "aggregate_progress",
    metadata,
    Column("table_name", String(32), primary_key=True),
    Column("last_sample_id", BigInteger, nullable=False),
)


tag_samples = Table(
    "tag_samples",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ts", UtcDateTime, nullable=False),
    Column("tag", String(160), nullable=False, comment="tag path, e.g. _system/archive/backlog"),
    Column("value", Float, comment="numbers (true = 1, false = 0); null for text"),
    Column("text", Text, comment="values that are not numbers; null for numbers"),
    Column("quality", String(16), nullable=False, comment="good | uncertain | bad | ..."),
    Index(None, "tag", "ts"),
    Index(None, "ts"),
)

anomalies = Table(
    "anomalies",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ts", UtcDateTime, nullable=False),
    Column("charger_id", String(64), nullable=False),
    Column("kind", String(48), nullable=False),
    Column("detail", Text, nullable=False),
    Index(None, "charger_id", "ts"),
)

reservations = Table(
    "reservations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True, comment="OCPP reservationId"),
    Column("charger_id", String(64), nullable=False),
    Column("connector_id", Integer, nullable=False, comment="0 = any connector"),
    Column("id_tag", String(20), nullable=False),
    Column("parent_id_tag", String(20)),
    Column("expiry", UtcDateTime, nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column(
        "state",
        String(16),
        nullable=False,
        comment="requested | active | rejected | cancelled | expired | used",
    ),
    Column("transaction_id", BigInteger, comment="the transaction that used it"),
    Column("ended", UtcDateTime, comment="when it stopped being requested or active"),
    Index(None, "charger_id", "created"),
    Index(None, "state"),
)

charger_settings = Table(
    "charger_settings",
    metadata,
    Column("charger_id", String(64), primary_key=True),
    Column("name", String(48), primary_key=True, comment="availability | charging_profiles"),
    Column("value", Text, nullable=False, comment="JSON"),
    Column("updated", UtcDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("role", String(16), nullable=False, comment="viewer | operator | maintenance | ..."),
    Column("password_hash", String(255), nullable=False, comment="argon2id, PHC string"),
    Column("disabled", Boolean, nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("last_login", UtcDateTime),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ts", UtcDateTime, nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("role", String(16), nullable=False, comment="the role the user had when acting"),
    Column("origin", String(16), nullable=False, comment="hmi | cli | engine"),
    Column("kind", String(24), nullable=False, comment="command | login | login-failed | ..."),
    Column("action", String(64), nullable=False, comment="e.g. RemoteStop, add-user"),
    Column("target", String(64), nullable=False, comment="charger id, user name, ..."),
    Column("parameters", Text, nullable=False, comment="JSON object"),
    Column("result", String(24), nullable=False, comment="Accepted | Rejected | Denied | ..."),
    Column("detail", Text, nullable=False),
    Index(None, "ts"),
    Index(None, "user_name", "ts"),
    Index(None, "target", "ts"),
)

alarm_journal = Table(
    "alarm_journal",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ts", UtcDateTime, nullable=False),
    Column("alarm_key", String(160), nullable=False, comment="<definition id>:<source>"),
    Column("definition_id", String(48), nullable=False),
    Column("source", String(128), nullable=False, comment="CP-001, CP-001/C1/<errorCode>, ..."),
    Column("charger_id", String(64)),
    Column("priority", Integer, nullable=False, comment="1 critical .. 4 low"),
    Column("category", String(24), nullable=False),
    Column("transition", String(24), nullable=False, comment="activated | returned | ..."),
    Column("state", String(24), nullable=False, comment="ISA-18.2 state after the transition"),
    Column("value", Text, nullable=False),
    Column("user_name", String(64), nullable=False, comment="empty: the process"),
    Column("comment", Text, nullable=False),
    Column("message", Text, nullable=False),
    Index(None, "ts"),
    Index(None, "charger_id", "ts"),
    Index(None, "definition_id", "ts"),
)
