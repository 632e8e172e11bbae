"""Index submissions by worker, so the admin API counts each worker's finished jobs cheaply.

Revision ID: 0002
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    # (worker, status) covers the count of one worker's finished jobs without reading the rows.
    op.create_index("ix_submissions_worker_status", "submissions", ["worker", "status"])


def downgrade() -> None:
    op.drop_index("ix_submissions_worker_status", "submissions")
