"""Historised tags: the samples of the tags a project names in ``[[archive.tags]]``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tag_samples",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "tag",
            sa.String(length=160),
            nullable=False,
            comment="tag path, e.g. _system/archive/backlog",
        ),
        sa.Column(
            "value",
            sa.Float(),
            nullable=True,
            comment="numbers (true = 1, false = 0); null for text",
        ),
        sa.Column(
            "text",
            sa.Text(),
            nullable=True,
            comment="values that are not numbers; null for numbers",
        ),
        sa.Column(
            "quality", sa.String(length=16), nullable=False, comment="good | uncertain | bad | ..."
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_samples")),
    )
    op.create_index(op.f("ix_tag_samples_tag_ts"), "tag_samples", ["tag", "ts"])
    op.create_index(op.f("ix_tag_samples_ts"), "tag_samples", ["ts"])


def downgrade() -> None:
    op.drop_table("tag_samples")
