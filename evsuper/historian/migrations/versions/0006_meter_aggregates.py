"""1-minute and 1-hour aggregates of the meter samples, and how far they have read.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _create_aggregate(name: str, period: str) -> None:
    op.create_table(
        name,
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column(
            "ts", sa.DateTime(timezone=True), nullable=False, comment=f"start of the {period}"
        ),
        sa.Column("charger_id", sa.String(length=64), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("measurand", sa.String(length=48), nullable=False),
        sa.Column("phase", sa.String(length=8), nullable=False, comment="empty: no phase"),
        sa.Column(
            "unit", sa.String(length=16), nullable=False, comment="display unit: kW, kWh, %, ..."
        ),
        sa.Column("samples", sa.Integer(), nullable=False, comment="raw samples aggregated"),
        sa.Column(
            "total", sa.Float(), nullable=False, comment="sum of the values (avg = total / samples)"
        ),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.Column("first_ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_value", sa.Float(), nullable=False),
        sa.Column("last_ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint(
            "charger_id",
            "connector_id",
            "measurand",
            "phase",
            "ts",
            name=op.f(f"uq_{name}_charger_id_connector_id_measurand_phase_ts"),
        ),
    )
    op.create_index(op.f(f"ix_{name}_ts"), name, ["ts"])


def upgrade() -> None:
    _create_aggregate("meter_minutes", "minute")
    _create_aggregate("meter_hours", "hour")
    op.create_table(
        "aggregate_progress",
        sa.Column("table_name", sa.String(length=32), nullable=False),
        sa.Column("last_sample_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", name=op.f("pk_aggregate_progress")),
    )


def downgrade() -> None:
    op.drop_table("aggregate_progress")
    op.drop_table("meter_hours")
    op.drop_table("meter_minutes")
