"""Charger settings made by operators (availability, charging profiles), kept across restarts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "charger_settings",
        sa.Column("charger_id", sa.String(length=64), nullable=False),
        sa.Column(
            "name",
            sa.String(length=48),
            nullable=False,
            comment="availability | charging_profiles",
        ),
        sa.Column("value", sa.Text(), nullable=False, comment="JSON"),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("charger_id", "name", name=op.f("pk_charger_settings")),
    )


def downgrade() -> None:
    op.drop_table("charger_settings")
