"""Baseline: chargers, their events and connector status, transactions, meter samples, anomalies.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "anomalies",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("charger_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anomalies")),
    )
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_anomalies_charger_id_ts"), ["charger_id", "ts"], unique=False
        )

    op.create_table(
        "charger_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("charger_id", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.String(length=32),
            nullable=False,
            comment="connected | booted | disconnected",
        ),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charger_events")),
    )
    with op.batch_alter_table("charger_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_charger_events_charger_id_ts"), ["charger_id", "ts"], unique=False
        )

    op.create_table(
        "chargers",
        sa.Column("id", sa.String(length=64), nullable=False, comment="charge point id"),
        sa.Column("vendor", sa.String(length=64), nullable=True),
        sa.Column("model", sa.String(length=64), nullable=True),
        sa.Column("serial", sa.String(length=64), nullable=True),
        sa.Column("firmware", sa.String(length=64), nullable=True),
        sa.Column(
            "registration",
            sa.String(length=16),
            nullable=True,
            comment="Accepted | Pending | Rejected",
        ),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_boot", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chargers")),
    )
    op.create_table(
        "connector_status",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("charger_id", sa.String(length=64), nullable=False),
        sa.Column(
            "connector_id", sa.Integer(), nullable=False, comment="0 = the charger as a whole"
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=32), nullable=False),
        sa.Column("info", sa.String(length=64), nullable=True),
        sa.Column("vendor_id", sa.String(length=255), nullable=True),
        sa.Column("vendor_error_code", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connector_status")),
    )
    with op.batch_alter_table("connector_status", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connector_status_charger_id_connector_id_ts"),
            ["charger_id", "connector_id", "ts"],
            unique=False,
        )

    op.create_table(
        "meter_samples",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("charger_id", sa.String(length=64), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.BigInteger(), nullable=True),
        sa.Column("measurand", sa.String(length=48), nullable=False),
        sa.Column("phase", sa.String(length=8), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("context", sa.String(length=32), nullable=False),
        sa.Column("location", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_samples")),
    )
    with op.batch_alter_table("meter_samples", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meter_samples_charger_id_connector_id_ts"),
            ["charger_id", "connector_id", "ts"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_meter_samples_transaction_id"), ["transaction_id"], unique=False
        )

    op.create_table(
        "transactions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
            comment="OCPP transactionId",
        ),
        sa.Column("charger_id", sa.String(length=64), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("id_tag", sa.String(length=20), nullable=False),
        sa.Column("reservation_id", sa.Integer(), nullable=True),
        sa.Column("start_ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("meter_start_wh", sa.BigInteger(), nullable=False),
        sa.Column("stop_ts", sa.DateTime(timezone=True), nullable=True),
        sa.Column("meter_stop_wh", sa.BigInteger(), nullable=True),
        sa.Column(
            "energy_wh", sa.BigInteger(), nullable=True, comment="meter_stop_wh - meter_start_wh"
        ),
        sa.Column(
            "soc_start",
            sa.Float(),
            nullable=True,
            comment="percent, first SoC sample of the session",
        ),
        sa.Column(
            "soc_stop", sa.Float(), nullable=True, comment="percent, last SoC sample of the session"
        ),
        sa.Column("stop_reason", sa.String(length=32), nullable=True),
        sa.Column("stop_id_tag", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transactions")),
    )
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transactions_charger_id_start_ts"),
            ["charger_id", "start_ts"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_transactions_start_ts"), ["start_ts"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transactions_start_ts"))
        batch_op.drop_index(batch_op.f("ix_transactions_charger_id_start_ts"))

    op.drop_table("transactions")
    with op.batch_alter_table("meter_samples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meter_samples_transaction_id"))
        batch_op.drop_index(batch_op.f("ix_meter_samples_charger_id_connector_id_ts"))

    op.drop_table("meter_samples")
    with op.batch_alter_table("connector_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connector_status_charger_id_connector_id_ts"))

    op.drop_table("connector_status")
    op.drop_table("chargers")
    with op.batch_alter_table("charger_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charger_events_charger_id_ts"))

    op.drop_table("charger_events")
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_anomalies_charger_id_ts"))

    op.drop_table("anomalies")
