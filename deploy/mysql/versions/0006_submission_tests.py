"""Tests a running submission has finished, so a stream opened mid-run can replay them.

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "submission_tests",
        sa.Column("submission_id", sa.CHAR(36), nullable=False),
        # the test event's seq: 2 + the test's index
        sa.Column("seq", sa.Integer, nullable=False),
        # the SSE test frame's data, as JSON
        sa.Column("view", sa.Text, nullable=False),
        # a submission's rows are deleted when it finishes (its outcome then holds every test)
        sa.PrimaryKeyConstraint("submission_id", "seq"),
        mysql_charset="utf8mb4",
    )


def downgrade() -> None:
    op.drop_table("submission_tests")
