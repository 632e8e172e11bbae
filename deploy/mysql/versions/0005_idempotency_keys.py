"""Idempotency keys of POST /api/v1/submissions: which submission a key created, kept 24 h.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"

DT = sa.DateTime(timezone=False).with_variant(sa.dialects.mysql.DATETIME(fsp=6), "mysql")


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        # SHA-256 of the client's key: the key itself is never stored
        sa.Column("key_hash", sa.BINARY(32), primary_key=True),
        # SHA-256 of the validated submission: the same key with another body is refused
        sa.Column("fingerprint", sa.BINARY(32), nullable=False),
        # the submission the key's first request created (inserted in the same transaction)
        sa.Column("submission_id", sa.CHAR(36), nullable=False),
        sa.Column("created_at", DT, nullable=False),
        mysql_charset="utf8mb4",
    )
    # The purge deletes the oldest rows first.
    op.create_index("ix_idempotency_keys_created", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_table("idempotency_keys")
