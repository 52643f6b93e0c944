"""Users of the HMI and the append-only audit trail.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

The audit trail refuses UPDATE and DELETE in the database itself (triggers on SQLite and
PostgreSQL), so that no client, evsuper included, can rewrite what happened.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

APPEND_ONLY = "audit_log is append-only"


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column(
            "role",
            sa.String(length=16),
            nullable=False,
            comment="viewer | operator | maintenance | ...",
        ),
        sa.Column(
            "password_hash", sa.String(length=255), nullable=False, comment="argon2id, PHC string"
        ),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_users")),
    )
    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column(
            "role",
            sa.String(length=16),
            nullable=False,
            comment="the role the user had when acting",
        ),
        sa.Column("origin", sa.String(length=16), nullable=False, comment="hmi | cli | engine"),
        sa.Column(
            "kind",
            sa.String(length=24),
            nullable=False,
            comment="command | login | login-failed | ...",
        ),
        sa.Column(
            "action", sa.String(length=64), nullable=False, comment="e.g. RemoteStop, add-user"
        ),
        sa.Column(
            "target", sa.String(length=64), nullable=False, comment="charger id, user name, ..."
        ),
        sa.Column("parameters", sa.Text(), nullable=False, comment="JSON object"),
        sa.Column(
            "result",
            sa.String(length=24),
            nullable=False,
            comment="Accepted | Rejected | Denied | ...",
        ),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_ts"), "audit_log", ["ts"])
    op.create_index(op.f("ix_audit_log_user_name_ts"), "audit_log", ["user_name", "ts"])
    op.create_index(op.f("ix_audit_log_target_ts"), "audit_log", ["target", "ts"])

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{operation.lower()} BEFORE {operation} "
                f"ON audit_log BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table("audit_log")  # SQLite drops the table's triggers with it
    op.drop_table("users")
