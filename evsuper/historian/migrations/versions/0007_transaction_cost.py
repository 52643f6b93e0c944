"""The cost of each session, computed with the tariff in force when it stopped.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "cost",
                sa.Numeric(precision=12, scale=2),
                nullable=True,
                comment="in currency, at the stop; NULL: no tariff applied",
            )
        )
        batch_op.add_column(
            sa.Column("currency", sa.String(length=3), nullable=True, comment="ISO 4217")
        )
        batch_op.add_column(
            sa.Column(
                "tariff", sa.String(length=48), nullable=True, comment="name of the tariff applied"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_column("tariff")
        batch_op.drop_column("currency")
        batch_op.drop_column("cost")
