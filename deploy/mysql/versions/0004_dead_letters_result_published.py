"""Dead letters remember whether the worker published the job's final result itself (a poison job), so
the dead-letter recorder never finishes such a job a second time.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.add_column(
        "dead_letters",
        sa.Column("result_published", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("dead_letters", "result_published")
