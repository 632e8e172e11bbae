"""Submitter keys (issue 19): the keys admins hand out, each submission's owning key, and the usage
counters the per-key limits are checked against (in MySQL, so they hold across API replicas and
restarts).

Revision ID: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"

DT = sa.DateTime(timezone=False).with_variant(sa.dialects.mysql.DATETIME(fsp=6), "mysql")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        # HMAC-SHA256 of the whole token under EXECUTIONER_AUTH_SECRET; the token itself is never stored
        sa.Column("token_hash", sa.BINARY(32), nullable=False),
        sa.Column("scopes", sa.String(255), nullable=False),
        sa.Column("created_at", DT, nullable=False),
        sa.Column("expires_at", DT, nullable=True),
        sa.Column("revoked_at", DT, nullable=True),
        # per-key overrides of the limits; null: the language's default
        sa.Column("submissions_per_minute", sa.Integer, nullable=True),
        sa.Column("active_jobs", sa.Integer, nullable=True),
        sa.Column("cpu_seconds_per_day", sa.Integer, nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_api_keys_token_hash"),
        mysql_charset="utf8mb4",
    )
    op.create_table(
        "key_usage",
        sa.Column("key_id", sa.String(24), primary_key=True),
        sa.Column("language", sa.String(32), primary_key=True),
        # submissions (per minute) or cpu_ms (per day)
        sa.Column("metric", sa.String(16), primary_key=True),
        sa.Column("window_start", DT, primary_key=True),
        sa.Column("used", sa.BigInteger, nullable=False),
        sa.Index("ix_key_usage_window", "window_start"),
        mysql_charset="utf8mb4",
    )
    op.add_column("submissions", sa.Column("owner_key", sa.String(24), nullable=True))
    op.create_index("ix_submissions_owner_status", "submissions", ["owner_key", "status"])


def downgrade() -> None:
    op.drop_index("ix_submissions_owner_status", table_name="submissions")
    op.drop_column("submissions", "owner_key")
    op.drop_table("key_usage")
    op.drop_table("api_keys")
