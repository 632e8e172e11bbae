"""Webhook deliveries (issue 17): one row per submission sent with a ``callback_url``, inserted in the
submission's own transaction, so an accepted webhook survives an API restart; the API's delivery task
sends it once the submission finished, retrying with back-off until it is delivered or expires.

Revision ID: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"

DT = sa.DateTime(timezone=False).with_variant(sa.dialects.mysql.DATETIME(fsp=6), "mysql")


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("submission_id", sa.CHAR(36), primary_key=True),
        sa.Column("url", sa.String(2048), nullable=False),
        # native or judge0: the shape of the body
        sa.Column("shape", sa.String(16), nullable=False),
        # pending, delivered or failed
        sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", DT, nullable=False),
        sa.Column("created_at", DT, nullable=False),
        sa.Column("finished_at", DT, nullable=True),
        sa.Column("last_error", sa.String(512), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("lease_until", DT, nullable=True),
        sa.Index("ix_webhook_deliveries_state_next", "state", "next_attempt_at"),
        mysql_charset="utf8mb4",
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
