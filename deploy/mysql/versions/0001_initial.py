"""Initial schema: submissions, the job outbox, worker pools and runtime versions.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

DT = sa.DateTime(timezone=False).with_variant(sa.dialects.mysql.DATETIME(fsp=6), "mysql")
LONGTEXT = sa.Text().with_variant(sa.dialects.mysql.LONGTEXT(), "mysql")
LONGBLOB = sa.LargeBinary().with_variant(sa.dialects.mysql.LONGBLOB(), "mysql")


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", sa.CHAR(36), primary_key=True),
        sa.Column("language", sa.String(32), nullable=False),
        sa.Column("source", LONGTEXT, nullable=False),
        sa.Column("stdin", LONGTEXT, nullable=False),
        # tests, limits, compare, stop_on_first_failure as the job message has them (JSON text)
        sa.Column("spec", LONGTEXT, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("verdict", sa.String(32), nullable=True),
        # the Outcome of the final result event (JSON text)
        sa.Column("outcome", LONGTEXT, nullable=True),
        # the highest result-event seq recorded; makes recording idempotent
        sa.Column("last_seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("worker", sa.String(128), nullable=True),
        sa.Column("origin", sa.String(16), nullable=False, server_default="http"),
        sa.Column("created_at", DT, nullable=False),
        sa.Column("started_at", DT, nullable=True),
        sa.Column("finished_at", DT, nullable=True),
        mysql_charset="utf8mb4",
    )
    op.create_index("ix_submissions_status_created", "submissions", ["status", "created_at"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("msg_key", sa.VARBINARY(64), nullable=False),
        sa.Column("payload", LONGBLOB, nullable=False),
        sa.Column("created_at", DT, nullable=False),
        mysql_charset="utf8mb4",
    )
    op.create_table(
        "pools",
        sa.Column("language", sa.String(32), primary_key=True),
        sa.Column("replicas", sa.Integer, nullable=False),
        sa.Column("min_replicas", sa.Integer, nullable=True),
        sa.Column("max_replicas", sa.Integer, nullable=True),
        sa.Column("autoscale", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", DT, nullable=False),
        mysql_charset="utf8mb4",
    )
    op.create_table(
        "pool_status",
        sa.Column("language", sa.String(32), primary_key=True),
        # what the master observed (containers, states, lag, why short of desired), JSON text
        sa.Column("observed", LONGTEXT, nullable=False),
        sa.Column("updated_at", DT, nullable=False),
        mysql_charset="utf8mb4",
    )
    op.create_table(
        "runtime_versions",
        sa.Column("language", sa.String(32), primary_key=True),
        sa.Column("image_id", sa.String(100), nullable=False),
        sa.Column("version", sa.String(255), nullable=False),
        sa.Column("updated_at", DT, nullable=False),
        mysql_charset="utf8mb4",
    )


def downgrade() -> None:
    for table in ("runtime_versions", "pool_status", "pools", "outbox", "submissions"):
        op.drop_table(table)
