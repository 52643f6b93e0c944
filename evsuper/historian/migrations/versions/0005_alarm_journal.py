"""The alarm journal: every ISA-18.2 transition of every alarm.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alarm_journal",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "alarm_key", sa.String(length=160), nullable=False, comment="<definition id>:<source>"
        ),
        sa.Column("definition_id", sa.String(length=48), nullable=False),
        sa.Column(
            "source",
            sa.String(length=128),
            nullable=False,
            comment="CP-001, CP-001/C1/<errorCode>, ...",
        ),
        sa.Column("charger_id", sa.String(length=64), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False, comment="1 critical .. 4 low"),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column(
            "transition",
            sa.String(length=24),
            nullable=False,
            comment="activated | returned | ...",
        ),
        sa.Column(
            "state",
            sa.String(length=24),
            nullable=False,
            comment="ISA-18.2 state after the transition",
        ),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False, comment="empty: the process"),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_journal")),
    )
    op.create_index(op.f("ix_alarm_journal_ts"), "alarm_journal", ["ts"])
    op.create_index(op.f("ix_alarm_journal_charger_id_ts"), "alarm_journal", ["charger_id", "ts"])
    op.create_index(
        op.f("ix_alarm_journal_definition_id_ts"), "alarm_journal", ["definition_id", "ts"]
    )


def downgrade() -> None:
    op.drop_table("alarm_journal")
