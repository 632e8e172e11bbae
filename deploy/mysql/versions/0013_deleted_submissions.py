"""Deleted submissions leave their id behind for a while: a result event or a job record that the
recorder or the intake reads after the delete (they fetch in batches) would otherwise recreate the row
as a submission produced straight to Kafka. The retention task purges the ids after a week.

Revision ID: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"

DT = sa.DateTime(timezone=False).with_variant(sa.dialects.mysql.DATETIME(fsp=6), "mysql")


def upgrade() -> None:
    op.create_table(
        "deleted_submissions",
        sa.Column("id", sa.CHAR(36), primary_key=True),
        sa.Column("deleted_at", DT, nullable=False),
        sa.Index("ix_deleted_submissions_deleted_at", "deleted_at"),
        mysql_charset="utf8mb4",
    )


def downgrade() -> None:
    op.drop_table("deleted_submissions")
