"""Outbox leases: a relay claims rows for a while in one short transaction instead of holding row locks
while it publishes, so new submissions never wait for Kafka.

Revision ID: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"

DT = sa.DateTime(timezone=False).with_variant(sa.dialects.mysql.DATETIME(fsp=6), "mysql")


def upgrade() -> None:
    # Which relay holds the row and until when (MySQL's clock); null: free to claim.
    op.add_column("outbox", sa.Column("claimed_by", sa.String(64), nullable=True))
    op.add_column("outbox", sa.Column("lease_until", DT, nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "lease_until")
    op.drop_column("outbox", "claimed_by")
