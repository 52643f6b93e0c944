"""Reservations (OCPP 1.6 Reservation profile).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reservations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
            comment="OCPP reservationId",
        ),
        sa.Column("charger_id", sa.String(length=64), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False, comment="0 = any connector"),
        sa.Column("id_tag", sa.String(length=20), nullable=False),
        sa.Column("parent_id_tag", sa.String(length=20), nullable=True),
        sa.Column("expiry", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "state",
            sa.String(length=16),
            nullable=False,
            comment="requested | active | rejected | cancelled | expired | used",
        ),
        sa.Column(
            "transaction_id", sa.BigInteger(), nullable=True, comment="the transaction that used it"
        ),
        sa.Column(
            "ended",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="when it stopped being requested or active",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reservations_charger_id_created"),
            ["charger_id", "created"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_reservations_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservations_state"))
        batch_op.drop_index(batch_op.f("ix_reservations_charger_id_created"))

    op.drop_table("reservations")
