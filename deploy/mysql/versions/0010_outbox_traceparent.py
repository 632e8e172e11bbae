"""The trace context of an outbox row's job: the W3C ``traceparent`` of the request that stored it, so the
relay's publish joins that request's trace (null: no trace, or a row stored before this column).

Revision ID: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    # Version 00 of the header is 55 characters; room for a later version's few more.
    op.add_column("outbox", sa.Column("traceparent", sa.String(128), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "traceparent")
